"""The docstring examples are part of the test suite (issue 9, point 7).

``pytest`` collects the package with ``--doctest-modules`` (pyproject ``addopts``/``testpaths``),
so every ``>>>`` example runs in CI.  These tests keep it that way: the configuration is in
place, nothing is skipped, every public name has an example, and every example is collected.
"""

import doctest
import importlib
import inspect
import pkgutil
import tomllib
import types
from pathlib import Path

import pytest

import geomot

ROOT = Path(__file__).resolve().parents[1]
#: public classes that need no example: exceptions and warnings
_NO_EXAMPLE = (BaseException,)


def _modules():
    for info in pkgutil.walk_packages(geomot.__path__, "geomot."):
        yield importlib.import_module(info.name)


def test_pytest_runs_the_docstring_examples():
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"].split()
    assert "geomot" in opts["testpaths"]


def test_no_example_is_skipped():
    skipped = [f"{m.__name__}: {line.strip()}" for m in _modules()
               for line in inspect.getsource(m).splitlines()
               if ">>>" in line and "doctest: +SKIP" in line]
    assert skipped == [], "shorten slow examples instead of skipping them"


def _public_objects():
    for name in geomot.__all__:
        if name == "__version__":
            continue
        obj = getattr(geomot, name)
        if isinstance(obj, types.ModuleType):
            for sub in getattr(obj, "__all__", []):
                yield f"geomot.{name}.{sub}", getattr(obj, sub)
        else:
            yield f"geomot.{name}", obj


def test_every_public_name_has_an_example():
    missing = [name for name, obj in _public_objects()
               if callable(obj) and not (inspect.isclass(obj) and issubclass(obj, _NO_EXAMPLE))
               and ">>>" not in (inspect.getdoc(obj) or "")]
    assert missing == []


def test_every_example_is_collected():
    finder = doctest.DocTestFinder()
    found = sum(len(t.examples) for m in _modules() for t in finder.find(m) if t.examples)
    written = sum(inspect.getsource(m).count(">>> ") for m in _modules())
    assert found >= 200 and found == written
