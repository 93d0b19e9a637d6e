"""Sphinx configuration of the geomot documentation site.

Build it (offline, warnings are errors; the gallery, the tutorials and the lessons are executed)::

    python -m sphinx -W --keep-going -j auto -b html docs docs/_build/html

What runs at build time:

* ``gallery/plot_*.py`` through **sphinx-gallery** (each calls a recipe of ``geomot.reproduce`` in
  quick mode, ``QUICK = True`` at its top);
* ``docs/tutorials/*.md`` (MyST Markdown notebooks) and ``docs/lessons/*.py`` (jupytext percent
  scripts) through **MyST-NB**, each in a fresh Jupyter kernel: every page shows its output and
  its pictures, and a cell that raises fails the build.

Theme: **pydata-sphinx-theme** -- the theme of numpy, scipy, matplotlib, PyVista and
sphinx-gallery itself, so gallery thumbnails, numpydoc-style API text, notebook cells and
sphinx-design dropdowns are styled by the same maintained project; its top bar gives a class the
sections (Theory, Tutorials, Lessons, Gallery, API) at a glance, and it ships all its assets
(no web fonts or CDN), so a site built offline works offline.  MathJax is served from the build
(the MathJax files of ``sphinx-mathjax-offline``) for the same reason.

Intersphinx: each inventory is fetched here, with a short timeout, before Sphinx starts; one that
answers is cached under ``docs/_build/intersphinx`` and used (also on later offline builds), one
that does not is left out, so an offline build is fast and never warns.
"""

import importlib
import os
import sys
import threading
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

# The kernels that execute the tutorials and lessons inherit this environment: they import the
# geomot of this checkout, render PyVista off-screen, use one BLAS thread (small LAPACK calls are
# much slower with an oversubscribed threaded BLAS), and show matplotlib figures inline.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# tqdm.auto, imported by a dependency in a kernel without ipywidgets, warns on every page
os.environ["PYTHONWARNINGS"] = ",".join(w for w in (os.environ.get("PYTHONWARNINGS", ""),
                                                    "ignore:IProgress not found:Warning") if w)
if os.environ.get("MPLBACKEND", "").lower() == "agg":  # a kernel with Agg would show no figure
    del os.environ["MPLBACKEND"]

project = "geomot"
author = "the geomot authors"
copyright = "2026, the geomot authors"
try:
    import geomot

    release = version = geomot.__version__
except Exception:  # pragma: no cover - building without the package importable
    release = version = "0.1.0"

extensions = [
    "myst_nb",  # MyST Markdown + notebooks (includes myst_parser)
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "geomot_sphinx",  # docs/_ext: GIFs in the gallery, lesson notebooks
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
exclude_patterns = [
    "_build", "_ext", "_static", "Thumbs.db", ".DS_Store", "conf.py", "gen_api.py", "jupyter_execute",
    "auto_gallery/*.py", "auto_gallery/*.ipynb", "auto_gallery/*.zip", "auto_gallery/*.codeobj.json",
    "lessons/_notebooks", "**/.ipynb_checkpoints", "**/__pycache__",
]

# ----------------------------------------------------------------------------------- MyST / NB
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # GitHub-style anchors: the Markdown links between pages work here too
myst_dmath_double_inline = True
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = os.environ.get("GEOMOT_DOCS_EXECUTE", "force")  # "off" for a fast text-only build
nb_execution_timeout = 300
nb_execution_raise_on_error = True  # a tutorial or lesson that fails is a failed build
nb_execution_in_temp = True  # files they write go to a temporary folder
nb_execution_show_tb = True
nb_merge_streams = True
nb_ipywidgets_js = {}  # no widget output: load nothing from the web
nb_render_image_options = {"align": "center"}
nb_code_prompt_show = "Show the solution"  # the only folded cells are the lessons' solutions
nb_code_prompt_hide = "Hide the solution"

# -------------------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "gallery"),
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True",
    "download_all_examples": False,
    "image_scrapers": ("matplotlib", "geomot_sphinx.gif_scraper"),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "capture_repr": (),  # print() shows what matters; not the repr of a script's last expression
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1e9,  # no per-example timing table noise
    "write_computation_times": False,
    "reference_url": {"geomot": None},
    "backreferences_dir": None,
}

# --------------------------------------------------------------------------- intersphinx
_INVENTORIES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "matplotlib": "https://matplotlib.org/stable",
    "shapely": "https://shapely.readthedocs.io/en/stable",
    "pyvista": "https://docs.pyvista.org",
}
_INV_CACHE = HERE / "_build" / "intersphinx"


def _fetch_inventories(timeout=3.0):
    """{name: (url, local file)} of the inventories that answer now or were fetched before."""
    _INV_CACHE.mkdir(parents=True, exist_ok=True)

    def fetch(name, url):
        try:
            with urllib.request.urlopen(f"{url}/objects.inv", timeout=timeout) as r:
                data = r.read()
            if data.startswith(b"# Sphinx inventory"):
                (_INV_CACHE / f"{name}.inv").write_bytes(data)
        except Exception:  # offline, a proxy, a moved page: build without this inventory
            pass

    if os.environ.get("GEOMOT_DOCS_OFFLINE", "") not in ("1", "true", "yes"):
        threads = [threading.Thread(target=fetch, args=item, daemon=True) for item in _INVENTORIES.items()]
        for t in threads:
            t.start()
        for t in threads:  # a resolver that hangs cannot hold the build for more than ~timeout
            t.join(timeout)
    return {name: (url, str(_INV_CACHE / f"{name}.inv")) for name, url in _INVENTORIES.items()
            if (_INV_CACHE / f"{name}.inv").is_file()}


intersphinx_mapping = _fetch_inventories()
intersphinx_timeout = 3
intersphinx_disabled_reftypes = ["*"]  # only explicit `inv:` / :external: references

# ---------------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = "geomot"
# MathJax 3 from the sphinx-mathjax-offline package, copied into _static/mathjax: formulas render
# offline.  (Its files only: its extension does not declare parallel safety, so `-j` would warn.)
_MATHJAX = Path(importlib.import_module("sphinx-mathjax-offline").__file__).parent / "static"
mathjax_path = "mathjax/tex-chtml.js"
html_static_path = ["_static", str(_MATHJAX)]
html_favicon = "_static/favicon.svg"
html_logo = "_static/favicon.svg"
html_css_files = ["geomot.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": f"geomot {release}"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "use_edit_page_button": False,
    "show_prev_next": True,
}
html_sidebars = {"index": [], "**": ["sidebar-nav-bs"]}
html_context = {"default_mode": "light"}

# Only the documents we write; the API page is Markdown generated from the docstrings.
suppress_warnings = ["myst.header"]
