"""geomot._amg: the CSR smoothed-aggregation hierarchy, its V-cycle and its reuse."""

import numpy as np
import pyamg
import pytest
import scipy.sparse as sps
from pyamg.krylov import cg

from geomot import Domain, power_diagram
from geomot._amg import SA_OPTIONS, AMGCache, VCycle, sa_hierarchy
from geomot._start import _voronoi_start
from geomot.lifting import _morton_order


def laplacian_block(dim, n, seed):
    """A power diagram's Hessian (a weighted graph Laplacian) with node 0 pinned: SPD."""
    y = np.random.default_rng(seed).random((n, dim))
    pd = power_diagram(y, _voronoi_start(y), Domain.box(np.zeros(dim), np.ones(dim)))
    H = sps.csr_matrix(pd.hessian())
    o = _morton_order(y)
    o = o[o != 0]
    A = sps.csr_matrix(H[o][:, o])
    A.sort_indices()  # (pyamg aggregates in the stored order of the neighbours)
    return A


@pytest.mark.parametrize("dim,n", [(2, 3000), (3, 2000)])
def test_finest_level_equals_pyamg(dim, n):
    A = laplacian_block(dim, n, 1)
    ml = pyamg.smoothed_aggregation_solver(A, keep=True, **SA_OPTIONS)
    ops, prolongators, _ = sa_hierarchy(A)
    P = sps.csr_matrix(ml.levels[0].P)
    assert P.shape == prolongators[0].shape  # (explicit zeros may differ)
    assert abs(P - prolongators[0]).max() <= 1e-14 * abs(P).max()
    A1 = sps.csr_matrix(ml.levels[1].A)
    assert abs(A1 - ops[1]).max() <= 1e-13 * abs(A1).max()


@pytest.mark.parametrize("dim,n", [(2, 3000), (3, 2000)])
def test_hierarchy_is_galerkin_and_converges_like_pyamg(dim, n):
    A = laplacian_block(dim, n, 2)
    ops, prolongators, coarse_inverse = sa_hierarchy(A)
    assert 3 <= len(ops) <= SA_OPTIONS["max_levels"] and ops[-1].shape[0] <= SA_OPTIONS["max_coarse"]
    for Af, P, Ac in zip(ops[:-1], prolongators, ops[1:]):
        assert Ac.shape[0] < Af.shape[0]
        G = (P.T @ Af @ P).toarray()
        np.testing.assert_allclose(Ac.toarray(), G, rtol=0, atol=1e-13 * np.abs(G).max())
    np.testing.assert_allclose(coarse_inverse @ ops[-1].toarray(), np.eye(ops[-1].shape[0]), atol=1e-10)
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    its = {}
    for name, M in (("ours", VCycle.of(A).operator()),
                    ("pyamg", pyamg.smoothed_aggregation_solver(A, **SA_OPTIONS).aspreconditioner())):
        res = []
        x, info = cg(A, b, tol=1e-10, maxiter=200, M=M, residuals=res)
        assert info == 0 and np.linalg.norm(A @ x - b) <= 1e-9 * np.linalg.norm(b)
        its[name] = len(res) - 1
    assert its["ours"] <= 1.25 * its["pyamg"] + 2


def test_vcycle_is_symmetric_positive_definite():
    # forward Gauss-Seidel before, backward after: M is symmetric (CG needs it) and positive
    A = laplacian_block(2, 2000, 4)
    M = VCycle.of(A)
    assert M.levels >= 3
    rng = np.random.default_rng(5)
    u, v = rng.standard_normal((2, A.shape[0]))
    assert abs(u @ M(v) - v @ M(u)) <= 1e-11 * np.linalg.norm(u) * np.linalg.norm(M(v))
    assert u @ M(u) > 0 and v @ M(v) > 0
    # the cycle reduces the error of A x = b from x = 0: one application is a real correction
    x = M(A @ u)
    assert np.linalg.norm(A @ (x - u)) < 0.9 * np.linalg.norm(A @ u)


def test_single_level_is_the_coarse_solve():
    A = sps.csr_matrix(np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]]))
    M = VCycle.of(A)
    assert M.levels == 1
    b = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(A @ M(b), b, rtol=0, atol=1e-13)


def test_cache_keeps_then_rebuilds():
    A = laplacian_block(2, 2000, 6)
    cache = AMGCache()
    pinned = np.array([0])
    c1, fresh1 = cache.preconditioner(A, pinned)
    c2, fresh2 = cache.preconditioner(1.01 * A, pinned)
    assert fresh1 and not fresh2 and c1 is c2 and cache.setups == 1
    cache.record([1.0, 0.1, 0.01, 0.001], fresh=True)  # a fresh rate of 0.1 per iteration
    cache.record([1.0, 0.5, 0.25, 0.125], fresh=False)  # stale: 0.5 per iteration, > 1.5x slower
    assert cache.rebuild and cache.iterations == 6
    c3, fresh3 = cache.preconditioner(A, pinned)
    assert fresh3 and c3 is not c1 and cache.setups == 2
    _, fresh4 = cache.preconditioner(A, np.array([1]))  # other pinned nodes: a new hierarchy
    assert fresh4 and cache.setups == 3
