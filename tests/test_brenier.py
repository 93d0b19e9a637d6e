"""Tests of geomot.brenier.BrenierPotential."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from geomot.brenier import BrenierPotential


def _ot_like(n, d, seed, noise=0.05):
    """Targets and heights close to a Voronoi diagram: most planes visible."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, d))
    h = -0.5 * np.sum(y**2, axis=1) + noise * rng.normal(size=n)
    return y, h


def _scores(x, y, h):
    return x @ y.T + h


def _legendre_lp(y, h, z):
    """u*(z) = sup_{x,t} <x,z> - t  s.t.  t >= <x,y_j> + h_j  (independent check)."""
    n, d = y.shape
    A = np.column_stack([y, -np.ones(n)])
    r = linprog(np.r_[-z, 1.0], A_ub=A, b_ub=-h, bounds=[(None, None)] * (d + 1), method="highs")
    assert r.status == 0
    return -r.fun


# ------------------------------------------------------------------ argmax / values


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_kdtree_brute_numba_agree(d):
    y, h = _ot_like(300, d, seed=d)
    rng = np.random.default_rng(100 + d)
    x = 1.5 * rng.normal(size=(4000, d))
    u = BrenierPotential(y, h)
    un = BrenierPotential(y, h, backend="numba")
    i_kd = u.index(x, method="kdtree")
    i_np = u.index(x, method="brute")
    i_nb = un.index(x, method="brute")
    i_wk = u.index(x, method="walk")
    np.testing.assert_array_equal(i_kd, i_np)
    np.testing.assert_array_equal(i_nb, i_np)
    np.testing.assert_array_equal(i_wk, i_np)
    np.testing.assert_array_equal(u.index(x), i_np)  # auto
    np.testing.assert_array_equal(i_np, np.argmax(_scores(x, y, h), axis=1))
    # values are computed in the same fixed order by every method: bitwise equal
    np.testing.assert_array_equal(u(x, method="walk"), un(x, method="brute"))
    np.testing.assert_array_equal(u(x, method="kdtree"), un(x, method="brute"))


@pytest.mark.parametrize("d", [2, 3])
def test_walk_with_smoothly_varying_weights(d):
    # a transport with a large displacement: power weights vary by O(1), many cells far
    # from their targets; walk and k-d tree must still equal the brute force
    rng = np.random.default_rng(20 + d)
    y = rng.random((800, d))
    h = -0.5 * np.sum(y**2, axis=1) + 0.3 * np.sin(3 * y[:, 0]) + 0.2 * y[:, -1] ** 2
    x = rng.random((6000, d)) * 1.4 - 0.2
    u = BrenierPotential(y, h)
    expected = np.argmax(_scores(x, y, h), axis=1)
    np.testing.assert_array_equal(u.index(x, method="walk"), expected)
    np.testing.assert_array_equal(u.index(x, method="kdtree"), expected)
    # auto on a problem above the brute-force threshold uses the walk
    big = np.tile(x, (5, 1))
    assert big.shape[0] * 800 > 2 * 10**7
    np.testing.assert_array_equal(u.index(big), np.tile(expected, 5))
    assert "_walker" in u.__dict__


def test_walk_duplicates_and_coplanar_targets():
    rng = np.random.default_rng(31)
    y = rng.random((300, 2))
    h = -0.5 * np.sum(y**2, axis=1) + 1e-3 * rng.normal(size=300)
    # exact duplicates (tie everywhere: the smallest index wins)
    y = np.concatenate([y, y[[5, 17]]])
    h = np.concatenate([h, h[[5, 17]]])
    y = np.concatenate([y[:3], y])
    h = np.concatenate([h[:3], h])  # indices 0..2 duplicate 3..5
    u = BrenierPotential(y, h)
    x = rng.random((5000, 2))
    expected = np.argmax(_scores(x, y, h), axis=1)
    for method in ("walk", "kdtree", "brute"):
        np.testing.assert_array_equal(u.index(x, method=method), expected)
    assert not np.any(np.isin(u.index(x, method="walk"), [3, 4, 5, 303, 304]))


def test_kdtree_with_random_heights_many_hidden():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(500, 2))
    h = rng.normal(size=500)  # most planes hidden: lifted points far from convex position
    x = 3 * rng.normal(size=(3000, 2))
    u = BrenierPotential(y, h)
    assert u.hidden.sum() > 400
    expected = u.index(x, method="brute")
    np.testing.assert_array_equal(u.index(x, method="kdtree"), expected)
    np.testing.assert_array_equal(u.index(x, method="walk"), expected)


def test_ties_on_a_grid_agree_and_take_smallest_index():
    g = np.arange(-4, 5) / 4.0
    y = np.array([[a, b] for a in g[::2] for b in g[::2]])
    h = -0.5 * np.sum(y**2, axis=1)
    x = np.array([[a, b] for a in g for b in g])
    s = _scores(x, y, h)
    assert np.sum(np.sum(s == s.max(axis=1, keepdims=True), axis=1) > 1) >= 20
    expected = np.argmax(s, axis=1)
    for backend in ("numpy", "numba"):
        u = BrenierPotential(y, h, backend=backend)
        for method in ("walk", "kdtree", "brute"):
            np.testing.assert_array_equal(u.index(x, method=method), expected)


def test_kdtree_certification_falls_back_on_many_exact_ties():
    # 20 targets on a circle, h = 0: at x = 0 every score is exactly 0, more ties than the
    # 8 k-d tree candidates; the answer must still be index 0 like the brute force
    t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    y = np.column_stack([np.cos(t), np.sin(t)])
    u = BrenierPotential(y, np.zeros(20))
    x = np.array([[0.0, 0.0], [1e-300, 0.0], [0.3, -0.2]])
    np.testing.assert_array_equal(u.index(x, method="kdtree"), u.index(x, method="brute"))
    assert u.index([0.0, 0.0], method="kdtree") == 0
    # the same for the walk (enough queries that it does not defer to the brute force)
    xs = np.concatenate([np.zeros((100, 2)), np.random.default_rng(2).normal(size=(100, 2))])
    np.testing.assert_array_equal(u.index(xs, method="walk"), u.index(xs, method="brute"))
    assert np.all(u.index(xs, method="walk")[:100] == 0)


def test_single_target():
    u = BrenierPotential([[1.0, 2.0]], [0.5])
    x = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0]])
    for method in ("auto", "walk", "kdtree", "brute"):
        np.testing.assert_array_equal(u.index(x, method=method), [0, 0, 0])
    np.testing.assert_allclose(u(x), [0.5, 3.5, 4.5], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(u.map(x), np.tile([1.0, 2.0], (3, 1)))
    assert u.legendre().tolist() == [-0.5]
    assert not u.hidden[0]


def test_known_values_and_single_point_shapes():
    u = BrenierPotential([[0.0, 0.0], [1.0, 0.0]], [0.0, -0.5])
    assert u([2.0, 0.0]) == 1.5
    assert u.index([2.0, 0.0]) == 1
    assert u.map([0.0, 0.0]).tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(u.gradient([[0.4, 7.0], [0.6, -3.0]]), [[0.0, 0.0], [1.0, 0.0]])
    assert isinstance(u([1.0, 1.0]), float) and isinstance(u.index([1.0, 1.0]), int)
    assert u(np.zeros((0, 2))).shape == (0,)
    assert u.n == 2 and u.dim == 2
    assert "BrenierPotential(n=2, dim=2" in repr(u)


def test_values_are_the_upper_envelope():
    y, h = _ot_like(200, 3, seed=4)
    x = np.random.default_rng(5).normal(size=(1000, 3))
    u = BrenierPotential(y, h)
    s = _scores(x, y, h)
    val = u(x)
    assert np.all(val[:, None] >= s - 1e-12)
    idx = u.index(x)
    np.testing.assert_allclose(val, s[np.arange(1000), idx], rtol=0, atol=1e-12)
    np.testing.assert_allclose(val, s.max(axis=1), rtol=0, atol=1e-12)


def test_constant_shift_of_heights():
    y, h = _ot_like(150, 2, seed=6)
    x = np.random.default_rng(7).normal(size=(2000, 2))
    u = BrenierPotential(y, h)
    v = BrenierPotential(y, h + 3.25)
    np.testing.assert_array_equal(u.index(x), v.index(x))
    np.testing.assert_allclose(v(x), u(x) + 3.25, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v.legendre(), u.legendre() - 3.25, rtol=0, atol=1e-12)


def test_convex_midpoint_inequality():
    y, h = _ot_like(100, 2, seed=8)
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(2, 3000, 2)) * 2
    u = BrenierPotential(y, h)
    assert np.all(u(0.5 * (a + b)) <= 0.5 * (u(a) + u(b)) + 1e-12)
    # strictly convex somewhere (the test can fail for a wrong, affine u)
    assert np.any(u(0.5 * (a + b)) < 0.5 * (u(a) + u(b)) - 1e-3)


def test_memory_budget_tiny_gives_identical_results():
    y, h = _ot_like(60, 2, seed=10)
    x = np.random.default_rng(11).normal(size=(500, 2))
    big = BrenierPotential(y, h)
    tiny = BrenierPotential(y, h, memory_budget=64)
    for method in ("walk", "kdtree", "brute"):
        np.testing.assert_array_equal(tiny.index(x, method=method), big.index(x, method=method))
        np.testing.assert_array_equal(tiny(x, method=method), big(x, method=method))


# ------------------------------------------------------------------ Legendre dual


def test_legendre_1d_known_answer():
    u = BrenierPotential([[0.0], [1.0], [2.0]], [1.0, -1.0, 1.0])
    np.testing.assert_array_equal(u.legendre(), [-1.0, -1.0, -1.0])
    np.testing.assert_array_equal(u.hidden, [False, True, False])
    # inside the hull: the chord of (0,-1), (2,-1); outside: +inf
    np.testing.assert_allclose(u.legendre([[0.5], [1.5]]), [-1.0, -1.0], rtol=0, atol=1e-14)
    assert u.legendre([2.5]) == np.inf
    u2 = BrenierPotential([[0.0], [1.0], [2.0]], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(u2.legendre(), [0.0, -0.5, 0.0], rtol=0, atol=0)
    assert not u2.hidden.any()
    np.testing.assert_allclose(u2.legendre([[0.5]]), [-0.25], rtol=0, atol=1e-14)


def test_legendre_visible_is_minus_h_and_matches_lp():
    y, h = _ot_like(80, 2, seed=12, noise=0.3)
    u = BrenierPotential(y, h)
    ls = u.legendre()
    vis = ~u.hidden
    assert 5 <= u.hidden.sum() <= 75  # both kinds present
    np.testing.assert_array_equal(ls[vis], -h[vis])
    assert np.all(ls[u.hidden] < -h[u.hidden])
    # at the targets given explicitly: the same exact values (the API's u.legendre(y))
    np.testing.assert_array_equal(u.legendre(y), ls)
    assert u.legendre(y[3]) == ls[3]
    for i in range(80):
        np.testing.assert_allclose(ls[i], _legendre_lp(y, h, y[i]), rtol=1e-9, atol=1e-9)
    # arbitrary points inside the hull
    z = 0.3 * np.random.default_rng(13).normal(size=(10, 2))
    lz = u.legendre(z)
    for k in range(10):
        np.testing.assert_allclose(lz[k], _legendre_lp(y, h, z[k]), rtol=1e-9, atol=1e-9)


def test_fenchel_young_on_samples():
    y, h = _ot_like(100, 3, seed=14, noise=0.3)
    u = BrenierPotential(y, h)
    x = 2 * np.random.default_rng(15).normal(size=(3000, 3))
    lhs = u(x)[:, None] + u.legendre()[None, :]
    assert np.all(lhs >= x @ y.T - 1e-10)
    # equality at x in the cell of a visible target
    i = u.index(x)
    np.testing.assert_allclose(u(x) + u.legendre()[i], np.sum(x * y[i], axis=1), rtol=0, atol=1e-10)


def test_legendre_returns_fresh_arrays():
    y, h = _ot_like(20, 2, seed=22)
    u = BrenierPotential(y, h)
    a = u.legendre()
    a[:] = 7.0
    assert not np.any(u.legendre() == 7.0)


def test_legendre_flat_cases():
    # h = 0: lifted points coplanar; every u*(y_i) = 0, only hull corners own a cell
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
    u = BrenierPotential(y, np.zeros(5))
    np.testing.assert_allclose(u.legendre(), np.zeros(5), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(u.hidden, [False, False, False, False, True])
    assert u.legendre([2.0, 0.5]) == np.inf
    # collinear targets in 2D: envelope along the line, +inf off it
    y = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    h = np.array([0.0, -2.0, 0.0])
    u = BrenierPotential(y, h)
    np.testing.assert_allclose(u.legendre(), [0.0, 0.0, 0.0], rtol=0, atol=1e-14)
    np.testing.assert_array_equal(u.hidden, [False, True, False])
    assert u.legendre([1.0, 0.0]) == np.inf
    np.testing.assert_allclose(u.legendre([0.5, 0.5]), 0.0, rtol=0, atol=1e-14)
    # two targets in 3D (n <= d + 1)
    u = BrenierPotential([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [0.25, -0.75])
    np.testing.assert_array_equal(u.legendre(), [-0.25, 0.75])
    np.testing.assert_allclose(u.legendre([0.5, 0.0, 0.0]), 0.25, rtol=0, atol=1e-14)
    # repeated target: the larger height wins
    u = BrenierPotential([[1.0, 1.0], [1.0, 1.0]], [0.0, 2.0])
    np.testing.assert_array_equal(u.legendre(), [-2.0, -2.0])
    np.testing.assert_array_equal(u.hidden, [True, False])


# ------------------------------------------------------------------ validation, immutability


def test_bad_input_raises_value_error():
    y, h = _ot_like(10, 2, seed=16)
    ybad = y.copy()
    ybad[3, 1] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        BrenierPotential(ybad, h)
    with pytest.raises(ValueError, match="h must have length 10"):
        BrenierPotential(y, h[:-1])
    with pytest.raises(ValueError, match="h contains NaN"):
        BrenierPotential(y, np.r_[h[:-1], np.inf])
    with pytest.raises(ValueError, match="backend must be one of"):
        BrenierPotential(y, h, backend="jax")
    with pytest.raises(ValueError, match="memory_budget"):
        BrenierPotential(y, h, memory_budget=-1)
    u = BrenierPotential(y, h)
    with pytest.raises(ValueError, match="x must"):
        u(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="x must"):
        u([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="x contains NaN"):
        u([[np.nan, 0.0]])
    with pytest.raises(ValueError, match="method must be one of"):
        u.index([[0.0, 0.0]], method="fast")
    with pytest.raises(ValueError, match="z must"):
        u.legendre([1.0])


def test_immutable_and_inputs_not_mutated():
    y, h = _ot_like(30, 2, seed=17)
    y0, h0 = y.copy(), h.copy()
    u = BrenierPotential(y, h)
    x = np.random.default_rng(18).normal(size=(50, 2))
    x0 = x.copy()
    u(x), u.map(x), u.legendre(), u.legendre(x)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(x, x0)
    y[0, 0] += 1.0  # the potential keeps its own copy
    assert u.y[0, 0] == y0[0, 0]
    with pytest.raises(ValueError):
        u.h[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.h = np.zeros(30)
    m = u.map(x)
    m[0] = 99.0  # results are fresh arrays
    assert not np.any(u.y == 99.0)


# ------------------------------------------------------------------ graph


def _tri_areas(p):
    e1 = p[:, 1] - p[:, 0]
    e2 = p[:, 2] - p[:, 0]
    return 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


def _surface_checks(surf, u, area):
    import pyvista as pv

    assert isinstance(surf, pv.PolyData)
    pts = np.asarray(surf.points)
    np.testing.assert_allclose(pts[:, 2], u(pts[:, :2]), rtol=0, atol=1e-9)
    tri = np.asarray(surf.faces).reshape(-1, 4)[:, 1:]
    p = pts[tri][:, :, :2]
    a = _tri_areas(p)
    return float(a.sum()), np.asarray(surf.cell_data["target"])


def test_graph_exact_facets_are_cells():
    pytest.importorskip("pyvista")
    geomot = pytest.importorskip("geomot")
    try:
        from geomot.power import power_diagram  # noqa: F401
    except ImportError:
        pytest.skip("geomot.power not available")
    dom = geomot.Domain.box([0.0, 0.0], [1.0, 1.0])
    rng = np.random.default_rng(19)
    y = rng.random((12, 2))
    h = -0.5 * np.sum(y**2, axis=1)
    u = BrenierPotential(y, h)
    surf = u.graph(dom)
    area, target = _surface_checks(surf, u, 1.0)
    np.testing.assert_allclose(area, 1.0, rtol=1e-10)
    # every facet lies in the plane of its target: z = <x, y_i> + h_i exactly
    pts = np.asarray(surf.points)
    tri = np.asarray(surf.faces).reshape(-1, 4)[:, 1:]
    zp = np.einsum("kvj,kj->kv", pts[tri][:, :, :2], y[target]) + h[target][:, None]
    np.testing.assert_allclose(pts[tri][:, :, 2], zp, rtol=0, atol=1e-12)
    # the facets of cell i have the area of cell i
    per_cell = np.bincount(target, weights=_tri_areas(pts[tri][:, :, :2]), minlength=12)
    x = dom.sample(200000, seed=20)
    mc = np.bincount(u.index(x), minlength=12) / 200000
    np.testing.assert_allclose(per_cell, mc, atol=0.01)


def test_graph_sampled_fallback_and_errors():
    pytest.importorskip("pyvista")
    geomot = pytest.importorskip("geomot")
    dom = geomot.Domain.box([0.0, 0.0], [2.0, 1.0])
    y, h = _ot_like(6, 2, seed=21)
    u = BrenierPotential(y, h)
    surf = u.graph(dom, resolution=21, exact=False)
    area, target = _surface_checks(surf, u, 2.0)
    np.testing.assert_allclose(area, 2.0, rtol=1e-12)
    assert target.min() >= 0 and target.max() < 6
    with pytest.raises(ValueError, match="resolution"):
        u.graph(dom, resolution=1, exact=False)
    with pytest.raises(ValueError, match="2D"):
        BrenierPotential(np.eye(3), np.zeros(3)).graph(dom)


def test_walk_with_a_target_exactly_on_a_lower_facet():
    # corners of the unit square on the paraboloid are coplanar in the lift; the centre,
    # lifted onto that plane (h = -1/2 instead of -1/4), lies on the lower facet: qhull
    # reports it coplanar, its cell is the single point (1/2, 1/2) where all five tie
    g = np.arange(-1.0, 3.0)
    ring = np.array([[a, b] for a in g for b in g])  # unit grid; (0.5, 0.5) is a square's centre
    y = np.concatenate([[[0.5, 0.5]], ring])
    h = -0.5 * np.sum(y**2, axis=1)
    h[0] = -0.5
    u = BrenierPotential(y, h)
    assert u.hidden[0]
    assert u.legendre()[0] == 0.5  # on the envelope: u*(y_0) = -h_0
    rng = np.random.default_rng(40)
    x = np.concatenate([[[0.5, 0.5]] * 3, rng.random((300, 2)) * 3 - 1, ring])
    expected = np.argmax(_scores(x, y, h), axis=1)
    assert np.all(expected[:3] == 0)
    for method in ("walk", "kdtree", "brute"):
        np.testing.assert_array_equal(u.index(x, method=method), expected)


def test_graph_polygon_with_hole():
    pytest.importorskip("pyvista")
    shapely = pytest.importorskip("shapely")
    geomot = pytest.importorskip("geomot")
    try:
        from geomot.power import power_diagram  # noqa: F401
    except ImportError:
        pytest.skip("geomot.power not available")
    ring = shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 2)], [[(0.6, 0.6), (1.4, 0.6), (1.4, 1.4), (0.6, 1.4)]])
    dom = geomot.Domain.polygon(ring)
    rng = np.random.default_rng(41)
    y = rng.random((15, 2)) * 2
    h = -0.5 * np.sum(y**2, axis=1)
    u = BrenierPotential(y, h)
    surf = u.graph(dom)
    area, target = _surface_checks(surf, u, 4.0 - 0.64)
    np.testing.assert_allclose(area, 4.0 - 0.64, rtol=1e-10)
    # no facet inside the hole
    pts = np.asarray(surf.points)
    tri = np.asarray(surf.faces).reshape(-1, 4)[:, 1:]
    c = pts[tri][:, :, :2].mean(axis=1)
    assert not np.any(np.all((c > 0.6 + 1e-9) & (c < 1.4 - 1e-9), axis=1))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
    quantum=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_property_all_methods_equal_brute_on_dyadic_inputs(n, d, seed, quantum):
    # dyadic coordinates and heights: exact scores, frequent exact ties and duplicates
    rng = np.random.default_rng(seed)
    y = rng.integers(-4, 5, size=(n, d)) * quantum
    h = rng.integers(-8, 9, size=n) * quantum / 4
    x = rng.integers(-8, 9, size=(120, d)) * quantum / 2
    u = BrenierPotential(y, h)
    expected = np.argmax(_scores(x, y, h), axis=1)
    for method in ("walk", "kdtree", "brute"):
        np.testing.assert_array_equal(u.index(x, method=method), expected)
    np.testing.assert_array_equal(u(x), _scores(x, y, h).max(axis=1))


def test_pickle_round_trip_keeps_arrays_read_only():
    import pickle

    y, h = _ot_like(50, 2, seed=42)
    u = BrenierPotential(y, h, memory_budget=4096)
    x = np.random.default_rng(43).normal(size=(2000, 2))
    expected = u.index(x, method="walk")
    v = pickle.loads(pickle.dumps(u))
    assert not v.y.flags.writeable and not v.h.flags.writeable
    assert v.memory_budget == 4096 and v.backend == "numpy"
    np.testing.assert_array_equal(v.y, u.y)
    np.testing.assert_array_equal(v.index(x, method="walk"), expected)


@pytest.mark.slow
@pytest.mark.parametrize("d,n", [(2, 100_000), (3, 30_000)])
def test_large_walk_and_kdtree_equal_brute(d, n):
    rng = np.random.default_rng(50 + d)
    y = rng.random((n, d))
    h = -0.5 * np.sum(y**2, axis=1) + 0.2 * np.sin(3 * y[:, 0])
    x = rng.random((20_000, d))
    u = BrenierPotential(y, h, backend="numba")
    expected = u.index(x, method="brute")
    np.testing.assert_array_equal(u.index(x, method="walk"), expected)
    np.testing.assert_array_equal(u.index(x[:2000], method="kdtree"), expected[:2000])
