"""Tests for geomot.generate: piecewise-linear AE-OT generation and the mode-collapse demo."""

import functools
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

import geomot
from geomot import shapes
from geomot.domain import Domain
from geomot.generate import (ContinuousMap, PiecewiseLinearMap, continuous_map, mode_balance,
                             off_support_fraction)
from geomot.singular import singular_set

TWO = shapes.two_half_disks()


def left(p):
    return p[:, 0] < 0


@functools.lru_cache(maxsize=None)
def half_disks(n, seed):
    """Rectangle [0,2]x[0,1] -> two half-disks, n/2 iid targets in each (equal modes)."""
    rng = np.random.default_rng(seed)
    parts = sorted(TWO.geoms, key=lambda p: p.centroid.x)
    y = np.concatenate([shapes.sample(p, n // 2, seed=rng) for p in parts])
    return geomot.solve_ot(Domain.box([0, 0], [2, 1]), y, tol=1e-6)


@functools.lru_cache(maxsize=None)
def cube_balls(n, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    c = np.zeros((n, 3))
    c[:, 2] = np.where(np.arange(n) % 2 == 0, -1.5, 1.5)
    y = c + v * (rng.random(n) ** (1 / 3))[:, None]
    return geomot.solve_ot(Domain.box([0, 0, 0], [1, 1, 1]), y, tol=1e-6)


# ----------------------------------------------------------------------------- the PL map
def test_affine_on_each_simplex_and_exact_at_centroids():
    res = half_disks(1000, 0)
    g = PiecewiseLinearMap(res, avoid_singular=False)
    # at the centroids it reproduces the targets
    np.testing.assert_allclose(g(g.centroids), g.targets, atol=1e-9)
    # inside a simplex: the barycentric combination of its targets
    tri = g.triangulation
    s = 123
    lam = np.array([0.2, 0.3, 0.5])
    x = lam @ g.centroids[tri.simplices[s]]
    np.testing.assert_allclose(g(x[None])[0], lam @ g.targets[tri.simplices[s]], rtol=1e-10)
    # outside the centroids' hull: the discrete map T(x) = y_argmax
    xo = np.array([[0.0005, 0.0005], [1.9995, 0.9995], [1.0, 0.0002]])
    hull = shapely.MultiPoint(g.centroids).convex_hull
    assert not np.any(shapely.contains_xy(hull, xo[:, 0], xo[:, 1]))
    np.testing.assert_array_equal(g(xo), res.y[res.potential.index(xo)])
    assert g.cells.shape == (int((~res.diagram.empty).sum()),)


def test_rejected_simplices_are_those_straddling_sigma():
    res = half_disks(1000, 0)
    s = singular_set(res)
    g = PiecewiseLinearMap(res, singular=s)
    simp_targets = g.targets[g.triangulation.simplices]  # (S, 3, 2)
    straddle = np.ptp(np.sign(simp_targets[..., 0]), axis=1) > 0
    np.testing.assert_array_equal(g.rejected, straddle)
    # NaN rows exactly for points in rejected simplices
    x = res.domain.sample(5000, seed=1)
    out = g(x)
    # independent point location: shapely triangles in an STR tree
    tris = shapely.polygons(g.centroids[g.triangulation.simplices])
    hit_pt, hit_tri = shapely.STRtree(tris).query(shapely.points(x), predicate="within")
    assert np.unique(hit_pt).size == hit_pt.size  # interior points: one triangle each
    bad = np.zeros(len(x), bool)
    bad[hit_pt] = g.rejected[hit_tri]
    np.testing.assert_array_equal(np.isnan(out).any(axis=1), bad)
    assert np.all(np.isnan(out[bad])) and np.all(np.isfinite(out[~bad]))
    # the default singular set is the same
    np.testing.assert_array_equal(PiecewiseLinearMap(res).rejected, g.rejected)
    assert not PiecewiseLinearMap(res, avoid_singular=False).rejected.any()


def test_sample_exact_count_and_reproducible():
    g = PiecewiseLinearMap(half_disks(1000, 0))
    a = g.sample(3001, seed=5)
    b = g.sample(3001, seed=np.random.default_rng(5))
    assert a.shape == (3001, 2) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert g.sample(0).shape == (0, 2)


def test_mode_collapse_demonstration():
    """Continuous map fills the gap; the singular-aware PL map does not; modes stay balanced."""
    res = half_disks(2000, 1)
    m = 40000
    pl = PiecewiseLinearMap(res).sample(m, seed=2)
    naive = PiecewiseLinearMap(res, avoid_singular=False).sample(m, seed=2)
    cont = continuous_map(res).sample(m, seed=2)
    f_pl = off_support_fraction(pl, TWO)
    f_naive = off_support_fraction(naive, TWO)
    f_cont = off_support_fraction(cont, TWO)
    # half-disks are convex: every accepted simplex maps into one of them -> exactly 0
    assert f_pl == 0.0
    # the naive PL map only errs in the band of straddling simplices (~ one cell wide)
    assert 0.005 < f_naive < 0.05
    # the continuous map puts a clear fraction of its samples in the gap
    assert f_cont > 0.05
    assert f_cont > 3 * f_naive
    gap = shapely.box(-0.25, -1, 0.25, 1)
    assert off_support_fraction(cont, gap) < 1 - 0.04  # i.e. > 4% inside the gap
    for pts in (pl, naive, cont):
        bal = mode_balance(pts[~shapely.contains_xy(gap, pts[:, 0], pts[:, 1])], left)
        assert bal[True] == pytest.approx(0.5, abs=0.02)
    # polynomial regressor: also continuous, also off support
    assert off_support_fraction(continuous_map(res, "poly", degree=5).sample(m, seed=2), TWO) > 0.05


def test_three_d_generation():
    res = cube_balls(800, 0)
    g = PiecewiseLinearMap(res)
    assert g.rejected.any()
    x = g.sample(4000, seed=0)
    # every generated point is in one of the two (convex) balls
    r = np.minimum(np.linalg.norm(x - [0, 0, -1.5], axis=1), np.linalg.norm(x - [0, 0, 1.5], axis=1))
    assert r.max() <= 1.0 + 1e-9
    assert mode_balance(x, lambda p: p[:, 2] > 0)[True] == pytest.approx(0.5, abs=0.04)
    naive = PiecewiseLinearMap(res, avoid_singular=False).sample(4000, seed=0)
    assert np.abs(naive[:, 2]).min() < 0.5  # the naive map fills the gap |z| < 0.5


# ----------------------------------------------------------------------------- helpers
def test_off_support_fraction_known_values():
    sq = shapely.box(0, 0, 1, 1)
    pts = np.array([[0.5, 0.5], [2.0, 0.5], [1.05, 0.5], [1.0, 1.0]])
    assert off_support_fraction(pts, sq) == pytest.approx(0.5, abs=0)
    assert off_support_fraction(pts, sq, tol=0.1) == pytest.approx(0.25, abs=0)
    dom = Domain.box([0, 0], [1, 1])
    assert off_support_fraction(pts, dom) == pytest.approx(0.5, abs=0)
    import trimesh

    cube = trimesh.creation.box(bounds=[[0, 0, 0], [1, 1, 1]])
    p3 = np.array([[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [1.05, 0.5, 0.5]])
    assert off_support_fraction(p3, cube) == pytest.approx(2 / 3, abs=1e-15)
    assert off_support_fraction(p3, cube, tol=0.1) == pytest.approx(1 / 3, abs=1e-15)
    with pytest.raises(ValueError, match="shape"):
        off_support_fraction(pts, "square")
    with pytest.raises(ValueError, match="tol"):
        off_support_fraction(pts, sq, tol=-1)
    with pytest.raises(ValueError, match="points"):
        off_support_fraction(np.array([[np.nan, 0.0]]), sq)


def test_mode_balance():
    pts = np.array([[0.2, 0], [1.5, 0], [1.7, 0], [0.1, 0], [3.0, 0]])
    assert mode_balance(pts, lambda p: p[:, 0] > 1) == {False: 0.4, True: 0.6}
    lab = mode_balance(pts, lambda p: np.floor(p[:, 0]).astype(int), modes=[0, 1, 2, 3])
    assert lab == {0: 0.4, 1: 0.4, 2: 0.0, 3: 0.2}
    with pytest.raises(ValueError, match="callable"):
        mode_balance(pts, 3)
    with pytest.raises(ValueError, match="one label per point"):
        mode_balance(pts, lambda p: p[:2, 0] > 1)


def test_continuous_map_interpolates():
    res = half_disks(1000, 0)
    f = continuous_map(res, smoothing=0.0)
    assert isinstance(f, ContinuousMap)
    g = PiecewiseLinearMap(res, avoid_singular=False)
    np.testing.assert_allclose(f(g.centroids), g.targets, atol=1e-6)
    assert f.sample(10, seed=0).shape == (10, 2)


def test_bad_input():
    res = half_disks(1000, 0)
    with pytest.raises(ValueError, match="avoid_singular"):
        PiecewiseLinearMap(res, avoid_singular="yes")
    with pytest.raises(ValueError, match="singular"):
        PiecewiseLinearMap(res, singular=object())
    with pytest.raises(ValueError, match="power diagram"):
        PiecewiseLinearMap(SimpleNamespace(diagram=None))
    g = PiecewiseLinearMap(res)
    with pytest.raises(ValueError, match="x"):
        g(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n"):
        g.sample(-1)
    with pytest.raises(ValueError, match="seed"):
        g.sample(10, seed="a")
    with pytest.raises(ValueError, match="kind"):
        continuous_map(res, kind="nn")
    with pytest.raises(ValueError, match="smoothing"):
        continuous_map(res, smoothing=-1.0)


def test_sample_gives_up_with_a_clear_error():
    res = half_disks(1000, 0)
    g0 = PiecewiseLinearMap(res)
    k = int(np.flatnonzero(g0.rejected)[0])
    x0 = g0.centroids[g0.triangulation.simplices[k]].mean(axis=0)  # inside a rejected simplex
    # a source that only ever draws that point: nothing can be accepted
    stuck = SimpleNamespace(sample=lambda m, seed=None: np.tile(x0, (m, 1)))
    fake = SimpleNamespace(diagram=res.diagram, h=res.h, y=res.y, converged=True, domain=stuck)
    g = PiecewiseLinearMap(fake, singular=g0.singular)
    with pytest.raises(RuntimeError, match="accepted"):
        g.sample(10, seed=0, max_rounds=3)


def test_outside_the_hull_is_the_discrete_map_convex_and_nonconvex_domains():
    rng = np.random.default_rng(3)
    for dom in (Domain.disk([0, 0], 1.0), Domain.polygon(shapes.annulus(0.3, 1.0))):
        res = geomot.solve_ot(dom, rng.uniform(-1, 1, (300, 2)), tol=1e-6)
        g = PiecewiseLinearMap(res, avoid_singular=False)
        x = dom.sample(4000, seed=4)
        hull = shapely.MultiPoint(g.centroids).convex_hull
        out = ~shapely.contains_xy(hull, x[:, 0], x[:, 1])
        assert out.sum() > 20
        np.testing.assert_array_equal(g(x[out]), res.y[res.potential.index(x[out])])


def test_three_d_point_location_matches_barycentric_brute_force():
    res = cube_balls(800, 0)
    g = PiecewiseLinearMap(res, avoid_singular=False)
    x = res.domain.sample(300, seed=7)
    tri = g.triangulation
    # brute force: the simplex whose barycentric coordinates are all >= 0 (numpy solve per simplex)
    v = g.centroids[tri.simplices]
    A = np.transpose(v[:, :3] - v[:, 3:], (0, 2, 1))
    inv = np.linalg.inv(A)
    lam = np.einsum("sij,nsj->nsi", inv, x[:, None, :] - v[None, :, 3])
    lam = np.concatenate([lam, 1 - lam.sum(-1, keepdims=True)], -1)
    inside = (lam >= -1e-10).all(-1)
    has = inside.any(1)
    s = inside.argmax(1)
    expect = np.einsum("nk,nkd->nd", lam[np.arange(len(x)), s], g.targets[tri.simplices[s]])
    np.testing.assert_allclose(g(x)[has], expect[has], rtol=1e-9, atol=1e-9)
