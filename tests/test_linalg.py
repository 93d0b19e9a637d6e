"""geomot._linalg: Laplacian solves of the Newton steps, with the unknowns in a locality order."""

import numpy as np
import pytest
import scipy.sparse as sps

from geomot import Domain, power_diagram
from geomot._amg import AMGCache
from geomot._linalg import _solve_laplacian
from geomot._start import _voronoi_start
from geomot.lifting import _morton_order


@pytest.mark.parametrize("dim,n", [(2, 4000), (3, 3000)])
def test_locality_order_solves_the_same_system(dim, n):
    # AMG-CG with the unknowns along a Z-order curve solves the same system as the direct LU
    y = np.random.default_rng(5).random((n, dim))
    H = sps.csr_matrix(power_diagram(y, _voronoi_start(y), Domain.box(np.zeros(dim), np.ones(dim))).hessian())
    rhs = np.random.default_rng(6).standard_normal(n)
    rhs -= rhs.mean()
    d_lu, _ = _solve_laplacian(H, rhs, "direct", 0.0)
    order = _morton_order(y)
    cache = AMGCache()
    d_amg, ncomp = _solve_laplacian(H, rhs, "amg", 1e-12, order, cache)
    assert ncomp == 1 and cache.setups == 1 and cache.iterations >= 2
    np.testing.assert_allclose(H @ d_amg, rhs, rtol=0, atol=1e-10 * np.abs(rhs).max())
    np.testing.assert_allclose(d_amg - d_amg.mean(), d_lu - d_lu.mean(), rtol=0, atol=1e-8 * np.abs(d_lu).max())
    # the kept hierarchy is reused for the next, nearby system
    d2, _ = _solve_laplacian(H, 2.0 * rhs, "amg", 1e-12, order, cache)
    assert cache.setups == 1
    np.testing.assert_allclose(d2, 2.0 * d_amg, rtol=0, atol=1e-8 * np.abs(d_amg).max())
    # without a cache (a fresh hierarchy) and in the natural order: the same solution
    d3, _ = _solve_laplacian(H, rhs, "amg", 1e-12)
    np.testing.assert_allclose(d3 - d3.mean(), d_lu - d_lu.mean(), rtol=0, atol=1e-8 * np.abs(d_lu).max())
