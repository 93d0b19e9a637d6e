"""Minimal Sphinx configuration for the geomot documentation.

The documentation is plain Markdown, readable on GitHub as it is; Sphinx is optional
(``pip install -e ".[docs]"`` plus ``myst-parser``) and builds the same pages into HTML::

    sphinx-build -b html docs docs/_build/html

Extensions: ``myst_parser`` (Markdown with ``$...$`` math), ``numpydoc`` (the docstrings are
numpydoc), ``sphinx_gallery`` (the scripts of ``gallery/``, when present).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

project = "geomot"
author = "the geomot authors"
copyright = "2026, the geomot authors"
try:  # the version without importing anything heavy
    import geomot

    release = version = geomot.__version__
except Exception:  # pragma: no cover - building docs without the package installed
    release = version = "0.1.0"

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
]

# sphinx-gallery only when it is installed and there is a gallery to build
try:
    import sphinx_gallery  # noqa: F401

    if os.path.isdir(os.path.join(ROOT, "gallery")):
        extensions.append("sphinx_gallery.gen_gallery")
        sphinx_gallery_conf = {
            "examples_dirs": os.path.join(ROOT, "gallery"),
            "gallery_dirs": "auto_gallery",
            "filename_pattern": r"/plot_",
            "download_all_examples": False,
            "plot_gallery": "False",  # figures are made by `geomot reproduce`, not at doc build
        }
except ImportError:
    pass

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "gen_api.py", "conf.py"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3  # GitHub-style anchors for the links between pages

# the pages link to each other in plain Markdown (readable on GitHub), without a toctree
suppress_warnings = ["toc.not_included", "myst.header"]

numpydoc_show_class_members = False
numpydoc_validation_checks = set()
autodoc_mock_imports = ["cupy", "dask", "distributed"]

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "shapely": ("https://shapely.readthedocs.io/en/stable", None),
    "trimesh": ("https://trimesh.org", None),
}

html_theme = "alabaster"
html_title = "geomot"
html_static_path = []
