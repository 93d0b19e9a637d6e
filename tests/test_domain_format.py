"""The Domain file format is frozen: arrays (and pickles) written by geomot before the per-kind
refactor (commit 5ce3d86) load into the same domain, and today's constructors write the same bytes.

``tests/data/domain_arrays_v0.json`` was written by ``python tests/test_domain_format.py --write``
with geomot at commit 5ce3d86 (the old single-class ``Domain``).  For every case it holds the
exact bytes of ``to_arrays()``, of the convex pieces, of ``piece_volumes``, the volume, total mass,
``repr`` and a protocol-4 pickle.  Never regenerate it to make a test pass: a difference here is a
broken file format.
"""

import base64
import json
import pathlib
import pickle
import sys

import numpy as np
import pytest

FIXTURE = pathlib.Path(__file__).with_name("data") / "domain_arrays_v0.json"
PIECE_FIELDS = ("normals", "offsets", "indptr", "lo", "hi", "sign", "density")


def fixture_domains():
    """name -> Domain: every kind, in 1-5 dimensions, with the options that change the pieces."""
    import shapely
    import trimesh

    from geomot.domain import Domain

    hole = shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1.0, 0.75))
    L = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    ico = trimesh.creation.icosphere(subdivisions=1)
    radii = np.random.default_rng(5).uniform(0.5, 1.5, size=len(ico.vertices))
    star = trimesh.Trimesh(np.asarray(ico.vertices) * radii[:, None], ico.faces, process=False)
    vox = np.zeros((2, 3, 4))
    vox[0, 1, 2] = 2.0
    vox[1, 2, 3] = 1.0
    return {
        "box1": Domain.box([-1.0], [2.0]),
        "box2": Domain.box([0, 0], [2, 1]),
        "box3": Domain.box([0, -1, 2], [2, 1, 5]),
        "box4": Domain.box(np.zeros(4), np.ones(4)),
        "polygon_hole": Domain.polygon(hole, density=2.0),
        "polygon_nomerge": Domain.polygon(hole, merge=False),
        "polygon_multi": Domain.polygon(shapely.MultiPolygon([L, shapely.box(5, 5, 6, 7)]), density=2.5),
        "disk": Domain.disk([0.1, 0.2], 0.7, resolution=33),
        "disk_default": Domain.disk([1.0, -2.0], 1.5),
        "ball": Domain.ball([0, 0, 1], 0.5, subdivisions=1),
        "mesh_box": Domain.mesh(trimesh.creation.box(extents=(1, 2, 3))),
        "mesh_star": Domain.mesh(star),
        "image_upper": Domain.image([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]], [0, 0], [3, 2]),
        "image_lower": Domain.image([[1.0, 0.0], [0.5, 2.0]], [0, 0], [1, 1], origin="lower"),
        "image_3d": Domain.image(vox, [0, 0, 0], [4, 3, 2], origin="lower"),
        "triangulation": Domain.triangulation([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0]],
                                              [[0, 1, 2], [0, 3, 2], [1, 4, 2]], [1.0, 3.0, 0.0]),
        "triangulation_uniform": Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]]),
    }


def _enc(a):
    a = np.array(a, copy=True, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}


def _dec(e):
    return np.frombuffer(base64.b64decode(e["data"]), dtype=np.dtype(e["dtype"])).reshape(e["shape"]).copy()


def _record(D):
    return {
        "arrays": {k: _enc(v) for k, v in D.to_arrays().items()},
        "pieces": {k: _enc(getattr(D.pieces, k)) for k in PIECE_FIELDS},
        "piece_volumes": _enc(D.piece_volumes),
        "volume": float(D.volume).hex(),
        "total_mass": float(D.total_mass).hex(),
        "repr": repr(D),
        "pickle": base64.b64encode(pickle.dumps(D, protocol=4)).decode(),
    }


def _stored():
    with open(FIXTURE) as f:
        return json.load(f)


CASES = sorted(_stored()) if FIXTURE.exists() else []


def _assert_same_bytes(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


@pytest.fixture(scope="module")
def built():
    return fixture_domains()


def test_fixture_covers_every_registered_kind(built):
    from geomot._domain_kinds import KINDS

    assert sorted(CASES) == sorted(built)
    assert {D.kind for D in built.values()} == set(KINDS)


@pytest.mark.parametrize("name", CASES)
def test_old_arrays_load_into_the_same_domain(name):
    from geomot.domain import Domain

    rec = _stored()[name]
    arrays = {k: _dec(e) for k, e in rec["arrays"].items()}
    D = Domain.from_arrays(arrays)
    # to_arrays writes back exactly what was read: same keys, order, dtypes, bytes
    out = D.to_arrays()
    assert list(out) == list(arrays)
    for k in arrays:
        _assert_same_bytes(out[k], arrays[k])
    for k in PIECE_FIELDS:
        _assert_same_bytes(getattr(D.pieces, k), _dec(rec["pieces"][k]))
    _assert_same_bytes(D.piece_volumes, _dec(rec["piece_volumes"]))
    assert D.volume == float.fromhex(rec["volume"])
    assert D.total_mass == float.fromhex(rec["total_mass"])
    assert repr(D) == rec["repr"]
    # a pickle written by the old code unpickles to an equal domain
    P = pickle.loads(base64.b64decode(rec["pickle"]))
    assert P == D and hash(P) == hash(D) and type(P) is Domain


@pytest.mark.parametrize("name", CASES)
def test_constructors_write_the_old_bytes(name, built):
    D = built[name]
    rec = _stored()[name]
    out = D.to_arrays()
    assert list(out) == list(rec["arrays"])
    for k, e in rec["arrays"].items():
        _assert_same_bytes(out[k], _dec(e))
    for k in PIECE_FIELDS:
        _assert_same_bytes(getattr(D.pieces, k), _dec(rec["pieces"][k]))
    assert repr(D) == rec["repr"]


@pytest.mark.parametrize("name", CASES)
def test_round_trip_npz_and_pickle(name, built, tmp_path):
    from geomot.domain import Domain

    D = built[name]
    np.savez(tmp_path / "d.npz", **D.to_arrays())
    with np.load(tmp_path / "d.npz", allow_pickle=False) as f:
        E = Domain.from_arrays(f)
    P = pickle.loads(pickle.dumps(D))
    for X in (E, P):
        assert X == D and hash(X) == hash(D) and X.kind == D.kind
        assert X.volume == D.volume and X.total_mass == D.total_mass and repr(X) == repr(D)
        for k in PIECE_FIELDS:
            np.testing.assert_array_equal(getattr(X.pieces, k), getattr(D.pieces, k))


def test_polygon_arrays_without_merge_entry_load_merged():
    # files from before the ``merge`` option have no "merge" entry: they meant merge=True
    from geomot.domain import Domain

    arrays = {k: _dec(e) for k, e in _stored()["polygon_hole"]["arrays"].items()}
    del arrays["merge"]
    D = Domain.from_arrays(arrays)
    want = {k: _dec(e) for k, e in _stored()["polygon_hole"]["arrays"].items()}
    assert D == Domain.from_arrays(want)
    assert bool(D.to_arrays()["merge"]) is True


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout's geomot
    import geomot

    print(f"geomot from {geomot.__file__}")
    FIXTURE.parent.mkdir(exist_ok=True)
    with open(FIXTURE, "w") as f:
        json.dump({k: _record(D) for k, D in fixture_domains().items()}, f, indent=1)  # keys keep their order
        f.write("\n")
    print(f"wrote {FIXTURE}")
