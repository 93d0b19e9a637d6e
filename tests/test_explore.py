"""The classroom explorer (geomot.explore) and the sweep it shares with the slides
(geomot.reproduce.singular_appears): driven headless on matplotlib's Agg backend."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from geomot import explore
from geomot.reproduce import FIGURES
from geomot.reproduce import singular_appears as sa
from geomot.singular import default_threshold

ROOT = Path(__file__).resolve().parents[1]


def _env(**changes):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _sigma_segments(ax):
    """The singular segments drawn on an axes (the LineCollections labelled Γk)."""
    segs = [np.asarray(c.get_segments()) for c in ax.collections
            if isinstance(c, LineCollection) and str(c.get_label()).startswith("$\\Gamma")]
    return np.concatenate(segs) if segs else np.zeros((0, 2, 2))


@pytest.fixture
def ex():
    return explore.Explorer(parameter=0.0, n=400, seed=0, fig=Figure(figsize=(13, 7)), potential=False)


# ------------------------------------------------------------------------------ headless
@pytest.mark.parametrize("env", [{"DISPLAY": None, "WAYLAND_DISPLAY": None},
                                 {"DISPLAY": ":0", "MPLBACKEND": "Agg"}], ids=["no-display", "agg"])
def test_cli_explore_headless_exits_2_and_says_why(env, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "geomot.cli", "explore"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=_env(**env))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("geomot: error: the explorer opens a window and needs a display")
    assert "geomot reproduce singular-appears" in proc.stderr  # what to do instead
    assert len(proc.stderr.strip().splitlines()) == 1


def test_display_problem(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert "DISPLAY is not set" in explore.display_problem()
        with pytest.raises(explore.NoDisplayError, match="needs a display"):
            explore.require_display()
    monkeypatch.setenv("DISPLAY", ":0")
    assert "'agg'" in explore.display_problem().lower()  # this process runs on Agg


def test_cli_explore_help():
    proc = subprocess.run([sys.executable, "-m", "geomot.cli", "explore", "--help"], capture_output=True,
                          text=True, timeout=120, env=_env())
    assert proc.returncode == 0
    for option in ("--family", "--parameter", "--n", "--seed", "--no-3d"):
        assert option in proc.stdout


# ------------------------------------------------------------------------- update logic
def test_explorer_controls(ex):
    assert set(ex.sliders) == {"parameter", "n", "threshold"}
    assert [t.get_text() for t in ex.radio.labels] == [f.label for f in sa.FAMILIES.values()]
    assert ex.sliders["parameter"].label.get_text() == "gap"
    assert ex.auto.get_status() == [True]
    assert ex.parameter == 0.0 and ex.n == 400 and ex.threshold is None


def test_opening_the_gap_makes_sigma_appear_on_the_midline(ex):
    # gap 0: the two half-disks are a disk, a convex target (Caffarelli): no singular set drawn
    assert ex.scene.n_pairs == 0 and len(_sigma_segments(ex.axes[0])) == 0
    status0, updates0 = ex._status.get_text(), ex.updates
    ex.sliders["parameter"].set_val(0.4)
    assert ex.updates == updates0 + 1
    sc = ex.scene
    assert sc.parameter == pytest.approx(0.4) and sc.res.converged
    assert sc.n_pairs > 0
    drawn = _sigma_segments(ex.axes[0])
    assert len(drawn) == sc.n_pairs  # the artists are the detected Σ
    np.testing.assert_allclose(drawn, np.asarray(sc.singular.segments))
    assert np.abs(drawn[..., 0] - 1.0).max() < 1.5 * np.sqrt(2 / 400)  # on the midline x = 1
    assert 0.8 < sc.length < 1.2 and sc.hausdorff < 0.1
    assert ex._status.get_text() != status0 and "gap = 0.400" in ex._status.get_text()
    # the targets moved apart: nothing in the gap, half on each side
    y = sc.res.y
    assert np.all(np.abs(y[:, 0] - 1.0) >= 0.2 - 1e-12)
    assert (y[:, 0] < 1).sum() == (y[:, 0] > 1).sum() == 200


def test_threshold_redetects_without_solving(ex):
    ex.sliders["parameter"].set_val(0.4)
    res = ex.scene.res
    n_auto = ex.scene.n_pairs
    assert ex.scene.threshold == pytest.approx(default_threshold(400, 2))
    ex.sliders["threshold"].set_val(12.0)  # a very high threshold: no pair is singular
    assert ex.auto.get_status() == [False]  # moving τ by hand leaves auto mode
    assert ex.scene.res is res  # the cached solve
    assert ex.scene.threshold == 12.0 and ex.scene.n_pairs < n_auto
    ex.sliders["threshold"].set_val(2.0)
    assert ex.scene.res is res and ex.scene.n_pairs >= n_auto
    ex.auto.set_active(0)  # back to auto τ
    assert ex.threshold is None and ex.scene.n_pairs == n_auto
    assert ex.sliders["threshold"].val == pytest.approx(default_threshold(400, 2))


def test_n_slider(ex):
    ex.sliders["parameter"].set_val(0.3)
    ex.sliders["n"].set_val(1000)
    assert ex.scene.n == ex.scene.n_targets == 1000
    assert ex.scene.threshold == pytest.approx(default_threshold(1000, 2))
    assert len(ex.axes[1].collections[-1].get_offsets()) == 1000  # the target points drawn


def test_family_switch(ex):
    ex.set_family("disk-with-hole")
    s = ex.sliders["parameter"]
    assert ex.family.name == "disk-with-hole" and s.label.get_text() == "hole radius"
    assert (s.valmin, s.valmax) == sa.FAMILIES["disk-with-hole"].limits
    assert ex.parameter == pytest.approx(sa.FAMILIES["disk-with-hole"].sweep / 2)
    assert ex.scene.family == "disk-with-hole" and len(ex.scene.target.interiors) == 1
    assert ex.axes[0].get_xlim()[0] < -1.0  # the unit disk is the source now
    s.set_val(0.0)
    assert ex.scene.n_pairs == 0 and ex.scene.n_targets == 400  # the full disk: convex
    s.set_val(0.5)
    assert ex.scene.n_targets < 400  # the pool restricted to the disk with a hole
    assert not shapely.contains_xy(shapely.Point(0.25, 0.1).buffer(0.5), *ex.scene.res.y.T).any()


# ---------------------------------------------------------------------------- the sweep
def test_scene_known_answers():
    s0 = sa.scene("two-half-disks", 0.0, 400)
    assert s0.n_pairs == 0 and s0.known.is_empty and np.isnan(s0.hausdorff)
    assert "expected: none" in s0.summary()
    s1 = sa.scene("two-half-disks", 0.4, 400)
    assert s1.known.equals(shapely.LineString([(1, 0), (1, 1)]))
    assert s1.hausdorff < 0.1 and "Hausdorff" in s1.summary()
    for name in ("disk-with-hole", "notched-disk"):
        s = sa.scene(name, 0.0, 400)
        assert s.n_pairs == 0 and s.res.converged


def test_hausdorff_decreases_with_n():
    # Σ converges to the midline: its Hausdorff distance to x = 1 shrinks like a cell's width
    n = np.array([250, 1000, 4000])
    d = np.array([sa.scene("two-half-disks", 0.4, int(k), seed=1).hausdorff for k in n])
    assert d[0] > d[1] > d[2] and d[2] < 0.01
    assert np.all(d * np.sqrt(n) < 1.0)


def test_targets_move_continuously():
    fam = sa.get_family("two-half-disks")
    a, b = fam.targets(0.1, 300, seed=3), fam.targets(0.3, 300, seed=3)
    np.testing.assert_allclose(b[:150] - a[:150], [[-0.1, 0.0]] * 150, atol=1e-12)
    np.testing.assert_allclose(b[150:] - a[150:], [[0.1, 0.0]] * 150, atol=1e-12)
    hole = sa.get_family("disk-with-hole")
    small, big = hole.targets(0.1, 500, seed=3), hole.targets(0.4, 500, seed=3)
    assert len(big) < len(small) <= 500
    assert {tuple(p) for p in big} <= {tuple(p) for p in small}  # points are removed, never moved
    notched = sa.get_family("notched-disk")
    assert len(notched.targets(0.5, 500, seed=3)) < 500
    assert notched.shape(0.5).area < notched.shape(0.0).area


@pytest.mark.parametrize("call, match", [
    (lambda: sa.scene("square", 0.1, 300), "family must be one of"),
    (lambda: sa.scene("two-half-disks", 0.9, 300), r"gap must lie in \[0.0, 0.5\]"),
    (lambda: sa.scene("two-half-disks", -0.1, 300), "gap must be a finite number"),
    (lambda: sa.scene("disk-with-hole", 0.1, 20), "n must be an integer >= 50"),
    (lambda: sa.scene("two-half-disks", 0.1, 300, threshold=-1), "threshold must be"),
    (lambda: sa.compute(quick=True, n=100), "n must be at least 300"),
    (lambda: sa.compute(quick=True, frames=1), "frames must be an integer >= 2"),
    (lambda: explore.Explorer(family="disk-with-hole", parameter=2.0, fig=Figure()), "hole radius must lie"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_recipe_registered():
    spec = FIGURES["singular-appears"]
    assert spec.recipe is sa and spec.dim == 2 and spec.sizes == (600, 3000) and spec.min_n == 300


def test_compute_and_render(tmp_path):
    from PIL import Image, ImageSequence

    r = sa.compute(quick=True, frames=6)
    assert r.n == 600 and len(r.scenes) == 6 and r.parameters[0] == 0.0 and r.parameters[-1] == pytest.approx(0.4)
    assert r.n_pairs[0] == 0 and r.n_pairs[-1] > 0 and 0 < r.appears <= 0.4
    assert r.lengths[-1] == pytest.approx(1.0, abs=0.15)
    paths = sa.render(r, tmp_path)
    names = [p.name for p in paths]
    assert names[:2] == ["singular_appears.gif", "singular_appears.png"]
    with Image.open(paths[0]) as gif:
        frames = [np.asarray(f.convert("RGB"), dtype=float) for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 2 * 6 - 2  # there and back
    assert all(f.std() > 10 for f in frames)
    assert np.abs(frames[0] - frames[5]).mean() > 1  # the frames differ: the gap opens
    with Image.open(paths[1]) as sheet:
        assert sheet.size[0] > 800
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        assert len(paths) == 2
    else:
        assert names[2] == "singular_appears.mp4" and paths[2].stat().st_size > 1000
        meta = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(paths[2])], capture_output=True,
                              text=True).stderr
        assert "h264" in meta and "Video:" in meta


def test_cli_reproduce_singular_appears(tmp_path):
    from geomot.cli import main

    assert main(["reproduce", "singular-appears", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "singular_appears.gif").is_file() and (tmp_path / "singular_appears.png").is_file()
