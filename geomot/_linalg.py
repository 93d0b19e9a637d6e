"""Sparse linear algebra of the Newton solver: Laplacian systems of power diagrams.

The Jacobian :math:`DG` of the cell masses is a weighted graph Laplacian (symmetric, rows
summing to 0, one constant in its kernel per connected component of the adjacency graph).
A Newton step solves :math:`DG\\, d = -(G - \\nu)` on the complement of those constants: one
node per component is pinned to 0 (:func:`_pinned_system`) and the remaining SPD system is
solved by

* sparse LU (SuperLU) -- with the geometric nested-dissection ordering
  (:func:`_nested_dissection`, a numba kernel) for large 2D systems -- while that is cheap
  (up to ``_DIRECT_MAX_N`` cells), or
* smoothed-aggregation AMG preconditioned conjugate gradients beyond (:mod:`geomot._amg`:
  pyamg's kernels on CSR operators), the hierarchy kept from one step to the next while it
  still converges well (:class:`~geomot._amg.AMGCache`), the unknowns in a locality order.

References
----------
A. George, *Nested dissection of a regular finite element mesh*, SIAM J. Numer. Anal. 10 (1973).
P. Vaněk, J. Mandel, M. Brezina, *Algebraic multigrid by smoothed aggregation for second and
fourth order elliptic problems*, Computing 56 (1996).
"""

import functools

import numpy as np
from numba import njit
from threadpoolctl import ThreadpoolController

from ._amg import AMGCache

#: values of ``solve_ot(linear_solver=...)``
LINEAR_SOLVERS = ("auto", "direct", "amg")
#: "auto" uses the sparse LU up to this many cells (per dimension), AMG-CG beyond
_DIRECT_MAX_N = {2: 10_000, 3: 2_000}
#: 2D direct solves use the geometric nested dissection ordering from this many cells
_ND_MIN_N = 5_000


def _resolve_solver(linear_solver, n, dim):
    """The solver ``"auto"`` stands for with ``n`` cells in dimension ``dim`` (others as given)."""
    if linear_solver == "auto":
        return "direct" if n <= _DIRECT_MAX_N[dim] else "amg"
    return linear_solver


def _uses_nested_dissection(solver, n, dim):
    """Whether direct solves of ``n`` 2D cells take the nested-dissection ordering."""
    return solver == "direct" and dim == 2 and n >= _ND_MIN_N


def _pinned_system(H, stable=False):
    """Connected components of the Laplacian's graph, and one pinned node per component: the
    one with the largest diagonal, or with ``stable`` the first one (the same node from one
    Newton step to the next, so that an AMG hierarchy can be reused).  ``H`` is CSR."""
    ncomp, labels = _components_kernel(H.indptr.astype(np.int64), H.indices.astype(np.int64))
    if stable:
        _, pinned = np.unique(labels, return_index=True)
        return ncomp, labels, pinned
    diag = H.diagonal()
    order = np.lexsort((-diag, labels))
    starts = np.concatenate([[0], np.flatnonzero(np.diff(labels[order])) + 1])
    pinned = order[starts]
    return ncomp, labels, pinned


@njit(cache=True)
def _components_kernel(indptr, indices):  # pragma: no cover - compiled
    """Connected components of the graph of a symmetric CSR pattern (every stored entry an
    edge, as ``scipy.sparse.csgraph.connected_components(directed=False)`` counts them, with
    the same labels: numbered by their lowest node).  Returns ``(ncomp, labels (n,))``.

    A breadth-first search over the rows: O(nnz), where scipy first forms the symmetrised
    graph :math:`H + H^T` (0.8 s per Newton step at 1e6 cells in target order, 0.2 s here).
    """
    n = indptr.shape[0] - 1
    labels = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    ncomp = 0
    for s in range(n):
        if labels[s] >= 0:
            continue
        labels[s] = ncomp
        head = 0
        tail = 1
        queue[0] = s
        while head < tail:
            i = queue[head]
            head += 1
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if labels[j] < 0:
                    labels[j] = ncomp
                    queue[tail] = j
                    tail += 1
        ncomp += 1
    return ncomp, labels


def _nested_dissection(y, H, leaf=64):
    """Fill-reducing order of a graph Laplacian whose nodes have positions ``y`` (n, d).

    Recursive coordinate bisection (median along the widest axis of each box, down to boxes
    of ``leaf`` nodes); the nodes of the left half adjacent to the right half form the
    separator, numbered after both halves (George's nested dissection with geometric
    separators).  Returns a permutation (n,) int64.

    For the planar-like graphs of 2D power diagrams this gives :math:`O(n \\log n)` fill and
    a factorisation several times faster than SuperLU's minimum-degree orderings.
    """
    import scipy.sparse as sps

    H = sps.csr_matrix(H)
    # fresh writable C arrays: one numba specialisation (read-only arrays would compile another)
    return _nd_kernel(np.array(y, dtype=np.float64, order="C", copy=True), H.indptr.astype(np.int64),
                      H.indices.astype(np.int64), int(leaf))


@njit(cache=True)
def _nd_kernel(y, indptr, indices, leaf):  # pragma: no cover - compiled
    """Numba kernel of :func:`_nested_dissection` (in-place partition of a work permutation)."""
    n, d = y.shape
    perm = np.arange(n)
    mark = np.zeros(n, dtype=np.int8)
    buf = np.empty(n, dtype=np.int64)
    stack_s = np.empty(2 * 64 + 2 * n // max(leaf, 1) + 8, dtype=np.int64)
    stack_m = np.empty_like(stack_s)
    top = 0
    stack_s[0] = 0
    stack_m[0] = n
    top = 1
    while top > 0:
        top -= 1
        s = stack_s[top]
        m = stack_m[top]
        if m <= max(leaf, 1):
            continue
        seg = perm[s:s + m]
        best, axis = -1.0, 0
        for a in range(d):
            lo, hi = np.inf, -np.inf
            for k in range(m):
                v = y[seg[k], a]
                lo = min(lo, v)
                hi = max(hi, v)
            if hi - lo > best:
                best, axis = hi - lo, a
        vals = np.empty(m)
        for k in range(m):
            vals[k] = y[seg[k], axis]
        o = np.argsort(vals)
        half = m // 2
        for k in range(m):
            mark[seg[o[k]]] = 1 if k < half else 2
        nl, nr, ns = 0, 0, 0
        # buf[s + ...]: left non-separators first; right ones and separators after
        right = np.empty(m - half, dtype=np.int64)
        sep = np.empty(half, dtype=np.int64)
        for k in range(m):
            v = seg[o[k]]
            if k < half:
                is_sep = False
                for q in range(indptr[v], indptr[v + 1]):
                    if mark[indices[q]] == 2:
                        is_sep = True
                        break
                if is_sep:
                    sep[ns] = v
                    ns += 1
                else:
                    buf[nl] = v
                    nl += 1
            else:
                right[nr] = v
                nr += 1
        for k in range(m):
            mark[seg[k]] = 0
        for k in range(nl):
            perm[s + k] = buf[k]
        for k in range(nr):
            perm[s + nl + k] = right[k]
        for k in range(ns):
            perm[s + nl + nr + k] = sep[k]
        if top + 2 > stack_s.shape[0]:  # cannot happen: depth-first, one pending per level
            grown_s = np.empty(2 * stack_s.shape[0], dtype=np.int64)
            grown_m = np.empty(2 * stack_s.shape[0], dtype=np.int64)
            grown_s[:top] = stack_s[:top]
            grown_m[:top] = stack_m[:top]
            stack_s, stack_m = grown_s, grown_m
        stack_s[top] = s
        stack_m[top] = nl
        stack_s[top + 1] = s + nl
        stack_m[top + 1] = nr
        top += 2
    return perm


def _solve_laplacian(H, rhs, solver, rtol, order=None, amg_cache=None, nu=None, max_rel=None):
    """Solve the Laplacian system ``H d = rhs`` on the complement of the per-component constants.

    The right-hand side is projected onto the range (zero sum per connected component), one
    node per component is pinned to 0 and the remaining SPD system is solved by sparse LU
    (``"direct"``; with the fill-reducing permutation ``order`` (n,) and diagonal pivots when
    given, else SuperLU's minimum-degree ordering of :math:`A + A^T`) or AMG-preconditioned CG
    to relative residual ``rtol`` (``"amg"``; ``order`` is then a locality order of the cells,
    e.g. along a space-filling curve, which makes the sparse products and Gauss-Seidel sweeps
    cache-friendly: 2x faster at 1e6 cells; with an :class:`~geomot._amg.AMGCache` the hierarchy is
    reused across calls, and with ``nu`` (n,) and ``max_rel`` CG goes on until also
    :math:`\\max_i |(H d - b)_i| / \\nu_i \\le` ``max_rel``: a residual small in norm can still
    be large on a light cell, and the line search would then have to shrink the step until
    that cell keeps its mass).  Returns ``(d, ncomp)``; ``d`` is None when the solve failed.
    """
    # One BLAS thread: the solves' BLAS calls are vector norms and dots (pyamg's V-cycle, CG)
    # and SuperLU's small supernode blocks, far too small to gain from threads, while
    # OpenBLAS's idle threads spin against numba's and other processes' on a small machine:
    # measured on 2 loaded cores, 3D n=3e4 linear solves 10.3 s -> 1.1 s, 2D n=1e5 16.9 s -> 4.3 s
    with _blas_threads().limit(limits=1, user_api="blas"):
        return _solve_laplacian_serial(H, rhs, solver, rtol, order, amg_cache, nu, max_rel)


@functools.lru_cache(maxsize=1)
def _blas_threads():
    """The BLAS libraries loaded by the first solve (numpy's, scipy's): found once (~6 ms),
    then each limit costs ~0.1 ms."""
    return ThreadpoolController()


def _solve_laplacian_serial(H, rhs, solver, rtol, order, amg_cache, nu, max_rel):
    """:func:`_solve_laplacian` under the caller's BLAS thread limit."""
    import scipy.sparse as sps

    n = H.shape[0]
    H = sps.csr_matrix(H)
    ncomp, labels, pinned = _pinned_system(H, stable=amg_cache is not None)
    sums = np.bincount(labels, weights=rhs, minlength=ncomp)
    sizes = np.bincount(labels, minlength=ncomp)
    b = rhs - (sums / sizes)[labels]
    keep = np.ones(n, dtype=bool)
    keep[pinned] = False
    d = np.zeros(n)
    if not keep.any():
        return d, ncomp
    idx = np.flatnonzero(keep) if order is None else order[keep[order]]
    if order is None and idx[-1] - idx[0] == idx.size - 1:  # one block of rows: a slice is cheaper
        A = H[idx[0]:idx[-1] + 1, idx[0]:idx[-1] + 1]
    else:
        A = H[idx][:, idx]
    bb = b[idx]
    if solver == "direct":
        from scipy.sparse.linalg import splu

        if order is None:
            spec, opts = "MMD_AT_PLUS_A", {"SymmetricMode": True}
        else:
            spec, opts = "NATURAL", {"SymmetricMode": True, "DiagPivotThresh": 0.0}
        try:
            lu = splu(A.tocsc(), permc_spec=spec, options=opts)
        except RuntimeError:  # exactly singular
            return None, ncomp
        x = lu.solve(bb)
    else:
        from pyamg.krylov import cg

        if amg_cache is None:  # a hierarchy for this system only
            amg_cache = AMGCache()
        A = A.tocsr()
        cycle, fresh = amg_cache.preconditioner(A, pinned)
        x = None
        for _ in range(6):
            residuals = []
            x, info = cg(A, bb, x0=x, tol=rtol, maxiter=500, M=cycle.operator(), residuals=residuals)
            amg_cache.record(residuals, fresh)
            if info != 0 and not fresh:  # the stale hierarchy did not make it: a fresh one
                amg_cache.rebuild = True
                cycle, fresh = amg_cache.preconditioner(A, pinned)
                continue
            if nu is None or max_rel is None or not np.all(np.isfinite(x)):
                break
            d[idx] = x
            worst = float(np.max(np.abs(H @ d - b) / nu))
            if worst <= max_rel:
                break
            rtol = rtol * max(1e-3, 0.5 * max_rel / worst)
    if not np.all(np.isfinite(x)):
        return None, ncomp
    d[idx] = x
    return d, ncomp
