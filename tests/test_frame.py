"""Tests of geomot.frame and of invariance under translation and scaling (issue 14, point 1).

The translated and scaled problems are built EXACTLY (dyadic coordinates, power-of-two scales
and offsets: ``L * y + O`` is exact in float64), so any difference between them is geomot's,
not the input's.  Three moves of a base problem: the whole problem (source and targets),
the targets only (the cells do not change: ``<x, y_i + O>`` adds the same ``<x, O>`` to every
plane) and the source only (the cells move with it).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geomot
import geomot.montecarlo
from geomot import Domain, solve_ot
from geomot.brenier import BrenierPotential
from geomot.frame import COMMON_RATIO, Frame, FramedDomain
from geomot.generate import PiecewiseLinearMap
from geomot.result import OTResult, load
from geomot.singular import singular_set

TOL = 1e-9
OFFSETS = [0, 20, 27]  # log2 of the offset, in units of the problem's size (2^27 = 1.3e8)
SCALES = [-33, -17, 0, 17, 33]  # log2 of the scale (2^-33 = 1.2e-10, 2^33 = 8.6e9)
MOVES = ["whole", "targets", "source"]


def _dyadic(p, bits=20):
    return np.round(np.asarray(p) * 2.0**bits) / 2.0**bits


def _base_2d():
    """Rectangle [0,2]x[0,1] -> two half-disks, 300 targets on a 2^-20 grid (a singular set)."""
    y = np.unique(_dyadic(geomot.shapes.sample(geomot.shapes.two_half_disks(), 300, seed=3)), axis=0)
    nu = np.random.default_rng(4).uniform(1.0, 2.0, y.shape[0])
    return np.array([[0.0, 0.0], [2.0, 1.0]]), y, nu


def _base_3d():
    rng = np.random.default_rng(5)
    y = np.unique(_dyadic(rng.random((120, 3)) * [1.0, 0.5, 1.0]), axis=0)
    return np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.5]]), y, rng.uniform(1.0, 2.0, y.shape[0])


def _moved(bounds, y, move, log_offset, log_scale):
    """The exactly moved problem: ``(bounds, y, source shift, scale)`` in world units."""
    L = 2.0**log_scale
    off = np.full(y.shape[1], 2.0**log_offset * L) if log_offset else np.zeros(y.shape[1])
    src = off if move in ("whole", "source") else np.zeros_like(off)
    tgt = off if move in ("whole", "targets") else np.zeros_like(off)
    b, yy = L * bounds + src, L * y + tgt
    assert np.array_equal((b - src) / L, bounds) and np.array_equal((yy - tgt) / L, y)  # exact
    return b, yy, src, L


def _solve(bounds, y, nu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning fails the test
        return solve_ot(Domain.box(*bounds), y, nu, tol=TOL)


def _differences(base, res, src, L):
    """Worst differences of ``res`` (a moved problem) from ``base``, in the base's units."""
    d = base.dim
    pb, pr = base.diagram, res.diagram
    size = float(np.ptp(base.domain.bounds, axis=0).max())
    out = {
        "masses": float(np.max(np.abs(res.masses - base.masses) / base.nu)),
        "diagram_masses": float(np.max(np.abs(pr.masses - res.masses) / res.nu)),
        "volumes": float(np.max(np.abs(pr.volumes / L**d - pb.volumes)) / (size**d / base.n)),
        "centroids": float(np.nanmax(np.abs((pr.centroids - src) / L - pb.centroids)) / size),
    }
    big_b = pb.facet_measures > 1e-9 * size ** (d - 1)
    big_r = pr.facet_measures / L ** (d - 1) > 1e-9 * size ** (d - 1)
    keys_b = {tuple(p) for p in pb.pairs[big_b]}
    keys_r = {tuple(p) for p in pr.pairs[big_r]}
    out["pairs_differ"] = len(keys_b ^ keys_r)
    common = {tuple(p): m for p, m in zip(pr.pairs, pr.facet_measures / L ** (d - 1))}
    out["facets"] = max((abs(common.get(tuple(p), 0.0) - m) for p, m in zip(pb.pairs, pb.facet_measures)),
                        default=0.0) / size ** (d - 1)
    return out


@pytest.fixture(scope="module")
def base2():
    bounds, y, nu = _base_2d()
    res = _solve(bounds, y, nu)
    sigma = singular_set(res)
    assert len(sigma.pairs) > 10  # a real singular set to compare
    return bounds, y, nu, res, sigma


GRID_2D = ([("whole", o, k) for o in OFFSETS for k in SCALES]
           + [(m, 27, k) for m in ("targets", "source") for k in (-33, 0, 33)]
           + [(m, 10, 17) for m in ("targets", "source")])


@pytest.mark.parametrize("move, log_offset, log_scale", GRID_2D)
def test_invariance_2d(base2, move, log_offset, log_scale):
    bounds, y, nu, base, sigma = base2
    b, yy, src, L = _moved(bounds, y, move, log_offset, log_scale)
    res = _solve(b, yy, nu)
    e = _differences(base, res, src, L)
    # the solver's tolerance on the masses, its rounding on the rest; world centroids are
    # rounded at eps times the offset
    assert e["masses"] <= 2 * TOL and e["diagram_masses"] <= 1e-12, e
    assert e["volumes"] <= 2 * TOL and e["facets"] <= 1e-8, e
    assert e["centroids"] <= 1e-9 + 4 * np.finfo(float).eps * 2.0**log_offset, e
    assert e["pairs_differ"] == 0, e
    s = singular_set(res)
    np.testing.assert_array_equal(np.sort(s.pairs, axis=0), np.sort(sigma.pairs, axis=0))
    np.testing.assert_allclose(s.jumps / L, sigma.jumps, rtol=1e-9)
    if move == "whole":
        # the same frame problem bit for bit: the results are exactly invariant
        assert res.frame.source_scale == L * base.frame.source_scale
        np.testing.assert_array_equal(res.frame_weights, base.frame_weights)
        np.testing.assert_array_equal(res.masses, base.masses)
        np.testing.assert_array_equal(res.diagram.volumes / L**2, base.diagram.volumes)
        np.testing.assert_array_equal(res.history, base.history)


@pytest.fixture(scope="module")
def base3():
    bounds, y, nu = _base_3d()
    return bounds, y, nu, _solve(bounds, y, nu)


@pytest.mark.parametrize("move, log_offset, log_scale",
                         [("whole", 27, -33), ("whole", 0, 33), ("targets", 27, 0), ("source", 27, 33)])
def test_invariance_3d(base3, move, log_offset, log_scale):
    bounds, y, nu, base = base3
    b, yy, src, L = _moved(bounds, y, move, log_offset, log_scale)
    e = _differences(base, _solve(b, yy, nu), src, L)
    assert e["masses"] <= 2 * TOL and e["diagram_masses"] <= 1e-12, e
    assert e["volumes"] <= 2 * TOL and e["facets"] <= 1e-8, e
    assert e["centroids"] <= 1e-9 + 4 * np.finfo(float).eps * 2.0**log_offset, e
    assert e["pairs_differ"] == 0, e


def test_piecewise_linear_map_moves_with_the_problem(base2):
    bounds, y, nu, base, _ = base2
    g0 = PiecewiseLinearMap(base)
    x = _dyadic(Domain.box(*bounds).sample(2000, seed=6), bits=16)
    img0 = g0(x)
    for log_offset, log_scale in ((27, 0), (20, -33), (10, 33)):
        b, yy, src, L = _moved(bounds, y, "whole", log_offset, log_scale)
        res = _solve(b, yy, nu)
        g = PiecewiseLinearMap(res)
        np.testing.assert_array_equal(g.rejected, g0.rejected)
        img = g(L * x + src)  # (exact points)
        np.testing.assert_array_equal(np.isnan(img), np.isnan(img0))
        ok = ~np.isnan(img0[:, 0])
        # the image is b + t y': exact up to the rounding of world values of that size
        err = np.abs((img[ok] - src) / L - img0[ok]).max()
        assert err <= 4 * np.finfo(float).eps * 2.0**log_offset + 1e-15, err
        gen = g.sample(500, seed=7)
        assert gen.shape == (500, 2) and np.all(np.isfinite(gen))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 40), d=st.sampled_from([2, 3]), seed=st.integers(0, 2**31 - 1),
       log_scale=st.floats(-10, 10), offset=st.floats(-1e8, 1e8), move=st.sampled_from(MOVES))
def test_hypothesis_random_translations_and_scalings(n, d, seed, log_scale, offset, move):
    # random (not exactly representable) moves: the inputs themselves are rounded, at eps times
    # the offset; the answers agree to that rounding and each result agrees with its own diagram
    rng = np.random.default_rng(seed)
    y = rng.random((n, d))
    nu = rng.uniform(0.5, 2.0, n)
    bounds = np.array([np.zeros(d), rng.uniform(0.5, 2.0, d)])
    base = _solve(bounds, y, nu)
    L = 10.0**log_scale
    shift = offset * rng.uniform(-1.0, 1.0, d)
    src = shift if move in ("whole", "source") else 0.0 * shift
    tgt = shift if move in ("whole", "targets") else 0.0 * shift
    res = _solve(L * bounds + src * L, L * y + tgt * L, nu)
    rounding = np.finfo(float).eps * (1.0 + abs(offset))  # relative perturbation of the input
    assert np.max(np.abs(res.masses - nu / nu.sum()) / res.nu) <= TOL
    np.testing.assert_allclose(res.diagram.masses, res.masses, rtol=1e-12, atol=1e-15)
    size = float(np.ptp(bounds, axis=0).max())
    vol = res.diagram.volumes / L**d
    assert np.max(np.abs(vol - base.diagram.volumes)) <= (2 * TOL + 1e5 * rounding) * size**d
    c = (res.diagram.centroids - src * L) / L
    assert np.nanmax(np.abs(c - base.diagram.centroids)) <= (1e-8 + 1e5 * rounding) * size


# ------------------------------------------------------------------ the reproducers
def test_targets_far_from_the_unit_square():
    y = np.random.default_rng(0).random((30, 2)) + 1e8
    res = solve_ot(Domain.box([0, 0], [1, 1]), y)
    assert res.converged
    np.testing.assert_allclose(res.diagram.volumes.sum(), 1.0, rtol=1e-12)
    assert np.max(np.abs(res.diagram.masses * 30 - 1)) <= 1e-9
    np.testing.assert_array_equal(res.diagram.masses, res.masses)
    assert res.frame.source_scale != res.frame.target_scale or np.any(res.frame.source_center != res.frame.target_center)


def test_box_moved_onto_the_targets_at_1e6():
    y = np.random.default_rng(0).random((30, 2)) + 1e6
    res = solve_ot(Domain.box([1e6, 1e6], [1e6 + 1, 1e6 + 1]), y)
    assert res.converged and res.history[-1] <= 1e-9
    assert np.max(np.abs(res.diagram.masses * 30 - 1)) <= 1e-9


def test_utm_like_box_diagram_agrees_with_the_solver():
    rng = np.random.default_rng(0)
    lo = np.array([5e5, 4e6])
    y = lo + rng.random((200, 2)) * 1e3
    res = solve_ot(Domain.box(lo, lo + 1e3), y, tol=1e-9)
    assert res.converged and res.history[-1] <= 1e-9
    # formerly off by 3.6e-6: the diagram is now built from the solver's frame weights
    assert np.max(np.abs(res.diagram.masses * 200 - 1)) <= 1e-9
    fresh = OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses,
                     converged=True, iterations=res.iterations, history=res.history,
                     frame=res.frame, frame_weights=res.frame_weights)
    np.testing.assert_allclose(fresh.diagram.masses, res.masses, rtol=1e-12, atol=0)
    # the world h (no |y|^2/2 in it: ~2e9 here, not 1e13) rebuilds the cells to its rounding
    assert np.max(np.abs(res.h)) < 1e10
    assert np.max(np.abs(geomot.power_diagram(y, res.h, res.domain).masses * 200 - 1)) <= 1e-8


@pytest.mark.parametrize("scale", [1e-14, 1e-12, 1e12])
def test_unit_square_at_extreme_scales_has_masses_summing_to_one(scale):
    y = np.random.default_rng(0).random((30, 2)) * scale
    res = solve_ot(Domain.box([0, 0], [scale, scale]), y)
    assert res.converged
    np.testing.assert_allclose(res.masses.sum(), 1.0, rtol=1e-13)
    np.testing.assert_allclose(res.diagram.volumes.sum(), scale**2, rtol=1e-12)
    assert np.max(np.abs(res.masses * 30 - 1)) <= 1e-9


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("exponent", [-300, -200, -130, -60, -10, 10, 60, 120, 130, 200, 300])
def test_extreme_scales_work_or_raise_a_clear_error(d, exponent):
    # with the frame most scales just work; beyond float64's range one clear ValueError, never
    # qhull's "initial simplex is flat", a NaN the user never passed or duplicates 1e-312 apart
    scale = 10.0**exponent
    y = np.random.default_rng(1).random((20, d)) * scale
    try:
        dom = Domain.box(np.zeros(d), np.full(d, scale))
        res = solve_ot(dom, y)
    except ValueError as exc:
        msg = str(exc)
        assert not any(w in msg.lower() for w in ("qhull", "simplex", "nan", "duplicate")), msg
        return
    assert abs(exponent) <= 130 and res.converged
    np.testing.assert_allclose(res.masses.sum(), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(res.h)) and np.all(np.isfinite(res.diagram.volumes))


# ------------------------------------------------------------------ objects built from a result
@pytest.mark.parametrize("log_offset", [0, 27])
@pytest.mark.parametrize("method", ["newton", "montecarlo"])
def test_potential_locates_points_in_the_diagrams_cells(log_offset, method):
    import shapely

    rng = np.random.default_rng(8)
    off = 2.0**log_offset
    y = _dyadic(rng.random((40, 2))) + off
    dom = Domain.box([off, off], [off + 1, off + 1])
    # (Monte Carlo: a few iterations are enough; the cells of its h are what is checked)
    kw = {"seed": 1, "tol": 0.2, "n_samples": 5_000, "max_iter": 20} if method == "montecarlo" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = solve_ot(dom, y, method=method, **kw)
    pot, pd = res.potential, res.diagram
    x = dom.sample(3000, seed=9)
    idx = pot.index(x)
    cells = [pd.cell(i) for i in range(res.n)]
    dist = np.array([shapely.distance(cells[i], shapely.Point(p)) for i, p in zip(idx, x)])
    assert np.all(dist <= 1e-6)  # (world polygons at 1.3e8: rounding 1.5e-8)
    # the argmax uses the solver's frame: the same answer at the origin
    if method == "newton":
        res0 = solve_ot(Domain.box([0, 0], [1, 1]), y - off)
        np.testing.assert_array_equal(res0.potential.index(x - off), idx)
    np.testing.assert_array_equal(pot.map(x), y[idx])


def test_save_load_reproduces_the_diagram_bit_for_bit(tmp_path):
    rng = np.random.default_rng(10)
    y = rng.random((300, 2)) * 1e3 + [5e5, 4e6]
    res = solve_ot(Domain.box([5e5, 4e6], [5e5 + 1e3, 4e6 + 1e3]), y, tol=1e-10)
    back = load(res.save(tmp_path / "r.npz"))
    assert back == res and back.frame == res.frame
    np.testing.assert_array_equal(back.frame_weights, res.frame_weights)
    for name in ("masses", "volumes", "facet_measures", "centroids"):
        np.testing.assert_array_equal(getattr(back.diagram, name), getattr(res.diagram, name))
    np.testing.assert_array_equal(back.diagram.pairs, res.diagram.pairs)
    np.testing.assert_array_equal(back.diagram.masses, res.masses)
    x = res.domain.sample(2000, seed=11)
    np.testing.assert_array_equal(back.potential.index(x), res.potential.index(x))
    np.testing.assert_array_equal(singular_set(back, threshold=2.0).pairs, singular_set(res, threshold=2.0).pairs)


def test_result_from_world_fields_derives_its_frame():
    y = np.random.default_rng(12).random((20, 2))
    res = solve_ot(Domain.box([0, 0], [1, 1]), y, tol=1e-11)
    made = OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses, converged=True,
                    iterations=res.iterations, history=res.history, timings=dict(res.timings),
                    message=res.message)
    assert made == res and made.frame == res.frame  # equality ignores the frame state
    np.testing.assert_allclose(made.frame_weights - made.frame_weights.mean(),
                               res.frame_weights - res.frame_weights.mean(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(made.diagram.masses, res.masses, rtol=1e-10)
    with pytest.raises(ValueError, match="frame_weights needs the frame"):
        OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses, converged=True,
                 iterations=0, history=[0.0], frame_weights=res.frame_weights)
    with pytest.raises(ValueError, match="frame must be a geomot.frame.Frame"):
        OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses, converged=True,
                 iterations=0, history=[0.0], frame="frame", frame_weights=res.frame_weights)
    with pytest.raises(ValueError, match="frame_weights must have length 20"):
        OTResult(domain=res.domain, y=res.y, nu=res.nu, h=res.h, masses=res.masses, converged=True,
                 iterations=0, history=[0.0], frame=res.frame, frame_weights=np.zeros(3))


def test_montecarlo_in_4d_far_from_the_origin():
    # the argmax of a 4D Monte-Carlo solve at 1e8: scores of size 1e16 in world units
    rng = np.random.default_rng(13)
    y = rng.random((6, 4))
    runs = []
    for off in (0.0, 2.0**27):
        dom = Domain.box(np.full(4, off), np.full(4, off + 1.0))
        runs.append(solve_ot(dom, y + off, method="montecarlo", seed=2, tol=0.1, n_samples=20_000))
    assert runs[0].converged and runs[1].converged
    assert abs(runs[0].iterations - runs[1].iterations) <= 2
    x = runs[1].domain.sample(1000, seed=3)
    np.testing.assert_array_equal(runs[1].potential.index(x), runs[0].potential.index(x - 2.0**27))


# ------------------------------------------------------------------ the Frame itself
def test_frame_of_a_problem():
    f = Frame.of([[0.0, 0.0], [2.0, 1.0]], [[-1.0, -1.0], [1.0, 1.0]])
    # near: the source takes the targets' frame (the world Voronoi diagram has weights 0)
    assert f.source_scale == f.target_scale == 1.0 and np.array_equal(f.source_center, f.target_center)
    np.testing.assert_array_equal(f.voronoi_weights(np.array([[0.5, 0.25], [-1.0, 1.0]])), [0.0, 0.0])
    far = Frame.of([[0.0, 0.0], [1.0, 1.0]], [[1e8, 1e8], [1e8 + 1, 1e8 + 2]])
    assert far.source_center.tolist() == [0.5, 0.5] and far.source_scale == 0.5
    assert far.target_center.tolist() == [1e8 + 0.5, 1e8 + 1.0] and far.target_scale == 1.0
    big = Frame.of([[0.0, 0.0], [1.0, 1.0]], [[0.0, 0.0], [2 * COMMON_RATIO, 1.0]])
    assert big.source_scale == 0.5 and big.target_scale == COMMON_RATIO
    t = Frame.of_targets([[3.0, 1.0], [5.0, 2.0]])
    assert t.source_scale == t.target_scale == 1.0 and not np.any(t.source_center) and t.target_center.tolist() == [4.0, 1.5]
    one = Frame.of([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0]])  # a single target
    assert one.target_scale > 0 and np.all(np.isfinite(one.to_targets([[3.0, 4.0]])))


def test_frame_heights_and_weights_round_trip():
    rng = np.random.default_rng(14)
    y = rng.random((50, 3)) * 7 + 100.0
    h = rng.normal(size=50)
    f = Frame.of([[0, 0, 0], [1, 2, 3]], y)
    yf = f.to_targets(y)
    np.testing.assert_allclose(f.from_targets(yf), y, rtol=1e-15)
    hf = f.heights_to_frame(yf, h)
    np.testing.assert_allclose(f.heights_from_frame(yf, hf), h, rtol=0, atol=1e-12)
    # the scores transform as documented: <x, y_i> + h_i = <x, b> + s t (<x', y'_i> + h'_i)
    x = rng.random((10, 3)) * [1, 2, 3]
    world = x @ y.T + h
    frame = (x @ f.target_center)[:, None] + f.scale * (f.to_source(x) @ yf.T + hf)
    np.testing.assert_allclose(world, frame, rtol=1e-13)
    # world weights phi = h + |y|^2/2 -> frame weights, up to a constant
    wf = f.weights_to_frame(yf, h + 0.5 * (y**2).sum(axis=1))
    ref = hf + 0.5 * (yf**2).sum(axis=1)
    np.testing.assert_allclose(wf - wf.mean(), ref - ref.mean(), rtol=0, atol=1e-9)


def test_framed_domain_pieces():
    dom = Domain.polygon(geomot.shapes.two_half_disks())
    f = Frame.of(dom.bounds, [[0.0, 0.0], [1.0, 1.0]])
    fd = FramedDomain.of(dom, f)
    x = dom.sample(500, seed=15)
    np.testing.assert_array_equal(fd.pieces.indicator(f.to_source(x)).any(axis=1), np.ones(500, bool))
    np.testing.assert_allclose(fd.total_mass * f.source_scale**2, dom.total_mass, rtol=1e-15)
    c, r = fd.inscribed_ball()
    c0, r0 = dom.inscribed_ball()
    np.testing.assert_allclose(f.from_source(c), c0, rtol=1e-15)
    np.testing.assert_allclose(r * f.source_scale, r0, rtol=1e-15)


def test_frame_validation_and_files():
    f = Frame.of([[0.0, 0.0], [1.0, 1.0]], [[0.0, 0.0], [3.0, 1.0]])
    assert Frame.from_arrays(f.to_arrays()) == f and f != Frame.identity(2)
    assert "Frame(source_center=" in repr(f)
    with pytest.raises(ValueError, match="source_scale must be a finite number > 0"):
        Frame([0.0, 0.0], -1.0, [0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="target_center must be a finite"):
        Frame([0.0, 0.0], 1.0, [np.nan, 0.0], 1.0)
    with pytest.raises(ValueError, match="same dimension"):
        Frame([0.0, 0.0], 1.0, [0.0, 0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="frame is missing"):
        Frame.from_arrays({"source_scale": np.array(1.0)})
    with pytest.raises(ValueError, match="domain and y: the problem's scale is beyond float64"):
        Frame.of([[0.0, 0.0], [1e200, 1e200]], [[0.0, 0.0], [1e200, 1e200]])
    with pytest.raises(ValueError, match="not finite"):
        Frame.of([[0.0, 0.0], [np.inf, 1.0]], [[0.0, 0.0]])


# ------------------------------------------------------------------ masses that overflow
@pytest.mark.parametrize("value", [1e308, 5e-324, 1.0])
def test_target_masses_normalise_without_overflow(value):
    y = np.random.default_rng(16).random((30, 2))
    res = solve_ot(Domain.box([0, 0], [1, 1]), y, np.full(30, value))
    assert res.converged and res.iterations < 20
    np.testing.assert_allclose(res.nu, 1 / 30, rtol=1e-15)
    np.testing.assert_allclose(res.masses, 1 / 30, rtol=1e-9)
    nu = np.r_[np.full(29, 1e308), 1.7e308]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (two iterations: maybe not converged)
        mc = solve_ot(Domain.box([0, 0], [1, 1]), y, nu, method="montecarlo", seed=0, max_iter=2, tol=0.5)
    assert np.all(np.isfinite(mc.nu)) and mc.nu.sum() == pytest.approx(1.0)
    assert geomot.montecarlo.noise_level(np.full(4, 1e308), 100) == pytest.approx(0.1732, rel=1e-3)


def test_non_finite_masses_are_refused_naming_nu():
    y = np.random.default_rng(17).random((3, 2))
    for bad in ([1.0, np.inf, 1.0], [1.0, np.nan, 1.0], [1.0, -1.0, 1.0], [0.0, 0.0, 0.0]):
        with pytest.raises(ValueError, match="nu"):
            solve_ot(Domain.box([0, 0], [1, 1]), y, bad)


def test_potential_of_a_result_pickles_and_refreshes_its_frame_state():
    import dataclasses
    import pickle

    rng = np.random.default_rng(18)
    y = rng.random((60, 2)) * 1e3 + [5e5, 4e6]
    res = solve_ot(Domain.box([5e5, 4e6], [5e5 + 1e3, 4e6 + 1e3]), y)
    pot = res.potential
    assert pot.frame == res.frame
    x = res.domain.sample(2000, seed=19)
    again = pickle.loads(pickle.dumps(pot))
    assert again.frame == pot.frame and again.triangulation is not None
    np.testing.assert_array_equal(again.index(x), pot.index(x))
    np.testing.assert_array_equal(again(x), pot(x))
    # replacing h drops the solve's frame heights (they belong to the old h)
    other = dataclasses.replace(pot, h=np.asarray(pot.h) + 5.0 * np.arange(60), triangulation=None)
    assert other.frame == Frame.of_targets(y)
    np.testing.assert_array_equal(other.index(x), BrenierPotential(y, np.asarray(pot.h) + 5.0 * np.arange(60)).index(x))


def test_montecarlo_run_keeps_its_frame():
    import pickle

    run = geomot.montecarlo.solve_montecarlo(Domain.box([0, 0], [1, 1]), [[0.2, 0.5], [0.8, 0.5]], seed=0)
    assert isinstance(run.frame, Frame) and run.frame_heights.shape == (2,)
    back = pickle.loads(pickle.dumps(run))
    assert back.frame == run.frame
    np.testing.assert_array_equal(back.frame_heights, run.frame_heights)
    hw = run.frame.heights_from_frame(run.frame.to_targets([[0.2, 0.5], [0.8, 0.5]]), run.frame_heights)
    np.testing.assert_allclose(hw - hw.mean(), run.h, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="frame and frame_heights go together"):
        geomot.montecarlo.MonteCarloRun(h=[0.0], masses=[1.0], converged=True, iterations=1, history=[0.0],
                                        frame=run.frame)


def test_convex_targets_far_away_have_no_singular_set_and_no_warning():
    rng = np.random.default_rng(20)
    y = rng.random((200, 2)) + 1e8
    res = solve_ot(Domain.box([1e8, 1e8], [1e8 + 1, 1e8 + 1]), y, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = singular_set(res)
    assert s.is_empty
