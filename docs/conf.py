"""
Sphinx configuration for the sunpy_jets documentation.

Set ``SPHINX_OFFLINE=1`` to build without the network (CI, tox's ``build_docs``): intersphinx is then
switched off and references to other projects' objects render as plain text instead of failing.
"""

import os
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

from packaging.version import Version

# -- Project information ---------------------------------------------------------------------------

from sunpy_jets import __version__

_version = Version(__version__)
# "1.2.dev3+g1234" -> "1.2.dev3"; the short X.Y version goes in the page headers.
version = release = str(_version.public)
is_development = _version.is_devrelease

project = "sunpy_jets"
author = "The sunpy_jets developers"
copyright = f"{datetime.now(UTC).year}, {author}"  # noqa: A001

# docs/gallery_order.py sets the order of the gallery examples.
sys.path.insert(0, str(Path(__file__).parent))

OFFLINE = os.environ.get("SPHINX_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
DOCS_DIR = Path(__file__).parent

# Matplotlib in the gallery must never try to open a window.
os.environ.setdefault("MPLBACKEND", "agg")
# Downloads in examples (none run in the gallery) must not draw progress bars in the HTML.
os.environ.setdefault("PARFIVE_HIDE_PROGRESS", "True")

# Warnings from our own code while building the docs are bugs: make them fail the build.
from sunpy_jets.exceptions import SunpyJetsWarning  # noqa: E402

warnings.filterwarnings("error", category=SunpyJetsWarning)

# -- General configuration -------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.todo",
    "sphinx.ext.coverage",
    "sphinx.ext.inheritance_diagram",
    "sphinx.ext.viewcode",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_automodapi.automodapi",
    "sphinx_automodapi.smart_resolver",
    "sphinx_changelog",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated/gallery/*.ipynb", "**/sg_execution_times.rst"]
source_suffix = {".rst": "restructuredtext"}
master_doc = "index"
default_role = "py:obj"
maximum_signature_line_length = 100
# automodapi writes one page per object; inherited members of torch/astropy bases are noise.
automodapi_inheritance_diagram = False
# Generated pages go under generated/, which git ignores.
automodapi_toctreedirnm = "generated/api"
automodsumm_inherited_members = False
numpydoc_show_class_members = False
autoclass_content = "both"
autodoc_typehints = "none"
napoleon_use_rtype = False
napoleon_use_param = False
napoleon_use_ivar = True
napoleon_custom_sections = [("Attributes", "params_style")]

# -- Cross references ------------------------------------------------------------------------------

# Every reference must resolve. Offline, intersphinx is off, so other projects' names cannot resolve:
# nitpicky checking is only meaningful online.
nitpicky = not OFFLINE
nitpick_ignore = []
nitpick_ignore_regex = [
    # numpydoc-style type descriptions ("int, optional", "array-like") are prose, not objects.
    ("py:class", r"optional"),
    ("py:class", r"array[- ]like"),
    ("py:class", r"callable"),
    ("py:class", r"file-like"),
    ("py:class", r"path-like"),
]

intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
    "astropy": ("https://docs.astropy.org/en/stable/", None),
    "sunpy": ("https://docs.sunpy.org/en/stable/", None),
    "ndcube": ("https://docs.sunpy.org/projects/ndcube/en/stable/", None),
    "aiapy": ("https://aiapy.readthedocs.io/en/stable/", None),
    "parfive": ("https://parfive.readthedocs.io/en/stable/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "dask": ("https://docs.dask.org/en/stable/", None),
    "distributed": ("https://distributed.dask.org/en/stable/", None),
}
if OFFLINE:
    intersphinx_mapping = {}

# -- HTML output -----------------------------------------------------------------------------------

from sunpy_sphinx_theme import PNG_ICON  # noqa: E402

html_theme = "sunpy"
html_title = f"{project} v{version}"
html_static_path = ["_static"]
html_css_files = ["sunpy_jets.css"]
html_theme_options = {
    # The theme injects sunpy.org's GoatCounter analytics when the site root is sunpy.org (its
    # default); this is not sunpy.org, and an empty URL switches analytics off altogether.
    "sst_site_root": "https://sunpy-jets.readthedocs.io",
    "sst_is_root": True,
    "sst_project_name": "sunpy_jets",
    "goatcounter_analytics_url": "",
    "rtd_search": False,
    "navbar_links": [
        ["Tour", "tour", 1],
        ["Gallery", "generated/gallery/index", 1],
        ["API", "reference/index", 1],
        [
            "Ecosystem",
            [
                ["sunpy", "https://docs.sunpy.org/", 3],
                ["ndcube", "https://docs.sunpy.org/projects/ndcube/", 3],
                ["aiapy", "https://aiapy.readthedocs.io/", 3],
                ["sunkit-image", "https://docs.sunpy.org/projects/sunkit-image/", 3],
            ],
        ],
    ],
    "footer_links": [
        ["Code", "https://github.com/sunpy/sunpy_jets", 3],
        ["Forum", "https://community.openastronomy.org/c/sunpy", 3],
    ],
}
# opengraph (loaded by the theme) would need a site URL to build absolute links.
ogp_site_url = "https://sunpy-jets.readthedocs.io/en/latest/"
ogp_image = None
html_favicon = None
htmlhelp_basename = f"{project}doc"

# -- Gallery ---------------------------------------------------------------------------------------

sphinx_gallery_conf = {
    "backreferences_dir": Path("generated") / "modules",
    # Files named skip_*.py need the network: they are rendered but not run.
    "filename_pattern": "^((?!skip_).)*$",
    "examples_dirs": Path("..") / "examples",
    "gallery_dirs": Path("generated") / "gallery",
    # A name, not the class: Sphinx can only cache a configuration made of plain values.
    "within_subsection_order": "gallery_order.GalleryOrder",
    "default_thumb_file": PNG_ICON,
    # A broken example must fail the build (CI), not leave a stack trace in the HTML.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "doc_module": ("sunpy_jets",),
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "show_memory": False,
    "download_all_examples": False,
}
