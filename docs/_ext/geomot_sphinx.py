"""Small Sphinx helpers of the geomot site (loaded by ``docs/conf.py``).

* :func:`gif_scraper` -- a sphinx-gallery image scraper: the animated GIFs that a gallery block
  writes into ``figures/`` (``fig6_morph.gif``, ``singular_appears.gif``) are shown on the page,
  next to the matplotlib figures.
* :func:`write_lesson_notebooks` -- the lessons (jupytext percent scripts) are also written as
  ``.ipynb`` notebooks, which the lessons' index offers for download.
"""

import shutil
import time
from pathlib import Path

#: GIFs older than the start of this build are left-overs of an earlier one
_T0 = time.time()
_SHOWN = set()


def gif_scraper(block, block_vars, gallery_conf):
    """rST for the GIFs written under ``<example dir>/figures`` since the last block."""
    from sphinx_gallery.scrapers import figure_rst

    src_dir = Path(block_vars["src_file"]).parent
    new = [p for p in sorted(src_dir.glob("figures/*.gif"))
           if p.stat().st_mtime >= _T0 and (p, p.stat().st_mtime_ns) not in _SHOWN]
    paths = []
    for gif, dest in zip(new, block_vars["image_path_iterator"]):
        dest = Path(dest).with_suffix(".gif")
        shutil.copyfile(gif, dest)
        _SHOWN.add((gif, gif.stat().st_mtime_ns))
        paths.append(str(dest))
    return figure_rst(paths, gallery_conf["src_dir"])


def write_lesson_notebooks(app):
    """``docs/lessons/_notebooks/<lesson>.ipynb`` from each ``docs/lessons/NN_*.py`` (jupytext)."""
    import jupytext

    lessons = Path(app.srcdir) / "lessons"
    out = lessons / "_notebooks"
    out.mkdir(exist_ok=True)
    for script in sorted(lessons.glob("[0-9][0-9]_*.py")):
        nb = jupytext.read(script, fmt="py:percent")
        jupytext.write(nb, out / f"{script.stem}.ipynb", fmt="ipynb")


def setup(app):
    app.connect("builder-inited", write_lesson_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
