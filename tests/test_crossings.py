"""segment_crossings: the exact cell changes along a source segment, in any dimension."""

import numpy as np
import pytest

import geomot
from geomot import Domain, shapes
from geomot.frame import Frame
from geomot.result import OTResult


def _dense_cells(res, a, b, m=40001):
    t = np.linspace(0.0, 1.0, m)
    x = np.asarray(a) + t[:, None] * (np.asarray(b) - np.asarray(a))
    scores = x @ res.y.T + res.h
    idx = np.argmax(scores, axis=1)
    ch = np.flatnonzero(idx[1:] != idx[:-1])
    return t, idx, ch


@pytest.fixture(scope="module")
def halves():
    two = shapes.two_half_disks()
    res = geomot.solve_ot(Domain.box([0, 0], [2, 1]), shapes.sample(two, 600, seed=0), tol=1e-6)
    return res, geomot.singular_set(res)


def test_exact_2d_matches_dense_walk_and_finds_the_midline(halves):
    res, s = halves
    a, b = [0.3, 0.4], [1.7, 0.6]
    c = geomot.segment_crossings(res, a, b, singular=s)
    t, idx, ch = _dense_cells(res, a, b)
    assert len(c) == len(ch) > 10
    np.testing.assert_array_equal(c.cells, np.r_[idx[0], idx[ch + 1]])
    np.testing.assert_allclose(c.t, t[ch], atol=2.0 / len(t))
    assert np.all((c.t > 0) & (c.t < 1)) and np.all(np.diff(c.t) > 0)
    np.testing.assert_array_equal(c.pairs[:, 1], c.cells[1:])
    np.testing.assert_allclose(c.jumps, np.linalg.norm(res.y[c.pairs[:, 0]] - res.y[c.pairs[:, 1]], axis=1))
    # exactly one singular crossing, where the segment meets the singular set
    assert c.singular.sum() == 1
    k = int(np.flatnonzero(c.singular)[0])
    assert c.jumps[k] > 5 * np.median(c.jumps)
    seg = s.segments.reshape(-1, 2, 2)
    d = np.min(np.linalg.norm(seg.mean(axis=1) - c.points[k], axis=1))
    assert d < 0.1
    # the default criterion is singular_set(res)'s own
    np.testing.assert_array_equal(geomot.segment_crossings(res, a, b).singular, c.singular)


def test_segment_inside_one_cell_has_no_crossing(halves):
    res, _ = halves
    g = res.diagram.centroids[0]
    c = geomot.segment_crossings(res, g, g + 1e-9)
    assert len(c) == 0 and c.cells.tolist() == [int(res.potential.index(g[None])[0])]
    assert c.pairs.shape == (0, 2) and c.points.shape == (0, 2)


def _two_modes_mc(d=5, n_mode=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.vstack([rng.normal(0.25, 0.02, (n_mode, d)), rng.normal(0.75, 0.02, (n_mode, d))])
    h = -0.5 * np.einsum("ij,ij->i", y, y)  # the Voronoi cells of the targets
    n = len(y)
    return OTResult(domain=Domain.box([0.0] * d, [1.0] * d), y=y, nu=np.full(n, 1 / n), h=h,
                    masses=np.full(n, 1 / n), converged=True, iterations=1, history=[0.0], method="montecarlo")


@pytest.mark.parametrize("d", [4, 9])
def test_monte_carlo_any_dimension_matches_brute_force(d):
    res = _two_modes_mc(d)
    a, b = np.full(d, 0.2), np.full(d, 0.8)
    c = geomot.segment_crossings(res, a, b)
    t, idx, ch = _dense_cells(res, a, b, 200001)
    np.testing.assert_array_equal(c.cells, np.r_[idx[0], idx[ch + 1]])
    np.testing.assert_allclose(c.t, t[ch], atol=2e-5)
    # one crossing between the modes, and it is the only singular one
    mode = (np.arange(len(res.y)) >= 40).astype(int)
    between = mode[c.pairs[:, 0]] != mode[c.pairs[:, 1]]
    assert between.sum() == 1
    np.testing.assert_array_equal(c.singular, between)


def test_translated_and_scaled_problem_has_the_same_crossings():
    res = _two_modes_mc(4)
    c0 = geomot.segment_crossings(res, np.full(4, 0.1), np.full(4, 0.9))
    shift, scale = 1e6, 1e-3
    y = shift + scale * res.y
    # the same Voronoi cells, moved: world heights -|y|^2/2 cannot hold them at 1e6 (eps |y|^2 is
    # larger than the cells' scale), the frame weights do (geomot.frame)
    h = -0.5 * np.einsum("ij,ij->i", y, y)
    n = len(y)
    dom = Domain.box([shift] * 4, [shift + scale] * 4)
    frame = Frame.of(dom.bounds, y)
    moved = OTResult(domain=dom, y=y, nu=np.full(n, 1 / n), h=h, masses=np.full(n, 1 / n), converged=True,
                     iterations=1, history=[0.0], method="montecarlo", frame=frame,
                     frame_weights=frame.voronoi_weights(frame.to_targets(y)))
    c1 = geomot.segment_crossings(moved, np.full(4, shift + 0.1 * scale), np.full(4, shift + 0.9 * scale))
    np.testing.assert_array_equal(c1.cells, c0.cells)
    np.testing.assert_allclose(c1.t, c0.t, atol=1e-5)  # the inputs themselves are rounded at 1e6
    np.testing.assert_array_equal(c1.singular, c0.singular)


def test_bad_input(halves):
    res, _ = halves
    with pytest.raises(ValueError, match="a and b must be distinct"):
        geomot.segment_crossings(res, [0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="b"):
        geomot.segment_crossings(res, [0.5, 0.5], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="a"):
        geomot.segment_crossings(res, [np.nan, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="singular"):
        geomot.segment_crossings(res, [0.5, 0.5], [1.5, 0.5], singular=object())
