"""Tests of the pieces of the Newton loop (geomot._newton): start, line search, iteration log,
and the explicit ``flips`` option."""

import re
from types import SimpleNamespace

import numpy as np
import pytest

from geomot import _newton
from geomot._newton import _TIMING_KEYS, _IterationLog, _line_search, _solve_newton, _Step
from geomot.domain import Domain
from geomot.solver import solve_ot

SQUARE = Domain.box([0.0, 0.0], [1.0, 1.0])


def _step(alpha=0.5, trials=2):
    return _Step(wphi=np.zeros(3), diagram=None, alpha=alpha, trials=trials, hull=0.25, integration=0.125,
                 backtracking=0.5)


# ---------------------------------------------------------------- iteration log
def test_iteration_log_records_the_timing_keys():
    log = _IterationLog(n=3, dim=2, solver="direct", max_iter=10)
    with log:
        with log.timed("start"):
            pass
        log.begin(1.0, 0.1)
        for k in range(2):
            with log.timed("assembly"):
                pass
            with log.timed("linear_solve"):
                pass
            log.step(0.5 ** (k + 1), _step(alpha=1.0 / (k + 1), trials=k + 1))
    assert log.iterations == 2
    tim = log.timings()
    assert list(tim) == list(_TIMING_KEYS) + ["start"]
    assert all(tim[k].shape == (2,) and tim[k].dtype == np.float64 for k in _TIMING_KEYS)
    assert tim["start"].shape == (1,)
    np.testing.assert_array_equal(tim["alpha"], [1.0, 0.5])
    np.testing.assert_array_equal(tim["trials"], [1, 2])
    np.testing.assert_array_equal(tim["hull"], [0.25, 0.25])
    np.testing.assert_array_equal(tim["integration"], [0.125, 0.125])
    np.testing.assert_array_equal(tim["backtracking"], [0.5, 0.5])
    np.testing.assert_array_equal(tim["cg_iterations"], [0, 0])  # direct solves
    assert np.all(tim["assembly"] >= 0) and np.all(tim["linear_solve"] >= 0)


def test_iteration_log_counts_cg_and_setups_per_step():
    cache = SimpleNamespace(iterations=0, setups=0)
    log = _IterationLog(n=3, dim=2, solver="amg", max_iter=10, amg_cache=cache)
    with log.timed("start"):
        pass
    log.begin(1.0, 0.1)
    for its, setups in ((7, 1), (12, 1), (20, 2)):
        with log.timed("assembly"):
            pass
        with log.timed("linear_solve"):
            cache.iterations, cache.setups = its, setups  # what the solve did
        log.step(0.1, _step())
    np.testing.assert_array_equal(log.timings()["cg_iterations"], [7, 5, 8])
    np.testing.assert_array_equal(log.timings()["amg_setups"], [1, 0, 1])


def test_iteration_log_prints_and_shows_the_bar(capsys):
    cache = SimpleNamespace(iterations=0, setups=0)
    log = _IterationLog(n=3, dim=2, solver="amg", max_iter=10, amg_cache=cache, progress=True, verbose=True)
    with log:
        with log.timed("start"):
            pass
        log.begin(2.5, 0.125)
        with log.timed("assembly"):
            pass
        with log.timed("linear_solve"):
            cache.iterations, cache.setups = 4, 1
        log.step(0.03125, _step(alpha=0.5, trials=2))
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"solve_ot: n=3 dim=2 solver=amg start error 2\.500e\+00 \(diagram \d+\.\d{3}s, "
                        r"eps0 0\.125\)", lines[0])
    assert re.fullmatch(r"  it   1: error 3\.125e-02 alpha 0\.5 trials 2 \| hull 0\.250s integration 0\.125s "
                        r"assembly \d+\.\d{3}s solve \d+\.\d{3}s backtracking 0\.500s \| CG 4 it, 1 AMG setup",
                        lines[1])
    assert "solve_ot (newton)" in out.err and "1/10" in out.err  # the tqdm bar, on stderr


def test_iteration_log_quiet_by_default(capsys):
    log = _IterationLog(n=3, dim=2, solver="direct", max_iter=10)
    with log:
        with log.timed("start"):
            pass
        log.begin(1.0, 0.1)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_solve_prints_one_line_per_iteration(capsys):
    y = np.random.default_rng(0).random((50, 2))
    res = solve_ot(SQUARE, y, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == res.iterations + 1 and lines[0].startswith("solve_ot: n=50 dim=2 solver=direct")
    assert [int(line.split(":")[0].split()[1]) for line in lines[1:]] == list(range(1, res.iterations + 1))
    assert list(res.timings) == list(_TIMING_KEYS) + ["start"]
    assert all(res.timings[k].shape == (res.iterations,) for k in _TIMING_KEYS)


# ---------------------------------------------------------------- flips option
def test_flips_option_controls_the_trial_triangulations(monkeypatch):
    # flips=False gives every trial diagram no previous triangulation (a new hull each time);
    # the default repairs the last accepted one -- with the same iterates, bit for bit
    seen = []
    diagram = _newton._diagram

    def spy(y, wphi, domain, reject_hidden=False, previous=None, previous_weights=None):
        if reject_hidden:  # a trial of the line search
            seen.append(previous is not None)
            assert (previous_weights is None) == (previous is None)
        return diagram(y, wphi, domain, reject_hidden=reject_hidden, previous=previous,
                       previous_weights=previous_weights)

    monkeypatch.setattr(_newton, "_diagram", spy)
    y = np.random.default_rng(4).random((500, 2))
    nu = np.full(500, 1 / 500)
    with_flips = _solve_newton(SQUARE, y, nu, tol=1e-10)
    assert seen and all(seen)
    seen.clear()
    with_hulls = _solve_newton(SQUARE, y, nu, tol=1e-10, flips=False)
    assert seen and not any(seen)
    assert with_flips.converged and with_hulls.converged
    np.testing.assert_array_equal(with_flips.history, with_hulls.history)
    np.testing.assert_array_equal(with_flips.h, with_hulls.h)


# ---------------------------------------------------------------- start and line search
def test_start_falls_back_from_a_bad_warm_start():
    y = np.random.default_rng(1).random((20, 2))
    half = 0.5 * np.einsum("ij,ij->i", y, y)
    bad = np.r_[100.0, np.zeros(19)]
    with pytest.warns(UserWarning, match="h0 leaves 19 empty cell"):
        pd, h0, warm = _newton._choose_start(SQUARE, y, y, half, bad)
    assert not warm and np.all(pd.masses > 0)
    np.testing.assert_array_equal(h0, -half)  # the Voronoi start
    pd2, h02, warm2 = _newton._choose_start(SQUARE, y, y, half, -half)
    assert warm2 and np.all(pd2.masses > 0)
    np.testing.assert_array_equal(h02, -half)  # a warm start taken as given


def test_line_search_full_step_and_kmt_rule():
    # two targets, the Newton direction of the exact 1D problem: the full step is accepted and
    # meets the masses (cells are strips, masses linear in h)
    y = np.array([[0.25, 0.5], [0.75, 0.5]])
    nu = np.array([0.25, 0.75])
    pd, _, _ = _newton._diagram(y, np.zeros(2), SQUARE)
    H = pd.hessian().toarray()
    d = np.zeros(2)
    d[1] = -(pd.masses - nu)[1] / H[1, 1]
    step = _line_search(y, SQUARE, np.zeros(2), d, pd, nu, 0.5 * min(pd.masses.min(), nu.min()), 1e-12)
    assert step.alpha == 1.0 and step.trials == 1
    np.testing.assert_allclose(step.diagram.masses, nu, rtol=1e-12)
    # a direction that only worsens the error is rejected at every step size
    assert _line_search(y, SQUARE, np.zeros(2), -d, pd, nu, 0.0, 1e-12) is None


# ---------------------------------------------------------------- targets solved in Z-order
@pytest.mark.parametrize("dim,case", [(2, "random"), (3, "random"), (2, "grid"), (2, "disk")])
def test_sorted_solve_answers_in_the_users_order(monkeypatch, dim, case):
    from geomot import power_diagram

    rng = np.random.default_rng(21)
    if case == "grid":
        g = (np.arange(30) + 0.5) / 30
        y = np.array([(a, b) for a in g for b in g])
    else:
        y = rng.random((1500, dim))
    y = y[rng.permutation(len(y))]
    n = len(y)
    nu = rng.uniform(0.5, 1.5, n)
    nu /= nu.sum()
    dom = Domain.disk([0.5, 0.5], 0.6) if case == "disk" else Domain.box(np.zeros(dim), np.ones(dim))
    plain = _solve_newton(dom, y, nu, tol=1e-10)
    monkeypatch.setattr(_newton, "_SORTED_MIN_N", 0)
    seen = []
    flipped = _newton._flipped_triangulation_path

    def spy(previous, previous_weights, yy, wphi):
        seen.append(yy.copy())
        return flipped(previous, previous_weights, yy, wphi)

    monkeypatch.setattr(_newton, "_flipped_triangulation_path", spy)
    srt = _solve_newton(dom, y, nu, tol=1e-10)
    # the solve did run on the targets in another (Z-) order ...
    assert seen and not np.allclose(seen[0], srt.frame.to_targets(y))
    # ... and answers in the user's order: the same transport as the plain solve
    assert plain.converged and srt.converged
    np.testing.assert_array_equal(srt.y, y)
    np.testing.assert_array_equal(srt.nu, nu)
    assert np.max(np.abs(srt.masses - nu) / nu) <= 1e-10 * 1.0001
    spread = np.ptp(plain.h)
    np.testing.assert_allclose(srt.h - srt.h.mean(), plain.h - plain.h.mean(), rtol=0, atol=1e-8 * spread)
    # its diagram is the user-order diagram of its weights (a new hull in the user's order)
    from geomot import power
    from geomot.frame import FramedDomain

    fresh = power._framed_diagram(FramedDomain.of(dom, srt.frame), srt.frame.to_targets(y), srt.frame_weights)
    np.testing.assert_array_equal(srt.diagram.masses, srt.masses)
    np.testing.assert_allclose(fresh.masses, srt.masses, rtol=0, atol=1e-13 * nu.max())
    # (world heights hold the cells to eps |y|^2 only: power_diagram(y, h) agrees less closely)
    np.testing.assert_allclose(power_diagram(y, srt.h, dom).masses, srt.masses, rtol=1e-9, atol=0)
    np.testing.assert_array_equal(fresh.triangulation.hidden, srt.diagram.triangulation.hidden)
    Hf, Hs = fresh.hessian().toarray(), srt.diagram.hessian().toarray()
    np.testing.assert_allclose(Hs, Hf, rtol=0, atol=1e-10 * np.abs(Hf).max())


def test_sorted_solve_returns_a_converged_warm_start_as_is(monkeypatch):
    y = np.random.default_rng(22).random((800, 2))
    nu = np.full(800, 1 / 800)
    first = _solve_newton(SQUARE, y, nu, tol=1e-10)
    monkeypatch.setattr(_newton, "_SORTED_MIN_N", 0)
    again = _solve_newton(SQUARE, y, nu, tol=1e-8, h0=first.h)
    assert again.iterations == 0 and again.converged
    np.testing.assert_array_equal(again.h, first.h)
