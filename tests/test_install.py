"""A regular install works: ``pip install .`` (not editable) into a fresh venv, used from another folder.

The venv is made with ``--system-site-packages`` and the package installed with ``--no-deps``,
so geomot's dependencies come from the running environment and nothing big is downloaded.  The
source is copied to a temporary folder first: an in-tree build would leave ``build/`` and
``*.egg-info`` in the checkout, and a stale ``build/lib`` can put deleted modules into a wheel.
Every command runs in another folder, without ``PYTHONPATH`` and without ``GEOMOT_DATA``, so
only what the wheel installed can be found.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: what a checkout holds that a source tree given to pip does not
_NOT_SOURCE = shutil.ignore_patterns(".git", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache",
                                     ".hypothesis", ".benchmarks", "figures", "out", "*.npz")


def _can_build_offline():
    """Whether this environment's setuptools builds wheels without fetching anything.

    setuptools >= 70.1 has ``bdist_wheel`` built in; older ones need the ``wheel`` package.
    """
    import setuptools

    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GEOMOT_DATA")}
    env["MPLBACKEND"] = "Agg"
    return env


def _venv_bin(venv, name):
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(venv python, venv geomot script, a working folder outside the repository)``."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_SOURCE)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, capture_output=True, timeout=120)
    python = _venv_bin(venv, "python")
    # the venv sees the running environment's pip (system site-packages) and installs into itself
    cmd = [str(python), "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check"]
    if _can_build_offline():
        cmd.append("--no-build-isolation")
    proc = subprocess.run(cmd + [str(src)], capture_output=True, text=True, timeout=600, env=_env(), cwd=base)
    if proc.returncode != 0 and "No matching distribution found" in proc.stdout + proc.stderr:
        pytest.skip("the build backend (setuptools, wheel) can be neither imported nor fetched here")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work = base / "elsewhere"
    work.mkdir()
    return python, _venv_bin(venv, "geomot"), work, venv


_PROBE = """
import json, geomot, geomot.shapes as s
from geomot.reproduce import FIGURES
area = s.load_shape("two_half_disks").area
m = s.bunny()
print(json.dumps({"geomot": geomot.__file__, "data": str(s.DATA_DIR), "area": area,
                  "generated": s.two_half_disks().area, "watertight": bool(m.is_watertight),
                  "faces": len(m.faces), "bunny": [str(p) for p in s._bunny_candidates()],
                  "figures": list(FIGURES)}))
"""


def test_installed_package_reads_its_own_data(installed):
    python, _, work, venv = installed
    proc = subprocess.run([str(python), "-c", _PROBE], cwd=work, capture_output=True, text=True, timeout=300,
                          env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    pkg = Path(got["geomot"]).resolve().parent
    assert pkg.is_relative_to(venv.resolve()) and not pkg.is_relative_to(ROOT)  # the installed copy
    assert Path(got["data"]).resolve().is_relative_to(pkg)
    assert got["area"] == got["generated"] > 0  # the stored WKT is the generator's shape, bit for bit
    assert got["watertight"] and got["faces"] == 16372
    assert [Path(p).resolve() for p in got["bunny"]] == [pkg / "data" / "bunny_watertight.ply"]
    assert got["figures"] == ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig8", "fig10", "mode-collapse",
                              "singular-appears"]


def test_installed_console_script_lists_figures(installed):
    _, geomot_script, work, _ = installed
    proc = subprocess.run([str(geomot_script), "reproduce", "--list"], cwd=work, capture_output=True, text=True,
                          timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [ln.split()[0] for ln in proc.stdout.strip().splitlines()] == [
        "fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig8", "fig10", "mode-collapse", "singular-appears"]


@pytest.mark.slow  # a fresh install compiles every numba kernel it uses: ~50 s on 2 cores
def test_installed_console_script_reproduces_fig3(installed):
    _, geomot_script, work, _ = installed
    proc = subprocess.run([str(geomot_script), "reproduce", "fig3", "--quick", "--out", "figs", "--no-progress"],
                          cwd=work, capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    png = work / "figs" / "fig3_two_half_disks.png"
    assert png.is_file() and png.stat().st_size > 10_000
    assert proc.stdout.split() == [str(Path("figs") / "fig3_two_half_disks.png")]
