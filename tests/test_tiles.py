"""geomot._tiles: tiled lifted hulls give exactly the global regular triangulation (or fall back).

Small sizes with tiny tiles, so that most simplices are near a tile's side and the band (the
large orthoballs along the boundary of conv(y)) is exercised; every case is compared with a
fresh global hull: the same simplices, adjacency, hidden targets and unbounded cells, and
bit-identical masses from ``power._power_diagram``.
"""

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geomot import Domain, _tile_split, _tile_verify, _tiles, lifting, power
from geomot._simplices import _vertex_simplices
from geomot._tiles import TileOptions, tiled_lower_hull


def _rows(simp):
    return {tuple(r) for r in np.sort(np.asarray(simp), axis=1)}


def _lifted(y, h):
    _, t = lifting._affine_frame(y)
    return t, lifting._lifted_heights(t, h)


def _solid(y, tri):
    """The simplices of positive volume (a global hull of degenerate input also has flat ones)."""
    t = tri.frame.coordinates(y)
    e = t[tri.simplices[:, 1:]] - t[tri.simplices[:, :1]]
    rel = np.abs(np.linalg.det(e)) / np.prod(np.linalg.norm(e, axis=2), axis=1)
    return tri.simplices[rel > 1e-10]


def _unbounded(tri):
    top = tri.top_simplices
    return set(np.unique(top[top < tri.n]).tolist())


def _masses(y, h, tri, dom=None):
    if dom is None:
        pad = 0.05 * np.ptp(y, axis=0).max()
        dom = Domain.box(y.min(axis=0) - pad, y.max(axis=0) + pad)
    return power._power_diagram(y, None, dom, tri, wphi=h + 0.5 * np.einsum("ij,ij->i", y, y))


def _check_exact(y, h, opt, *, min_tiles=4):
    """Tiled == global, field by field; returns the report of the tiled build."""
    t, z = _lifted(y, h)
    simp, top, rep = tiled_lower_hull(t, z, opt)
    assert rep.fallback is None, rep
    assert rep.tiles >= min_tiles
    glob = lifting._regular_triangulation(y, h, False)
    tiled = lifting._regular_triangulation(y, h, opt)
    assert _rows(simp) == _rows(glob.simplices) == _rows(tiled.simplices)
    np.testing.assert_array_equal(tiled.indptr, glob.indptr)
    np.testing.assert_array_equal(tiled.indices, glob.indices)
    np.testing.assert_array_equal(tiled.hidden, glob.hidden)
    assert tiled.affine_dim == glob.affine_dim
    if glob.top_simplices is not None:
        # the unbounded cells: the targets on the boundary of conv(y) (the global hull's
        # facets off the lower hull may hold a few more, which only loosens its cell boxes)
        assert _unbounded(tiled) <= _unbounded(glob)
        assert len(_unbounded(glob) - _unbounded(tiled)) <= 0.01 * len(y)
        assert np.all(top[:, -1] == len(y))
    np.testing.assert_array_equal(tiled.frame.basis, glob.frame.basis)
    pg, pt = _masses(y, h, glob), _masses(y, h, tiled)
    np.testing.assert_array_equal(pt.masses, pg.masses)
    np.testing.assert_array_equal(pt.volumes, pg.volumes)
    return rep


def _voronoi(y):
    return -0.5 * np.einsum("ij,ij->i", y, y)


def _hiding(y, rng, scale=0.6):
    """Weights around Voronoi's, large enough (of the squared spacing) to hide some targets."""
    n, d = y.shape
    return _voronoi(y) + scale * n ** (-2.0 / d) * rng.random(n)


# ------------------------------------------------------------------ exactness
@pytest.mark.parametrize("d, n, tile", [(2, 4000, 250), (3, 3000, 300)])
def test_random_weights_with_hidden_targets_are_exact(d, n, tile):
    rng = np.random.default_rng(d)
    y = rng.random((n, d))
    h = _hiding(y, rng)
    assert lifting._regular_triangulation(y, h, False).hidden.sum() > 10
    rep = _check_exact(y, h, TileOptions(tile_points=tile, min_points=0))
    assert rep.band_simplices > 0 and rep.rounds == 1


@pytest.mark.parametrize("d", [2, 3])
def test_clustered_targets_are_exact(d):
    rng = np.random.default_rng(10 + d)
    centres = rng.random((7, d))
    y = centres[rng.integers(0, 7, 3000)] + 0.02 * rng.standard_normal((3000, d))
    _check_exact(y, _voronoi(y), TileOptions(tile_points=200, min_points=0))


@pytest.mark.parametrize("d", [2, 3])
def test_targets_on_tile_sides_are_exact(d):
    # first coordinates from a few values: the tiles split at targets' coordinates, so many
    # targets lie exactly on a side of their box (and of their neighbours' halos)
    rng = np.random.default_rng(20 + d)
    y = rng.random((2500, d))
    y[:, 0] = np.round(y[:, 0] * 16) / 16 + 1e-3 * rng.random(2500) * (rng.random(2500) < 0.5)
    _check_exact(y, _hiding(y, rng, 0.3), TileOptions(tile_points=150, min_points=0))


def test_coplanar_targets_in_3d_are_tiled_in_their_plane():
    rng = np.random.default_rng(5)
    uv = rng.random((3000, 2))
    basis = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, -1.0]])
    y = uv @ basis + np.array([0.3, -0.1, 2.0])
    tri = lifting._regular_triangulation(y, _voronoi(y), TileOptions(tile_points=300, min_points=0))
    assert tri.affine_dim == 2
    _check_exact(y, _voronoi(y), TileOptions(tile_points=300, min_points=0))


@pytest.mark.parametrize("d", [2, 3])
def test_centroid_anchors_are_exact(d):
    rng = np.random.default_rng(30 + d)
    y = rng.random((3000, d))
    rep = _check_exact(y, _hiding(y, rng), TileOptions(tile_points=250, min_points=0, anchor="centroid"))
    assert rep.anchor == "centroid"


@pytest.mark.parametrize("d, n", [(2, 20_000), (3, 6000)])
def test_transport_weights_take_centroid_anchors_and_are_exact(d, n):
    # the shrunk start of the Newton solver (a similarity of the targets' Voronoi diagram)
    # with noise that hides targets: power vertices far from their simplices
    from geomot._start import _shrunk_start

    rng = np.random.default_rng(40 + d)
    y = 0.2 + 0.3 * rng.random((n, d)) ** 2
    h = _shrunk_start(Domain.box([0] * d, [1] * d), y) + 0.3 * n ** (-2.0 / d) * rng.random(n)
    assert lifting._regular_triangulation(y, h, False).hidden.any()
    rep = _check_exact(y, h, TileOptions(tile_points=n // 10, min_points=0))
    assert rep.anchor == "centroid"


def test_unknown_anchor_is_a_value_error():
    with pytest.raises(ValueError, match="anchor"):
        TileOptions(anchor="middle").resolve(2)


def test_threads_and_one_worker_agree_bit_for_bit():
    rng = np.random.default_rng(7)
    y = rng.random((3000, 2))
    t, z = _lifted(y, _hiding(y, rng))
    a = tiled_lower_hull(t, z, TileOptions(tile_points=200, min_points=0, workers=1))
    b = tiled_lower_hull(t, z, TileOptions(tile_points=200, min_points=0, workers=2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=st.sampled_from([2, 3]), n=st.integers(80, 1500), seed=st.integers(0, 2**31 - 1),
       noise=st.sampled_from([0.0, 0.2, 1.0]), tile=st.integers(25, 400))
def test_hypothesis_tiled_equals_global(d, n, seed, noise, tile):
    rng = np.random.default_rng(seed)
    y = rng.random((n, d)) * rng.uniform(0.5, 3.0, d)
    h = _hiding(y, rng, noise)
    opt = TileOptions(tile_points=tile, min_points=0)
    if not opt.applies(n, d):
        return
    t, z = _lifted(y, h)
    simp, _, rep = tiled_lower_hull(t, z, opt)
    glob = lifting._regular_triangulation(y, h, False)
    tiled = lifting._regular_triangulation(y, h, opt)
    if rep.fallback is None:
        assert _rows(simp) == _rows(glob.simplices)
    # fallback or not, the dispatch is exact
    assert _rows(tiled.simplices) == _rows(glob.simplices)
    np.testing.assert_array_equal(tiled.indices, glob.indices)
    np.testing.assert_array_equal(tiled.hidden, glob.hidden)


# ------------------------------------------------------------------ ties and fallback
def _grid(d, m):
    g = np.stack(np.meshgrid(*[np.arange(m)] * d, indexing="ij"), axis=-1).reshape(-1, d)
    return g / m


def test_2d_grid_ties_are_broken_consistently():
    # every grid square is a tie: the tiles triangulate it (its power vertex's tile does),
    # perhaps not as the global hull does, but the power diagram is the same
    y = _grid(2, 60)
    h = _voronoi(y)
    opt = TileOptions(tile_points=300, min_points=0)
    _, _, rep = tiled_lower_hull(*_lifted(y, h), opt)
    assert rep.fallback is None
    glob = lifting._regular_triangulation(y, h, False)
    tiled = lifting._regular_triangulation(y, h, opt)
    np.testing.assert_array_equal(tiled.hidden, glob.hidden)
    assert len(tiled.simplices) == len(_solid(y, glob))
    dom = Domain.box([-0.5 / 60] * 2, [1 - 0.5 / 60] * 2)  # the grid's cells are its squares
    pg, pt = _masses(y, h, glob, dom), _masses(y, h, tiled, dom)
    np.testing.assert_allclose(pt.masses, pg.masses, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pt.masses, 1.0 / len(y), rtol=0, atol=1e-12)

    def facets(pd):
        keep = pd.facet_measures > 1e-9 * pd.facet_measures.max()
        return {tuple(p) for p in pd.pairs[keep]}, np.sort(pd.facet_measures[keep])

    (pairs_g, meas_g), (pairs_t, meas_t) = facets(pg), facets(pt)
    assert pairs_g == pairs_t
    np.testing.assert_allclose(meas_t, meas_g, rtol=0, atol=1e-12)


def test_grid_with_weights_that_break_the_ties_is_exact_up_to_flat_simplices():
    # the global hull also holds the flat (vertical) simplices of the grid's boundary faces;
    # the tiles drop them: the solid simplices are the same
    rng = np.random.default_rng(3)
    y = _grid(3, 12)
    h = _voronoi(y) + 0.01 / 144 * rng.random(len(y))
    opt = TileOptions(tile_points=300, min_points=0)
    _, _, rep = tiled_lower_hull(*_lifted(y, h), opt)
    assert rep.fallback is None
    glob = lifting._regular_triangulation(y, h, False)
    tiled = lifting._regular_triangulation(y, h, opt)
    assert _rows(tiled.simplices) == _rows(_solid(y, glob))
    np.testing.assert_array_equal(tiled.hidden, glob.hidden)
    np.testing.assert_array_equal(_masses(y, h, tiled).masses, _masses(y, h, glob).masses)


def test_3d_grid_falls_back_to_the_global_hull_and_says_why(caplog):
    # qhull splits the cubes of a 3D grid into tetrahedra with flat slivers between them; the
    # tiles drop flat simplices, which leaves holes: the verification fails, the build falls
    # back (reported), and the dispatch returns the global hull itself
    y = _grid(3, 12)
    h = _voronoi(y)
    opt = TileOptions(tile_points=300, min_points=0)
    _, _, rep = tiled_lower_hull(*_lifted(y, h), opt)
    assert rep.fallback is not None and "degenerate" in rep.fallback
    with caplog.at_level(logging.INFO, logger="geomot._tiles"):
        tiled = lifting._regular_triangulation(y, h, opt)
    assert "falls back to one global hull" in caplog.text
    glob = lifting._regular_triangulation(y, h, False)
    np.testing.assert_array_equal(tiled.simplices, glob.simplices)
    np.testing.assert_array_equal(tiled.indices, glob.indices)


def _heavy(n, seed=0):
    """2D targets, 2% of them heavy (weights of up to 10 squared spacings): their cells reach
    past the halos of the tiles next to them (whose simplices then have a heavy target inside
    their orthosphere), and hide many targets."""
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2))
    return y, _voronoi(y) + 10.0 / n * (rng.random(n) < 0.02) * rng.random(n)


def test_repair_hulls_where_verification_fails():
    y, h = _heavy(3000)
    rep = _check_exact(y, h, TileOptions(tile_points=200, min_points=0))
    assert rep.rounds >= 2 and rep.rebuilt > 0 and len(rep.failures) == rep.rounds - 1


def test_failed_verification_falls_back_and_is_reported(caplog):
    # one round only: the tiles next to heavy targets keep simplices with a heavy target
    # inside their orthosphere; the ridge check finds them, and the build gives up
    y, h = _heavy(3000)
    opt = TileOptions(tile_points=200, min_points=0, max_rounds=1)
    simp, top, rep = tiled_lower_hull(*_lifted(y, h), opt)
    assert simp is None and top is None
    assert "locally regular" in rep.fallback or "more than two" in rep.fallback
    with caplog.at_level(logging.INFO, logger="geomot._tiles"):
        tiled = lifting._regular_triangulation(y, h, opt)
    assert "falls back to one global hull" in caplog.text
    glob = lifting._regular_triangulation(y, h, False)
    np.testing.assert_array_equal(tiled.simplices, glob.simplices)
    np.testing.assert_array_equal(tiled.hidden, glob.hidden)


def test_verification_rejects_a_wrong_triangulation():
    # flip one edge of the global triangulation: the ridge check finds it not locally regular
    rng = np.random.default_rng(8)
    y = rng.random((300, 2))
    t, z = _lifted(y, _voronoi(y))
    simp, _ = lifting._lower_hull(t, z)
    opt = TileOptions(tile_points=100, min_points=0).resolve(2)
    build = _tiles._Build(t, z, opt)
    inv = np.empty(len(y), dtype=np.int64)
    inv[build.perm] = np.arange(len(y))
    simp = np.sort(inv[simp], axis=1)
    hull_pts = np.unique(simp)
    starts = np.zeros(build.tiling.count, dtype=np.int64)
    assert _tile_verify._verify(build, simp, hull_pts, starts).ok
    # an interior edge (a, b) with triangles (a, b, c), (a, b, d) -> (a, c, d), (b, c, d)
    ptr, lst = _vertex_simplices(simp, len(y))
    status, _ = _tile_verify._ridge_status(simp, build.t, build.w, ptr, lst, 1)
    s, j = map(int, np.argwhere(status == _tile_verify._RIDGE_OK)[0])
    count, other, jo = _tile_verify._across(simp, ptr, lst, s, j)
    a, b = np.delete(simp[s], j)
    c, e = simp[s, j], simp[other, jo]
    bad = simp.copy()
    bad[s] = np.sort([a, c, e])
    bad[other] = np.sort([b, c, e])
    verdict = _tile_verify._verify(build, bad, hull_pts, starts)
    assert not verdict.ok


def test_ridge_checks_in_threads_agree_with_one():
    rng = np.random.default_rng(11)
    y = rng.random((60_000, 2))
    t, z = _lifted(y, _hiding(y, rng))
    simp, _ = lifting._lower_hull(t, z)
    simp = np.ascontiguousarray(np.sort(simp, axis=1))
    w = np.einsum("ij,ij->i", t, t) - z
    ptr, lst = _vertex_simplices(simp, len(y))
    one, vol1 = _tile_verify._ridge_status(simp, t, w, ptr, lst, 1)
    two, vol2 = _tile_verify._ridge_status(simp, t, w, ptr, lst, 2)
    np.testing.assert_array_equal(one, two)
    assert not np.any(one == _tile_verify._UNKNOWN) and not np.any(one >= _tile_verify._RIDGE_BAD)
    assert vol2 == pytest.approx(vol1, rel=1e-12)


# ------------------------------------------------------------------ tiles, options, dispatch
def test_kd_tiles_partition_space_and_locate_their_targets():
    rng = np.random.default_rng(0)
    t = rng.random((5000, 3))
    t[:500, 0] = 0.5  # ties of coordinates
    til = _tile_split._kd_tiling(t, 300)
    assert til.count == 17  # ceil(5000 / 300) tiles of about 300 (ties of coordinates allowed)
    assert np.diff(til.start).min() >= 150 and np.diff(til.start).max() <= 450
    np.testing.assert_array_equal(np.sort(til.perm), np.arange(5000))
    np.testing.assert_array_equal(til.locate(t), til.owner)
    inside = np.all((til.lo[til.owner] <= t) & (t < til.hi[til.owner]), axis=1)
    assert inside.all()
    # random points of space: one box each
    q = rng.uniform(-1, 2, (2000, 3))
    hits = np.all((til.lo[None] <= q[:, None]) & (q[:, None] < til.hi[None]), axis=2)
    np.testing.assert_array_equal(hits.sum(axis=1), 1)
    np.testing.assert_array_equal(np.argmax(hits, axis=1), til.locate(q))


def test_options_and_size_switch():
    opt = TileOptions()
    assert not opt.applies(10_000, 2)  # small: one global hull
    assert opt.applies(10 * _tiles.TILE_MIN_POINTS[2], 2)
    assert not TileOptions(min_points=0).applies(10**6, 1)  # collinear targets: the chain
    assert not opt.applies(10**7, 3)  # 3D: only with a client (tiles cost more CPU than one hull)
    assert TileOptions(client=object()).applies(10**6, 3)
    assert TileOptions(min_points=0, tile_points=50).applies(51, 3)
    assert not TileOptions(min_points=0, tile_points=50).applies(50, 3)
    # below the threshold the dispatch builds one hull (no tiles, same object fields)
    y = np.random.default_rng(1).random((500, 2))
    a = lifting._regular_triangulation(y, _voronoi(y))
    b = lifting._regular_triangulation(y, _voronoi(y), False)
    np.testing.assert_array_equal(a.simplices, b.simplices)


def test_public_function_rejects_a_bad_client():
    y = np.random.default_rng(1).random((50, 2))
    with pytest.raises(ValueError, match="client"):
        lifting.regular_triangulation(y, _voronoi(y), client=object())


# ------------------------------------------------------------------ dask.distributed
def test_local_cluster_builds_the_same_triangulation():
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(9)
    y = rng.random((3000, 2))
    h = _hiding(y, rng)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        opt = TileOptions(tile_points=300, min_points=0, client=client)
        t, z = _lifted(y, h)
        simp, top, rep = tiled_lower_hull(t, z, opt)
        tiled = lifting._regular_triangulation(y, h, opt)
        # the public function takes the client (small n: one global hull, same answer)
        small = lifting.regular_triangulation(y[:300], h[:300], client=client)
    assert rep.fallback is None and rep.tiles >= 8
    local = tiled_lower_hull(t, z, TileOptions(tile_points=300, min_points=0, workers=1))
    np.testing.assert_array_equal(simp, local[0])
    np.testing.assert_array_equal(top, local[1])
    glob = lifting._regular_triangulation(y, h, False)
    assert _rows(tiled.simplices) == _rows(glob.simplices)
    np.testing.assert_array_equal(tiled.indices, glob.indices)
    np.testing.assert_array_equal(small.indices, lifting._regular_triangulation(y[:300], h[:300], False).indices)
