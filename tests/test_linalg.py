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


def _random_graph_laplacian(n, m, seed, components=1):
    """A symmetric graph Laplacian of n nodes, ~m random edges inside ``components`` blocks."""
    rng = np.random.default_rng(seed)
    block = rng.integers(0, components, n)
    i, j = rng.integers(0, n, (2, m))
    keep = (i != j) & (block[i] == block[j])
    i, j = i[keep], j[keep]
    w = rng.uniform(0.5, 2.0, i.size)
    W = sps.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    return sps.csr_matrix(sps.diags(np.asarray(W.sum(axis=1)).ravel()) - W)


@pytest.mark.parametrize("components", [1, 3, 40])
def test_components_match_scipy(components):
    from scipy.sparse.csgraph import connected_components

    from geomot._linalg import _pinned_system

    H = _random_graph_laplacian(500, 900, components, components)
    ncomp, labels = connected_components(H, directed=False)
    ours, ours_labels, pinned = _pinned_system(H, stable=True)
    assert ours == ncomp and np.array_equal(ours_labels, labels)
    _, first = np.unique(labels, return_index=True)
    np.testing.assert_array_equal(pinned, first)
    # the default pins the node of largest diagonal in each component
    _, _, pinned = _pinned_system(H)
    diag = H.diagonal()
    for c in range(ncomp):
        assert labels[pinned[c]] == c and diag[pinned[c]] == diag[labels == c].max()
