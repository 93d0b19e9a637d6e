"""The documentation's code runs, its lessons are complete, its links resolve, its API page is full.

* **Tutorials** (``docs/tutorials/*.md``) are MyST Markdown notebooks: a fence
  `` ```{code-cell} ipython3 `` is a code cell, run when the site is built (in order, in one
  Jupyter kernel, in a temporary folder, with PyVista off-screen -- ``tests/test_site.py`` builds
  the site with every cell executed and fails on an error).  Any other fence (`` ```python ``,
  `` ```bash ``) is shown only.  Here each tutorial is checked to be such a notebook, to have code
  and to draw a picture; with ``-m slow`` each is also run as one plain script in a fresh process
  (the code cells in order, matplotlib's Agg backend, one BLAS thread).
* **Lessons** (``docs/lessons/NN_*.py``) are jupytext *percent* scripts paired with notebooks:
  each is run here as a plain script (the site build runs it as a notebook), and checked for its
  duration, its exercises and their folded solutions, and a lossless notebook round trip.
* Relative links between pages resolve, and ``docs/api.md`` mentions every public name.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = DOCS / "tutorials"
LESSONS = DOCS / "lessons"
TUTORIAL_PAGES = sorted(p for p in TUTORIALS.glob("*.md") if p.name != "index.md")
LESSON_SCRIPTS = sorted(LESSONS.glob("[0-9][0-9]_*.py"))

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)
_CODE_CELL = "{code-cell} ipython3"
#: seconds allowed for one tutorial or lesson run as a script
TIMEOUT_S = 300


def code_blocks(text):
    """[(info, code)] of every fenced code block of a Markdown text, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(text)]


def _strip_cell_options(code):
    """A MyST code cell's source without its leading ``:key: value`` option lines."""
    lines = code.splitlines(keepends=True)
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        lines.pop(0)
    return "".join(lines)


def runnable_code(text):
    """The code cells (fence info exactly ``{code-cell} ipython3``), joined into one script."""
    return "\n\n".join(_strip_cell_options(code) for info, code in code_blocks(text) if info == _CODE_CELL)


def _env():
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYVISTA_OFF_SCREEN"] = "true"
    # one BLAS thread: scipy's per-simplex LAPACK calls (Delaunay.transform) are orders of
    # magnitude slower with an oversubscribed threaded BLAS on a small shared machine
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run_script(script, cwd, what):
    proc = subprocess.run([sys.executable, "-W", "ignore::UserWarning", str(script)], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}); the script is {script}\n"
                    f"--- stdout (tail) ---\n{proc.stdout[-3000:]}\n--- stderr (tail) ---\n{proc.stderr[-6000:]}")
    return proc


def test_fence_parser():
    text = ("a\n```{code-cell} ipython3\nx = 1\n```\n```{code-cell} ipython3\n:tags: [hide-input]\ny = x\n```\n"
            "```python\nz = 2\n```\n```bash\nls\n```\n")
    assert code_blocks(text) == [(_CODE_CELL, "x = 1\n"), (_CODE_CELL, ":tags: [hide-input]\ny = x\n"),
                                 ("python", "z = 2\n"), ("bash", "ls\n")]
    assert runnable_code(text) == "x = 1\n\n\ny = x\n"


# ------------------------------------------------------------------------------ tutorials
@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=[p.stem for p in TUTORIAL_PAGES])
def test_tutorial_is_an_executable_notebook(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\nfile_format: mystnb\n"), f"{path.name}: no MyST-NB front matter"
    assert "kernelspec:\n  name: python3" in text
    code = runnable_code(text)
    assert code.strip(), f"{path.name} has no code cell"
    compile(code, str(path), "exec")
    # every tutorial page shows a picture
    assert re.search(r"\bplot\.plot_|\bplt\.|\bimshow\(", code), f"{path.name} draws nothing"


def test_every_tutorial_is_in_the_site():
    index = (TUTORIALS / "index.md").read_text(encoding="utf-8")
    toctree = index[index.index("{toctree}"):]
    assert [p.stem for p in TUTORIAL_PAGES] == re.findall(r"^(\d\d_\w+)$", toctree, re.M)
    assert len(TUTORIAL_PAGES) >= 6


@pytest.mark.slow  # the default run executes the tutorials in the site build (tests/test_site.py)
@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=[p.stem for p in TUTORIAL_PAGES])
def test_tutorial_runs_as_a_script(path, tmp_path):
    script = tmp_path / f"{path.stem}.py"
    script.write_text(runnable_code(path.read_text(encoding="utf-8")), encoding="utf-8")
    _run_script(script, tmp_path, path.name)


# -------------------------------------------------------------------------------- lessons
def _lesson_notebook(path):
    import jupytext

    return jupytext.read(path, fmt="py:percent")


def test_five_lessons():
    names = [p.stem for p in LESSON_SCRIPTS]
    assert len(names) == 5, names
    for topic in ("lifting", "newton", "singular_set", "mode_collapse", "bunny"):
        assert any(topic in n for n in names), topic
    index = (LESSONS / "index.md").read_text(encoding="utf-8")
    for n in names:
        assert f"{n}.py" in index and f"_notebooks/{n}.ipynb" in index, f"lessons/index.md does not offer {n}"


@pytest.mark.parametrize("path", LESSON_SCRIPTS, ids=[p.stem for p in LESSON_SCRIPTS])
def test_lesson_structure(path):
    import jupytext

    text = path.read_text(encoding="utf-8")
    assert "formats: ipynb,py:percent" in text  # paired with a notebook
    nb = _lesson_notebook(path)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert md[0].source.startswith("# Lesson "), "the first cell is the lesson's title"
    minutes = int(re.search(r"\*About (\d+) minutes", md[0].source).group(1))
    assert 20 <= minutes <= 40
    exercises = sum(len(re.findall(r"^### Exercise \d+\.\d+", c.source, re.M)) for c in md)
    assert exercises >= 3, f"{path.name}: {exercises} exercises"
    folded_code = [c for c in code if "hide-cell" in c.metadata.get("tags", [])]
    for c in folded_code:  # folded in the site (hide-cell) and in JupyterLab (source_hidden)
        assert c.metadata.get("jupyter", {}).get("source_hidden") is True
        assert c.source.lstrip().startswith("# Solution")
    folded_text = sum(c.source.count("<details><summary>Solution") for c in md)
    assert len(folded_code) + folded_text >= exercises, f"{path.name}: an exercise has no folded solution"
    assert any(re.search(r"\bplt\.|\bimshow\(|plot_", c.source) for c in code), "the lesson draws nothing"
    # the pairing is lossless: script -> .ipynb -> script gives the script back (jupytext only
    # stamps its version into the header)
    back = jupytext.writes(jupytext.reads(jupytext.writes(nb, fmt="ipynb"), fmt="ipynb"), fmt="py:percent")
    assert re.sub(r"^#\s+(format_version|jupytext_version): .*\n", "", back, flags=re.M) == text


@pytest.mark.parametrize("path", LESSON_SCRIPTS, ids=[p.stem for p in LESSON_SCRIPTS])
def test_lesson_runs_as_a_plain_script(path, tmp_path):
    proc = _run_script(path, tmp_path, path.name)
    assert proc.stdout.strip(), f"{path.name} printed nothing"


# ------------------------------------------------------------------ links and the API page
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _github_anchor(heading):
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped, spaces -> -)."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path):
    text = path.read_text(encoding="utf-8")
    text = _FENCE.sub("", text)
    return {_github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", text, re.M)}


def test_relative_links_resolve():
    bad = []
    pages = (sorted(DOCS.glob("*.md")) + sorted(TUTORIALS.glob("*.md")) + sorted(LESSONS.glob("*.md"))
             + LESSON_SCRIPTS)
    for page in pages:
        text = _FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in _LINK.findall(text):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if dest.parent == (DOCS / "auto_gallery").resolve():  # made by sphinx-gallery from gallery/
                dest = ROOT / "gallery" / Path(file_part).with_suffix(".py").name
            if not dest.exists():
                bad.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not bad, "broken links:\n" + "\n".join(bad)


def test_api_page_covers_public_names():
    import geomot

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [n for n in geomot.__all__ if n != "__version__" and f"geomot.{n}" not in text]
    assert not missing, f"docs/api.md does not mention {missing}: run python docs/gen_api.py"
    for name in ("geomot.explore.Explorer", "geomot.reproduce.singular_appears.scene"):
        assert name in text, f"docs/api.md does not document {name}: run python docs/gen_api.py"
