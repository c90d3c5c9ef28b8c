"""Tests of ``sunpy-jets train``: the synthetic mode end to end, and the published preset failing fast offline."""

import json
import time

import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.cli import build_parser, main

from conftest import realdata_path

TINY_ARGS = ["--image-size", "32", "--n-frames", "6", "--channels", "4", "8", "--hidden-size", "8", "--device", "cpu"]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_train_is_a_subcommand():
    args = build_parser().parse_args(["train", "--synthetic", "--output", "out"])
    assert args.command == "train" and args.synthetic and args.n_train == 256 and args.seed == 0


def test_synthetic_training_saves_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "model"
    argv = ["train", "--synthetic", "--n-train", "6", "--n-val", "4", "--n-test", "2", "--epochs", "2", "--seed", "3",
            "--lr", "0.01", "--batch-size", "2", "--output", str(out), "--no-progress", *TINY_ARGS]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "trained 2 epochs" in printed and "model saved" in printed
    clf = JetClassifier.load(out, device="cpu")
    data = clf.card.training["data"]
    assert (data["source"], data["n_train"], data["n_val"], data["n_test"], data["seed"]) == ("synthetic", 6, 4, 2, 3)
    assert clf.card.training["recipe"]["epochs"] == 2 and clf.card.training["recipe"]["lr"] == 0.01
    assert set(clf.card.metrics) == {"validation", "test"}
    assert clf.card.metrics["test"]["n"] == 2
    assert "off_limb" in clf.card.metrics["validation"]
    assert clf.threshold == clf.card.metrics["validation"]["threshold"]
    assert clf.config.image_size == 32 and clf.config.channels == (4, 8)
    # A rerun finds the finished checkpoint and does not train again.
    start = json.loads((out / "config.json").read_text())["training"]["history"]
    assert main(argv) == 0
    assert json.loads((out / "config.json").read_text())["training"]["history"] == start


def test_synthetic_training_refuses_bad_sizes(tmp_path, capsys):
    assert main(["train", "--synthetic", "--n-train", "1", "--output", str(tmp_path), *TINY_ARGS]) == 2
    assert "--n-train must be at least 2" in capsys.readouterr().err


def test_cs433_without_email_fails_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("JSOC_EMAIL", raising=False)
    catalogue = realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv")
    start = time.perf_counter()
    status = main(["train", "--preset", "cs433", "--catalogue", str(catalogue), "--output", str(tmp_path)])
    assert time.perf_counter() - start < 5
    assert status == 2
    err = capsys.readouterr().err
    assert "sunpy-jets train: error: JSOC needs a registered e-mail address" in err and "JSOC_EMAIL" in err
    assert not any(tmp_path.iterdir())  # nothing was started


def test_cs433_without_network_fails_clearly(tmp_path, capsys, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    # Offline for sure, also on machines that have a network.
    monkeypatch.setattr(socket, "create_connection", no_network)
    catalogue = realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv")
    start = time.perf_counter()
    status = main(["train", "--preset", "cs433", "--catalogue", str(catalogue), "--output", str(tmp_path),
                   "--email", "someone@example.org", "--no-progress"])  # fmt: skip
    assert time.perf_counter() - start < 30
    assert status == 2
    captured = capsys.readouterr()
    assert "883 jets from 229 HEK events" in captured.out
    assert "sunpy-jets train: error: cannot reach jsoc.stanford.edu" in captured.err


def test_cs433_needs_a_catalogue(tmp_path, capsys):
    assert main(["train", "--preset", "cs433", "--output", str(tmp_path), "--email", "a@b.org"]) == 2
    assert "needs --catalogue" in capsys.readouterr().err
