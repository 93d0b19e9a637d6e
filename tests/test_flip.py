"""Repair of 2D regular triangulations by edge flips (geomot._flip) against qhull."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull, Delaunay, cKDTree

from geomot._flip import (RTOL, STATUS_MAX_FLIPS, STATUS_OK, STATUS_STUCK, _power_incircle,
                          flip_to_regular, is_regular, make_ccw, triangle_neighbors)

BIG = 10**9


# ------------------------------------------------------------------ helpers
def delaunay(y):
    """CCW Delaunay triangles of y (scipy) and their neighbours (our kernel)."""
    tri = np.ascontiguousarray(Delaunay(y - y.mean(axis=0)).simplices, dtype=np.int64)
    nbr = triangle_neighbors(tri, len(y))
    make_ccw(tri, nbr, y)
    return tri, nbr


def reference(y, phi):
    """Lower-hull triangles of the lifted points (qhull) and the hidden mask.

    Centring y adds an affine function to the lift, which leaves the lower hull unchanged and
    keeps qhull well scaled.
    """
    yc = y - y.mean(axis=0)
    hull = ConvexHull(np.column_stack([yc, (yc**2).sum(axis=1) - 2.0 * phi]))
    low = hull.simplices[hull.equations[:, 2] < 0]
    hidden = np.ones(len(y), dtype=bool)
    hidden[low.ravel()] = False
    return low, hidden


def edges(tri):
    """Sorted unique (m, 2) edge array of triangles."""
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    return np.unique(np.sort(e, axis=1), axis=0)


def assert_same_edges(tri, ref):
    e1, e2 = edges(tri), edges(ref)
    assert e1.shape == e2.shape
    np.testing.assert_array_equal(e1, e2)


def signed_areas(tri, y):
    p, q, r = y[tri[:, 0]], y[tri[:, 1]], y[tri[:, 2]]
    return 0.5 * ((q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0]))


def assert_consistent(tri, nbr, y):
    """Positive orientation; nbr symmetric with matching shared edges; hull edges on -1."""
    s = tri.shape[0]
    assert tri.shape == nbr.shape == (s, 3)
    assert np.all(signed_areas(tri, y) > 0)
    assert np.all((nbr >= -1) & (nbr < s))
    t, k = np.nonzero(nbr >= 0)
    u = nbr[t, k]
    back = nbr[u] == t[:, None]  # (m, 3)
    assert np.all(back.sum(axis=1) == 1)
    kk = np.argmax(back, axis=1)
    e_t = np.sort(np.column_stack([tri[t, (k + 1) % 3], tri[t, (k + 2) % 3]]), axis=1)
    e_u = np.sort(np.column_stack([tri[u, (kk + 1) % 3], tri[u, (kk + 2) % 3]]), axis=1)
    np.testing.assert_array_equal(e_t, e_u)
    assert np.all(tri[t, k] != tri[u, kk])  # the opposite vertices differ
    # boundary slots are exactly the edges of the convex hull of the vertices (collinear
    # boundary points included): each lies on a hull line, and together they have its length
    tb, kb = np.nonzero(nbr < 0)
    p, q = y[tri[tb, (kb + 1) % 3]], y[tri[tb, (kb + 2) % 3]]
    used = np.unique(tri)
    hull = ConvexHull(y[used])
    scale = np.ptp(y[used], axis=0).max()
    eq = hull.equations
    on_p = np.abs(p @ eq[:, :2].T + eq[:, 2]) <= 1e-12 * scale
    on_q = np.abs(q @ eq[:, :2].T + eq[:, 2]) <= 1e-12 * scale
    assert np.all((on_p & on_q).any(axis=1))
    np.testing.assert_allclose(np.linalg.norm(p - q, axis=1).sum(), hull.area, rtol=1e-12)
    np.testing.assert_allclose(signed_areas(tri, y).sum(), hull.volume, rtol=1e-12)


def exact_regular(tri, nbr, y, phi):
    """Exact (rational) check that every interior edge is locally regular (det <= 0)."""
    Y = [[Fraction(float(v)) for v in row] for row in y]
    P = [Fraction(float(v)) for v in phi]
    for t in range(tri.shape[0]):
        for k in range(3):
            u = nbr[t, k]
            if u < t:
                continue
            j = int(np.nonzero(nbr[u] == t)[0][0])
            c, a, b, d = tri[t, k], tri[t, (k + 1) % 3], tri[t, (k + 2) % 3], tri[u, j]
            rows = []
            for p in (a, b, c):
                dx, dy = Y[p][0] - Y[d][0], Y[p][1] - Y[d][1]
                rows.append((dx, dy, dx * dx + dy * dy - 2 * (P[p] - P[d])))
            (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = rows
            det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
            if det > 0:
                return False
    return True


def nn_perturbation(y, c, rng):
    """phi_i = c * r_i^2 * U(-1, 1), r_i the nearest-neighbour distance: keeps targets visible.

    (A perturbation of the same size everywhere hides the targets of the closest pairs.)
    """
    r = cKDTree(y).query(y, k=2)[0][:, 1]
    return c * r**2 * rng.uniform(-1.0, 1.0, len(y))


# ------------------------------------------------------------------ sign convention
def test_sign_convention_is_incircle():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.9, 0.9], [1.1, 1.1], [1.0, 1.0]])
    phi = np.zeros(6)
    assert _power_incircle(y, phi, 0, 1, 2, 3)[0] > 0  # inside the circumcircle: illegal
    assert _power_incircle(y, phi, 0, 1, 2, 4)[0] < 0  # outside: legal
    det, perm = _power_incircle(y, phi, 0, 1, 2, 5)  # cocircular: a tie
    assert abs(det) <= RTOL * perm
    # raising the weight of d lowers its lifted point: the outside point becomes illegal
    phi[4] = 0.5
    assert _power_incircle(y, phi, 0, 1, 2, 4)[0] > 0


# ------------------------------------------------------------------ (a) against qhull
@pytest.mark.parametrize("kind, c", [("global", 0.0), ("global", 1e-12), ("global", 1e-6),
                                     ("global", 1e-3), ("nn", 0.05), ("nn", 0.15), ("nn", 0.3)])
def test_flips_from_delaunay_match_qhull(kind, c):
    rng = np.random.default_rng(123)
    n = 3000
    y = rng.random((n, 2))
    tri, nbr = delaunay(y)
    if kind == "global":  # c in units of the squared spacing 1/n
        phi = c / n * rng.uniform(-1.0, 1.0, n)
    else:
        phi = nn_perturbation(y, c, rng)
    ref, hidden = reference(y, phi)
    assert not hidden.any()  # the premise: every target stays a vertex
    status, nflips = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_OK
    assert_same_edges(tri, ref)
    assert_consistent(tri, nbr, y)
    assert is_regular(tri, nbr, y, phi)
    if c == 0.0:
        assert nflips == 0
    if kind == "nn" and c >= 0.15:
        assert nflips > 100  # a real repair, not a no-op


def test_newton_like_sequence_and_back_to_delaunay():
    """Chained repairs (each from the previous result), then all the way back to phi = 0."""
    rng = np.random.default_rng(7)
    n = 2000
    y = rng.random((n, 2))
    tri, nbr = delaunay(y)
    base = nn_perturbation(y, 0.4, rng)
    for step in range(4):
        phi = base * (1.0 - 0.5**step) + nn_perturbation(y, 0.02, rng)
        ref, hidden = reference(y, phi)
        assert not hidden.any()
        status, _ = flip_to_regular(tri, nbr, y, phi, BIG)
        assert status == STATUS_OK
        assert_same_edges(tri, ref)
    # Lawson: from any triangulation, flips reach the Delaunay triangulation
    status, nflips = flip_to_regular(tri, nbr, y, np.zeros(n), BIG)
    assert status == STATUS_OK and nflips > 0
    assert_same_edges(tri, Delaunay(y).simplices)
    assert_consistent(tri, nbr, y)


def test_close_targets_far_from_origin_exact():
    """Targets 1e-6 apart around (1000, -1000), phi ~ r^2 << |y|^2: exact rational check."""
    rng = np.random.default_rng(11)
    base = rng.random((150, 2))
    close = base[:40] + 1e-6 * rng.standard_normal((40, 2))
    y = np.ascontiguousarray(np.vstack([base, close]) + np.array([1000.0, -1000.0]))
    n = len(y)
    tri, nbr = delaunay(y)
    assert np.unique(tri).size == n
    status, _ = flip_to_regular(tri, nbr, y, np.zeros(n), BIG)
    assert status == STATUS_OK
    assert exact_regular(tri, nbr, y, np.zeros(n))
    phi = nn_perturbation(y, 0.3, rng)
    status, nflips = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_OK and nflips > 0
    assert_consistent(tri, nbr, y)
    assert exact_regular(tri, nbr, y, phi)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 120), logc=st.floats(-8.0, 0.5))
def test_random_property(seed, n, logc):
    """status 0 <=> all edges locally regular and equal to qhull's; hidden targets => 1."""
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2))
    tri, nbr = delaunay(y)
    phi = 10.0**logc / n * rng.standard_normal(n)
    ref, hidden = reference(y, phi)
    status, _ = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status in (STATUS_OK, STATUS_STUCK)
    assert_consistent(tri, nbr, y)
    if hidden.any():
        assert status == STATUS_STUCK
        assert not is_regular(tri, nbr, y, phi)
    if status == STATUS_OK:
        assert is_regular(tri, nbr, y, phi)
        assert_same_edges(tri, ref)


# ------------------------------------------------------------------ (b) neighbours
@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 200))
def test_neighbors_and_orientation(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2))
    tri = np.ascontiguousarray(Delaunay(y).simplices, dtype=np.int64)
    tri = np.ascontiguousarray(rng.permuted(tri, axis=1))  # random orientations
    nbr = triangle_neighbors(tri, n + 3)  # extra, unused vertex ids are allowed
    make_ccw(tri, nbr, y)
    assert_consistent(tri, nbr, y)


def test_neighbors_match_scipy():
    rng = np.random.default_rng(3)
    y = rng.random((5000, 2))
    d = Delaunay(y)
    tri = np.ascontiguousarray(d.simplices, dtype=np.int64)
    np.testing.assert_array_equal(triangle_neighbors(tri, len(y)), d.neighbors)


# ------------------------------------------------------------------ (c) cocircular grids
def grid(m, h=0.1):
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    return np.ascontiguousarray(np.column_stack([i.ravel(), j.ravel()]) * h, dtype=np.float64), i.ravel(), j.ravel()


@pytest.mark.parametrize("eps", [0.0, 1e-17, 1e-14, 1e-9, 1e-5])
@pytest.mark.parametrize("h", [1.0, 0.1])
def test_grid_ties_do_not_cycle(eps, h):
    y, _, _ = grid(25, h)
    n = len(y)
    tri, nbr = delaunay(y)
    phi = eps * h * h * np.random.default_rng(5).uniform(-1.0, 1.0, n)
    status, nflips = flip_to_regular(tri, nbr, y, phi, 50 * n)  # a cycle would hit the cap
    assert status == STATUS_OK
    if eps == 0.0:
        assert nflips == 0
    assert is_regular(tri, nbr, y, phi)
    assert_consistent(tri, nbr, y)  # includes: areas sum to the hull area
    np.testing.assert_allclose(np.abs(signed_areas(tri, y)).sum(), (24 * h) ** 2, rtol=1e-13)
    if eps >= 1e-5:  # generic enough: the regular triangulation is unique
        ref, hidden = reference(y, phi)
        assert not hidden.any()
        assert_same_edges(tri, ref)


def test_grid_checkerboard_flips_every_square():
    """Odd points lowered: every unit square takes its odd-odd diagonal (known answer)."""
    m = 20
    y, i, j = grid(m, 1.0)
    n = len(y)
    odd = (i + j) % 2 == 1
    # start with every square split along its even-even diagonal
    even = np.zeros(n)
    even[odd] = -1e-3
    tri, nbr = delaunay(y)
    status, _ = flip_to_regular(tri, nbr, y, even, BIG)
    assert status == STATUS_OK
    phi = np.zeros(n)
    phi[odd] = 1e-3
    status, nflips = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_OK
    assert nflips == (m - 1) ** 2
    e = edges(tri)
    diag = np.abs(y[e[:, 0]] - y[e[:, 1]]).sum(axis=1) == 2.0
    assert diag.sum() == (m - 1) ** 2
    assert np.all(odd[e[diag, 0]] & odd[e[diag, 1]])
    assert_same_edges(tri, reference(y, phi)[0])


# ------------------------------------------------------------------ (d) stuck / max_flips
def test_hidden_point_is_stuck():
    y, _, _ = grid(12, 1.0)
    n = len(y)
    rng = np.random.default_rng(2)
    y = np.ascontiguousarray(y + 0.05 * rng.uniform(-1, 1, y.shape))
    tri, nbr = delaunay(y)
    phi = np.zeros(n)
    inner = 5 * 12 + 6
    phi[inner] = -10.0  # lifted point far above the hull: must become hidden
    assert reference(y, phi)[1][inner]
    status, _ = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_STUCK
    assert_consistent(tri, nbr, y)
    assert not is_regular(tri, nbr, y, phi)
    assert inner in tri  # the vertex set never changes


def test_max_flips():
    m = 10
    y, i, j = grid(m, 1.0)
    odd = (i + j) % 2 == 1
    phi = np.where(odd, 1e-3, 0.0)
    tri0, nbr0 = delaunay(y)
    flip_to_regular(tri0, nbr0, y, -phi, BIG)  # even-even diagonals everywhere
    for cap in (0, 1, 7):
        tri, nbr = tri0.copy(), nbr0.copy()
        status, nflips = flip_to_regular(tri, nbr, y, phi, cap)
        assert status == STATUS_MAX_FLIPS and nflips == cap
        assert_consistent(tri, nbr, y)  # still a valid triangulation
        status, more = flip_to_regular(tri, nbr, y, phi, BIG)  # and it can be resumed
        assert status == STATUS_OK and cap + more == (m - 1) ** 2
    status, nflips = flip_to_regular(tri0, nbr0, y, phi, (m - 1) ** 2)  # exactly enough
    assert status == STATUS_OK and nflips == (m - 1) ** 2


# ------------------------------------------------------------------ (e) tiny cases
def test_three_points():
    y = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # clockwise as given
    tri = np.array([[0, 1, 2]], dtype=np.int64)
    nbr = triangle_neighbors(tri, 3)
    np.testing.assert_array_equal(nbr, -1)
    make_ccw(tri, nbr, y)
    np.testing.assert_array_equal(tri, [[0, 2, 1]])
    assert flip_to_regular(tri, nbr, y, np.array([5.0, -3.0, 1.0]), BIG) == (STATUS_OK, 0)
    assert is_regular(tri, nbr, y, np.zeros(3))


def test_four_points_convex_quad():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    tri = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int64)  # diagonal 0-2
    nbr = triangle_neighbors(tri, 4)
    make_ccw(tri, nbr, y)
    np.testing.assert_array_equal(nbr, [[-1, 1, -1], [-1, -1, 0]])
    # a square is cocircular: no flip either way
    assert flip_to_regular(tri, nbr, y, np.zeros(4), BIG) == (STATUS_OK, 0)
    # lowering 1 and 3 makes 1-3 the diagonal; then lowering 0 alone makes it 0-2 again
    assert flip_to_regular(tri, nbr, y, np.array([0.0, 0.1, 0.0, 0.1]), BIG) == (STATUS_OK, 1)
    assert_consistent(tri, nbr, y)
    np.testing.assert_array_equal(edges(tri), [[0, 1], [0, 3], [1, 2], [1, 3], [2, 3]])
    assert flip_to_regular(tri, nbr, y, np.array([0.1, 0.0, 0.0, 0.0]), BIG) == (STATUS_OK, 1)
    np.testing.assert_array_equal(edges(tri), [[0, 1], [0, 2], [0, 3], [1, 2], [2, 3]])
    assert_consistent(tri, nbr, y)


def test_four_points_one_inside():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.3, 0.3]])
    tri, nbr = delaunay(y)
    assert tri.shape == (3, 3)
    # every interior edge has a non-convex quadrilateral: nothing can be flipped
    assert flip_to_regular(tri, nbr, y, np.array([0.0, 0.0, 0.0, 0.01]), BIG) == (STATUS_OK, 0)
    assert flip_to_regular(tri, nbr, y, np.array([0.0, 0.0, 0.0, -0.01]), BIG) == (STATUS_OK, 0)
    # z_3 = 0.18 + 2 > plane through the corners (z = x + y = 0.6): hidden, stuck
    status, nflips = flip_to_regular(tri, nbr, y, np.array([0.0, 0.0, 0.0, -1.0]), BIG)
    assert status == STATUS_STUCK and nflips == 0
    assert_consistent(tri, nbr, y)


def test_four_points_collinear_quad_not_flipped():
    # 0, 3, 2 collinear: the quadrilateral is not strictly convex at 3
    y = np.array([[0.0, 0.0], [1.0, -1.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    tri = np.array([[0, 1, 3], [3, 1, 2], [0, 3, 4], [3, 2, 4]], dtype=np.int64)
    nbr = triangle_neighbors(tri, 5)
    make_ccw(tri, nbr, y)
    phi = np.array([0.0, 0.0, 0.0, -5.0, 0.0])  # 3 must be hidden: flipping 1-3 is impossible
    status, _ = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_STUCK
    assert_consistent(tri, nbr, y)


# ------------------------------------------------------------------ (f) size
def test_large_input_runs():
    rng = np.random.default_rng(2024)
    n = 100_000
    y = rng.random((n, 2))
    d = Delaunay(y)
    tri = np.ascontiguousarray(d.simplices, dtype=np.int64)
    nbr = triangle_neighbors(tri, n)
    np.testing.assert_array_equal(nbr, d.neighbors)
    make_ccw(tri, nbr, y)
    phi = nn_perturbation(y, 0.1, rng)
    status, nflips = flip_to_regular(tri, nbr, y, phi, BIG)
    assert status == STATUS_OK and nflips > 1000
    assert is_regular(tri, nbr, y, phi)
    assert np.all(signed_areas(tri, y) > 0)
    assert_same_edges(tri, reference(y, phi)[0])
