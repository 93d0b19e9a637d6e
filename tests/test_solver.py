"""Tests of geomot.solver: damped Newton semi-discrete OT, OTResult, save/load."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sps
import shapely
import trimesh

from geomot.brenier import BrenierPotential
from geomot.domain import Domain
from geomot.power import PowerDiagram, power_diagram
from geomot._linalg import _nested_dissection, _solve_laplacian
from geomot._newton import _solve_newton
from geomot._start import _shrunk_start, _voronoi_start
from geomot.result import OTResult, load
from geomot.solver import solve_ot

SQUARE = Domain.box([0.0, 0.0], [1.0, 1.0])


def _holed_square():
    outer = shapely.box(0.0, 0.0, 1.0, 1.0)
    return Domain.polygon(outer.difference(shapely.box(0.35, 0.35, 0.65, 0.65)))


def _rel_err(masses, nu):
    return np.max(np.abs(masses - nu) / nu)


def _centred(h):
    return h - h.mean()


# ---------------------------------------------------------------- analytic answers
def test_uniform_square_grid_is_voronoi():
    k = 6
    g = (np.arange(k) + 0.5) / k
    y = np.array([[a, b] for a in g for b in g])
    exact = -0.5 * np.sum(y * y, axis=1)
    # from the default start (which is already the solution) ...
    res = solve_ot(SQUARE, y, tol=1e-12)
    assert res.converged and res.iterations == 0
    np.testing.assert_allclose(_centred(res.h), _centred(exact), rtol=0, atol=1e-9)
    # ... and from a perturbed warm start: Newton must find it
    h0 = exact + 0.002 * np.random.default_rng(1).standard_normal(k * k)
    assert np.all(power_diagram(y, h0, SQUARE).masses > 0)
    res = solve_ot(SQUARE, y, h0=h0, tol=1e-12)
    assert res.converged and 1 <= res.iterations <= 10
    np.testing.assert_allclose(_centred(res.h), _centred(exact), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.masses, np.full(k * k, 1 / k**2), rtol=1e-12, atol=0)


def test_symmetric_targets_give_rectangular_cells():
    # square [-1,1]^2, targets (+-0.5, 0.2) with mass 0.4 and (+-0.5, -0.2) with mass 0.1:
    # by symmetry the cells are rectangles split at x1 = 0 and at x2 = t with 2*(t+1)/4 = 0.2,
    # t = -0.6, and at that line  t*0.2 + h_top = t*(-0.2) + h_bot  =>  h_bot - h_top = 0.4 t.
    dom = Domain.box([-1.0, -1.0], [1.0, 1.0])
    y = np.array([[-0.5, 0.2], [0.5, 0.2], [-0.5, -0.2], [0.5, -0.2]])
    nu = np.array([0.4, 0.4, 0.1, 0.1])
    res = solve_ot(dom, y, nu, tol=1e-12)
    assert res.converged
    h = res.h
    np.testing.assert_allclose(h[0], h[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h[2], h[3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h[2] - h[0], 0.4 * -0.6, rtol=0, atol=1e-11)
    np.testing.assert_allclose(res.diagram.centroids[2], [-0.5, -0.8], rtol=0, atol=1e-11)


def test_separable_targets_on_a_line_give_strips():
    # targets on a horizontal line in [0,3]x[0,1]: cells are strips [a_{i-1}, a_i] x [0,1],
    # a_i = 3 * cumsum(nu)_i, and a_i t_i + h_i = a_i t_{i+1} + h_{i+1}.
    t = np.array([0.1, 0.5, 1.7, 2.0, 2.9, 4.0])
    y = np.column_stack([t, np.full_like(t, 0.5)])
    nu = np.array([1.0, 3.0, 2.0, 0.5, 2.5, 1.0])
    nu = nu / nu.sum()
    dom = Domain.box([0.0, 0.0], [3.0, 1.0])
    res = solve_ot(dom, y, nu, tol=1e-12)
    assert res.converged
    a = 3.0 * np.cumsum(nu)[:-1]
    np.testing.assert_allclose(np.diff(res.h), -a * np.diff(t), rtol=0, atol=1e-11)


def test_separable_product_grid_on_rectangle():
    # targets (t_i, s_j) with masses p_i q_j: the cells are rectangles and h = f(t) + g(s)
    t = np.array([0.2, 1.0, 1.5])
    s = np.array([-0.3, 0.4])
    p = np.array([0.2, 0.5, 0.3])
    q = np.array([0.7, 0.3])
    y = np.array([[ti, sj] for ti in t for sj in s])
    nu = np.array([pi * qj for pi in p for qj in q])
    dom = Domain.box([0.0, 0.0], [2.0, 1.0])
    res = solve_ot(dom, y, nu, tol=1e-12)
    assert res.converged
    H = res.h.reshape(3, 2)
    ax = 2.0 * np.cumsum(p)[:-1]
    bx = 1.0 * np.cumsum(q)[:-1]
    np.testing.assert_allclose(np.diff(H, axis=0), (-ax * np.diff(t))[:, None] * np.ones((1, 2)), atol=1e-11, rtol=0)
    np.testing.assert_allclose(np.diff(H, axis=1), (-bx * np.diff(s))[None, :] * np.ones((3, 1)), atol=1e-11, rtol=0)


# ---------------------------------------------------------------- every kind of source
@pytest.mark.parametrize("name", ["holed_polygon", "disk", "ball", "box3d", "mesh", "image", "triangulation"])
def test_sources_converge(name):
    rng = np.random.default_rng(3)
    if name == "holed_polygon":
        dom = _holed_square()
        y = rng.random((150, 2))
    elif name == "disk":
        dom = Domain.disk([0.0, 0.0], 1.0, resolution=64)
        y = rng.standard_normal((150, 2))
    elif name == "ball":
        dom = Domain.ball([0.0, 0.0, 0.0], 1.0, subdivisions=2)
        y = rng.random((80, 3))
    elif name == "box3d":
        dom = Domain.box([0, 0, 0], [1, 2, 1])
        y = rng.random((120, 3))
    elif name == "mesh":
        mesh = trimesh.creation.annulus(r_min=0.4, r_max=1.0, height=0.5)
        dom = Domain.mesh(mesh)
        y = rng.random((60, 3)) - 0.5
    elif name == "image":
        values = rng.random((8, 10)) + 0.1
        dom = Domain.image(values, [0.0, 0.0], [1.0, 1.0])
        y = rng.random((100, 2))
    else:
        v = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], dtype=float)
        tri = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]])
        dom = Domain.triangulation(v, tri, density=[1.0, 2.0, 3.0, 0.5])
        y = rng.random((100, 2))
    nu = rng.uniform(0.5, 1.5, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = solve_ot(dom, y, nu, tol=1e-10)
    assert res.converged
    nu = nu / nu.sum()
    assert _rel_err(res.masses, nu) <= 1e-10
    # independent re-evaluation at the returned h
    assert _rel_err(power_diagram(y, res.h, dom).masses, nu) <= 1e-10
    assert np.all(np.isfinite(res.h))
    assert res.history[-1] <= 1e-10 and len(res.history) == res.iterations + 1


@pytest.mark.parametrize("where", ["inside", "outside", "straddling", "far"])
def test_shrunk_start_has_no_empty_cell(where):
    dom = _holed_square()
    rng = np.random.default_rng(7)
    n = 120
    y = {"inside": rng.random((n, 2)), "outside": rng.random((n, 2)) * 0.3 + [2.0, -1.0],
         "straddling": rng.random((n, 2)) * 2.0 - 0.5, "far": rng.random((n, 2)) * 1e-3 + 1e3}[where]
    h0 = _shrunk_start(dom, y)
    m = power_diagram(y, h0, dom).masses
    assert np.all(m > 0)
    if where in ("outside", "far"):
        # the plain Voronoi start cannot be used there: the solver must take the shrunk one
        assert np.any(power_diagram(y, _voronoi_start(y), dom).masses == 0)
    res = solve_ot(dom, y, tol=1e-10)
    assert res.converged and _rel_err(res.masses, np.full(n, 1 / n)) <= 1e-10


def test_shrunk_start_reproduces_the_shrunk_voronoi_diagram():
    dom = Domain.disk([2.0, 1.0], 0.5, resolution=32)
    y = np.random.default_rng(0).random((40, 2)) * 5
    h0 = _shrunk_start(dom, y)
    c, r = dom.inscribed_ball()
    ybar = y.mean(axis=0)
    R = np.max(np.linalg.norm(y - ybar, axis=1))
    z = c + (y - ybar) * 0.9 * r / R
    pts = dom.sample(2000, seed=1)
    idx_y = np.argmax(pts @ y.T + h0, axis=1)
    idx_z = np.argmin(((pts[:, None, :] - z[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(idx_y, idx_z)


@pytest.mark.parametrize("n, tol", [(200, 1e-10), (2000, 1e-10), pytest.param(5000, 1e-10, marks=pytest.mark.slow),
                                    pytest.param(20000, 1e-9, marks=pytest.mark.slow)])
def test_random_targets_few_iterations(n, tol):
    # (for n = 2e4 the rounding floor of the exact masses is ~3e-10 relative: tol 1e-9)
    y = np.random.default_rng(n).random((n, 2))
    res = solve_ot(SQUARE, y, tol=tol)
    assert res.converged
    assert _rel_err(res.masses, np.full(n, 1 / n)) <= tol
    assert res.iterations <= 15


def test_single_target_takes_everything():
    res = solve_ot(_holed_square(), [[3.0, 4.0]])
    assert res.converged and res.iterations == 0
    np.testing.assert_array_equal(res.masses, [1.0])


def test_random_targets_3d():
    y = np.random.default_rng(5).random((500, 3))
    res = solve_ot(Domain.box([0, 0, 0], [1, 1, 1]), y, tol=1e-10)
    assert res.converged and res.iterations <= 15
    assert _rel_err(res.masses, np.full(500, 1 / 500)) <= 1e-10


@pytest.mark.parametrize("tiny, tol", [(1e-3, 1e-10), (1e-6, 1e-8)])
def test_nonuniform_and_tiny_masses(tiny, tol):
    # a cell ~1e4 (~1e7) times lighter than the others; the relative accuracy reachable for a
    # cell of mass m is limited by the clipping tolerance (~1e-13 in position) over its size
    rng = np.random.default_rng(11)
    y = rng.random((300, 2))
    nu = rng.uniform(1.0, 10.0, 300)
    nu[17] = tiny
    res = solve_ot(SQUARE, y, nu, tol=tol)
    nu = nu / nu.sum()
    assert res.converged and _rel_err(res.masses, nu) <= tol
    np.testing.assert_allclose(res.nu, nu, rtol=1e-15, atol=0)
    assert not np.any(res.diagram.empty)


@pytest.mark.parametrize("solver", ["direct", "amg"])
def test_linear_solvers_agree(solver):
    y = np.random.default_rng(2).random((400, 2))
    ref = solve_ot(SQUARE, y, tol=1e-11, linear_solver="direct")
    res = solve_ot(SQUARE, y, tol=1e-11, linear_solver=solver)
    assert res.converged and res.iterations <= 15
    np.testing.assert_allclose(_centred(res.h), _centred(ref.h), rtol=0, atol=1e-10)


# ---------------------------------------------------------------- warm start, invariances
def test_warm_start_from_solution():
    y = np.random.default_rng(4).random((500, 2))
    res = solve_ot(SQUARE, y, tol=1e-10)
    again = solve_ot(SQUARE, y, h0=res.h, tol=1e-10)
    assert again.converged and again.iterations == 0
    np.testing.assert_array_equal(again.h, res.h)
    # a slightly looser solve warm-started and tightened: at most one step
    loose = solve_ot(SQUARE, y, tol=1e-6)
    tight = solve_ot(SQUARE, y, h0=loose.h, tol=1e-10)
    assert tight.converged and tight.iterations <= 2


def test_warm_start_with_empty_cell_falls_back():
    y = np.array([[0.2, 0.2], [0.8, 0.2], [0.5, 0.8]])
    h0 = np.array([0.0, 0.0, -10.0])  # the third cell is empty
    assert power_diagram(y, h0, SQUARE).masses[2] == 0
    with pytest.warns(UserWarning, match="empty cell"):
        res = solve_ot(SQUARE, y, h0=h0, tol=1e-10)
    assert res.converged and _rel_err(res.masses, np.full(3, 1 / 3)) <= 1e-10


def test_translation_invariance():
    rng = np.random.default_rng(9)
    y = rng.random((200, 2))
    base = solve_ot(SQUARE, y, tol=1e-11)
    # shifting the targets by t adds <x, t> to every plane: same h up to a constant
    shifted = solve_ot(SQUARE, y + [5.0, -3.0], tol=1e-11)
    np.testing.assert_allclose(_centred(shifted.h), _centred(base.h), rtol=0, atol=1e-9)
    # shifting the source by s: h'_i = h_i - <s, y_i> + c
    s = np.array([-2.0, 7.0])
    moved = solve_ot(Domain.box(s, s + 1.0), y, tol=1e-11)
    np.testing.assert_allclose(_centred(moved.h), _centred(base.h - y @ s), rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved.masses, base.masses, rtol=1e-10, atol=0)


# ---------------------------------------------------------------- result object
def test_result_fields_and_readonly():
    y = np.random.default_rng(0).random((50, 2))
    res = solve_ot(SQUARE, y, tol=1e-10)
    assert isinstance(res, OTResult) and res.method == "newton" and res.message == "converged"
    for a in (res.y, res.nu, res.h, res.masses, res.history):
        assert a.dtype == np.float64 and not a.flags.writeable
    assert isinstance(res.diagram, PowerDiagram)
    np.testing.assert_allclose(res.diagram.masses, res.masses, rtol=0, atol=0)
    u = res.potential
    assert isinstance(u, BrenierPotential)
    x = SQUARE.sample(100, seed=0)
    np.testing.assert_array_equal(u.index(x), np.argmax(x @ y.T + res.h, axis=1))
    for key in ("hull", "integration", "assembly", "linear_solve", "backtracking", "alpha", "trials"):
        assert res.timings[key].shape == (res.iterations,)
    assert np.all(res.timings["alpha"] > 0) and np.all(res.timings["alpha"] <= 1)
    with pytest.raises(Exception):
        res.h = np.zeros(50)


@pytest.mark.parametrize("dom", [SQUARE, "holed", "mesh"])
def test_save_load_round_trip(tmp_path, dom):
    if dom == "holed":
        dom = _holed_square()
    elif dom == "mesh":
        dom = Domain.mesh(trimesh.creation.icosphere(subdivisions=1))
    rng = np.random.default_rng(1)
    y = rng.random((30, dom.dim)) * 0.5
    res = solve_ot(dom, y, rng.uniform(1, 2, 30), tol=1e-10)
    path = res.save(tmp_path / "res")
    assert str(path).endswith(".npz")
    back = load(path)
    assert back == res
    for name in ("y", "nu", "h", "masses", "history"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    assert back.domain == res.domain and back.converged == res.converged
    assert back.iterations == res.iterations and back.method == res.method and back.message == res.message
    for k in res.timings:
        np.testing.assert_array_equal(back.timings[k], res.timings[k])
    # the file is plain npz: no pickle needed
    with np.load(path, allow_pickle=False) as z:
        assert "h" in z.files
    np.testing.assert_allclose(back.diagram.masses, res.masses, rtol=0, atol=1e-15)


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(ValueError, match="path"):
        load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="missing"):
        load(tmp_path / "other.npz")


def test_results_differ_when_h_differs():
    y = np.random.default_rng(0).random((20, 2))
    res = solve_ot(SQUARE, y, tol=1e-10)
    other = OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h + 1e-3 * np.arange(20),
                     masses=res.masses, converged=True, iterations=res.iterations, history=res.history,
                     timings=dict(res.timings), message=res.message)
    assert other != res
    assert OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses, converged=True,
                    iterations=res.iterations, history=res.history, timings=dict(res.timings),
                    message=res.message) == res


# ---------------------------------------------------------------- non-convergence
def test_max_iter_one_warns_and_keeps_finite_h():
    y = np.random.default_rng(0).random((300, 2)) + [4.0, 4.0]  # far from converged at the start
    with pytest.warns(UserWarning, match="max_iter=1"):
        res = solve_ot(SQUARE, y, max_iter=1, tol=1e-12)
    assert not res.converged and res.iterations == 1 and len(res.history) == 2
    assert np.all(np.isfinite(res.h)) and res.history[-1] > 1e-12
    # the masses are those of the solver's own diagram (weights phi = h + |y|^2/2) ...
    np.testing.assert_array_equal(res.diagram.masses, res.masses)
    # ... and h rebuilds it up to the rounding of h itself (eps |y|^2 ~ 4e-15 here, divided by
    # the target spacing ~0.06: ~1e-13 relative per facet)
    np.testing.assert_allclose(power_diagram(y, res.h, SQUARE).masses, res.masses, rtol=1e-10, atol=0)


def test_unreachable_tolerance_warns():
    y = np.random.default_rng(0).random((100, 2))
    with pytest.warns(UserWarning, match="did not converge"):
        res = solve_ot(SQUARE, y, tol=1e-300, max_iter=30)
    assert not res.converged and np.all(np.isfinite(res.h))
    assert res.history[-1] < 1e-12  # it still got as close as rounding allows


def test_nearly_coincident_targets_reach_tight_tolerance():
    # 30 pairs of targets 1e-6 apart: their common facet moves by (h_i - h_j) / 1e-6.  Iterating
    # on h (of size |y|^2 / 2) stalls near 8e-9 (h's rounding, 1e-16, times the 1e4 Hessian
    # entries of the pairs); iterating on phi = h + |y|^2/2 (of size 1e-3) gets below 1e-9
    rng = np.random.default_rng(3)
    y = rng.random((3000, 2))
    y[:50] = y[50:100] + 1e-6 * rng.standard_normal((50, 2))
    res = solve_ot(SQUARE, y, tol=2e-9)
    assert res.converged and res.history[-1] <= 2e-9 and res.iterations <= 8
    np.testing.assert_allclose(res.masses, 1.0 / 3000, rtol=2e-9, atol=0)


def test_flip_repaired_triangulations_give_the_same_iterates():
    # 2D Newton steps repair the last triangulation by flips instead of a new hull: exact, so
    # the iterates are those of the hull-per-step solver, bit for bit
    y = np.random.default_rng(21).random((3000, 2))
    with_flips = solve_ot(SQUARE, y, tol=1e-10)
    with_hulls = _solve_newton(SQUARE, y, np.full(3000, 1 / 3000), tol=1e-10, flips=False)
    assert with_flips.converged and with_hulls.converged
    assert with_flips.iterations == with_hulls.iterations
    np.testing.assert_array_equal(with_flips.history, with_hulls.history)
    np.testing.assert_array_equal(with_flips.h, with_hulls.h)


@pytest.mark.parametrize("solver", ["direct", "amg"])
def test_large_n_iteration_count_small(solver):
    # inexact Newton with AMG (residual small on every light cell) takes as few steps as LU
    y = np.random.default_rng(22).random((20000, 2))
    res = solve_ot(SQUARE, y, tol=1e-8, linear_solver=solver)
    assert res.converged and res.iterations <= 8
    np.testing.assert_allclose(res.masses, 1.0 / 20000, rtol=1e-8, atol=0)
    setups, cg_its = res.timings["amg_setups"], res.timings["cg_iterations"]
    if solver == "amg":  # the hierarchy is reused by some steps, and CG did run
        assert 1 <= setups.sum() < res.iterations and np.all(cg_its >= 1)
    else:
        assert setups.sum() == 0 and cg_its.sum() == 0


def test_progress_bar(capsys):
    y = np.random.default_rng(0).random((50, 2))
    solve_ot(SQUARE, y, progress=True, verbose=True)
    out = capsys.readouterr()
    assert "solve_ot" in out.err and "error" in out.out


# ---------------------------------------------------------------- linear algebra pieces
def test_solve_laplacian_path_graph():
    # path graph with unit weights: L d = b has the solution with d_0 pinned by prefix sums
    n = 6
    e = np.ones(n - 1)
    L = sps.diags([np.r_[1.0, 2 * np.ones(n - 2), 1.0], -e, -e], [0, 1, -1]).tocsr()
    d_true = np.array([0.0, 1.0, -2.0, 0.5, 3.0, 1.0])
    b = L @ d_true
    for solver in ("direct", "amg"):
        d, ncomp = _solve_laplacian(L, b, solver, 1e-12)
        assert ncomp == 1
        np.testing.assert_allclose(_centred(d), _centred(d_true), rtol=0, atol=1e-10)


def test_solve_laplacian_two_components():
    A = sps.csr_matrix(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    L = sps.block_diag([A, 2 * A, sps.csr_matrix((1, 1))]).tocsr()
    rhs = np.array([1.0, -1.0, 2.0, 0.0, 0.5])
    d, ncomp = _solve_laplacian(L, rhs, "direct", 1e-12)
    assert ncomp == 3
    # projected rhs: (1,-1), (1,-1), (0)
    np.testing.assert_allclose(L @ d, [1.0, -1.0, 1.0, -1.0, 0.0], rtol=0, atol=1e-14)


def test_nested_dissection_order_solves_the_same_system():
    rng = np.random.default_rng(8)
    y = rng.random((3000, 2))
    pd = power_diagram(y, _voronoi_start(y), SQUARE)
    H = pd.hessian()
    perm = _nested_dissection(y, H)
    np.testing.assert_array_equal(np.sort(perm), np.arange(3000))
    rhs = pd.masses - 1 / 3000
    d_nd, _ = _solve_laplacian(H, rhs, "direct", 0.0, perm)
    d_mmd, _ = _solve_laplacian(H, rhs, "direct", 0.0)
    np.testing.assert_allclose(_centred(d_nd), _centred(d_mmd), rtol=0, atol=1e-10 * np.abs(d_mmd).max())
    np.testing.assert_allclose(H @ d_nd, rhs - rhs.mean(), rtol=0, atol=1e-12 * np.abs(rhs).max())


# ---------------------------------------------------------------- validation
def test_inputs_not_mutated():
    rng = np.random.default_rng(0)
    y = rng.random((40, 2))
    nu = rng.uniform(1, 2, 40)
    h0 = -0.5 * np.sum(y * y, axis=1)
    copies = [a.copy() for a in (y, nu, h0)]
    res = solve_ot(SQUARE, y, nu, h0=h0)
    for a, c in zip((y, nu, h0), copies):
        np.testing.assert_array_equal(a, c)
    assert not np.shares_memory(res.y, y) and not np.shares_memory(res.h, h0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(domain="square"), "domain"),
    (dict(y=np.zeros((3, 3))), "y"),
    (dict(y=[[0.1, np.nan], [0.5, 0.5]]), "y"),
    (dict(nu=[1.0, -1.0, 1.0]), "nu"),
    (dict(nu=[1.0, 1.0]), "nu"),
    (dict(nu=[1.0, np.inf, 1.0]), "nu"),
    (dict(method="sinkhorn"), "method"),
    (dict(backend="torch"), "backend"),
    (dict(linear_solver="dense"), "linear_solver"),
    (dict(tol=-1.0), "tol"),
    (dict(tol=0.0), "tol"),
    (dict(max_iter=-2), "max_iter"),
    (dict(max_iter=2.5), "max_iter"),
    (dict(h0=[0.0, 0.0]), "h0"),
    (dict(h0=[0.0, np.nan, 0.0]), "h0"),
    (dict(seed="abc"), "seed"),
    (dict(n_samples=1000), "n_samples"),
])
def test_value_errors(kwargs, match):
    args = dict(domain=SQUARE, y=[[0.2, 0.2], [0.8, 0.2], [0.5, 0.8]], nu=None)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        solve_ot(args.pop("domain"), args.pop("y"), args.pop("nu"), **args)


def test_duplicate_targets_named():
    y = [[0.2, 0.2], [0.8, 0.2], [0.5, 0.8], [0.8, 0.2]]
    with pytest.raises(ValueError, match="rows 1 and 3"):
        solve_ot(SQUARE, y)


def test_newton_needs_2d_or_3d():
    dom = Domain.box(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="montecarlo"):
        solve_ot(dom, np.random.default_rng(0).random((5, 4)))


# ---------------------------------------------------------------- Monte Carlo delegation
def test_montecarlo_result():
    y = np.array([[0.25, 0.25], [0.75, 0.25], [0.5, 0.75]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = solve_ot(SQUARE, y, method="montecarlo", tol=0.05, seed=0, n_samples=20000, max_iter=300)
    assert res.method == "montecarlo" and np.all(np.isfinite(res.h))
    assert res.converged
    # its diagram is exact: the masses it gives are close to nu (MC accuracy)
    np.testing.assert_allclose(res.diagram.masses, np.full(3, 1 / 3), rtol=0.1, atol=0)


def test_montecarlo_high_dim_diagram_raises():
    dom = Domain.box(np.zeros(5), np.ones(5))
    y = np.random.default_rng(0).random((4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = solve_ot(dom, y, method="montecarlo", seed=0, n_samples=2000, max_iter=5)
    with pytest.raises(ValueError, match="2D or 3D"):
        res.diagram


# ---------------------------------------------------------------- keywords by method
_Y3 = [[0.2, 0.2], [0.8, 0.2], [0.5, 0.8]]
#: a non-default value of every method-specific keyword, and the method it belongs to
_FOREIGN = [
    ("newton", "seed", 0), ("newton", "backend", "numpy"), ("newton", "client", object()),
    ("newton", "n_samples", 1000), ("newton", "lr", 0.1),
    ("montecarlo", "linear_solver", "auto"), ("montecarlo", "verbose", False), ("montecarlo", "verbose", True),
]


@pytest.mark.parametrize("method, keyword, value", _FOREIGN)
def test_keyword_of_another_method_raises_naming_it_and_the_method(method, keyword, value):
    with pytest.raises(ValueError, match=rf"{keyword}= \(an option of method='\w+'\) does not apply to "
                                         rf"method='{method}'"):
        solve_ot(SQUARE, _Y3, method=method, **{keyword: value})


def test_several_foreign_keywords_are_all_named():
    with pytest.raises(ValueError) as info:
        solve_ot(SQUARE, _Y3, seed=1, lr=0.5)
    msg = str(info.value)
    assert "seed=" in msg and "lr=" in msg and "do not apply to method='newton'" in msg
    assert "linear_solver" in msg  # says what newton takes


@pytest.mark.parametrize("method", ["newton", "montecarlo"])
def test_defaults_never_raise(method):
    y = np.array(_Y3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = solve_ot(SQUARE, y, method=method)  # no keyword at all
        assert res.method == method and np.all(np.isfinite(res.h))
        # every keyword of the signature passed as None (its "not given") is accepted too
        res = solve_ot(SQUARE, y, method=method, tol=None, max_iter=None, h0=None, seed=None, backend=None,
                       progress=False, client=None, n_samples=None, lr=None, linear_solver=None, verbose=None)
        assert res.method == method


def test_applicable_keywords_with_their_defaults_are_accepted():
    y = np.array(_Y3)
    a = solve_ot(SQUARE, y)
    b = solve_ot(SQUARE, y, tol=1e-9, max_iter=100, h0=None, progress=False, linear_solver="auto", verbose=False)
    np.testing.assert_array_equal(a.h, b.h)
    np.testing.assert_array_equal(a.history, b.history)
    c = solve_ot(SQUARE, y, method="montecarlo", seed=3, backend="numpy", client=None, n_samples=20000,
                 lr=None, progress=False, tol=0.05)
    d = solve_ot(SQUARE, y, method="montecarlo", seed=3, n_samples=20000, tol=0.05)
    np.testing.assert_array_equal(c.h, d.h)


def test_every_keyword_belongs_to_a_method():
    import inspect

    from geomot import result, solver

    params = set(inspect.signature(solve_ot).parameters) - {"domain", "y", "nu", "method"}
    assert params == set(solver._COMMON) | set(solver._OPTIONS)
    assert tuple(solver._METHODS) == result.METHODS
    for m in solver._METHODS.values():  # check_options takes exactly the method's keywords
        assert tuple(inspect.signature(m.check_options).parameters) == m.options


@pytest.mark.parametrize("kwargs, match", [
    (dict(backend="torch"), "backend must be one of"),
    (dict(seed="abc"), "seed must be"),
    (dict(n_samples=0), "n_samples"),
    (dict(lr=-1.0), "lr"),
])
def test_montecarlo_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        solve_ot(SQUARE, _Y3, method="montecarlo", **kwargs)


def test_linear_solver_value_named():
    with pytest.raises(ValueError, match="linear_solver must be one of"):
        solve_ot(SQUARE, _Y3, linear_solver="dense")


# ---------------------------------------------------------------- one warning class
def test_convergence_warning_class():
    import geomot

    assert geomot.ConvergenceWarning is geomot._warnings.ConvergenceWarning
    assert issubclass(geomot.ConvergenceWarning, UserWarning)
    assert issubclass(geomot.ConvergenceWarning, RuntimeWarning)
    assert "ConvergenceWarning" in geomot.__all__
    # moved names stay importable from geomot.solver
    import geomot.solver

    assert geomot.solver.OTResult is geomot.OTResult is OTResult
    assert geomot.solver.load is geomot.load is load


@pytest.mark.parametrize("method, kwargs", [
    ("newton", dict(max_iter=1, tol=1e-12)),
    ("montecarlo", dict(max_iter=2, tol=0.05, seed=0, n_samples=20000)),
])
def test_both_methods_warn_convergence_warning(method, kwargs):
    import geomot

    y = np.random.default_rng(0).random((30, 2)) * 0.3 + 0.6  # far from the solution at the start
    with pytest.warns(geomot.ConvergenceWarning, match="did not converge") as rec:
        res = solve_ot(SQUARE, y, method=method, **kwargs)
    assert not res.converged and res.method == method
    assert res.message and res.message != "converged"
    # the report points at the caller (this file), not at geomot's own frames
    conv = [w for w in rec if issubclass(w.category, geomot.ConvergenceWarning)]
    assert conv and all(w.filename == __file__ for w in conv)


def test_solve_montecarlo_warns_convergence_warning():
    import geomot
    from geomot.montecarlo import solve_montecarlo

    with pytest.warns(geomot.ConvergenceWarning, match="did not converge in max_iter=2") as rec:
        run = solve_montecarlo(SQUARE, [[0.0, 0.5], [1.0, 0.5]], [0.13, 0.87], seed=6, max_iter=2, tol=1e-2)
    assert not run.converged
    assert all(w.filename == __file__ for w in rec)


def test_converged_solves_do_not_warn():
    import geomot

    with warnings.catch_warnings():
        warnings.simplefilter("error", geomot.ConvergenceWarning)
        assert solve_ot(SQUARE, _Y3).converged
        assert solve_ot(SQUARE, _Y3, method="montecarlo", seed=0, tol=0.05, n_samples=20000).converged
