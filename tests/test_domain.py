"""Tests for geomot.domain: volumes against exact formulas, pieces tile the domain, sampling,
serialisation, validation."""

import numpy as np
import pytest
import shapely
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from geomot.domain import ConvexPieces, Domain

RTOL = 1e-12


def signed_cover(dom, x):
    """sum_p sign_p 1[x in piece_p] on points x (n, d)."""
    p = dom.pieces
    return p.indicator(x).astype(np.float64) @ p.sign


def assert_pieces_tile(dom, n=2000, seed=0):
    """Signed piece volumes sum to the volume and the signed cover is the indicator (a.e.)."""
    p = dom.pieces
    assert np.isclose(np.sum(p.sign * dom.piece_volumes), dom.volume, rtol=RTOL, atol=0)
    b = dom.bounds
    pad = 0.05 * (b[1] - b[0])
    x = np.random.default_rng(seed).uniform(b[0] - pad, b[1] + pad, size=(n, dom.dim))
    cover = signed_cover(dom, x)
    inside = dom.contains(x)
    np.testing.assert_array_equal(cover, inside.astype(np.float64))
    # both outcomes occur, so the check has teeth
    assert 0 < inside.sum() < n


def assert_halfspaces_valid(p):
    np.testing.assert_allclose(np.linalg.norm(p.normals, axis=1), 1.0, rtol=0, atol=1e-12)
    for arr in (p.normals, p.offsets, p.indptr, p.lo, p.hi, p.sign, p.density):
        assert arr.flags.c_contiguous and not arr.flags.writeable
    assert p.indptr.dtype == np.int64 and p.normals.dtype == np.float64


# ----------------------------------------------------------------------------- box
def test_box_volume_pieces_and_contains():
    D = Domain.box([0, -1, 2], [2, 1, 5])
    assert D.dim == 3 and D.kind == "box" and D.is_uniform
    assert D.volume == pytest.approx(12.0, rel=RTOL)
    assert D.total_mass == pytest.approx(12.0, rel=RTOL)
    p = D.pieces
    assert p.num_pieces == 1 and p.normals.shape == (0, 3) and p.indptr.tolist() == [0, 0]
    np.testing.assert_array_equal(D.bounds, [[0, -1, 2], [2, 1, 5]])
    assert D.contains([[1, 0, 3], [3, 0, 3], [1, 0, 2]]).tolist() == [True, False, True]
    assert_halfspaces_valid(p)
    assert_pieces_tile(D)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_box_any_dimension_sample_moments(d):
    lo = -np.arange(1, d + 1, dtype=float)
    hi = np.arange(1, d + 1, dtype=float) * 2
    D = Domain.box(lo, hi)
    n = 20000
    x = D.sample(n, seed=np.random.default_rng(3))
    assert x.shape == (n, d) and D.contains(x).all()
    mean = (lo + hi) / 2
    var = (hi - lo) ** 2 / 12
    # mean within 5 standard errors, second central moment likewise (var of (x-m)^2 is 4/5 var^2)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / n))
    assert np.all(np.abs(((x - mean) ** 2).mean(0) - var) < 5 * np.sqrt(0.8 * var ** 2 / n))
    assert D.geometry is None or d in (2, 3)


def test_box_inscribed_ball_and_geometry():
    D = Domain.box([0, 0], [2, 1])
    c, r = D.inscribed_ball()
    np.testing.assert_allclose(c, [1, 0.5], rtol=0, atol=0)
    assert r == 0.5
    assert D.geometry.area == pytest.approx(2.0, rel=RTOL)
    D3 = Domain.box([0, 0, 0], [1, 2, 3])
    assert D3.geometry.volume == pytest.approx(6.0, rel=RTOL)


# ----------------------------------------------------------------------------- polygon
def square_with_hole():
    return shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1.0, 0.75))


def test_polygon_with_hole_volume_and_tiling():
    g = square_with_hole()
    D = Domain.polygon(g)
    assert D.kind == "polygon" and D.dim == 2
    assert D.volume == pytest.approx(g.area, rel=RTOL)
    assert D.volume == pytest.approx(2.0 - 0.25, rel=RTOL)
    assert np.all(D.pieces.sign == 1) and np.all(D.pieces.density == 1)
    assert_halfspaces_valid(D.pieces)
    assert_pieces_tile(D)
    assert D.contains([[0.75, 0.5], [1.5, 0.5]]).tolist() == [False, True]
    assert D.geometry.equals(g)


def test_polygon_nonconvex_multipolygon_and_density():
    L = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    m = shapely.MultiPolygon([L, shapely.box(5, 5, 6, 7)])
    D = Domain.polygon(m, density=2.5)
    assert D.volume == pytest.approx(5.0 + 2.0, rel=RTOL)
    assert D.total_mass == pytest.approx(2.5 * 7.0, rel=RTOL)
    assert D.is_uniform
    assert_pieces_tile(D, n=4000)
    c, r = D.inscribed_ball()
    # the ball is inside the domain
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    ring = c + 0.999 * r * np.stack([np.cos(t), np.sin(t)], 1)
    assert D.contains(ring).all() and D.contains(c[None]).all()
    assert r > 0.4  # the L has an inscribed disk of radius 0.5; tolerance 1e-4 * sqrt(area)


def test_polygon_samples_inside_and_uniform():
    g = square_with_hole()
    D = Domain.polygon(g)
    n = 20000
    x = D.sample(n, seed=1)
    assert D.contains(x).all()
    # the mean is the polygon's centroid; sd of each coordinate <= 1 -> 5 standard errors
    np.testing.assert_allclose(x.mean(0), np.array(g.centroid.coords[0]), rtol=0, atol=5 / np.sqrt(n))
    # fraction in the right half [1, 2] x [0, 1]: area 1 / 1.75
    frac = np.mean(x[:, 0] > 1)
    assert abs(frac - 1 / 1.75) < 5 * np.sqrt(0.25 / n)


def test_polygon_merge_into_convex_pieces():
    # an L: two convex pieces suffice; Hertel-Mehlhorn finds at most 4x the minimum
    L = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    D = Domain.polygon(L)
    T = Domain.polygon(L, merge=False)
    assert T.pieces.num_pieces == 4 and np.all(np.diff(T.pieces.indptr) == 3)
    assert 2 <= D.pieces.num_pieces <= 3
    assert D.volume == pytest.approx(5.0, rel=RTOL) and T.volume == pytest.approx(5.0, rel=RTOL)
    assert_pieces_tile(D)
    assert D != T
    # a convex regular polygon merges into one piece with one half-space per side
    hexagon = shapely.Polygon([(np.cos(a), np.sin(a)) for a in np.arange(6) * np.pi / 3])
    H = Domain.polygon(hexagon)
    assert H.pieces.num_pieces == 1 and H.pieces.normals.shape == (6, 2)
    np.testing.assert_allclose(H.pieces.offsets, np.sqrt(3) / 2, rtol=1e-14)
    # collinear boundary vertices give no duplicate half-spaces
    sq = shapely.Polygon([(0, 0), (1, 0), (2, 0), (2, 2), (0, 2)])
    S = Domain.polygon(sq)
    assert S.pieces.num_pieces == 1 and S.pieces.normals.shape == (4, 2)
    np.testing.assert_array_equal(S.pieces.lo, [[0, 0]])
    np.testing.assert_array_equal(S.pieces.hi, [[2, 2]])
    # a hole touching the shell at one point (valid in shapely): pieces still tile
    touching = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(2, 0), (3, 2), (1, 2)]])
    Dt = Domain.polygon(touching)
    assert Dt.volume == pytest.approx(14.0, rel=RTOL)
    assert_pieces_tile(Dt, n=4000)


def test_polygon_triangulation_speed():
    import time

    g = shapely.Point(0, 0).buffer(1, 100).difference(shapely.Point(0.2, 0).buffer(0.3, 50))
    t = time.perf_counter()
    D = Domain.polygon(g)
    assert time.perf_counter() - t < 0.5  # ~ms for a few hundred vertices
    assert D.volume == pytest.approx(g.area, rel=RTOL)


def star_polygon(radii, hole_frac):
    k = len(radii)
    t = 2 * np.pi * np.arange(k) / k
    r = np.asarray(radii)
    outer = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    rh = hole_frac * r.min()
    tt = 2 * np.pi * np.arange(12) / 12
    hole = rh * np.stack([np.cos(tt), np.sin(tt)], 1)
    return shapely.Polygon(outer, [hole[::-1]] if hole_frac > 0 else None)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.3, 2.0), min_size=3, max_size=30), st.sampled_from([0.0, 0.3, 0.7]),
       st.booleans())
def test_polygon_star_with_hole_pieces_tile(radii, hole_frac, merge):
    g = star_polygon(radii, hole_frac)
    if not g.is_valid or g.area <= 1e-6:
        return
    D = Domain.polygon(g, merge=merge)
    assert D.volume == pytest.approx(g.area, rel=1e-10)
    assert_halfspaces_valid(D.pieces)
    p = D.pieces
    # tight bounding boxes: every piece's bbox lies in the polygon's bbox
    b = np.array(g.bounds)
    assert np.all(p.lo >= b[:2] - 1e-12) and np.all(p.hi <= b[2:] + 1e-12)
    x = np.random.default_rng(0).uniform(b[:2] - 0.1, b[2:] + 0.1, size=(400, 2))
    np.testing.assert_array_equal(signed_cover(D, x), D.contains(x).astype(float))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_polygon_invalid_inputs():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="not a valid polygon: Self-intersection"):
        Domain.polygon(bowtie)
    with pytest.raises(ValueError, match="zero area"):
        Domain.polygon(shapely.Polygon([(0, 0), (1, 0), (2, 0)]))
    with pytest.raises(ValueError, match="geom"):
        Domain.polygon(shapely.Point(0, 0))
    with pytest.raises(ValueError, match="geom is empty"):
        Domain.polygon(shapely.Polygon())
    with pytest.raises(ValueError, match="density"):
        Domain.polygon(shapely.box(0, 0, 1, 1), density=-1)
    with pytest.raises(ValueError, match="NaN"):
        Domain.polygon(shapely.Polygon([(0, 0), (1, 0), (np.nan, 1)]))


# ----------------------------------------------------------------------------- disk, ball
@pytest.mark.parametrize("res", [3, 7, 256])
def test_disk_exact_polygon_area(res):
    D = Domain.disk([1.0, -2.0], 1.5, resolution=res)
    assert D.pieces.num_pieces == 1 and D.pieces.normals.shape == (res, 2)
    assert D.volume == pytest.approx(res / 2 * 1.5 ** 2 * np.sin(2 * np.pi / res), rel=RTOL)
    assert D.geometry.area == pytest.approx(D.volume, rel=RTOL)
    c, r = D.inscribed_ball()
    np.testing.assert_array_equal(c, [1.0, -2.0])
    assert r == pytest.approx(1.5 * np.cos(np.pi / res), rel=RTOL)
    assert_halfspaces_valid(D.pieces)
    assert_pieces_tile(D)
    x = D.sample(3000, seed=2)
    assert D.contains(x).all()


def test_disk_sample_radial_distribution():
    D = Domain.disk([0, 0], 1.0, resolution=512)
    n = 20000
    x = D.sample(n, seed=5)
    r2 = (x ** 2).sum(1)
    # uniform disk: |x|^2 is uniform on [0, 1] -> mean 1/2, variance 1/12
    assert abs(r2.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    np.testing.assert_allclose(x.mean(0), 0, atol=5 * np.sqrt(0.25 / n))


def test_ball_volume_is_icosphere_volume():
    D = Domain.ball([0.5, 0, -1], 2.0, subdivisions=2)
    ico = trimesh.creation.icosphere(subdivisions=2, radius=2.0)
    assert D.volume == pytest.approx(ico.volume, rel=RTOL)
    assert D.pieces.num_pieces == 1 and D.pieces.normals.shape == (320, 3)
    c, r = D.inscribed_ball()
    np.testing.assert_array_equal(c, [0.5, 0, -1])
    assert 0.98 * 2.0 < r < 2.0
    assert D.geometry.volume == pytest.approx(ico.volume, rel=RTOL)
    assert_halfspaces_valid(D.pieces)
    assert_pieces_tile(D)
    x = D.sample(2000, seed=0)
    assert D.contains(x).all()
    assert np.all(np.linalg.norm(x - [0.5, 0, -1], axis=1) <= 2.0)
    # subdivisions=0: the icosahedron (20 faces), volume (5/12)(3+sqrt5) a^3 with a = 4 r / sqrt(10+2sqrt5)
    D0 = Domain.ball([0, 0, 0], 1.0, subdivisions=0)
    a = 4 / np.sqrt(10 + 2 * np.sqrt(5))
    assert D0.volume == pytest.approx(5 / 12 * (3 + np.sqrt(5)) * a ** 3, rel=1e-12)


def test_disk_ball_validation():
    with pytest.raises(ValueError, match="radius"):
        Domain.disk([0, 0], 0.0)
    with pytest.raises(ValueError, match="radius"):
        Domain.disk([0, 0], np.inf)
    with pytest.raises(ValueError, match="center"):
        Domain.disk([0, 0, 0], 1.0)
    with pytest.raises(ValueError, match="center"):
        Domain.disk([0, np.nan], 1.0)
    with pytest.raises(ValueError, match="resolution"):
        Domain.disk([0, 0], 1.0, resolution=2)
    with pytest.raises(ValueError, match="radius"):
        Domain.ball([0, 0, 0], -1.0)
    with pytest.raises(ValueError, match="center"):
        Domain.ball([0, 0], 1.0)
    with pytest.raises(ValueError, match="subdivisions"):
        Domain.ball([0, 0, 0], 1.0, subdivisions=1.5)


# ----------------------------------------------------------------------------- mesh
def test_mesh_box_signed_cones():
    m = trimesh.creation.box(extents=(1, 2, 3))
    m.apply_translation([3, 0, 0])
    D = Domain.mesh(m)
    assert D.volume == pytest.approx(6.0, rel=RTOL)
    assert D.pieces.num_pieces == 12
    assert_pieces_tile(D)


def extrude(poly, height):
    """Watertight prism over a simple polygon (no holes), outward normals."""
    from shapely.geometry.polygon import orient

    poly = orient(poly, 1.0)
    ring = np.array(poly.exterior.coords)[:-1]
    k = len(ring)
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
    V = np.vstack([np.c_[ring, np.zeros(k)], np.c_[ring, np.full(k, height)]])
    index = {tuple(p): i for i, p in enumerate(ring)}
    faces = []
    for tri in tris:
        c = np.array(tri.exterior.coords)[:3]
        ids = [index[tuple(p)] for p in c]
        u, w = c[1] - c[0], c[2] - c[0]
        if u[0] * w[1] - u[1] * w[0] < 0:
            ids = ids[::-1]
        faces.append([ids[0] + k, ids[1] + k, ids[2] + k])  # top, ccw seen from above
        faces.append(ids[::-1])  # bottom, reversed
    for i in range(k):
        j = (i + 1) % k
        faces += [[i, j, j + k], [i, j + k, i + k]]
    return trimesh.Trimesh(V, np.array(faces), process=False)


def test_mesh_nonconvex_has_negative_cones_and_tiles():
    # an L-shaped prism: apex (vertex centroid) sees some faces from behind
    L = shapely.Polygon([(0, 0), (4, 0), (4, 0.5), (0.5, 0.5), (0.5, 4), (0, 4)])
    m = extrude(L, 1.0)
    assert m.is_watertight and m.is_volume
    D = Domain.mesh(m)
    assert D.volume == pytest.approx(L.area * 1.0, rel=1e-12)
    assert np.any(D.pieces.sign < 0)
    assert_halfspaces_valid(D.pieces)
    assert_pieces_tile(D, n=3000)
    x = D.sample(1000, seed=0)
    assert D.contains(x).all()


def test_mesh_contains_agrees_with_trimesh():
    m = trimesh.creation.annulus(r_min=0.4, r_max=1.0, height=0.5)
    D = Domain.mesh(m)
    x = np.random.default_rng(1).uniform(-1.1, 1.1, size=(500, 3)) * [1, 1, 0.3]
    np.testing.assert_array_equal(D.contains(x), m.contains(x))
    assert D.volume == pytest.approx(m.volume, rel=1e-12)


def test_mesh_invalid():
    open_box = trimesh.creation.box()
    open_box = trimesh.Trimesh(open_box.vertices, open_box.faces[:-1])
    with pytest.raises(ValueError, match="not watertight"):
        Domain.mesh(open_box)
    inv = trimesh.creation.box()
    inv.invert()
    with pytest.raises(ValueError, match="not a volume"):
        Domain.mesh(inv)
    with pytest.raises(ValueError, match="mesh must be a trimesh"):
        Domain.mesh(np.zeros((4, 3)))


def test_mesh_inscribed_ball_inside():
    m = trimesh.creation.box(extents=(2, 2, 2))
    D = Domain.mesh(m)
    c, r = D.inscribed_ball()
    assert 0.5 < r <= 1.0
    assert np.all(np.abs(c) + r <= 1.0 + 1e-12)


# ----------------------------------------------------------------------------- image
def test_image_masses_and_orientation():
    v = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]])
    v0 = v.copy()
    D = Domain.image(v, [0, 0], [3, 2])
    np.testing.assert_array_equal(v, v0)
    assert D.kind == "image" and not D.is_uniform
    assert D.volume == pytest.approx(4.0, rel=RTOL)
    assert D.total_mass == pytest.approx(10.0, rel=RTOL)
    # origin="upper": row 0 at the top (y in [1, 2])
    assert D.contains([[0.5, 1.5], [1.5, 1.5], [2.5, 1.5], [1.5, 0.5], [2.5, 0.5]]).tolist() == \
        [True, False, True, True, False]
    Dl = Domain.image(v, [0, 0], [3, 2], origin="lower")
    assert Dl.contains([[1.5, 1.5], [1.5, 0.5]]).tolist() == [True, False]
    c, r = D.inscribed_ball()
    np.testing.assert_allclose(c, [1.5, 0.5], rtol=0, atol=1e-15)  # value 4 at row 1, col 1
    assert r == 0.5
    assert_pieces_tile(D)
    assert D.geometry.area == pytest.approx(4.0, rel=RTOL)


def test_image_sample_follows_density():
    v = np.array([[1.0, 3.0]])
    D = Domain.image(v, [0, 0], [2, 1])
    n = 20000
    x = D.sample(n, seed=4)
    frac = np.mean(x[:, 0] > 1)
    assert abs(frac - 0.75) < 5 * np.sqrt(0.75 * 0.25 / n)
    assert D.contains(x).all()


def test_image_3d_voxels():
    v = np.zeros((2, 3, 4))
    v[0, 1, 2] = 2.0
    v[1, 2, 3] = 1.0
    D = Domain.image(v, [0, 0, 0], [4, 3, 2], origin="lower")
    assert D.dim == 3 and D.volume == pytest.approx(2.0, rel=RTOL)
    assert D.total_mass == pytest.approx(3.0, rel=RTOL)
    assert D.contains([[2.5, 1.5, 0.5], [3.5, 2.5, 1.5], [0.5, 0.5, 0.5]]).tolist() == [True, True, False]
    assert_pieces_tile(D)


def test_image_invalid():
    with pytest.raises(ValueError, match="values"):
        Domain.image(np.zeros((2, 2)), [0, 0], [1, 1])
    with pytest.raises(ValueError, match="values"):
        Domain.image([[1.0, -1.0]], [0, 0], [1, 1])
    with pytest.raises(ValueError, match="values"):
        Domain.image([[1.0, np.nan]], [0, 0], [1, 1])
    with pytest.raises(ValueError, match="lo"):
        Domain.image([[1.0]], [0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="origin"):
        Domain.image([[1.0]], [0, 0], [1, 1], origin="middle")


# ----------------------------------------------------------------------------- triangulation
def test_triangulation_density():
    V = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0]], dtype=float)
    T = np.array([[0, 1, 2], [0, 3, 2], [1, 4, 2]])  # second is clockwise
    dens = np.array([1.0, 3.0, 0.0])
    D = Domain.triangulation(V, T, dens)
    assert D.volume == pytest.approx(1.0, rel=RTOL)
    assert D.total_mass == pytest.approx(2.0, rel=RTOL)
    assert D.pieces.num_pieces == 2
    assert D.contains([[0.7, 0.2], [0.2, 0.7], [1.2, 0.2]]).tolist() == [True, True, False]
    n = 20000
    x = D.sample(n, seed=0)
    frac_upper = np.mean(x[:, 1] > x[:, 0])
    assert abs(frac_upper - 0.75) < 5 * np.sqrt(0.75 * 0.25 / n)
    c, r = D.inscribed_ball()
    assert r == pytest.approx(1 / (2 + np.sqrt(2)), rel=1e-12)
    assert_pieces_tile(D)
    with pytest.raises(ValueError, match="triangles"):
        Domain.triangulation(V, [[0, 1, 7]], [1.0])
    with pytest.raises(ValueError, match="density"):
        Domain.triangulation(V, T, [1.0, 2.0])
    with pytest.raises(ValueError, match="degenerate"):
        Domain.triangulation(V, [[0, 1, 4]], [1.0])


# ----------------------------------------------------------------------------- serialisation
def all_domains():
    return [
        Domain.box([0, 0], [2, 1]),
        Domain.box(np.zeros(4), np.ones(4)),
        Domain.polygon(square_with_hole(), density=2.0),
        Domain.polygon(square_with_hole(), merge=False),
        Domain.disk([0.1, 0.2], 0.7, resolution=33),
        Domain.ball([0, 0, 1], 0.5, subdivisions=1),
        Domain.mesh(trimesh.creation.box(extents=(1, 2, 3))),
        Domain.image([[1.0, 0.0], [0.5, 2.0]], [0, 0], [1, 1], origin="lower"),
        Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]], [2.0]),
    ]


@pytest.mark.parametrize("D", all_domains(), ids=lambda d: d.kind + str(d.pieces.num_pieces))
def test_to_arrays_round_trip_through_npz(D, tmp_path):
    arrs = D.to_arrays()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrs.values())
    path = tmp_path / "d.npz"
    np.savez(path, **arrs)
    with np.load(path, allow_pickle=False) as f:
        E = Domain.from_arrays(f)
    assert E == D and hash(E) == hash(D)
    assert E.volume == D.volume and E.total_mass == D.total_mass
    for name in ("normals", "offsets", "indptr", "lo", "hi", "sign", "density"):
        np.testing.assert_array_equal(getattr(E.pieces, name), getattr(D.pieces, name))
    assert repr(D)


def test_equality_and_immutability():
    a = Domain.box([0, 0], [1, 1])
    assert a == Domain.box([0.0, 0.0], [1.0, 1.0])
    assert a != Domain.box([0, 0], [1, 2])
    assert a != Domain.disk([0, 0], 1.0)
    with pytest.raises(AttributeError):
        a.dim = 3
    with pytest.raises(ValueError):
        a.pieces.lo[0, 0] = 5.0
    with pytest.raises(TypeError):
        Domain()


def test_from_arrays_invalid():
    with pytest.raises(ValueError, match="kind"):
        Domain.from_arrays({"kind": np.array("torus")})
    with pytest.raises(ValueError, match="missing"):
        Domain.from_arrays({"kind": np.array("box"), "lo": np.zeros(2)})


# ----------------------------------------------------------------------------- validation
def test_box_validation():
    with pytest.raises(ValueError, match="lo must be < hi"):
        Domain.box([0, 1], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        Domain.box([0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="lo"):
        Domain.box([0, np.nan], [1, 1])
    with pytest.raises(ValueError, match="hi"):
        Domain.box([0, 0], [1, np.inf])
    with pytest.raises(ValueError, match="lo"):
        Domain.box([[0, 0]], [[1, 1]])


def test_contains_sample_validation():
    D = Domain.disk([0, 0], 1.0)
    with pytest.raises(ValueError, match="x must have 2 columns"):
        D.contains(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x contains NaN"):
        D.contains([[0.0, np.nan]])
    with pytest.raises(ValueError, match="n must be"):
        D.sample(-1)
    with pytest.raises(ValueError, match="seed"):
        D.sample(3, seed="abc")
    assert D.sample(0).shape == (0, 2)
    # a single point as a (d,) vector is accepted
    assert D.contains([0.0, 0.0]).tolist() == [True]


def test_inputs_not_mutated():
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    D = Domain.box(lo, hi)
    lo[0] = -5.0
    assert D.bounds[0, 0] == 0.0
    x = np.array([[0.5, 0.5], [3.0, 3.0]])
    x0 = x.copy()
    D.contains(x)
    np.testing.assert_array_equal(x, x0)
    c = np.array([0.0, 0.0])
    E = Domain.disk(c, 1.0)
    c[0] = 4.0
    assert E.inscribed_ball()[0][0] == 0.0
    m = trimesh.creation.box()
    v0 = np.array(m.vertices)
    Domain.mesh(m)
    np.testing.assert_array_equal(m.vertices, v0)


def test_seed_reproducible():
    D = Domain.polygon(square_with_hole())
    np.testing.assert_array_equal(D.sample(10, seed=7), D.sample(10, seed=7))
    g = np.random.default_rng(7)
    np.testing.assert_array_equal(D.sample(10, seed=g).shape, (10, 2))


def test_convex_pieces_validation():
    with pytest.raises(ValueError, match="indptr"):
        ConvexPieces(np.zeros((2, 2)), np.zeros(2), [0, 1], np.zeros((1, 2)), np.ones((1, 2)),
                     [1.0], [1.0])
    with pytest.raises(ValueError, match="sign"):
        ConvexPieces(np.zeros((0, 2)), np.zeros(0), [0, 0], np.zeros((1, 2)), np.ones((1, 2)),
                     [1.0, 1.0], [1.0])


@pytest.mark.parametrize("D", all_domains(), ids=lambda d: d.kind + str(d.pieces.num_pieces))
def test_inscribed_ball_inside_and_geometry(D):
    c, r = D.inscribed_ball()
    assert c.shape == (D.dim,) and r > 0
    u = np.random.default_rng(0).standard_normal((200, D.dim))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    assert D.contains(c + 0.999 * r * u).all() and D.contains(c[None]).all()
    # the density is positive there: the ball lies in one piece of positive density or the
    # domain is uniform
    assert D.is_uniform or np.any(D.pieces.indicator(c[None])[0] & (D.pieces.density > 0))
    g = D.geometry
    if D.dim == 2:
        assert g.area == pytest.approx(D.volume, rel=1e-12)
    elif D.dim == 3:
        assert g.volume == pytest.approx(D.volume, rel=1e-12)
    else:
        assert g is None
    assert D.contains(np.zeros((0, D.dim))).shape == (0,)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0.4, 1.6), min_size=42, max_size=42), st.integers(0, 2 ** 31 - 1))
def test_mesh_star_shaped_signed_cones_tile(radii, seed):
    # a star-shaped (generally non-convex) closed surface: icosphere vertices moved radially
    ico = trimesh.creation.icosphere(subdivisions=1)
    V = np.asarray(ico.vertices) * np.asarray(radii)[:, None]
    m = trimesh.Trimesh(V, ico.faces, process=False)
    D = Domain.mesh(m)
    assert D.volume == pytest.approx(m.volume, rel=1e-12)
    assert_halfspaces_valid(D.pieces)
    x = np.random.default_rng(seed).uniform(-1.7, 1.7, size=(300, 3))
    np.testing.assert_array_equal(signed_cover(D, x), D.contains(x).astype(float))
