"""The tutorials' code runs: the ```python blocks of docs/tutorials/*.md are executed.

Each tutorial is run as one script in a fresh Python process: its runnable blocks, in order,
in one namespace (like a notebook), in a temporary working directory, with matplotlib's Agg
backend, PyVista off-screen and one BLAS thread.  A fence whose info string is exactly ``python`` is runnable; ``python no-run``
(or any other info string) is shown but not run.

Markers, as HTML comments anywhere in a tutorial (invisible on GitHub):

* ``<!-- test: slow -->`` -- the tutorial is only run with ``pytest -m slow``;
* ``<!-- test: requires MODULE -->`` -- skipped when ``MODULE`` cannot be imported
  (e.g. ``pyvista``);
* ``<!-- test: needs-file PATH -->`` -- skipped when a data file is missing (PATH relative to
  the repository root; ``$GEOMOT_DATA`` is honoured by the code itself).

The tutorials are written at small sizes so that the default run stays well under a minute.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)
#: seconds allowed for one tutorial
TIMEOUT_S = 300

_MARK = re.compile(r"<!--\s*test:\s*([a-z-]+)\s*([^>]*?)\s*-->")


def code_blocks(text):
    """[(info, code)] of every fenced code block of a Markdown text, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(text)]


def runnable_code(text):
    """The runnable blocks (info string exactly ``python``), joined into one script."""
    return "\n\n".join(code for info, code in code_blocks(text) if info == "python")


def markers(text):
    """{name: [arguments]} of the ``<!-- test: name args -->`` comments."""
    out = {}
    for name, arg in _MARK.findall(text):
        out.setdefault(name, []).append(arg.strip())
    return out


def _params():
    params = []
    for path in sorted(TUTORIALS.glob("*.md")):
        marks = markers(path.read_text(encoding="utf-8"))
        pmarks = [pytest.mark.slow] if "slow" in marks else []
        params.append(pytest.param(path, id=path.stem, marks=pmarks))
    return params


def test_fence_parser():
    text = "a\n```python\nx = 1\n```\n```python no-run\ny = 2\n```\n```bash\nls\n```\n"
    assert code_blocks(text) == [("python", "x = 1\n"), ("python no-run", "y = 2\n"), ("bash", "ls\n")]
    assert runnable_code(text) == "x = 1\n"
    assert markers("<!-- test: requires cupy -->\n<!-- test: slow -->") == {"requires": ["cupy"], "slow": [""]}


def test_every_tutorial_has_runnable_code():
    paths = sorted(TUTORIALS.glob("*.md"))
    assert paths, "no tutorials found in docs/tutorials"
    for path in paths:
        assert runnable_code(path.read_text(encoding="utf-8")).strip(), f"{path.name} has no runnable block"


@pytest.mark.parametrize("path", _params())
def test_tutorial_runs(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    marks = markers(text)
    for module in marks.get("requires", []):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{path.name} needs {module}")
    for rel in marks.get("needs-file", []):
        if not (ROOT / rel).exists() and not os.environ.get("GEOMOT_DATA"):
            pytest.skip(f"{path.name} needs {rel}")
    script = tmp_path / f"{path.stem}.py"
    script.write_text(runnable_code(text), encoding="utf-8")
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYVISTA_OFF_SCREEN"] = "true"
    # one BLAS thread: scipy's per-simplex LAPACK calls (Delaunay.transform) are orders of
    # magnitude slower with an oversubscribed threaded BLAS on a small shared machine
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        pytest.fail(f"{path.name} failed (exit {proc.returncode}); the runnable blocks are in {script}\n"
                    f"--- stdout (tail) ---\n{proc.stdout[-3000:]}\n--- stderr (tail) ---\n{proc.stderr[-6000:]}")


# ------------------------------------------------------------------ links and the API page
DOCS = ROOT / "docs"
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
    pages = sorted(DOCS.glob("*.md")) + sorted(TUTORIALS.glob("*.md"))
    for page in pages:
        text = _FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in _LINK.findall(text):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
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
