"""
Checks of the gallery scripts in ``examples/``.

The offline gallery examples are executed by the documentation build (``.ci/run``); here we check that
every script has a sphinx-gallery header, that those needing the network are named ``skip_*`` (so the
gallery does not run them), and run the network ones under ``--remote-data``.
"""

import ast
import os
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
NETWORK_MODULES = {"parfive", "sunpy.net", "urllib.request", "requests"}

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ is not part of an installed package")


def _imports(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_there_are_examples():
    offline = [p for p in SCRIPTS if not p.name.startswith("skip_")]
    assert len(offline) >= 6, [p.name for p in SCRIPTS]
    assert (EXAMPLES / "README.rst").is_file()


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_example_header(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree, clean=False)
    assert doc, f"{path.name} needs a header docstring"
    lines = [line for line in doc.strip("\n").splitlines()]
    # "=====\nTitle\n=====" or "Title\n=====": a title underlined at least as long as the title.
    title, underline = (lines[1], lines[2]) if set(lines[0]) == {"="} else (lines[0], lines[1])
    assert set(underline) == {"="} and len(underline) >= len(title.strip()), f"{path.name}: bad title underline"
    assert len(lines) > 3, f"{path.name} needs a summary paragraph after its title"
    assert "plt.show()" in path.read_text(encoding="utf-8"), f"{path.name} should end with a figure"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_network_examples_are_skipped_by_the_gallery(path):
    imports = _imports(ast.parse(path.read_text(encoding="utf-8")))
    needs_network = any(name == mod or name.startswith(mod + ".") for name in imports for mod in NETWORK_MODULES)
    assert needs_network == path.name.startswith("skip_"), (
        f"{path.name}: examples that use the network must be named skip_*.py, and only those"
    )


def _run_network_example(name, tmp_path, monkeypatch):
    if not os.environ.get("JSOC_EMAIL"):
        pytest.skip("set JSOC_EMAIL to a JSOC-registered address to run the JSOC examples")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SUNPY_JETS_EXAMPLE_DIR", str(tmp_path))
    monkeypatch.setenv("PARFIVE_HIDE_PROGRESS", "True")
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    figures = plt.get_fignums()
    plt.close("all")
    assert figures, f"{name} made no figure"
    return namespace


@pytest.mark.remote_data
@pytest.mark.filterwarnings("ignore")  # third-party network stacks warn in ways we do not control
def test_download_sjh_sequences(tmp_path, monkeypatch):
    ns = _run_network_example("skip_download_sjh_sequences.py", tmp_path, monkeypatch)
    assert len(ns["catalogue"]) == 883
    assert set(ns["status"]["status"]) <= {"downloaded", "cached"}
    assert len(ns["index"]) == len(ns["manifest"])


@pytest.mark.remote_data
@pytest.mark.filterwarnings("ignore")
def test_compare_with_hek(tmp_path, monkeypatch):
    ns = _run_network_example("skip_compare_with_hek.py", tmp_path, monkeypatch)
    assert len(ns["hek"]) >= 1
    assert len(ns["reported"]) == len(ns["hek"])
    assert len(ns["files"]) >= ns["clf"].config.n_frames
    assert len(ns["windows"]) >= 1
