"""Tests of geomot.montecarlo: Monte-Carlo mass estimation and the Adam solver."""

import dataclasses
import sys

import numpy as np
import pytest

import geomot
from geomot.montecarlo import MonteCarloRun, count_cells, estimate_masses, noise_level, solve_montecarlo


class FakeClient:
    """The part of dask.distributed.Client that geomot uses: map + gather (runs inline)."""

    def __init__(self):
        self.calls = 0

    def map(self, func, *iterables, pure=True, **kwargs):  # (pure: a dask option, not the task's)
        self.calls += 1
        return [func(*args, **kwargs) for args in zip(*iterables)]

    def gather(self, futures):
        return list(futures)


@pytest.fixture
def fake_dask(monkeypatch):
    """Pretend dask.distributed is importable (it is an optional dependency)."""
    monkeypatch.setitem(sys.modules, "distributed", type(sys)("distributed"))
    return FakeClient()


# ------------------------------------------------------------------ estimation


def test_estimate_masses_known_answer():
    x = [[0.9, 0.0], [-1.0, 0.2], [2.0, 1.0], [0.0, 0.0]]
    y = [[1.0, 0.0], [-1.0, 0.0]]
    # x = 0 is a tie: the smallest index wins
    np.testing.assert_array_equal(count_cells(x, y, [0.0, 0.0]), [3.0, 1.0])
    np.testing.assert_array_equal(estimate_masses(x, y, [0.0, 0.0]), [0.75, 0.25])
    # raising h_1 by 2.5 moves the boundary to x_0 = -1.25: every sample goes to target 1
    np.testing.assert_array_equal(estimate_masses(x, y, [0.0, 2.5]), [0.25, 0.75])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_estimate_masses_uniform_box_halves(backend):
    # box [0,1]^2, targets (0,.5), (1,.5), h1 - h2 = 0.3: boundary x_0 = 0.3
    x = geomot.Domain.box([0, 0], [1, 1]).sample(200000, seed=0)
    m = estimate_masses(x, [[0.0, 0.5], [1.0, 0.5]], [0.15, -0.15], backend=backend)
    np.testing.assert_allclose(m, [0.3, 0.7], atol=4 * np.sqrt(0.21 / 200000))
    np.testing.assert_allclose(m.sum(), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(m, np.mean(x[:, 0] <= 0.3) * np.array([1, 0]) + np.mean(x[:, 0] > 0.3) * np.array([0, 1]))


def test_fake_client_gives_identical_counts(fake_dask):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10007, 4))
    y = rng.normal(size=(37, 4))
    h = rng.normal(size=37)
    plain = count_cells(x, y, h)
    for n_chunks in (1, 3, 16):
        dist = count_cells(x, y, h, client=fake_dask, n_chunks=n_chunks)
        np.testing.assert_array_equal(dist, plain)
    assert fake_dask.calls == 3
    np.testing.assert_array_equal(count_cells(x, y, h, backend="numba", client=fake_dask), plain)
    assert plain.sum() == 10007


def test_client_without_dask_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    box = geomot.Domain.box([0, 0], [1, 1])
    with pytest.raises(ImportError, match="dask.distributed"):
        count_cells([[0.0, 0.0]], [[1.0, 0.0]], [0.0], client=FakeClient())
    with pytest.raises(ImportError, match="pip install"):
        solve_montecarlo(box, [[0.0, 0.0], [1.0, 1.0]], client=FakeClient(), max_iter=1)


def test_client_must_have_map_and_gather(fake_dask):
    with pytest.raises(ValueError, match="client must be"):
        count_cells([[0.0, 0.0]], [[1.0, 0.0]], [0.0], client=object())


def test_noise_level():
    np.testing.assert_allclose(noise_level([0.5, 0.5], 10000), 0.01, rtol=1e-14)
    np.testing.assert_allclose(noise_level([1, 3], 300), np.sqrt(0.25 * 0.75 / 300) / 0.25, rtol=1e-14)


# ------------------------------------------------------------------ solver


def test_two_targets_known_boundary():
    box = geomot.Domain.box([0, 0], [1, 1])
    run = solve_montecarlo(box, [[0.0, 0.5], [1.0, 0.5]], [0.3, 0.7], seed=0, tol=2e-2)
    assert isinstance(run, MonteCarloRun)
    assert run.converged
    assert run.history.shape == (run.iterations,)
    assert run.history[-1] <= 2e-2 and run.history[0] > 2e-2
    # exact solution: boundary x_0 = 0.3  <=>  h_0 - h_1 = 0.3
    np.testing.assert_allclose(run.h[0] - run.h[1], 0.3, atol=0.02)
    np.testing.assert_allclose(run.h.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(run.masses, [0.3, 0.7], atol=0.3 * 2e-2 + 1e-12)


def test_four_symmetric_targets_give_symmetric_heights():
    box = geomot.Domain.box([-1, -1], [1, 1])
    y = 0.5 * np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    h0 = np.array([0.3, -0.2, 0.25, -0.35])  # start far from the solution h = 0
    run = solve_montecarlo(box, y, h0=h0, seed=1, tol=2e-2)
    assert run.converged and run.iterations > 1
    assert np.max(np.abs(run.masses / 0.25 - 1)) <= 2e-2
    np.testing.assert_allclose(run.h, np.zeros(4), atol=0.03)


def test_five_dimensional_box_targets_on_axes():
    d = 5
    box = geomot.Domain.box(-np.ones(d), np.ones(d))
    y = np.concatenate([np.eye(d), -np.eye(d)])
    h0 = np.linspace(-0.3, 0.3, 2 * d)
    run = solve_montecarlo(box, y, h0=h0, seed=2, tol=0.06, n_samples=50000, backend="numba")
    assert run.converged
    np.testing.assert_allclose(run.h, np.zeros(2 * d), atol=0.04)
    np.testing.assert_allclose(run.masses, np.full(2 * d, 0.1), atol=0.1 * 0.06 + 1e-12)


def test_numpy_and_numba_backends_give_the_same_run():
    box = geomot.Domain.box([0, 0, 0], [1, 2, 1])
    y = np.random.default_rng(3).random((6, 3))
    a = solve_montecarlo(box, y, seed=4, tol=0.1, n_samples=20000, backend="numpy")
    b = solve_montecarlo(box, y, seed=np.random.default_rng(4), tol=0.1, n_samples=20000, backend="numba")
    assert a.iterations == b.iterations
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.h, b.h)


def test_fake_client_solver_identical(fake_dask):
    box = geomot.Domain.box([0, 0], [1, 1])
    y = [[0.2, 0.2], [0.8, 0.3], [0.5, 0.9]]
    a = solve_montecarlo(box, y, seed=5, tol=0.05, n_samples=20000)
    b = solve_montecarlo(box, y, seed=5, tol=0.05, n_samples=20000, client=fake_dask)
    np.testing.assert_array_equal(a.h, b.h)
    np.testing.assert_array_equal(a.history, b.history)
    assert fake_dask.calls == b.iterations


def test_max_iter_reached_is_reported():
    box = geomot.Domain.box([0, 0], [1, 1])
    with pytest.warns(RuntimeWarning, match="did not converge in max_iter=3"):
        run = solve_montecarlo(box, [[0.0, 0.5], [1.0, 0.5]], [0.13, 0.87], seed=6, max_iter=3, tol=1e-2)
    assert not run.converged
    assert run.iterations == 3 and run.history.shape == (3,)
    assert run.history[-1] > 1e-2


def test_tol_below_noise_warns():
    box = geomot.Domain.box([0, 0], [1, 1])
    with pytest.warns(RuntimeWarning) as rec:
        run = solve_montecarlo(box, [[0.0, 0.5], [1.0, 0.5]], seed=7, tol=1e-4, n_samples=1000, max_iter=2)
    messages = [str(w.message) for w in rec]
    assert any("below the Monte-Carlo noise level 0.0316" in m and "n_samples >= 100000000" in m for m in messages)
    assert any("did not converge" in m for m in messages)
    assert not run.converged


def test_reproducible_and_progress_bar(capsys):
    box = geomot.Domain.box([0, 0], [1, 1])
    y = [[0.1, 0.1], [0.9, 0.9]]
    a = solve_montecarlo(box, y, [0.4, 0.6], seed=8, tol=0.05, n_samples=5000)
    b = solve_montecarlo(box, y, [0.4, 0.6], seed=8, tol=0.05, n_samples=5000, progress=True)
    np.testing.assert_array_equal(a.h, b.h)
    assert "Monte-Carlo OT" in capsys.readouterr().err


def test_result_is_frozen_and_inputs_not_mutated():
    box = geomot.Domain.box([0, 0], [1, 1])
    y = np.array([[0.0, 0.5], [1.0, 0.5]])
    nu = np.array([2.0, 3.0])
    h0 = np.array([0.1, 0.4])
    copies = y.copy(), nu.copy(), h0.copy()
    run = solve_montecarlo(box, y, nu, h0=h0, seed=9, tol=0.05, n_samples=20000)
    for a, c in zip((y, nu, h0), copies):
        np.testing.assert_array_equal(a, c)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.h = None
    with pytest.raises(ValueError):
        run.h[0] = 1.0
    # nu normalised: [0.4, 0.6]
    np.testing.assert_allclose(run.masses, [0.4, 0.6], atol=0.4 * 0.05 + 1e-12)


def test_bad_input_raises_value_error():
    box = geomot.Domain.box([0, 0], [1, 1])
    y = np.array([[0.0, 0.5], [1.0, 0.5]])
    with pytest.raises(ValueError, match="y contains NaN"):
        solve_montecarlo(box, [[0.0, np.nan], [1.0, 0.5]])
    with pytest.raises(ValueError, match="y must have 2 columns"):
        solve_montecarlo(box, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="nu must have length 2"):
        solve_montecarlo(box, y, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="nu must be > 0"):
        solve_montecarlo(box, y, [1.0, 0.0])
    with pytest.raises(ValueError, match="h0 must have length 2"):
        solve_montecarlo(box, y, h0=[0.0])
    with pytest.raises(ValueError, match="tol"):
        solve_montecarlo(box, y, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        solve_montecarlo(box, y, max_iter=0)
    with pytest.raises(ValueError, match="n_samples"):
        solve_montecarlo(box, y, n_samples=2.5)
    with pytest.raises(ValueError, match="lr"):
        solve_montecarlo(box, y, lr=-1.0)
    with pytest.raises(ValueError, match="seed"):
        solve_montecarlo(box, y, seed="abc")
    with pytest.raises(ValueError, match="domain must be"):
        solve_montecarlo([[0, 0], [1, 1]], y)
    with pytest.raises(ValueError, match="backend must be one of"):
        solve_montecarlo(box, y, backend="tensorflow")
    with pytest.raises(ValueError, match="x must have 2 columns"):
        estimate_masses(np.zeros((4, 3)), y, [0.0, 0.0])
    with pytest.raises(ValueError, match="h must have length 2"):
        estimate_masses(np.zeros((4, 2)), y, [0.0])
    with pytest.raises(ValueError, match="x contains NaN"):
        estimate_masses([[np.nan, 0.0]], y, [0.0, 0.0])


def test_unavailable_backend_is_named(monkeypatch):
    from geomot import _backend

    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(_backend, "_INSTANCES", {})
    box = geomot.Domain.box([0, 0], [1, 1])
    with pytest.raises(ImportError, match="backend 'cupy' is not available"):
        solve_montecarlo(box, [[0.0, 0.5], [1.0, 0.5]], backend="cupy")
    with pytest.raises(ValueError, match="'cupy'"):
        estimate_masses([[0.0, 0.0]], [[1.0, 0.0]], [0.0], backend="cupy")


@pytest.mark.gpu
def test_cupy_solver_matches_numpy():
    pytest.importorskip("cupy")
    from geomot._backend import get_backend

    try:
        get_backend(name="cupy")
    except ImportError as exc:
        pytest.skip(str(exc))
    box = geomot.Domain.box(-np.ones(8), np.ones(8))
    y = np.random.default_rng(10).normal(size=(50, 8))
    a = solve_montecarlo(box, y, seed=11, tol=0.5, n_samples=50000, backend="numpy", max_iter=300)
    b = solve_montecarlo(box, y, seed=11, tol=0.5, n_samples=50000, backend="cupy", max_iter=300)
    assert b.converged
    np.testing.assert_allclose(b.h, a.h, atol=1e-9)


def test_heights_match_the_exact_power_diagram():
    power = pytest.importorskip("geomot.power")
    box = geomot.Domain.box([0, 0], [2, 1])
    rng = np.random.default_rng(12)
    y = rng.random((8, 2)) * [4.0, 1.0] + [3.0, 0.5]  # far to the right: large displacement
    nu = rng.random(8) + 0.5
    nu = nu / nu.sum()
    run = solve_montecarlo(box, y, nu, seed=13, tol=0.06, n_samples=50_000)
    assert run.converged
    exact = power.power_diagram(y, run.h, box).masses
    # the exact masses at the Monte-Carlo heights are within the tolerance plus the noise
    np.testing.assert_array_less(np.abs(exact - nu) / nu, 0.06 + 4 * noise_level(nu, 50_000))


def test_run_pickle_round_trip():
    import pickle

    run = MonteCarloRun(h=[0.5, -0.5], masses=[0.25, 0.75], converged=True, iterations=3, history=[1.0, 0.5, 0.01])
    back = pickle.loads(pickle.dumps(run))
    np.testing.assert_array_equal(back.h, [0.5, -0.5])
    np.testing.assert_array_equal(back.history, [1.0, 0.5, 0.01])
    assert back.converged is True and back.iterations == 3
    assert not back.h.flags.writeable and not back.masses.flags.writeable


@pytest.mark.slow
def test_twenty_dimensional_cube_to_corners():
    d = 20
    box = geomot.Domain.box(-np.ones(d), np.ones(d))
    y = np.concatenate([np.eye(d), -np.eye(d)]) * 2.0
    run = solve_montecarlo(box, y, h0=np.linspace(-1, 1, 2 * d), seed=14, tol=0.15, n_samples=200_000,
                           backend="numba")
    assert run.converged
    np.testing.assert_allclose(run.h, np.zeros(2 * d), atol=0.1)


def test_default_start_is_the_voronoi_diagram_of_the_matched_targets():
    from geomot.montecarlo import _default_h0, _matched_sites

    box = geomot.Domain.box([0, 0], [2, 1])
    y = np.random.default_rng(15).random((30, 2)) * 5 + 10  # far from the source
    h0 = _default_h0(box, y, np.random.default_rng(16), 5000)
    # the same sample gives the sites: the cells of (y, h0) are their Voronoi cells
    xs = box.sample(5000, seed=np.random.default_rng(16))
    z, s = _matched_sites(xs, y)
    np.testing.assert_allclose(s, 0.9 * xs[:, 1].std() / y[:, 1].std(), rtol=1e-14)  # narrowest axis
    assert box.contains(z).all()
    x = box.sample(3000, seed=17)
    voronoi = np.argmin(np.sum((x[:, None, :] - z[None]) ** 2, axis=2), axis=1)
    np.testing.assert_array_equal(np.argmax(x @ y.T + h0, axis=1), voronoi)
    assert _matched_sites(xs, np.ones((4, 2)))[0] is None
    # every cell starts with mass, unlike h = 0 (only the hull corners of y own cells)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        default = solve_montecarlo(box, y, seed=18, max_iter=1, n_samples=20000, tol=0.2)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        flat = solve_montecarlo(box, y, seed=18, max_iter=1, n_samples=20000, tol=0.2, h0=np.zeros(30))
    assert np.all(default.masses > 0)
    assert np.sum(flat.masses == 0) >= 15
    assert default.history[0] < 0.5 * flat.history[0]
