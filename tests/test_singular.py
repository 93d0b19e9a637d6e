"""Tests for geomot.singular: the singular set on the known cases of THEORY.md."""

import functools
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

import geomot
from geomot import shapes
from geomot.domain import Domain
from geomot.power import power_diagram
from geomot.singular import (SingularSet, default_threshold, emptiness_scores, local_spacing,
                             singular_set)

TOL = 1e-6  # solve tolerance: plenty for the geometry tested here


# ----------------------------------------------------------------------------- targets
def half_disk_targets(n, seed):
    """n iid targets, exactly n/2 in each half-disk (equal masses: Sigma is exactly x = 1)."""
    rng = np.random.default_rng(seed)
    g = shapes.two_half_disks()
    parts = sorted(g.geoms, key=lambda p: p.centroid.x)
    return np.concatenate([shapes.sample(p, n // 2, seed=rng) for p in parts])


def ball_targets(n, seed, centers, radius=1.0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    r = radius * rng.random(n) ** (1.0 / 3.0)
    c = np.asarray(centers, float)[np.arange(n) % len(centers)]
    return c + v * r[:, None]


@functools.lru_cache(maxsize=None)
def solved(case, n, seed):
    if case == "half_disks":
        return geomot.solve_ot(Domain.box([0, 0], [2, 1]), half_disk_targets(n, seed), tol=TOL)
    if case == "annulus":
        y = shapes.sample(shapes.annulus(0.5, 1.0), n, seed=seed)
        return geomot.solve_ot(Domain.disk([0, 0], 1.0), y, tol=TOL)
    if case == "square_disk":
        y = shapes.sample(shapely.Point(0, 0).buffer(1.0, 64), n, seed=seed)
        return geomot.solve_ot(Domain.box([0, 0], [1, 1]), y, tol=TOL)
    if case == "square_square":
        y = np.random.default_rng(seed).random((n, 2))
        return geomot.solve_ot(Domain.box([0, 0], [1, 1]), y, tol=TOL)
    if case == "cube_balls":
        y = ball_targets(n, seed, [(0, 0, -1.5), (0, 0, 1.5)])
        return geomot.solve_ot(Domain.box([0, 0, 0], [1, 1, 1]), y, tol=TOL)
    if case == "ring_square":  # a non-convex source (a hole: several convex pieces)
        y = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
        return geomot.solve_ot(Domain.polygon(shapes.annulus(0.3, 1.0)), y, tol=TOL)
    if case == "cube_ball":
        y = ball_targets(n, seed, [(0, 0, 0)])
        return geomot.solve_ot(Domain.box([0, 0, 0], [1, 1, 1]), y, tol=TOL)
    raise KeyError(case)


def midline_distances(s, n_check=401):
    """(Hausdorff distance of the detected segments to x = 1, covered fraction of the midline)."""
    seg = s.segments
    dev = np.abs(seg[..., 0] - 1.0).max()
    # points of the midline -> distance to the detected segments
    lines = shapely.MultiLineString([shapely.LineString(p) for p in seg])
    t = np.linspace(0, 1, n_check)
    d = shapely.distance(lines, shapely.points(np.column_stack([np.ones_like(t), t])))
    return max(dev, float(d.max())), d


# ----------------------------------------------------------------------------- 2D known answers
@pytest.mark.parametrize("n,seed", [(300, 0), (1000, 1), (3000, 2)])
def test_two_half_disks_sigma_is_the_midline(n, seed):
    res = solved("half_disks", n, seed)
    assert res.converged
    s = singular_set(res)
    assert isinstance(s, SingularSet) and s.dim == 2
    assert len(s) > 0
    # every detected facet joins a target of the left half-disk to one of the right half-disk
    side = np.sign(res.y[s.pairs, 0])
    assert np.all(side[:, 0] != side[:, 1])
    # segments hug x = 1, within about a cell size
    cell = np.sqrt(2.0 / n)
    assert np.abs(s.segments[..., 0] - 1.0).max() < 2.5 * cell
    # they cover most of the midline (total length and the largest component)
    covered = s.component_measures.sum()
    assert covered > (0.6 if n < 1000 else 0.95)
    if n >= 1000:
        assert len(s.components) == 1
        assert s.component_measures[0] == pytest.approx(1.0, abs=0.05)
    # every pair of adjacent cells with targets on opposite sides is found (n >= 1000)
    p = res.diagram.pairs
    cross = np.sign(res.y[p[:, 0], 0]) != np.sign(res.y[p[:, 1], 0])
    found = {tuple(q) for q in s.pairs.tolist()}
    frac = np.mean([tuple(q) in found for q in p[cross].tolist()])
    assert frac >= (0.6 if n < 1000 else 1.0)


def test_two_half_disks_hausdorff_falls_with_n():
    h = [midline_distances(singular_set(solved("half_disks", n, s)))[0]
         for n, s in [(300, 0), (1000, 1), (3000, 2)]]
    assert h[2] < h[0]
    assert h[1] < h[0]
    assert h[2] < 0.05


def test_two_half_disks_subdifferential_covers_the_gap():
    res = solved("half_disks", 1000, 1)
    s = singular_set(res)
    sub = s.subdifferential(0)
    assert isinstance(sub, shapely.Polygon)
    gap = shapely.box(-0.25, -0.8, 0.25, 0.8)  # most of the gap between the half-disks
    assert sub.intersection(gap).area / gap.area > 0.9
    # the hull lies in the convex hull of the target support
    assert sub.difference(shapely.MultiPoint(res.y).convex_hull).area < 1e-12


@pytest.mark.parametrize("n,seed", [(1000, 0), (3000, 1)])
def test_annulus_sigma_is_the_centre(n, seed):
    res = solved("annulus", n, seed)
    s = singular_set(res)
    assert len(s) > 0
    pts = s.segments.reshape(-1, 2)
    # the detected set is near the centre: within a few cell sizes
    cell = np.sqrt(np.pi / n)
    assert np.linalg.norm(pts, axis=1).max() < 4.0 * cell
    assert len(s.components) == 1
    # the subdifferential of the centre covers the hole |y| < 0.5
    hole = shapely.Point(0, 0).buffer(0.5, 128)
    sub = s.subdifferential(0)
    assert sub.intersection(hole).area / hole.area > 0.8
    # and stays in the convex hull of the targets (up to the polygonal annulus)
    assert sub.area < 1.05 * hole.area


def test_annulus_detected_set_shrinks_with_n():
    r = [np.linalg.norm(singular_set(solved("annulus", n, s)).segments.reshape(-1, 2), axis=1).max()
         for n, s in [(1000, 0), (3000, 1)]]
    assert r[1] < r[0]


@pytest.mark.parametrize("case", ["square_disk", "square_square"])
@pytest.mark.parametrize("n,seed", [(300, 0), (1000, 1), (3000, 2)])
def test_convex_targets_have_no_singular_set(case, n, seed):
    res = solved(case, n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also: no "non-convex targets" warning
        s = singular_set(res)
    assert s.is_empty and len(s) == 0
    assert s.pairs.shape == (0, 2) and s.segments.shape == (0, 2, 2)
    assert s.components == [] and s.polygons == []
    # the margin: every regular score is clearly below the threshold
    ell = local_spacing(res.y)
    sc = emptiness_scores(res.y, res.diagram.pairs, ell)
    assert sc.max() < 0.95 * s.threshold


def test_grid_samples():
    # square -> grid of a square: nothing; square -> grid points in two half-disks: the midline
    g = (np.arange(40) + 0.5) / 40
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    res = geomot.solve_ot(Domain.box([0, 0], [1, 1]), grid, tol=TOL)
    assert singular_set(res).is_empty
    t = np.linspace(-1.25, 1.25, 50)
    pts = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
    two = shapes.two_half_disks()
    pts = pts[shapely.contains_xy(two, pts[:, 0], pts[:, 1])]
    res = geomot.solve_ot(Domain.box([0, 0], [2, 1]), pts, tol=TOL)
    s = singular_set(res)
    assert len(s.components) == 1
    assert np.abs(s.segments[..., 0] - 1.0).max() < 0.06
    assert s.component_measures[0] == pytest.approx(1.0, abs=0.02)


def test_scale_and_translation_invariance():
    # scaling the targets by a and translating them: the same cells (h -> a h), the same pairs
    res = solved("half_disks", 1000, 1)
    s0 = singular_set(res)
    dom = res.domain
    a, b = 37.0, np.array([-500.0, 12.0])
    pd = power_diagram(a * res.y + b, a * res.h, dom)
    s1 = singular_set(pd)
    assert s1.threshold == s0.threshold
    np.testing.assert_array_equal(np.sort(s1.pairs, axis=0), np.sort(s0.pairs, axis=0))
    np.testing.assert_allclose(s1.scores, s0.scores, rtol=1e-9)
    np.testing.assert_allclose(s1.jumps, a * s0.jumps, rtol=1e-12)


# ----------------------------------------------------------------------------- 3D
@pytest.mark.parametrize("n,seed", [(600, 0), (1200, 1)])
def test_cube_to_two_balls_sigma_is_the_mid_plane(n, seed):
    res = solved("cube_balls", n, seed)
    s = singular_set(res)
    assert s.segments.shape == (0, 2, 3) and len(s.polygons) == s.polygon_pair.size > 0
    z = np.concatenate(s.polygons)[:, 2]
    assert np.abs(z - 0.5).max() < 1.5 * n ** (-1 / 3)
    assert len(s.components) == 1
    assert s.component_measures[0] > (0.8 if n < 1000 else 0.97)
    side = np.sign(res.y[s.pairs, 2])
    assert np.all(side[:, 0] != side[:, 1])
    hull = s.subdifferential(0)
    assert hull.is_volume
    # it crosses the gap between the balls: contains the segment from z = -0.4 to 0.4 on the axis
    assert np.all(hull.contains(np.array([[0, 0, -0.4], [0, 0, 0.0], [0, 0, 0.4]])))


def test_cube_to_ball_has_no_singular_set():
    assert singular_set(solved("cube_ball", 800, 0)).is_empty


# ----------------------------------------------------------------------------- details
def test_fields_and_helpers():
    res = solved("half_disks", 1000, 1)
    s = singular_set(res)
    k = len(s)
    assert s.jumps.shape == s.scores.shape == s.facet_measures.shape == (k,)
    np.testing.assert_allclose(s.jumps, np.linalg.norm(res.y[s.pairs[:, 0]] - res.y[s.pairs[:, 1]],
                                                       axis=1), rtol=1e-14)
    assert np.all(s.scores > s.threshold)
    assert np.all(s.scores <= s.jumps / np.maximum(s.local_scale[s.pairs].max(axis=1), 0) + 1e-12)
    assert np.all(s.pairs[:, 0] < s.pairs[:, 1])
    assert s.segment_pair.shape == (s.segments.shape[0],)
    assert set(s.segment_pair.tolist()) == set(range(k))
    np.testing.assert_array_equal(np.sort(np.concatenate(s.components)), np.arange(k))
    # segment lengths add up to the facet measures
    lens = np.linalg.norm(s.segments[:, 1] - s.segments[:, 0], axis=1)
    np.testing.assert_allclose(np.bincount(s.segment_pair, lens, minlength=k), s.facet_measures,
                               rtol=1e-9)
    # dihedral angle: angle between the normals (y_i, -1), (y_j, -1)
    i, j = s.pairs[0]
    ni, nj = np.append(res.y[i], -1.0), np.append(res.y[j], -1.0)
    ang = np.arccos(ni @ nj / np.linalg.norm(ni) / np.linalg.norm(nj))
    assert s.dihedral_angles[0] == pytest.approx(ang, rel=1e-12)
    # read-only results
    with pytest.raises(ValueError):
        s.pairs[0, 0] = 1
    with pytest.raises(ValueError):
        s.segments[0, 0, 0] = 1.0
    with pytest.raises((AttributeError, TypeError)):
        s.threshold = 1.0
    # threshold keyword: higher threshold -> subset
    s2 = singular_set(res, threshold=2 * s.threshold)
    assert {tuple(p) for p in s2.pairs.tolist()} <= {tuple(p) for p in s.pairs.tolist()}


def test_local_spacing_and_threshold_known_values():
    g = np.stack(np.meshgrid(np.arange(9.0), np.arange(9.0)), -1).reshape(-1, 2)
    ell = local_spacing(g, 9)
    assert ell[40] == pytest.approx(2.0, rel=1e-14)  # c_2 * nearest-neighbour distance 1
    # Poisson normalisation: ell ~ lambda^{-1/2} on average for iid points
    y = np.random.default_rng(0).random((20000, 2))
    assert np.median(local_spacing(y)) == pytest.approx(1 / np.sqrt(20000), rel=0.05)
    y3 = np.random.default_rng(0).random((20000, 3))
    assert np.median(local_spacing(y3)) == pytest.approx(20000 ** (-1 / 3), rel=0.07)
    assert default_threshold(3000, 2) == pytest.approx(3.4 * np.sqrt(np.log(3000) / np.pi), rel=1e-14)
    assert default_threshold(1000, 3) == pytest.approx(3.4 * (np.log(1000) * 3 / (4 * np.pi)) ** (1 / 3),
                                                       rel=1e-14)
    # emptiness: two points across an empty square of side 1 with a grid around
    y = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 1.0], [2.0, -1.0]])
    sc = emptiness_scores(y, np.array([[0, 1]]), np.ones(4), n_probe=1)
    assert sc[0] == pytest.approx(2.0, rel=1e-14)  # midpoint (2, 0): nearest target at distance 1


def test_subdifferential_index_errors():
    s = singular_set(solved("half_disks", 1000, 1))
    with pytest.raises(ValueError, match="out of range"):
        s.subdifferential(5)
    with pytest.raises(ValueError, match="integer"):
        s.subdifferential(0.5)
    np.testing.assert_array_equal(s.component_targets(-1), s.component_targets(0))
    inner = s.component_targets(0, around=False)
    np.testing.assert_array_equal(inner, np.unique(s.pairs))
    assert set(inner.tolist()) <= set(s.component_targets(0).tolist())
    assert s.subdifferential(0, around=False).within(s.subdifferential(0).buffer(1e-12))


def test_bad_input():
    res = solved("half_disks", 300, 0)
    with pytest.raises(ValueError, match="threshold"):
        singular_set(res, threshold=-1)
    with pytest.raises(ValueError, match="k_neighbors"):
        singular_set(res, k_neighbors=0)
    with pytest.raises(ValueError, match="n_probe"):
        singular_set(res, n_probe=0)
    with pytest.raises(ValueError, match="merge_distance"):
        singular_set(res, merge_distance=float("nan"))
    with pytest.raises(ValueError, match="power diagram"):
        singular_set(SimpleNamespace(diagram=None, y=res.y, converged=True))
    # too few targets for the criterion
    small = geomot.solve_ot(Domain.box([0, 0], [1, 1]),
                            np.random.default_rng(0).random((12, 2)), tol=TOL)
    with pytest.raises(ValueError, match="targets"):
        singular_set(small)


def test_warnings():
    res = solved("half_disks", 1000, 1)
    # not converged
    fake = SimpleNamespace(diagram=res.diagram, y=res.y, h=res.h, converged=False)
    with pytest.warns(RuntimeWarning, match="converge"):
        singular_set(fake)
    # non-convex targets but an absurd threshold: empty, but never silently
    with pytest.warns(RuntimeWarning, match="not convex"):
        s = singular_set(res, threshold=1e3)
    assert s.is_empty


def test_notched_disk_components_cover_the_notches_and_the_hole():
    # disk -> disk with a central hole and three notches: four pieces of Sigma, each of whose
    # subdifferentials lies in the part of the convex hull missing from the target
    shp = shapes.notched_disk()
    y = shapes.sample(shp, 3000, seed=0)
    s = singular_set(geomot.solve_ot(Domain.disk([0, 0], 1.0), y, tol=TOL))
    assert len(s.components) == 4
    assert np.all(np.diff(s.component_measures) <= 0)
    missing = shp.convex_hull.difference(shp)
    subs = [s.subdifferential(k) for k in range(4)]
    for sub in subs:
        assert sub.intersection(missing).area / sub.area > 0.8
    # the four pieces are disjoint parts of the missing region, and one of them is the hole
    hole = shapely.Polygon(shp.interiors[0])
    assert sum(sub.intersection(hole).area / hole.area > 0.6 for sub in subs) == 1
    assert shapely.union_all(subs).area == pytest.approx(sum(sub.area for sub in subs), rel=0.02)
