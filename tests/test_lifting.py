"""geomot.lifting: the affine frame and its rank rule, the lower hull, the regular triangulation,
adjacency, and their reuse by BrenierPotential (no second hull)."""

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull, Delaunay

import geomot
from geomot import Domain, lifting, power
from geomot._tol import scale_of
from geomot.brenier import BrenierPotential
from geomot.lifting import (AffineFrame, RegularTriangulation, _flipped_triangulation, _lower_hull_1d,
                            _regular_triangulation, _simplex_adjacency, affine_frame, regular_triangulation)

UNIT2 = Domain.box([0, 0], [1, 1])
UNIT3 = Domain.box([0, 0, 0], [1, 1, 1])


def _edges(tri):
    rows = np.repeat(np.arange(tri.n), np.diff(tri.indptr))
    return {(int(a), int(b)) for a, b in zip(rows, tri.indices) if a < b}


def _rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def _nearly_collinear(seed=0, offset=1e6, noise=1e-6, n=50):
    """Targets offset + l, l exactly representable (multiples of ulp(offset)): y - offset == l."""
    rng = np.random.default_rng(seed)
    s = rng.random(n)
    local = np.column_stack([s, 0.5 * s + noise * rng.standard_normal(n)])
    ulp = np.spacing(offset)
    local = np.round(local / ulp) * ulp
    y = offset + local
    assert np.array_equal(y - offset, local)
    h = -0.5 * (local**2).sum(axis=1) + 1e-4 * rng.standard_normal(n)
    return y, local, h


def _lower_facets_scipy(p, z):
    """Lower facets of the lifted points by qhull directly (an independent reference)."""
    hull = ConvexHull(np.column_stack([p, z]))
    return hull.simplices[hull.equations[:, p.shape[1]] < 0]


# ------------------------------------------------------------------ the one rank rule
def test_nearly_collinear_far_from_origin_is_two_dimensional_in_power_and_brenier():
    # 50 targets along a unit segment, noise 1e-6 across it, at offset 1e6: the former brenier
    # rule (relative to |y| sqrt(n)) called them collinear, power's 2-dimensional
    y, local, h = _nearly_collinear()
    assert affine_frame(y).dim == 2
    tri = power.regular_triangulation(y, h)
    u = BrenierPotential(y, h)
    assert tri.affine_dim == 2 and u._lifted.affine_dim == 2
    np.testing.assert_array_equal(u.hidden, tri.hidden)
    assert _edges(u._lifted) == _edges(tri)
    # the right answer: the lower hull of the exactly known local coordinates, its thin axis
    # stretched by 1e6 (an affine map of the base changes no lower hull)
    axis = np.array([1.0, 0.5]) / np.sqrt(1.25)
    q = np.column_stack([local @ axis, 1e6 * (local @ [-axis[1], axis[0]])])
    ref = _lower_facets_scipy(q, -2.0 * h)
    ref_edges = {(int(min(a, b)), int(max(a, b))) for f in ref for a, b in itertools.combinations(f, 2)}
    assert _edges(tri) == ref_edges
    np.testing.assert_array_equal(tri.hidden, np.bincount(ref.ravel(), minlength=50) == 0)
    assert len(ref_edges) > 49 + 10  # a real triangulation, not the path of a 1D lift
    # every point location agrees with the brute force (the walk in the 2D triangulation)
    x = 1e6 + np.random.default_rng(1).random((3000, 2)) * [1.0, 0.6]
    np.testing.assert_array_equal(u.index(x, method="walk"), np.argmax(x @ y.T + h, axis=1))


def test_rank_rule_is_the_largest_distance_to_the_subspace():
    rng = np.random.default_rng(2)
    t = rng.random(10_000)
    line = np.column_stack([t, 2.0 * t])
    size = scale_of(line)
    for dist, dim in ((0.5e-10, 1), (2e-10, 2)):
        y = line.copy()
        y[1234] += dist * size * np.array([2.0, -1.0]) / np.sqrt(5.0)  # one outlier, off the line
        assert affine_frame(y).dim == dim, dist
    # the same within noise of either size spread over all points
    for amp, dim in ((0.4e-10, 1), (3e-10, 2)):
        y = line + amp * size * np.outer(rng.uniform(-1, 1, t.size), [2.0, -1.0]) / np.sqrt(5.0)
        assert affine_frame(y).dim == dim, amp


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e8])  # in units of the set's size
@pytest.mark.parametrize("scale", [1e-10, 1.0, 1e10])
def test_rank_rule_is_invariant_under_translation_and_scaling(offset, scale):
    _, local, _ = _nearly_collinear(offset=1.0, noise=1e-6)
    thin = (local - local.mean(axis=0)) * scale + offset * scale
    assert affine_frame(thin).dim == 2
    flat = np.column_stack([local[:, 0], 0.5 * local[:, 0]]) * scale + offset * scale
    flat[:, 1] += 1e-13 * scale * np.sin(np.arange(50))  # far below the rule: collinear
    assert affine_frame(flat).dim == 1


def test_rank_rule_ignores_a_thickness_made_of_rounding():
    # exactly collinear in exact arithmetic, then translated: the rounding of the coordinates
    # moves the points off their line by ~eps |y| (here ~1e-8 of the set's size), and the set
    # stays collinear; the same thickness near the origin is geometry (2-dimensional)
    t = np.linspace(0.0, 1.0, 50)
    line = np.column_stack([t, t / 3.0])
    moved = line + 1e8
    assert np.max(affine_frame(line).distance(moved - 1e8)) > 1e-9  # rounding moved them off
    assert affine_frame(moved).dim == 1
    assert affine_frame(moved - 1e8).dim == 2


# ------------------------------------------------------------------ affine frames
def _check_frame(f, p, dim):
    assert isinstance(f, AffineFrame) and f.dim == dim and f.ambient_dim == p.shape[1]
    np.testing.assert_allclose(f.origin, p.mean(axis=0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(f.basis @ f.basis.T, np.eye(dim), rtol=0, atol=1e-13)
    assert np.max(f.distance(p)) <= lifting._rank_reach(p)
    # coordinates and distance are a Pythagorean split of the offset from the origin
    q = p - f.origin
    np.testing.assert_allclose((f.coordinates(p) ** 2).sum(axis=1) + f.distance(p) ** 2,
                               (q**2).sum(axis=1), rtol=1e-12, atol=1e-14)


def test_affine_frames_of_collinear_coplanar_full_and_single_point_sets():
    rng = np.random.default_rng(3)
    q3 = _rotation(3, 4)
    cases = [
        (rng.random((20, 2)), 2),
        (rng.random((20, 3)), 3),
        (np.outer(rng.random(15), [1.0, -2.0]) + [3.0, 4.0], 1),         # collinear in 2D
        (np.outer(rng.random(15), q3[0]) + 5.0, 1),                       # collinear in 3D
        (rng.random((25, 2)) @ q3[:2] + [1.0, -1.0, 2.0], 2),             # coplanar in 3D
        (np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), 1),                # n <= d + 1
        (np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), 2),
        (np.array([[0.3, -0.7]]), 0),                                     # one point
        (np.tile([[0.3, -0.7, 2.0]], (4, 1)), 0),                         # all equal
    ]
    for p, dim in cases:
        _check_frame(affine_frame(p), p, dim)
    # the subspace is the right one: the direction of the collinear 2D set
    f = affine_frame(np.outer(np.arange(5.0), [1.0, -2.0]))
    np.testing.assert_allclose(np.abs(f.basis[0]), np.array([1.0, 2.0]) / np.sqrt(5.0), rtol=1e-14)
    with pytest.raises(ValueError, match="points"):
        affine_frame([[0.0, np.nan]])
    with pytest.raises(ValueError, match="points"):
        affine_frame([1.0, 2.0])


# ------------------------------------------------------------------ lower hull vs brute force
def _brute_lower_hull(p, z):
    """Lower facets of the points (p_i, z_i) (p (n, k) spanning R^k) by trying every (k+1)-subset;
    None when a point lies too close to a facet's plane to decide (a degenerate input)."""
    n, k = p.shape
    facets = []
    for s in itertools.combinations(range(n), k + 1):
        s = list(s)
        a = np.column_stack([p[s], np.ones(k + 1)])
        if abs(np.linalg.det(a)) < 1e-8:
            continue  # a flat subset (never a facet of a generic input)
        coef = np.linalg.solve(a, z[s])
        gap = np.delete(z - (p @ coef[:k] + coef[k]), s)
        if np.any(np.abs(gap) < 1e-8):
            return None
        if np.all(gap > 0):
            facets.append(s)
    return np.array(facets, dtype=np.int64).reshape(-1, k + 1)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 3), extra=st.integers(0, 8), embed=st.booleans(), seed=st.integers(0, 2**31 - 1),
       noise=st.sampled_from([0.0, 0.05, 0.5]))
def test_regular_triangulation_equals_the_brute_force_lower_hull(k, extra, embed, seed, noise):
    rng = np.random.default_rng(seed)
    n = k + 1 + extra
    p = rng.normal(size=(n, k))
    h = -0.5 * (p**2).sum(axis=1) + noise * rng.normal(size=n)
    facets = _brute_lower_hull(p, -2.0 * h)
    if facets is None or np.linalg.matrix_rank(p - p.mean(axis=0), tol=1e-6) < k:
        return  # degenerate draw (a point within 1e-8 of a facet's plane, or flat targets)
    # the same targets in their own space, or embedded (collinear / coplanar) one dimension up
    y = p @ _rotation(k + 1, seed % 1000)[:k] + 7.0 if embed else p
    tri = regular_triangulation(y, h)
    assert tri.affine_dim == k and tri.frame.dim == k and tri.simplices.shape[1] == k + 1
    expected = {(int(a), int(b)) for f in facets for a, b in itertools.combinations(sorted(f), 2)}
    assert _edges(tri) == expected
    np.testing.assert_array_equal(tri.hidden, np.bincount(facets.ravel(), minlength=n) == 0)
    assert {tuple(sorted(s)) for s in tri.simplices.tolist()} == {tuple(s) for s in facets.tolist()}


def _envelope_gap(y, h):
    """-h_i minus the lower convex envelope of (y_j, -h_j) at y_i (>= 0; > 0: hidden), by LP."""
    from scipy.optimize import linprog

    n, d = y.shape
    a = np.column_stack([y, -np.ones(n)])
    gap = np.empty(n)
    for i in range(n):
        r = linprog(np.r_[-y[i], 1.0], A_ub=a, b_ub=-h, bounds=[(None, None)] * (d + 1), method="highs")
        gap[i] = -h[i] + r.fun
    return gap


@pytest.mark.parametrize("seed", range(16))
def test_targets_above_the_envelope_are_hidden_on_lattices(seed):
    # lattice targets: faces of conv(y) hold many targets, and those lifted above the lower
    # chain of their face span a vertical facet of the lifted hull that rounding can call
    # "lower"; its (flat) simplices must not make them visible
    rng = np.random.default_rng(seed)
    d = 2 + seed % 2
    y = np.unique(rng.integers(-3, 4, size=(30, d)), axis=0) * 0.5
    h = rng.integers(-8, 9, size=len(y)) / 8.0
    tri = regular_triangulation(y, h)
    gap = _envelope_gap(y, h)
    assert np.all(tri.hidden[gap > 1e-9])
    np.testing.assert_allclose(gap[~tri.hidden], 0.0, rtol=0, atol=1e-9)
    u = BrenierPotential(y, h)
    np.testing.assert_allclose(u.legendre(), -h - gap, rtol=0, atol=1e-9)


def test_lower_hull_1d_keeps_only_the_lowest_of_equal_abscissae():
    t = np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    z = np.array([0.0, 1.0, -1.0, 3.0, 0.5, 0.0])
    assert _lower_hull_1d(t, z).tolist() == [0, 2, 5]
    # a target above another one (same y, lower h) is hidden, at either end of the line
    u = BrenierPotential([[0.0], [1.0], [1.0], [0.0]], [0.0, 0.0, -1.0, -2.0])
    np.testing.assert_array_equal(u.hidden, [False, False, True, True])
    np.testing.assert_array_equal(u.legendre(), [0.0, 0.0, 0.0, 0.0])


def test_single_point_and_equal_targets():
    tri = regular_triangulation([[0.5, 0.5]], [1.0])
    assert tri.affine_dim == 0 and tri.hidden.tolist() == [False] and tri.indices.size == 0
    tri = regular_triangulation([[0.5, 0.5], [0.5, 0.5]], [0.0, 2.0])  # the larger h is visible
    assert tri.affine_dim == 0 and tri.hidden.tolist() == [True, False]
    with pytest.raises(ValueError, match="duplicate"):
        geomot.power_diagram([[0.5, 0.5], [0.5, 0.5]], [0.0, 0.0], UNIT2)


def test_hull_halfspaces_cut_out_the_convex_hull():
    rng = np.random.default_rng(5)
    for d in (1, 2, 3):
        y = rng.normal(size=(40, d))
        tri = regular_triangulation(y, -0.5 * (y**2).sum(axis=1) + 0.3 * rng.normal(size=40))
        a, c = lifting._hull_halfspaces(y, tri.simplices)
        np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-14)
        z = 2.0 * rng.normal(size=(4000, d))
        inside = np.all(z @ a.T - c <= 0, axis=1)
        if d == 1:
            expected = (z[:, 0] >= y.min()) & (z[:, 0] <= y.max())
        else:
            expected = Delaunay(y).find_simplex(z) >= 0
        assert 100 < inside.sum() < 3900
        np.testing.assert_array_equal(inside, expected)


# ------------------------------------------------------------------ adjacency
def _naive_adjacency(simp, n):
    nb = [set() for _ in range(n)]
    for s in simp.tolist():
        for a in s:
            nb[a].update(b for b in s if b != a)
    return [sorted(r) for r in nb]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_simplex_adjacency_matches_a_naive_version(k):
    rng = np.random.default_rng(6 + k)
    n = 60
    simp = np.array([rng.choice(n - 5, k, replace=False) for _ in range(150)], dtype=np.int64)
    simp = np.concatenate([simp, simp[:7]])  # repeated simplices; targets n-5.. isolated
    indptr, indices = _simplex_adjacency(simp, n)
    assert indptr.dtype == np.int64 and indices.dtype == np.int64 and indptr[0] == 0
    rows = [indices[indptr[i]:indptr[i + 1]].tolist() for i in range(n)]
    assert rows == _naive_adjacency(simp, n)
    # the triangulation's adjacency is that of its simplices
    y = rng.random((80, 2))
    tri = regular_triangulation(y, -0.5 * (y**2).sum(axis=1) + 0.01 * rng.normal(size=80))
    assert [tri.indices[tri.indptr[i]:tri.indptr[i + 1]].tolist() for i in range(80)] == \
        _naive_adjacency(tri.simplices, 80)


def test_power_keeps_its_private_entry_points():
    # the solver (refactored elsewhere) calls these names on geomot.power
    assert power.regular_triangulation is lifting.regular_triangulation
    assert power._regular_triangulation is lifting._regular_triangulation
    assert power._flipped_triangulation is lifting._flipped_triangulation
    assert power.FLIP_NOT_APPLICABLE == lifting.FLIP_NOT_APPLICABLE == -1
    assert power.RegularTriangulation is RegularTriangulation


# ------------------------------------------------------------------ BrenierPotential reuses it
class _CountingHull:
    def __init__(self, monkeypatch):
        self.calls = 0
        real = lifting.ConvexHull

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(lifting, "ConvexHull", counted)


def _assert_same_potential(a, b, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((5000, d)) * 1.4 - 0.2
    for method in ("walk", "kdtree", "brute", "auto"):
        np.testing.assert_array_equal(a.index(x, method=method), b.index(x, method=method))
        np.testing.assert_array_equal(a(x, method=method), b(x, method=method))
    np.testing.assert_array_equal(a.hidden, b.hidden)
    np.testing.assert_array_equal(a.legendre(), b.legendre())
    z = np.concatenate([a.y[:10] + 1e-3, rng.random((300, d)) * 1.6 - 0.3])  # inside and outside
    la, lb = a.legendre(z), b.legendre(z)
    assert np.isinf(la).any() and np.isfinite(la).any()
    np.testing.assert_array_equal(la, lb)


@pytest.mark.parametrize("d", [2, 3])
def test_brenier_from_a_diagram_triangulation_is_identical_and_builds_no_hull(d, monkeypatch):
    rng = np.random.default_rng(10 + d)
    n = 400
    y = rng.random((n, d))
    h = -0.5 * (y**2).sum(axis=1) + 0.002 * rng.normal(size=n)
    hulls = _CountingHull(monkeypatch)
    pd = geomot.power_diagram(y, h, UNIT2 if d == 2 else UNIT3)
    assert hulls.calls == 1 and pd.hidden.any() and not pd.hidden.all()
    reused = BrenierPotential(y, h, triangulation=pd.triangulation)
    assert reused.triangulation is pd.triangulation
    x = rng.random((3000, d))
    reused.index(x, method="walk"), reused.hidden, reused.legendre(), reused.legendre(x)
    assert hulls.calls == 1  # walk, hidden and the Legendre dual: no second hull
    fresh = BrenierPotential(y, h)
    fresh.hidden
    assert hulls.calls == 2
    _assert_same_potential(reused, fresh, d, seed=d)
    assert hulls.calls == 2
    # pickling keeps the triangulation (and builds no hull either)
    again = pickle.loads(pickle.dumps(reused))
    np.testing.assert_array_equal(again.legendre(), fresh.legendre())
    assert again.triangulation is not None and hulls.calls == 2


def test_brenier_from_a_flipped_triangulation_equals_a_fresh_one(monkeypatch):
    # the Newton solver's diagrams may hold triangulations repaired by edge flips: no hull at all
    rng = np.random.default_rng(20)
    n = 600
    y = rng.random((n, 2))
    half = 0.5 * (y**2).sum(axis=1)
    prev = _regular_triangulation(y, -half)
    from scipy.spatial import cKDTree

    wphi = 0.2 * cKDTree(y).query(y, k=2)[0][:, 1] ** 2 * rng.uniform(-1, 1, n)  # no target hides
    hulls = _CountingHull(monkeypatch)
    flipped, status = _flipped_triangulation(prev, y, wphi)
    assert status == 0 and hulls.calls == 0
    h = wphi - half
    reused = BrenierPotential(y, h, triangulation=flipped)
    _assert_same_potential(reused, BrenierPotential(y, h), 2, seed=21)
    assert hulls.calls == 1  # the fresh one's


def test_brenier_triangulation_of_lower_dimensional_targets_is_reused():
    # collinear targets in 2D: the 1D lift of the diagram serves the Legendre dual
    y = np.column_stack([np.linspace(0.1, 0.9, 7), np.full(7, 0.4)])
    h = -0.5 * (y**2).sum(axis=1) + np.array([0, 0.01, -0.05, 0, 0.02, 0, 0])
    pd = geomot.power_diagram(y, h, UNIT2)
    assert pd.triangulation.affine_dim == 1
    reused = BrenierPotential(y, h, triangulation=pd.triangulation)
    fresh = BrenierPotential(y, h)
    np.testing.assert_array_equal(reused.hidden, fresh.hidden)
    assert reused.hidden.any()
    z = np.array([[0.5, 0.4], [0.5, 0.41], [0.05, 0.4]])
    np.testing.assert_array_equal(reused.legendre(), fresh.legendre())
    np.testing.assert_array_equal(reused.legendre(z), fresh.legendre(z))
    assert np.isfinite(reused.legendre(z)[0]) and np.isinf(reused.legendre(z)[1:]).all()


def test_brenier_refuses_a_triangulation_of_other_targets():
    rng = np.random.default_rng(30)
    y = rng.random((50, 2))
    h = -0.5 * (y**2).sum(axis=1)
    tri = regular_triangulation(y, h)
    BrenierPotential(y, h, triangulation=tri)  # fine
    with pytest.raises(ValueError, match="triangulation must be a geomot RegularTriangulation"):
        BrenierPotential(y, h, triangulation=geomot.power_diagram(y, h, UNIT2))
    with pytest.raises(ValueError, match="triangulation is a triangulation of 50 targets, not of these 49"):
        BrenierPotential(y[:49], h[:49], triangulation=tri)
    y3 = rng.random((50, 3))
    with pytest.raises(ValueError, match="triangulation is a triangulation of targets of dimension 3, not 2"):
        BrenierPotential(y, h, triangulation=regular_triangulation(y3, h))
    with pytest.raises(ValueError, match="triangulation is not a triangulation of these targets"):
        BrenierPotential(rng.random((50, 2)), h, triangulation=tri)
    line = np.column_stack([np.linspace(0, 1, 50), np.zeros(50)])
    with pytest.raises(ValueError, match="triangulation is not a triangulation of these targets"):
        BrenierPotential(line + [0, 0.5] - line.mean(axis=0) + y.mean(axis=0), h, triangulation=tri)
    with pytest.raises(ValueError, match="triangulation"):
        BrenierPotential(y, h, triangulation="hull")
    # an inconsistent one (a visible target in none of its simplices)
    assert not tri.hidden[0]
    simp = tri.simplices[~np.any(tri.simplices == 0, axis=1)]
    bad = RegularTriangulation(tri.indptr, tri.indices, tri.hidden, 2, simp, tri.top_simplices, tri.frame)
    with pytest.raises(ValueError, match="triangulation is inconsistent"):
        BrenierPotential(y, h, triangulation=bad)


@pytest.mark.parametrize("d", [2, 3])
def test_result_potential_reuses_the_solvers_triangulation(d, monkeypatch):
    rng = np.random.default_rng(30 + d)
    y = rng.random((300, d))
    res = geomot.solve_ot(UNIT2 if d == 2 else UNIT3, y, tol=1e-9)
    hulls = _CountingHull(monkeypatch)
    u = res.potential
    assert u.triangulation is res.diagram.triangulation
    x = rng.random((2000, d))
    np.testing.assert_array_equal(u.index(x), np.argmax(x @ res.y.T + res.h, axis=1))
    u.hidden, u.legendre()
    assert hulls.calls == 0  # no second lifted hull
    _assert_same_potential(u, BrenierPotential(res.y, res.h), d, seed=d)


# ---------------------------------------------------------------- relabelling
def _grid(k, d):
    return np.array(list(itertools.product(range(k), repeat=d)), dtype=np.float64)


@pytest.mark.parametrize("case", ["2d", "3d", "grid2", "grid3", "collinear", "hidden"])
def test_relabelled_triangulation_is_that_of_the_permuted_targets(case):
    rng = np.random.default_rng(11)
    if case == "2d":
        y = rng.random((300, 2))
    elif case == "3d":
        y = rng.random((300, 3))
    elif case == "grid2":
        y = _grid(9, 2)  # cocircular: qhull splits merged facets
    elif case == "grid3":
        y = _grid(5, 3)
    else:
        y = rng.random((200, 2))
    if case == "collinear":
        y = np.column_stack([y[:, 0], 2.0 * y[:, 0]])  # affine dimension 1
    h = -0.5 * np.einsum("ij,ij->i", y, y)
    if case == "hidden":
        h[:20] -= 0.5  # some targets far below: hidden
    perm = rng.permutation(len(y))
    tri = _regular_triangulation(y, h)
    z = np.empty_like(y)
    z[perm] = y  # target k of y is target perm[k] of z
    hz = np.empty_like(h)
    hz[perm] = h
    out = tri.relabelled(perm)
    ref = _regular_triangulation(z, hz)
    assert case != "hidden" or ref.hidden.sum() > 0
    np.testing.assert_array_equal(out.hidden, ref.hidden)
    assert out.affine_dim == ref.affine_dim
    if case in ("grid2", "grid3"):
        # ties: another valid triangulation may be chosen; its simplices are the relabelled ones
        assert _edges(out) == {(min(perm[a], perm[b]), max(perm[a], perm[b])) for a, b in _edges(tri)}
        assert {tuple(sorted(s)) for s in out.simplices.tolist()} == {
            tuple(sorted(perm[s])) for s in tri.simplices.tolist()}
    else:
        np.testing.assert_array_equal(out.indptr, ref.indptr)
        np.testing.assert_array_equal(out.indices, ref.indices)
        assert {tuple(sorted(s)) for s in out.simplices.tolist()} == {tuple(sorted(s)) for s in ref.simplices.tolist()}
    if tri.top_simplices is not None:
        n = len(y)
        assert {tuple(sorted(s)) for s in out.top_simplices.tolist()} == {
            tuple(sorted(np.append(perm, n)[s])) for s in tri.top_simplices.tolist()}
        # the relabelled boxes are the boxes of the relabelled cells
        wphi = h + 0.5 * np.einsum("ij,ij->i", y, y)
        lo, hi = tri.cell_boxes(y, wphi)
        lo_z, hi_z = out.cell_boxes(z, wphi[np.argsort(perm)])
        np.testing.assert_allclose(lo_z[perm], lo, rtol=0, atol=1e-12)
        np.testing.assert_allclose(hi_z[perm], hi, rtol=0, atol=1e-12)
