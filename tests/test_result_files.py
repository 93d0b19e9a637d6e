"""OTResult files (issue 14, point 5): format 2 with the frame, format 1 still loads, and a
damaged or foreign file is one ValueError naming the file and the field."""

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

import geomot
from geomot import Domain, solve_ot
from geomot.result import _FORMAT, load

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A polygon-domain result saved to a file, and its arrays."""
    dom = Domain.polygon(shapely.box(0, 0, 2, 1).difference(shapely.box(0.8, 0.3, 1.2, 0.7)))
    y = np.random.default_rng(0).random((25, 2)) * [2, 1]
    res = solve_ot(dom, y, np.random.default_rng(1).uniform(1, 2, 25), tol=1e-10)
    path = res.save(tmp_path_factory.mktemp("files") / "res.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return res, path, arrays


def _rewrite(tmp_path, arrays, name="bad.npz", **changes):
    out = dict(arrays)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    p = os.fspath(tmp_path / name)
    np.savez(p, **out)
    return p


def test_format_2_round_trip_keeps_the_frame(saved):
    res, path, arrays = saved
    assert int(arrays["format"]) == _FORMAT == 2
    assert {"frame__source_center", "frame__source_scale", "frame__target_center", "frame__target_scale",
            "frame_weights"} <= set(arrays)
    back = load(path)
    assert back == res and back.frame == res.frame
    np.testing.assert_array_equal(back.frame_weights, res.frame_weights)
    # the diagram the frame state gives, bit for bit (the solver's own, attached to res, came from
    # triangulations repaired by flips: the same cells, summed over the pieces in another order)
    fresh = geomot.OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses,
                            converged=True, iterations=0, history=[0.0], frame=res.frame,
                            frame_weights=res.frame_weights).diagram
    for name in ("masses", "volumes", "facet_measures"):
        np.testing.assert_array_equal(getattr(back.diagram, name), getattr(fresh, name))
    np.testing.assert_allclose(back.diagram.masses, res.masses, rtol=1e-13, atol=0)


def test_format_1_files_still_load():
    # written by geomot before the frames (tests/data/result_format1.npz: a 2x1 box, 6 targets)
    path = DATA / "result_format1.npz"
    with np.load(path, allow_pickle=False) as z:
        raw = {k: z[k] for k in z.files}
    assert int(raw["format"]) == 1 and not any(k.startswith("frame") for k in raw)
    res = load(path)
    for name in ("y", "nu", "h", "masses", "history"):
        np.testing.assert_array_equal(getattr(res, name), raw[name])
    assert res.converged and res.iterations == int(raw["iterations"]) and res.method == "newton"
    assert res.frame == geomot.frame.Frame.of(res.domain.bounds, res.y)  # derived from the domain and y
    np.testing.assert_allclose(res.diagram.masses, res.masses, rtol=1e-10)
    np.testing.assert_allclose(res.masses, res.nu, rtol=1e-10)


@pytest.mark.parametrize("damage", ["truncated", "empty", "npy", "garbage", "crc"])
def test_damaged_or_foreign_files_are_one_value_error(saved, tmp_path, damage):
    _, path, arrays = saved
    data = Path(path).read_bytes()
    bad = tmp_path / f"{damage}.npz"
    if damage == "truncated":  # formerly zipfile.BadZipFile
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "empty":  # formerly EOFError
        bad.write_bytes(b"")
    elif damage == "npy":  # formerly TypeError (np.load returns an array)
        np.save(bad, np.zeros(3))
        bad = tmp_path / f"{damage}.npz.npy"
    elif damage == "garbage":
        bad.write_bytes(os.urandom(2000))
    else:  # a byte of a member changed: the zip's CRC check fails when it is read
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("h.npy")
        raw = bytearray(data)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        raw[start + info.compress_size - 3] ^= 0xFF
        bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"path .*" + damage) as info:
        load(bad)
    assert type(info.value) is ValueError


def test_missing_file_and_non_path():
    with pytest.raises(ValueError, match="no such file"):
        load("/nonexistent/dir/res.npz")
    with pytest.raises(ValueError, match="path must be a str or os.PathLike"):
        load(12)


def test_damaged_geometry_names_the_domain(saved, tmp_path):
    # formerly shapely's GEOSException escaped
    _, _, arrays = saved
    wkb = str(arrays["domain__wkb"])  # (hex)
    p = _rewrite(tmp_path, arrays, domain__wkb=np.array(wkb[: len(wkb) // 2]))
    with pytest.raises(ValueError, match=r"bad\.npz.*field 'domain' is invalid"):
        load(p)
    p = _rewrite(tmp_path, arrays, domain__kind=np.array("sphere"))
    with pytest.raises(ValueError, match="field 'domain' is invalid"):
        load(p)


@pytest.mark.parametrize("field, value, match", [
    ("y", None, r"missing \['y'\]"),
    ("domain__kind", None, "field 'domain' is invalid"),
    ("format", np.array("two"), "field 'format' must be an integer"),
    ("format", np.array(3), "has format 3, newer than this geomot"),
    ("format", np.array(0), "field 'format' must be 1 or 2"),
    ("method", np.array(1), "field 'method' must be a string"),
    ("method", np.array("magic"), "field 'method' must be one of"),
    ("converged", np.array(0.5), "field 'converged' must be a bool"),
    ("iterations", np.array(-2), "field 'iterations' must be >= 0"),
    ("iterations", np.array([1, 2]), "field 'iterations' must be an integer"),
    ("message", np.array(3.0), "field 'message' must be a string"),
    ("y", np.array([["a", "b"]] * 25), "field 'y' must hold numbers"),
    ("y", np.zeros((25, 3)), "field 'y' is invalid: y must have 2 columns"),
    ("y", np.full((25, 2), np.nan), "field 'y' is invalid: y contains NaN"),
    ("h", np.zeros(7), "field 'h' is invalid: h must have length 25"),
    ("nu", -np.full(25, 0.04), "field 'nu' is invalid: nu must be > 0"),
    ("nu", np.full(25, 0.4), "field 'nu' is invalid: nu must sum to 1"),
    ("masses", np.full(25, 2.0), "field 'masses' is invalid"),
    ("masses", np.full(25, -0.1), "field 'masses' is invalid"),
    ("history", np.zeros((2, 2)), "field 'history' is invalid"),
    ("history", np.array([np.nan]), "field 'history' is invalid"),
    ("timings__hull", np.array(["x"]), "field 'timings__hull' must hold numbers"),
    ("frame__source_scale", np.array(-1.0), "field 'frame' is invalid: source_scale must be a finite number > 0"),
    ("frame__target_center", np.zeros(3), "field 'frame' is invalid"),
    ("frame__target_scale", np.array("big"), "field 'frame__target_scale' must hold numbers"),
    ("frame__source_center", None, "field 'frame' is invalid: frame is missing"),
    ("frame_weights", None, "needs the frame__ entries and frame_weights"),
    ("frame_weights", np.zeros(3), "field 'frame_weights' is invalid: frame_weights must have length 25"),
    ("frame_weights", np.full(25, np.inf), "field 'frame_weights' is invalid"),
])
def test_missing_and_mistyped_fields_name_the_file_and_the_field(saved, tmp_path, field, value, match):
    _, _, arrays = saved
    p = _rewrite(tmp_path, arrays, **{field: value})
    with pytest.raises(ValueError, match=match) as info:
        load(p)
    assert "bad.npz" in str(info.value)


def test_load_never_runs_code(saved, tmp_path):
    _, _, arrays = saved
    p = _rewrite(tmp_path, arrays, h=np.array([object()] * 25, dtype=object))
    with pytest.raises(ValueError, match="bad.npz"):
        load(p)
