"""pytest configuration shared by the tests and the docstring examples (``--doctest-modules``).

Docstring examples run in a temporary working directory (some write PNG/GIF files), with
matplotlib's Agg backend and PyVista off-screen, like the tests.
"""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _doctest_in_tmp_path(request, tmp_path, monkeypatch):
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.chdir(tmp_path)
        try:
            import pyvista

            monkeypatch.setattr(pyvista, "OFF_SCREEN", True)
        except ImportError:  # pragma: no cover - pyvista is a dependency
            pass
    yield
