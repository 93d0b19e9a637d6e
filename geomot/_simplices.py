"""Numba kernels over the simplices of a triangulation, for :mod:`geomot.lifting`.

The symmetric CSR adjacency of their edges (:func:`_simplex_adjacency`), the vertices of the
simplices that are not flat (:func:`_solid_vertices`: the visible targets) and the boxes of the
power cells from the power vertices (:func:`_cell_boxes`, for
:meth:`geomot.lifting.RegularTriangulation.cell_boxes`).  They compute only: what the
simplices mean is :mod:`geomot.lifting`'s (which re-exports them).
"""

import numpy as np
from numba import njit

from ._tol import tol


@njit(cache=True)
def _simplex_adjacency(simp, n):
    """Symmetric CSR adjacency (sorted, without duplicates) of the edges of the simplices."""
    k = simp.shape[1]
    deg = np.zeros(n + 1, dtype=np.int64)
    for s in range(simp.shape[0]):
        for p in range(k):
            deg[simp[s, p] + 1] += k - 1
    for i in range(n):
        deg[i + 1] += deg[i]
    fill = deg[:-1].copy()
    raw = np.empty(deg[n], dtype=np.int32)  # (vertex indices; half the memory traffic of int64)
    for s in range(simp.shape[0]):
        for p in range(k):
            a = simp[s, p]
            for q in range(k):
                if q != p:
                    raw[fill[a]] = simp[s, q]
                    fill[a] += 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    out = np.empty(deg[n], dtype=np.int64)
    seen = np.full(n, -1, dtype=np.int32)  # row that last saw each neighbour: O(1) dedupe
    m = 0
    for i in range(n):
        start = m
        for p in range(deg[i], deg[i + 1]):
            v = raw[p]
            if seen[v] != i:
                seen[v] = i
                # insertion into the sorted unique row (rows are short: ~6 in 2D, ~15 in 3D)
                q = m - 1
                while q >= start and out[q] > v:
                    out[q + 1] = out[q]
                    q -= 1
                out[q + 1] = v
                m += 1
        indptr[i + 1] = m
    return indptr, out[:m].copy()

@njit(cache=True)
def _cell_boxes(simp, top_simp, y, wphi, margin):
    """Bounding boxes of the cells from their power vertices (the duals of the simplices).

    The power vertex of a lower simplex solves <x, y_j - y_0> = h_0 - h_j (j = 1..d), with
    h_0 - h_j = wphi_0 - wphi_j + <y_j - y_0, (y_0 + y_j) / 2> (``wphi = h + |y|^2 / 2``).  A cell
    is bounded when its target is not adjacent to the extra top point (i.e. not on the
    boundary of the targets' convex hull); its box is the box of its power vertices.
    Ill-conditioned simplices make their cells fall back to unbounded boxes.
    """
    n, d = y.shape
    lo = np.full((n, d), np.inf)
    hi = np.full((n, d), -np.inf)
    unbounded = np.zeros(n, dtype=np.bool_)
    for s in range(top_simp.shape[0]):
        for p in range(top_simp.shape[1]):
            v = top_simp[s, p]
            if v < n:
                unbounded[v] = True
    A = np.empty((d, d))
    b = np.empty(d)
    x = np.empty(d)
    for s in range(simp.shape[0]):
        i0 = simp[s, 0]
        prod = 1.0
        for r in range(d):
            j = simp[s, r + 1]
            nr = 0.0
            for c in range(d):
                A[r, c] = y[j, c] - y[i0, c]
                nr += A[r, c] * A[r, c]
            prod *= np.sqrt(nr)
            b[r] = wphi[i0] - wphi[j]
            for c in range(d):
                b[r] += 0.5 * A[r, c] * (y[i0, c] + y[j, c])
        if d == 2:
            det = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
            ok = abs(det) > 1e-10 * prod
            if ok:
                x[0] = (b[0] * A[1, 1] - A[0, 1] * b[1]) / det
                x[1] = (A[0, 0] * b[1] - b[0] * A[1, 0]) / det
        else:
            c00 = A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1]
            c01 = A[1, 2] * A[2, 0] - A[1, 0] * A[2, 2]
            c02 = A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0]
            det = A[0, 0] * c00 + A[0, 1] * c01 + A[0, 2] * c02
            ok = abs(det) > 1e-10 * prod
            if ok:
                # x = A^{-1} b via the adjugate
                x[0] = (b[0] * c00 + b[1] * (A[0, 2] * A[2, 1] - A[0, 1] * A[2, 2])
                        + b[2] * (A[0, 1] * A[1, 2] - A[0, 2] * A[1, 1])) / det
                x[1] = (b[0] * c01 + b[1] * (A[0, 0] * A[2, 2] - A[0, 2] * A[2, 0])
                        + b[2] * (A[0, 2] * A[1, 0] - A[0, 0] * A[1, 2])) / det
                x[2] = (b[0] * c02 + b[1] * (A[0, 1] * A[2, 0] - A[0, 0] * A[2, 1])
                        + b[2] * (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])) / det
        for p in range(d + 1):
            v = simp[s, p]
            if not ok:
                unbounded[v] = True
                continue
            for c in range(d):
                if x[c] < lo[v, c]:
                    lo[v, c] = x[c]
                if x[c] > hi[v, c]:
                    hi[v, c] = x[c]
    for v in range(n):
        for c in range(d):
            if unbounded[v]:
                lo[v, c] = -np.inf
                hi[v, c] = np.inf
            else:
                lo[v, c] -= margin
                hi[v, c] += margin
    return lo, hi

def _solid_vertices(t, simp, n):
    """(n,) bool: vertices of the simplices ``simp (s, k+1)`` of ``t (n, k)`` that are not flat
    (relative volume, |det| over the product of the edge lengths, above ``tol.flat``)."""
    k = t.shape[1]
    if k in (2, 3):
        return _solid_vertices_kernel(t, simp, n, tol.flat)
    e = t[simp[:, 1:]] - t[simp[:, :1]]
    solid = np.abs(np.linalg.det(e)) > tol.flat * np.prod(np.linalg.norm(e, axis=2), axis=1)
    return np.bincount(simp[solid].ravel(), minlength=n) > 0


@njit(cache=True)
def _solid_vertices_kernel(t, simp, n, rtol):
    k = t.shape[1]
    out = np.zeros(n, dtype=np.bool_)
    e = np.empty((3, 3))
    for s in range(simp.shape[0]):
        i0 = simp[s, 0]
        prod = 1.0
        for r in range(k):
            nr = 0.0
            for c in range(k):
                e[r, c] = t[simp[s, r + 1], c] - t[i0, c]
                nr += e[r, c] * e[r, c]
            prod *= np.sqrt(nr)
        if k == 2:
            det = e[0, 0] * e[1, 1] - e[0, 1] * e[1, 0]
        else:
            det = (e[0, 0] * (e[1, 1] * e[2, 2] - e[1, 2] * e[2, 1])
                   - e[0, 1] * (e[1, 0] * e[2, 2] - e[1, 2] * e[2, 0])
                   + e[0, 2] * (e[1, 0] * e[2, 1] - e[1, 1] * e[2, 0]))
        if abs(det) > rtol * prod:
            for p in range(k + 1):
                out[simp[s, p]] = True
    return out


@njit(cache=True, nogil=True)
def _vertex_simplices(simp, n):
    """CSR ``(ptr (n+1,) int64, idx int32)`` of the simplices holding each vertex (simplex ids
    as int32: fewer than 2**31 for any triangulation that fits in memory)."""
    S, k1 = simp.shape
    ptr = np.zeros(n + 1, dtype=np.int64)
    for s in range(S):
        for p in range(k1):
            ptr[simp[s, p] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(S * k1, dtype=np.int32)
    for s in range(S):
        for p in range(k1):
            v = simp[s, p]
            idx[fill[v]] = s
            fill[v] += 1
    return ptr, idx
