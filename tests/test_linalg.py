"""The AMG-CG pieces of geomot._linalg: the CSR V-cycle and the locality order of the unknowns."""

import numpy as np
import pyamg
import pytest
import scipy.sparse as sps

from geomot import Domain, power_diagram
from geomot._linalg import _SA_OPTIONS, _AMGCache, _amg_preconditioner, _solve_laplacian, _VCycle
from geomot._start import _voronoi_start
from geomot.lifting import _morton_order


def _laplacian_block(dim, n, seed):
    """A power diagram's Hessian (a weighted graph Laplacian), node 0 pinned: an SPD block."""
    y = np.random.default_rng(seed).random((n, dim))
    pd = power_diagram(y, _voronoi_start(y), Domain.box(np.zeros(dim), np.ones(dim)))
    H = sps.csr_matrix(pd.hessian())
    return y, H, sps.csr_matrix(H[1:][:, 1:])


@pytest.mark.parametrize("dim,n", [(2, 3000), (3, 2000)])
def test_vcycle_equals_pyamg_cycle(dim, n):
    # the same hierarchy: our CSR cycle and pyamg's own preconditioner give the same vector
    _, _, A = _laplacian_block(dim, n, 1)
    ml = pyamg.smoothed_aggregation_solver(A, **_SA_OPTIONS)
    assert len(ml.levels) >= 3  # a real multilevel cycle, not a coarse solve
    b = np.random.default_rng(2).standard_normal(A.shape[0])
    ours = _VCycle(ml)(b)
    theirs = ml.aspreconditioner(cycle="V") @ b
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * np.abs(theirs).max())


def test_vcycle_is_symmetric_positive_definite():
    # forward Gauss-Seidel before, backward after: M is symmetric (CG needs it) and positive
    _, _, A = _laplacian_block(2, 2000, 3)
    M = _amg_preconditioner(A)
    rng = np.random.default_rng(4)
    u, v = rng.standard_normal((2, A.shape[0]))
    assert abs(u @ M(v) - v @ M(u)) <= 1e-11 * np.linalg.norm(u) * np.linalg.norm(M(v))
    assert u @ M(u) > 0 and v @ M(v) > 0
    # the default symmetric sweeps would be symmetric too; a forward sweep twice is not
    ml = pyamg.smoothed_aggregation_solver(A, **dict(_SA_OPTIONS, postsmoother=("gauss_seidel", {"sweep": "forward"})))
    N = _VCycle(ml)
    assert abs(u @ N(v) - v @ N(u)) > 1e-6 * np.linalg.norm(u) * np.linalg.norm(N(v))


def test_single_level_hierarchy_is_the_coarse_solve():
    A = sps.csr_matrix(np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]]))
    M = _amg_preconditioner(A)
    b = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(A @ M(b), b, rtol=0, atol=1e-13)


@pytest.mark.parametrize("dim,n", [(2, 4000), (3, 3000)])
def test_locality_order_solves_the_same_system(dim, n):
    # AMG-CG with the unknowns along a Z-order curve solves the same system as the direct LU
    y, H, _ = _laplacian_block(dim, n, 5)
    rhs = np.random.default_rng(6).standard_normal(n)
    rhs -= rhs.mean()
    d_lu, _ = _solve_laplacian(H, rhs, "direct", 0.0)
    order = _morton_order(y)
    cache = _AMGCache()
    d_amg, ncomp = _solve_laplacian(H, rhs, "amg", 1e-12, order, cache)
    assert ncomp == 1 and cache.setups == 1 and cache.iterations >= 2
    np.testing.assert_allclose(H @ d_amg, rhs, rtol=0, atol=1e-10 * np.abs(rhs).max())
    np.testing.assert_allclose(d_amg - d_amg.mean(), d_lu - d_lu.mean(), rtol=0, atol=1e-8 * np.abs(d_lu).max())
    # the kept hierarchy is reused for the next, nearby system
    d2, _ = _solve_laplacian(H, 2.0 * rhs, "amg", 1e-12, order, cache)
    assert cache.setups == 1
    np.testing.assert_allclose(d2, 2.0 * d_amg, rtol=0, atol=1e-8 * np.abs(d_amg).max())
