"""The geomot command line: reproduce --list/--help/errors, and solve round trips."""

import subprocess
import sys

import numpy as np
import pytest
import shapely

import geomot
from geomot import cli
from geomot.reproduce import FIGURES


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list(capsys):
    rc, out, _ = run(capsys, "reproduce", "--list")
    assert rc == 0
    lines = out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list(FIGURES)
    assert all(len(ln.split(maxsplit=1)) == 2 for ln in lines)  # each with a description


@pytest.mark.parametrize("argv", [["--help"], ["reproduce", "--help"], ["solve", "--help"]])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0
    assert "usage: geomot" in capsys.readouterr().out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "geomot.cli", "reproduce", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--quick" in out.stdout


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "fig9"], "unknown figure name(s): fig9"),
    (["reproduce", "fig3", "nope", "--quick"], "nope"),
    (["reproduce"], "no figure name"),
    (["reproduce", "fig3", "--n", "2"], "--n 2 is too small"),
    (["reproduce", "fig4", "fig5", "--n", "500"], "fig5 needs n >= 1500"),
])
def test_reproduce_errors_exit_2(argv, message, capsys, tmp_path):
    rc, out, err = run(capsys, *argv, "--out", str(tmp_path))
    assert rc == 2
    assert message in err and err.startswith("geomot: error:")
    assert not any(tmp_path.iterdir())  # nothing was made


def test_reproduce_open_mesh_is_reported(tmp_path, capsys):
    import trimesh

    box = trimesh.creation.box()
    trimesh.Trimesh(box.vertices, box.faces[:-2], process=False).export(tmp_path / "open.ply")
    rc, _, err = run(capsys, "reproduce", "fig6", "--quick", "--mesh", str(tmp_path / "open.ply"),
                     "--out", str(tmp_path / "out"), "--no-progress")
    assert rc == 1 and "not watertight" in err
    rc, _, err = run(capsys, "reproduce", "fig6", "--mesh", str(tmp_path / "none.ply"))
    assert rc == 2 and "mesh file not found" in err


def test_no_command_and_bad_option(capsys):
    rc, out, _ = run(capsys)
    assert rc == 2 and "usage" in out
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "--bogus"])
    assert exc.value.code == 2


def test_reproduce_makes_png_and_reports_missing_bunny(tmp_path, capsys, monkeypatch):
    from geomot import shapes

    def missing(*args, **kwargs):
        raise FileNotFoundError("bunny mesh not found (looked in: nowhere)")

    monkeypatch.setattr(shapes, "bunny", missing)
    rc, out, err = run(capsys, "reproduce", "fig4", "fig6", "--quick", "--out", str(tmp_path), "--no-progress")
    assert rc == 1  # fig6 could not be made ...
    assert "fig6 skipped" in err and "bunny" in err
    assert (tmp_path / "fig4_dumbbell.png").is_file()  # ... but fig4 was
    assert str(tmp_path / "fig4_dumbbell.png") in out


def test_solve_box_npy_round_trip(tmp_path, capsys):
    y = np.random.default_rng(0).random((40, 2)) + [2.0, 0.0]
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "res.npz"
    rc, stdout, _ = run(capsys, "solve", "--domain", "box", "--lo", "0", "0", "--hi", "1", "1",
                        "--targets", str(tmp_path / "y.npy"), "--out", str(out), "--no-progress")
    assert rc == 0 and "converged" in stdout and out.is_file()
    res = geomot.load(out)
    assert res.converged
    np.testing.assert_allclose(res.y, y)
    direct = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), y)
    np.testing.assert_allclose(res.h - res.h.mean(), direct.h - direct.h.mean(), atol=1e-7)
    np.testing.assert_allclose(res.diagram.masses, 1 / 40, rtol=1e-6)


def test_solve_polygon_csv_with_nu(tmp_path, capsys):
    rng = np.random.default_rng(1)
    y = rng.random((30, 2))
    nu = rng.random(30) + 0.5
    np.savetxt(tmp_path / "y.csv", y, delimiter=",", header="x,y")
    np.savetxt(tmp_path / "nu.csv", nu, delimiter=",")
    ring = shapely.Point(0, 0).buffer(1.0, 32).difference(shapely.Point(0, 0).buffer(0.3, 32))
    (tmp_path / "ring.wkt").write_text(ring.wkt)
    out = tmp_path / "ring.npz"
    rc, _, err = run(capsys, "solve", "--domain", "polygon", "--file", str(tmp_path / "ring.wkt"),
                     "--targets", str(tmp_path / "y.csv"), "--nu", str(tmp_path / "nu.csv"),
                     "--out", str(out), "--no-progress")
    assert rc == 0, err
    res = geomot.load(out)
    np.testing.assert_allclose(res.diagram.masses, nu / nu.sum(), rtol=1e-6)


def test_solve_disk(tmp_path, capsys):
    np.save(tmp_path / "y.npy", np.random.default_rng(2).random((20, 2)))
    rc, _, _ = run(capsys, "solve", "--domain", "disk", "--center", "0", "0", "--radius", "2",
                   "--targets", str(tmp_path / "y.npy"), "--out", str(tmp_path / "d.npz"), "--no-progress")
    assert rc == 0
    assert geomot.load(tmp_path / "d.npz").domain.volume == pytest.approx(4 * np.pi, rel=1e-3)


@pytest.mark.parametrize("extra, message", [
    (["--domain", "box", "--targets", "MISSING.npy"], "targets file not found"),
    (["--domain", "box", "--targets", "Y"], "needs --lo and --hi"),
    (["--domain", "polygon", "--targets", "Y"], "needs --file"),
    (["--domain", "polygon", "--file", "nope.wkt", "--targets", "Y"], "polygon file not found"),
    (["--domain", "disk", "--center", "0", "0", "0", "--targets", "Y"], "--center needs 2"),
    (["--domain", "box", "--lo", "0", "0", "--hi", "1", "1", "--targets", "Y", "--nu", "NU"], "must have length"),
    (["--domain", "box", "--lo", "0", "0", "--hi", "1", "1", "--targets", "BAD"], "cannot read targets"),
])
def test_solve_errors_exit_2(extra, message, tmp_path, capsys):
    np.save(tmp_path / "y.npy", np.random.default_rng(0).random((10, 2)))
    np.save(tmp_path / "nu.npy", np.ones(3))
    (tmp_path / "bad.csv").write_text("a,b\nx,y\n")
    subst = {"Y": str(tmp_path / "y.npy"), "NU": str(tmp_path / "nu.npy"), "BAD": str(tmp_path / "bad.csv"),
             "MISSING.npy": str(tmp_path / "missing.npy"), "nope.wkt": str(tmp_path / "nope.wkt")}
    argv = ["solve", *[subst.get(a, a) for a in extra], "--out", str(tmp_path / "r.npz"), "--no-progress"]
    rc, _, err = run(capsys, *argv)
    assert rc == 2
    assert message in err, err
    assert not (tmp_path / "r.npz").exists()
