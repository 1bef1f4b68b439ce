"""Sphinx configuration: user guide (MyST Markdown), API reference (autodoc +
numpydoc), and the gallery built by executing ``examples/plot_*.py``.

Build: ``python -m sphinx -W --keep-going -n -b html doc doc/_build/html``.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import onestep_sklearn  # noqa: E402

project = "onestep_sklearn"
author = "onestep_sklearn developers"
copyright = "2026, onestep_sklearn developers"
release = onestep_sklearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json",
                    "auto_examples/*.md5", "auto_examples/*.codeobj.json"]
nitpicky = True
# Names outside this package that docstrings mention as types: no intersphinx (the
# build runs offline), so they are plain text rather than broken references.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sklearn|matplotlib|pandas|dask|torch)\..*"),
]
autosummary_generate = True
# The signatures' annotations name typing aliases (MatrixLike, Self) defined for type
# checkers only; the numpydoc sections give every parameter's type in words.
autodoc_typehints = "none"
templates_path = ["_templates"]
# The package's own methods (``predict`` lives on the shared base class), not
# scikit-learn's (``get_params``, ``score``, the ``set_*_request`` descriptors): those
# are documented by scikit-learn, and their docstrings point into its glossary.
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,RegressorMixin",
    "exclude-members": "set_fit_request,set_partial_fit_request,set_score_request,"
    "set_predict_request,get_metadata_routing",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
myst_enable_extensions = ["dollarmath"]
# The lesson notebook is executed at build time, on a real kernel, like the gallery.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
# Only .ipynb files are notebooks; the guide's Markdown pages are not executed.
nb_custom_formats = {}
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = "onestep_sklearn"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"make_figures\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": True,
    "write_computation_times": False,
}
os.environ.setdefault("MPLBACKEND", "Agg")
