"""The tutorials' code runs: the ```python blocks of docs/tutorials/*.md are executed.

Each tutorial is run as one script: its runnable blocks, in order, in one namespace (like a
notebook), in a temporary working directory, with matplotlib's Agg backend and PyVista
off-screen.  A fence whose info string is exactly ``python`` is runnable; ``python no-run``
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
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)
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
def test_tutorial_runs(path, tmp_path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    marks = markers(text)
    for module in marks.get("requires", []):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{path.name} needs {module}")
    for rel in marks.get("needs-file", []):
        if not (ROOT / rel).exists() and not os.environ.get("GEOMOT_DATA"):
            pytest.skip(f"{path.name} needs {rel}")
    code = runnable_code(text)
    script = tmp_path / f"{path.stem}.py"
    script.write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYVISTA_OFF_SCREEN", "true")
    import matplotlib

    matplotlib.use("Agg", force=True)
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
