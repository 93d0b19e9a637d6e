"""Tests of geomot._backend: the argmax / count kernels on every backend."""

import sys

import numpy as np
import pytest

from geomot import _backend
from geomot._backend import (
    BackendUnavailableError,
    argmax_scores_loop,
    argmax_scores_xp,
    available_backends,
    block_shape,
    get_backend,
)


def _random(N=3000, n=97, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, d)), rng.normal(size=(n, d)), rng.normal(size=n)


def _reference(x, y, h):
    s = x @ y.T + h
    return np.argmax(s, axis=1), s.max(axis=1)


def _grid_ties():
    """Dyadic grid: every score is exact, many points are equidistant to several targets."""
    g = np.arange(-4, 5) / 4.0
    y = np.array([[a, b] for a in g[::2] for b in g[::2]])  # 25 targets, spacing 1/2
    h = -0.5 * np.sum(y**2, axis=1)  # Voronoi diagram: argmax = nearest target
    x = np.array([[a, b] for a in g for b in g])  # 81 points, many on cell boundaries
    return x, y, h


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_argmax_matches_full_matrix(name):
    x, y, h = _random()
    be = get_backend(name=name)
    i, v = be.argmax_scores(x, y, h)
    ri, rv = _reference(x, y, h)
    assert i.dtype == np.int64 and v.dtype == np.float64
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_allclose(v, rv, rtol=1e-13, atol=1e-13)


def test_numba_kernel_equals_numpy_twin_bitwise():
    x, y, h = _random(N=2000, n=50, d=4, seed=3)
    i1, v1 = get_backend(name="numba").argmax_scores(x, y, h)
    i2, v2 = argmax_scores_loop(x, y, h)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(v1, v2)


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_ties_on_a_grid_go_to_the_smallest_index(name):
    x, y, h = _grid_ties()
    s = x @ y.T + h
    # the test must contain ties: points with several maximisers
    assert np.sum(np.sum(s == s.max(axis=1, keepdims=True), axis=1) > 1) >= 20
    i, v = get_backend(name=name).argmax_scores(x, y, h)
    np.testing.assert_array_equal(i, np.argmax(s, axis=1))
    np.testing.assert_array_equal(v, s.max(axis=1))
    i2, _ = argmax_scores_loop(x, y, h)
    np.testing.assert_array_equal(i2, i)


def test_xp_generic_kernel_with_numpy_module_and_tiny_budget():
    # the CuPy path is this function with xp = cupy
    x, y, h = _random(N=500, n=41, d=2, seed=5)
    ri, rv = _reference(x, y, h)
    for budget in (8, 8 * 7, 8 * 41, 8 * 41 * 3 + 5, None):
        i, v = argmax_scores_xp(np, x, y, h, memory_budget=budget)
        np.testing.assert_array_equal(i, ri)
        np.testing.assert_allclose(v, rv, rtol=1e-13, atol=1e-13)
    # ties survive column blocks
    x, y, h = _grid_ties()
    i, _ = argmax_scores_xp(np, x, y, h, memory_budget=8 * 3)
    np.testing.assert_array_equal(i, np.argmax(x @ y.T + h, axis=1))


def test_block_shape_respects_budget():
    assert block_shape(10**6, 1000, memory_budget=8 * 10**5) == (100, 1000)
    assert block_shape(10, 1000, memory_budget=8 * 10**5) == (10, 1000)
    assert block_shape(10**6, 1000, memory_budget=80) == (1, 10)
    assert block_shape(5, 5, memory_budget=1) == (1, 1)
    r, c = block_shape(12345, 678, memory_budget=2**20)
    assert r * c * 8 <= 2**20 and c == 678
    with pytest.raises(ValueError, match="memory_budget"):
        block_shape(3, 3, memory_budget=0)
    with pytest.raises(ValueError, match="memory_budget"):
        block_shape(3, 3, memory_budget="lots")


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_single_target(name):
    x, y, h = _random(N=100, n=1, d=2, seed=7)
    i, v = get_backend(name=name).argmax_scores(x, y, h)
    np.testing.assert_array_equal(i, np.zeros(100, dtype=np.int64))
    np.testing.assert_allclose(v, x @ y[0] + h[0], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_cell_masses(name):
    be = get_backend(name=name)
    idx = np.array([0, 2, 2, 4, 2], dtype=np.int64)
    np.testing.assert_array_equal(be.cell_masses(idx, 6), [1.0, 0.0, 3.0, 0.0, 1.0, 0.0])
    w = np.array([0.5, 1.0, 2.0, 0.25, 0.125])
    np.testing.assert_allclose(be.cell_masses(idx, 5, w), [0.5, 0.0, 3.125, 0.0, 0.25], rtol=0, atol=1e-15)


def test_inputs_not_mutated():
    x, y, h = _random(N=200, n=10, d=3, seed=9)
    copies = [a.copy() for a in (x, y, h)]
    for name in ("numpy", "numba"):
        get_backend(name=name).argmax_scores(x, y, h, memory_budget=64)
    for a, c in zip((x, y, h), copies):
        np.testing.assert_array_equal(a, c)


def test_get_backend_names_and_errors():
    assert get_backend().name == "numpy"
    assert get_backend(np.zeros(3)).name == "numpy"
    assert get_backend(name="NumPy").name == "numpy"
    assert get_backend(name="numba").name == "numba"
    be = get_backend(name="numpy")
    assert get_backend(name=be) is be
    assert {"numpy", "numba"} <= set(available_backends())
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend(name="torch")
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend(name=3)


def test_cupy_unavailable_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    monkeypatch.delenv("GEOMOT_DISABLE_CUPY", raising=False)
    monkeypatch.setattr(_backend, "_INSTANCES", {})
    with pytest.raises(ImportError, match="backend 'cupy' is not available: CuPy is not installed"):
        get_backend(name="cupy")
    with pytest.raises(ValueError, match="'cupy'"):
        get_backend(name="cupy")
    # a CuPy array selects the CuPy backend
    fake_type = type("ndarray", (), {"__module__": "cupy._core.core"})
    with pytest.raises(BackendUnavailableError, match="cupy"):
        get_backend(np.zeros(2), fake_type())


def test_cupy_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("GEOMOT_DISABLE_CUPY", "1")
    with pytest.raises(ImportError, match="GEOMOT_DISABLE_CUPY"):
        get_backend(name="cupy")
    monkeypatch.setenv("GEOMOT_DISABLE_CUPY", "0")
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(_backend, "_INSTANCES", {})
    with pytest.raises(ImportError, match="CuPy is not installed"):
        get_backend(name="cupy")


def test_numba_unavailable_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setattr(_backend, "_INSTANCES", {})
    with pytest.raises(ImportError, match="backend 'numba' is not available"):
        get_backend(name="numba")


def test_auto_takes_the_fastest_cpu_backend_that_runs(monkeypatch):
    from geomot._backend import BACKEND_CHOICES, CPU_PREFERENCE

    assert CPU_PREFERENCE[0] == "numba" and "auto" in BACKEND_CHOICES
    assert get_backend(name="auto") is get_backend(name="numba")
    assert get_backend(np.zeros(3), name="Auto").name == "numba"
    # without numba, "auto" falls back to numpy (no error), while "numba" still names itself
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setattr(_backend, "_INSTANCES", {})
    assert get_backend(name="auto").name == "numpy"
    with pytest.raises(ImportError, match="backend 'numba' is not available"):
        get_backend(name="numba")
    # a CuPy array makes "auto" ask for CuPy (which is not installed here: the error names it)
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.delenv("GEOMOT_DISABLE_CUPY", raising=False)
    fake_type = type("ndarray", (), {"__module__": "cupy._core.core"})
    with pytest.raises(BackendUnavailableError, match="backend 'cupy' is not available"):
        get_backend(np.zeros(2), fake_type(), name="auto")


def test_cupy_backend_logic_with_a_numpy_standin(monkeypatch):
    # CupyBackend only relies on the xp module: run it with numpy as a stand-in module
    be = _backend.CupyBackend(np)
    x, y, h = _random(N=300, n=20, d=3, seed=11)
    i, v = be.argmax_scores(be.asarray(x), be.asarray(y), be.asarray(h), memory_budget=8 * 20 * 7)
    ri, rv = _reference(x, y, h)
    np.testing.assert_array_equal(be.to_numpy(i), ri)
    np.testing.assert_allclose(be.to_numpy(v), rv, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(be.to_numpy(be.cell_masses(i, 20)), np.bincount(ri, minlength=20))


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cupy = pytest.importorskip("cupy")
    try:
        be = get_backend(name="cupy")
    except ImportError as exc:
        pytest.skip(str(exc))
    x, y, h = _random(N=20000, n=300, d=8, seed=13)
    i, v = be.argmax_scores(be.asarray(x), be.asarray(y), be.asarray(h), memory_budget=2**20)
    assert isinstance(i, cupy.ndarray)
    assert get_backend(i).name == "cupy"
    ri, rv = _reference(x, y, h)
    np.testing.assert_array_equal(be.to_numpy(i), ri)
    np.testing.assert_allclose(be.to_numpy(v), rv, rtol=1e-12, atol=1e-12)
    xg, yg, hg = _grid_ties()
    ig, _ = be.argmax_scores(be.asarray(xg), be.asarray(yg), be.asarray(hg))
    np.testing.assert_array_equal(be.to_numpy(ig), np.argmax(xg @ yg.T + hg, axis=1))


def test_values_bitwise_equal_across_backends_and_budgets():
    x, y, h = _random(N=700, n=33, d=3, seed=21)
    ref_i, ref_v = argmax_scores_loop(x, y, h)
    for budget in (8, 8 * 5, 8 * 33 * 2, None):
        i, v = argmax_scores_xp(np, x, y, h, memory_budget=budget)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_array_equal(v, ref_v)
    i, v = get_backend(name="numba").argmax_scores(x, y, h)
    np.testing.assert_array_equal(v, ref_v)


def test_numba_backend_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    x, y, h = _random(N=4000, n=60, d=3, seed=23)
    ref_i, ref_v = argmax_scores_loop(x, y, h)
    be = get_backend(name="numba")
    chunks = np.array_split(np.arange(4000), 8)
    with ThreadPoolExecutor(max_workers=4) as pool:
        out = list(pool.map(lambda c: be.argmax_scores(np.ascontiguousarray(x[c]), y, h), chunks))
    np.testing.assert_array_equal(np.concatenate([o[0] for o in out]), ref_i)
    np.testing.assert_array_equal(np.concatenate([o[1] for o in out]), ref_v)


def test_public_argmax_scores_and_cell_masses():
    idx, val = _backend.argmax_scores([[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.5])
    np.testing.assert_array_equal(idx, [0, 1])
    np.testing.assert_array_equal(val, [2.0, 1.5])
    x, y, h = _random(N=300, n=11, d=2, seed=25)
    i1, v1 = _backend.argmax_scores(x, y, h, backend="numba")
    i2, v2 = _backend.argmax_scores(x.tolist(), y, h, memory_budget=16)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(v1, v2)
    assert _backend.argmax_scores(np.zeros((0, 2)), y, h)[0].shape == (0,)
    np.testing.assert_array_equal(_backend.cell_masses([0, 2, 2], 4), [1.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(_backend.cell_masses([1, 1], 2, weights=[0.5, 0.25]), [0.0, 0.75])
    np.testing.assert_array_equal(_backend.cell_masses([], 3), [0.0, 0.0, 0.0])


def test_public_functions_reject_bad_input():
    y = np.eye(2)
    with pytest.raises(ValueError, match="x must have 2 columns"):
        _backend.argmax_scores(np.zeros((3, 3)), y, [0.0, 0.0])
    with pytest.raises(ValueError, match="h must have length 2"):
        _backend.argmax_scores(np.zeros((3, 2)), y, [0.0])
    with pytest.raises(ValueError, match="y contains NaN"):
        _backend.argmax_scores(np.zeros((3, 2)), [[np.nan, 0.0]], [0.0])
    with pytest.raises(ValueError, match="backend must be one of"):
        _backend.argmax_scores(np.zeros((3, 2)), y, [0.0, 0.0], backend="jax")
    with pytest.raises(ValueError, match=r"index must lie in \[0, 3\)"):
        _backend.cell_masses([0, 3], 3)
    with pytest.raises(ValueError, match="index must lie"):
        _backend.cell_masses([-1], 3)
    with pytest.raises(ValueError, match="integers"):
        _backend.cell_masses([0.5], 3)
    with pytest.raises(ValueError, match="weights must have the shape"):
        _backend.cell_masses([0, 1], 3, weights=[1.0])
    with pytest.raises(ValueError, match="n must be"):
        _backend.cell_masses([0], 0)


def test_device_input_validation_with_numpy_standin():
    be = _backend.CupyBackend(np)
    x, y, h = _backend._validated_device_inputs(be, [[1.0, 2.0]], [[0.0, 1.0]], [0.5])
    assert x.shape == (1, 2) and y.shape == (1, 2) and h.shape == (1,)
    with pytest.raises(ValueError, match="x must be an"):
        _backend._validated_device_inputs(be, [[1.0, 2.0, 3.0]], [[0.0, 1.0]], [0.5])
    with pytest.raises(ValueError, match="h must have length 1"):
        _backend._validated_device_inputs(be, [[1.0, 2.0]], [[0.0, 1.0]], [0.5, 1.0])
    with pytest.raises(ValueError, match="x contains NaN"):
        _backend._validated_device_inputs(be, [[np.inf, 2.0]], [[0.0, 1.0]], [0.5])


# ------------------------------------------------------------------ top two (the Monte-Carlo Hessian)
from geomot._backend import top2_scores_loop, top2_scores_xp  # noqa: E402


def _same(a, b):
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("shape", [(500, 41, 3), (300, 1, 2), (200, 2, 4), (64, 7, 16)])
def test_top2_matches_the_reference_loop_for_every_budget_and_backend(shape):
    N, n, d = shape
    x, y, h = _random(N=N, n=n, d=d, seed=31)
    ref = top2_scores_loop(x, y, h)
    assert np.all(ref[3] >= 0) and (n > 1 or np.all(np.isinf(ref[3])))
    full = x @ y.T + h
    np.testing.assert_array_equal(ref[0], np.argmax(full, axis=1))
    if n > 1:
        masked = full.copy()
        masked[np.arange(N), ref[0]] = -np.inf
        np.testing.assert_array_equal(ref[1], np.argmax(masked, axis=1))
    for budget in (8, 16, 8 * 5, 8 * n * 3 + 5, None):  # column blocks of 1, 2, 5 targets; row blocks
        _same(top2_scores_xp(np, x, y, h, memory_budget=budget), ref)
        _same(get_backend(name="numba").top2_scores(x, y, h, memory_budget=budget), ref)
        _same(get_backend(name="numpy").top2_scores(x, y, h, memory_budget=budget), ref)


def test_top2_ties_go_to_the_smallest_indices():
    x, y, h = _grid_ties()
    ref = top2_scores_loop(x, y, h)
    assert np.sum(ref[3] == 0) >= 20  # the grid has points on facets: zero gaps
    for budget in (8, 24, None):
        _same(top2_scores_xp(np, x, y, h, memory_budget=budget), ref)
    _same(get_backend(name="numba").top2_scores(x, y, h), ref)
    s = x @ y.T + h
    for p in np.flatnonzero(ref[3] == 0):
        tied = np.flatnonzero(s[p] == s[p].max())
        assert ref[0][p] == tied[0] and ref[1][p] == tied[1]


def test_numba_argmax_uses_blas_blocks_and_keeps_the_loop_values():
    # the numba backend: BLAS score blocks, one compiled pass; values in the loop's fixed order
    x, y, h = _random(N=3000, n=257, d=16, seed=33)
    i, v = get_backend(name="numba").argmax_scores(x, y, h, memory_budget=8 * 257 * 100)
    ri, rv = argmax_scores_loop(x, y, h)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(v, rv)


def test_uniform_draws_with_the_backend_module():
    be = _backend.CupyBackend(np)  # numpy stand-in for the device module
    a = be.uniform(5, 1000, [0.0, 10.0, -1.0], [1.0, 12.0, 1.0])
    b = be.uniform(5, 1000, [0.0, 10.0, -1.0], [1.0, 12.0, 1.0])
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1000, 3)
    assert np.all(a >= [0, 10, -1]) and np.all(a <= [1, 12, 1])
    np.testing.assert_array_equal(a, np.array([0.0, 10.0, -1.0]) + np.random.default_rng(5).random((1000, 3))
                                  * np.array([1.0, 2.0, 2.0]))
