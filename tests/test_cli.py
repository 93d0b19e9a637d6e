"""The geomot command line: reproduce --list/--help/errors, and solve round trips."""

import os
import subprocess
import sys
from pathlib import Path

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


# ------------------------------------------------------------------ issue 14: outputs, shapes, no tracebacks
BOX2 = ["--domain", "box", "--lo", "0", "0", "--hi", "1", "1"]


def _files(tmp_path):
    """Bad and good input files for the solve command."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "y.npy", rng.random((10, 2)))
    np.save(tmp_path / "y3.npy", rng.random((10, 3)))
    np.save(tmp_path / "yc.npy", rng.random((10, 2)) + 0j)
    np.save(tmp_path / "ys.npy", np.array([["a", "b"]]))
    np.save(tmp_path / "yst.npy", np.zeros(3, dtype=[("a", "f8"), ("b", "f8")]))
    np.save(tmp_path / "dup.npy", np.array([[0.1, 0.2], [0.5, 0.5], [0.1, 0.2]]))
    np.save(tmp_path / "y1d.npy", rng.random(5))
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "garbage.npy").write_bytes(b"\x93NUMPYxxxxxxx")
    np.savetxt(tmp_path / "ynan.csv", [[0.1, 0.2], [np.nan, 0.3]], delimiter=",")
    (tmp_path / "ragged.csv").write_text("0.1,0.2\n0.3\n")
    (tmp_path / "empty.csv").write_text("")
    np.save(tmp_path / "nuneg.npy", -np.ones(10))
    np.save(tmp_path / "nunan.npy", np.full(10, np.nan))
    np.save(tmp_path / "nu2d.npy", np.ones((10, 2)))
    (tmp_path / "line.wkt").write_text("LINESTRING (0 0, 1 1)")
    (tmp_path / "bowtie.wkt").write_text("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")
    (tmp_path / "bin.wkt").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "empty.wkt").write_text("")
    (tmp_path / "mesh.ply").write_text("not a mesh")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.npz").mkdir()


BAD_SOLVES = [
    (BOX2 + ["--targets", "empty.npy"], "cannot read targets from"),
    (BOX2 + ["--targets", "garbage.npy"], "cannot read targets from"),
    (BOX2 + ["--targets", "empty.csv"], "targets file empty.csv holds no numbers"),
    (BOX2 + ["--targets", "yc.npy"], "targets (yc.npy) must be real"),
    (BOX2 + ["--targets", "ys.npy"], "must be numbers"),
    (BOX2 + ["--targets", "yst.npy"], "must be numbers"),
    (BOX2 + ["--targets", "ynan.csv"], "targets (ynan.csv) contains NaN or inf (first at row 1"),
    (BOX2 + ["--targets", "ragged.csv"], "cannot read targets"),
    (BOX2 + ["--targets", "dup.npy"], "targets (dup.npy) contains duplicate targets: rows 0 and 2 are equal"),
    (BOX2 + ["--targets", "y3.npy"], "have 3 columns, the 2D domain needs 2"),
    (BOX2 + ["--targets", "y1d.npy"], "a single list of 5 numbers: one target in the 2D domain needs 2"),
    (BOX2 + ["--targets", "."], "is a folder"),
    (BOX2 + ["--targets", "y.npy", "--nu", "nuneg.npy"], "nu (nuneg.npy) must be > 0"),
    (BOX2 + ["--targets", "y.npy", "--nu", "nunan.npy"], "nu (nunan.npy) contains NaN"),
    (BOX2 + ["--targets", "y.npy", "--nu", "nu2d.npy"], "nu must be a list of masses"),
    (BOX2 + ["--targets", "y.npy", "--tol", "-1"], "tol must be"),
    (BOX2 + ["--targets", "y.npy", "--tol", "nan"], "tol must be"),
    (BOX2 + ["--targets", "y.npy", "--max-iter", "-1"], "max_iter must be"),
    (BOX2 + ["--targets", "y.npy", "--seed", "3"], "--seed applies to --method montecarlo only"),
    (BOX2 + ["--targets", "y.npy", "--seed", "-1", "--method", "montecarlo"], "--seed must be >= 0"),
    (BOX2 + ["--targets", "y.npy", "--method", "montecarlo", "--max-iter", "0"], "max_iter must be"),
    (["--domain", "box", "--lo", "0", "0", "--hi", "0", "1", "--targets", "y.npy"], "lo must be < hi"),
    (["--domain", "box", "--lo", "0", "0", "--hi", "1", "--targets", "y.npy"], "same length"),
    (["--domain", "disk", "--radius", "-1", "--targets", "y.npy"], "radius must be"),
    (["--domain", "disk", "--radius", "nan", "--targets", "y.npy"], "radius must be"),
    (["--domain", "polygon", "--file", "line.wkt", "--targets", "y.npy"], "holds no polygon (found LineString)"),
    (["--domain", "polygon", "--file", "bowtie.wkt", "--targets", "y.npy"], "not a valid polygon"),
    (["--domain", "polygon", "--file", "bin.wkt", "--targets", "y.npy"], "cannot read a polygon"),
    (["--domain", "polygon", "--file", "empty.wkt", "--targets", "y.npy"], "cannot read a polygon"),
    (["--domain", "mesh", "--file", "mesh.ply", "--targets", "y3.npy"], "cannot read a mesh"),
]
BAD_OUTS = [
    (".", "is a folder; give a file name"),
    ("", "is a folder; give a file name"),
    ("sub/", "is a folder; give a file name"),
    ("adir", "--out would write adir.npz, which is a folder"),
    ("nodir/x.npz", "output folder does not exist: nodir"),
    ("afile/x.npz", "output folder is not a folder: afile"),
]


def _run_in(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, out, err = run(capsys, *argv)
    return rc, out, err, before


@pytest.mark.parametrize("extra, message", BAD_SOLVES)
def test_bad_solve_is_one_line_and_exit_2(extra, message, tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    rc, out, err, before = _run_in(tmp_path, monkeypatch, capsys,
                                   ["solve", *extra, "--out", "r.npz", "--no-progress"])
    assert rc == 2, err
    assert err.startswith("geomot: error:") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize("out_arg, message", BAD_OUTS)
def test_bad_out_is_refused_before_solving(out_arg, message, tmp_path, capsys, monkeypatch):
    _files(tmp_path)

    def no_solve(*args, **kwargs):
        raise AssertionError("solve_ot must not run when --out cannot be written")

    monkeypatch.setattr(geomot, "solve_ot", no_solve)
    rc, _, err, before = _run_in(tmp_path, monkeypatch, capsys,
                                 ["solve", *BOX2, "--targets", "y.npy", "--out", out_arg, "--no-progress"])
    assert rc == 2 and err.startswith("geomot: error:") and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unwritable_out_is_refused_before_solving(tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    import builtins

    real_open = builtins.open

    def guarded(file, mode="r", *args, **kwargs):
        if str(file).endswith("locked.npz") and any(c in mode for c in "wax"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(geomot, "solve_ot", lambda *a, **k: pytest.fail("solved before checking --out"))
    rc, _, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                            ["solve", *BOX2, "--targets", "y.npy", "--out", "locked.npz", "--no-progress"])
    assert rc == 2 and "cannot write --out locked.npz: Permission denied" in err, err
    assert not (tmp_path / "locked.npz").exists()


@pytest.mark.parametrize("out_arg, written", [("res", "res.npz"), ("res.npz", "res.npz"),
                                              ("sub/r", "sub/r.npz"), ("a.b", "a.b.npz")])
def test_solve_prints_the_path_it_wrote(out_arg, written, tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    (tmp_path / "sub").mkdir()
    rc, out, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                              ["solve", *BOX2, "--targets", "y.npy", "--out", out_arg, "--no-progress"])
    assert rc == 0, err
    assert out.strip().endswith(f"wrote {written}")
    assert geomot.load(tmp_path / written).converged
    assert not (tmp_path / (written + ".npz")).exists() and not (tmp_path / "..npz").exists()


def test_existing_out_file_is_overwritten(tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    (tmp_path / "old.npz").write_text("stale")
    rc, _, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                            ["solve", *BOX2, "--targets", "y.npy", "--out", "old.npz", "--no-progress"])
    assert rc == 0, err
    assert geomot.load(tmp_path / "old.npz").y.shape == (10, 2)


@pytest.mark.parametrize("name, write, dim", [
    ("one.csv", lambda p: np.savetxt(p, [[0.3, 0.4]], delimiter=","), 2),
    ("one_header.csv", lambda p: p.write_text("x,y\n0.3,0.4\n"), 2),
    ("one_col.csv", lambda p: np.savetxt(p, [0.3, 0.4], delimiter=","), 2),
    ("one.npy", lambda p: np.save(p, np.array([0.3, 0.4])), 2),
    ("one_row.npy", lambda p: np.save(p, np.array([[0.3, 0.4]])), 2),
    ("one3.csv", lambda p: np.savetxt(p, [[0.3, 0.4, 0.5]], delimiter=","), 3),
])
def test_a_single_target_is_accepted(name, write, dim, tmp_path, capsys, monkeypatch):
    write(tmp_path / name)
    dom = ["--domain", "box", "--lo", *["0"] * dim, "--hi", *["1"] * dim]
    rc, out, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                              ["solve", *dom, "--targets", name, "--out", "r", "--no-progress"])
    assert rc == 0, err
    assert f"1 target in {dim}D; wrote r.npz" in out
    res = geomot.load(tmp_path / "r.npz")
    np.testing.assert_allclose(res.y, [[0.3, 0.4, 0.5][:dim]])
    np.testing.assert_allclose(res.masses, [1.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_one_column_in_one_dimension_is_many_targets(tmp_path, capsys, monkeypatch):
    np.savetxt(tmp_path / "col.csv", [0.1, 0.5, 0.8], delimiter=",")
    rc, out, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                              ["solve", "--domain", "box", "--lo", "0", "--hi", "1", "--targets", "col.csv",
                               "--method", "montecarlo", "--seed", "0", "--max-iter", "200", "--out", "r",
                               "--no-progress"])
    assert rc in (0, 1), err
    assert "3 targets in 1D; wrote r.npz" in out
    assert geomot.load(tmp_path / "r.npz").y.shape == (3, 1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_seed_is_passed_to_monte_carlo(tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    seen = {}

    def fake(domain, y, nu=None, **kw):
        seen.update(kw)
        return real(domain, y, nu, **kw)

    real = geomot.solve_ot
    monkeypatch.setattr(geomot, "solve_ot", fake)
    rc, _, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                            ["solve", *BOX2, "--targets", "y.npy", "--method", "montecarlo", "--seed", "7",
                             "--max-iter", "3", "--out", "mc", "--no-progress"])
    assert rc in (0, 1), err
    assert seen["seed"] == 7 and seen["method"] == "montecarlo"
    assert (tmp_path / "mc.npz").is_file()


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "fig3", "--quick", "--out", "afile"], "--out afile is a file, not a folder"),
    (["reproduce", "fig3", "--quick", "--out", "afile/sub"], "cannot create the output folder --out afile/sub"),
    (["reproduce", "fig3", "--quick", "--seed", "-1", "--out", "figs"], "--seed must be >= 0"),
    (["reproduce", "fig6", "--quick", "--mesh", ".", "--out", "figs"], "mesh file not found"),
])
def test_bad_reproduce_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    rc, out, err, before = _run_in(tmp_path, monkeypatch, capsys, argv)
    assert rc == 2 and err.startswith("geomot: error:") and message in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_internal_errors_are_one_line(tmp_path, capsys, monkeypatch):
    _files(tmp_path)

    def broken(*args, **kwargs):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(geomot, "solve_ot", broken)
    rc, _, err, _ = _run_in(tmp_path, monkeypatch, capsys,
                            ["solve", *BOX2, "--targets", "y.npy", "--out", "r", "--no-progress"])
    assert rc == 1
    assert err == "geomot: internal error: IndexError: index 7 is out of bounds (please report it)\n"


@pytest.mark.parametrize("argv", [
    ["reproduce", "fig3", "--quick", "--out", "afile"],
    ["solve", *BOX2, "--targets", "y.npy", "--out", "/proc/geomot-nope/r.npz"],
    ["solve", *BOX2, "--targets", "y.npy", "--out", "."],
    ["solve", *BOX2, "--targets", "yc.npy", "--out", "r"],
    ["solve", *BOX2, "--targets", "y.npy", "--seed", "1", "--out", "r"],
])
def test_console_never_prints_a_traceback(argv, tmp_path):
    _files(tmp_path)
    root = str(Path(cli.__file__).parents[1])  # this checkout's geomot, run from tmp_path
    out = subprocess.run([sys.executable, "-m", "geomot.cli", *argv], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.startswith("geomot: error:")
