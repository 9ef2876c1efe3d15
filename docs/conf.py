"""Sphinx configuration of the rmthess documentation.

Build from the repository root, with the package installed (``python -m pip install -e ".[docs]"``;
the notebooks' kernels import it too)::

    sphinx-build -W --keep-going docs docs/_build/html
"""

import os

import rmthess

# The notebooks run at their small sizes; the executing kernel inherits this environment.
os.environ.setdefault("RMTHESS_NOTEBOOK_SIZE", "small")

project = "rmthess"
author = "the rmthess developers"
copyright = "the rmthess developers"
release = rmthess.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
]

# theory/ and notebooks/ are links to the repository's folders; conf.py is no page.
exclude_patterns = ["_build", "conf.py", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# --- API reference: one page per public subpackage listing its __all__, one page per object -------
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False  # the class template lists members with autodoc
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Docstrings write absolute values in plain text, e.g. |z|, which reST reads as a substitution.
rst_prolog = """
.. |z| replace:: \\|z\\|
"""

# --- Markdown and notebooks -----------------------------------------------------------------------
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "force"
nb_execution_in_temp = True  # figures a notebook saves land in a temporary folder
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

intersphinx_mapping = {}

# --- HTML -----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"rmthess {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["rmthess.css"]
html_sidebars = {"getting-started": [], "changelog": []}  # single pages: no section navigation
