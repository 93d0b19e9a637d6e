"""The geometry of lifted simplices for :mod:`geomot._tiles` (numba kernels).

Power vertices (orthocentres) of simplices of weighted targets, the power excess of a target
over a simplex's orthosphere with its tie tolerance (one kernel, one array version), the
canonical vertex order of a lower facet and the anchor (centroid or power vertex) that decides
which tile owns a simplex.  Every number is a function of the simplex alone: every hull that
finds a simplex gives it the same numbers.
"""

import numpy as np
from numba import njit

from ._tol import tol

_EPS = float(np.finfo(np.float64).eps)


def _anchors(t, simp, x, by_centroid):
    """``(anchor (s, k), spread (s,))``: the point whose tile owns each simplex ``simp (s, k+1)``
    (its centroid, or its power vertex ``t[simp[:, 0]] + x``) and the largest distance from it
    to a vertex.  A function of the simplex alone: every hull gives the same numbers."""
    p = t[simp]
    anchor = p.mean(axis=1) if by_centroid else p[:, 0] + x
    d = p - anchor[:, None, :]
    return anchor, np.sqrt(np.einsum("sij,sij->si", d, d).max(axis=1))


@njit(cache=True, nogil=True)
def _simplex_geometry(t, w, gidx, simp, lower, flat_tol):
    """Per lower facet ``s``: its vertices in increasing global index (``srt``: the same
    simplex gives the same numbers in every hull), its power vertex minus the first vertex
    (``x``) and whether it is solid (relative volume, |det| over the product of the edges,
    above ``flat_tol``)."""
    S, k1 = simp.shape
    k = k1 - 1
    srt = np.empty((S, k1), dtype=np.int64)
    x = np.zeros((S, k))
    solid = np.zeros(S, dtype=np.bool_)
    for s in range(S):
        for p in range(k1):
            srt[s, p] = simp[s, p]
        if not lower[s]:
            continue
        for p in range(1, k1):  # insertion sort by global index
            v = srt[s, p]
            q = p - 1
            while q >= 0 and gidx[srt[s, q]] > gidx[v]:
                srt[s, q + 1] = srt[s, q]
                q -= 1
            srt[s, q + 1] = v
        solid[s] = _power_vertex(t, w, srt[s], flat_tol, x[s])
    return srt, x, solid


@njit(cache=True, nogil=True)
def _power_vertex(t, w, v, flat_tol, x):
    """Power vertex of the simplex ``v (k+1,)`` minus its first vertex, into ``x (k,)``:
    :math:`\\langle e_r, x\\rangle = (|e_r|^2 - (w_r - w_0)) / 2`, :math:`e_r = t_r - t_0`.
    False (``x`` untouched) for a flat simplex (relative volume, |det| over the product of
    the edges, not above ``flat_tol``)."""
    k = t.shape[1]
    v0 = v[0]
    if k == 2:
        e00 = t[v[1], 0] - t[v0, 0]
        e01 = t[v[1], 1] - t[v0, 1]
        e10 = t[v[2], 0] - t[v0, 0]
        e11 = t[v[2], 1] - t[v0, 1]
        n0 = e00 * e00 + e01 * e01
        n1 = e10 * e10 + e11 * e11
        det = e00 * e11 - e01 * e10
        if not abs(det) > flat_tol * np.sqrt(n0 * n1):
            return False
        b0 = 0.5 * (n0 - (w[v[1]] - w[v0]))
        b1 = 0.5 * (n1 - (w[v[2]] - w[v0]))
        x[0] = (b0 * e11 - e01 * b1) / det
        x[1] = (e00 * b1 - b0 * e10) / det
        return True
    e00 = t[v[1], 0] - t[v0, 0]
    e01 = t[v[1], 1] - t[v0, 1]
    e02 = t[v[1], 2] - t[v0, 2]
    e10 = t[v[2], 0] - t[v0, 0]
    e11 = t[v[2], 1] - t[v0, 1]
    e12 = t[v[2], 2] - t[v0, 2]
    e20 = t[v[3], 0] - t[v0, 0]
    e21 = t[v[3], 1] - t[v0, 1]
    e22 = t[v[3], 2] - t[v0, 2]
    n0 = e00 * e00 + e01 * e01 + e02 * e02
    n1 = e10 * e10 + e11 * e11 + e12 * e12
    n2 = e20 * e20 + e21 * e21 + e22 * e22
    c00 = e11 * e22 - e12 * e21
    c01 = e12 * e20 - e10 * e22
    c02 = e10 * e21 - e11 * e20
    det = e00 * c00 + e01 * c01 + e02 * c02
    if not abs(det) > flat_tol * np.sqrt(n0 * n1 * n2):
        return False
    b0 = 0.5 * (n0 - (w[v[1]] - w[v0]))
    b1 = 0.5 * (n1 - (w[v[2]] - w[v0]))
    b2 = 0.5 * (n2 - (w[v[3]] - w[v0]))
    x[0] = (b0 * c00 + b1 * (e02 * e21 - e01 * e22) + b2 * (e01 * e12 - e02 * e11)) / det
    x[1] = (b0 * c01 + b1 * (e00 * e22 - e02 * e20) + b2 * (e02 * e10 - e00 * e12)) / det
    x[2] = (b0 * c02 + b1 * (e01 * e20 - e00 * e21) + b2 * (e00 * e11 - e01 * e10)) / det
    return True


@njit(cache=True, nogil=True)
def _power_vertices(t, w, simp, x):
    for s in range(simp.shape[0]):
        _power_vertex(t, w, simp[s], 0.0, x[s])


@njit(cache=True, nogil=True)
def _excess(t, w, v0, q, x, tie_tol):
    """Power excess of target ``q`` over the orthosphere of the simplex with first vertex ``v0``
    and power vertex ``t[v0] + x``, and the tolerance under which it ties.

    :math:`e = |f|^2 - 2 f \\cdot x - (w_q - w_0)`, :math:`f = t_q - t_0`: made of small
    differences only, so that it is exact to a few roundings of its terms; the tolerance is
    ``tie_tol`` of the squared lengths it is made of, plus their rounding."""
    ff = 0.0
    fx = 0.0
    xx = 0.0
    for c in range(t.shape[1]):
        f = t[q, c] - t[v0, c]
        ff += f * f
        fx += f * x[c]
        xx += x[c] * x[c]
    e = ff - 2.0 * fx - (w[q] - w[v0])
    size = ff + 2.0 * np.sqrt(ff * xx)
    return e, tie_tol * size + 16.0 * 2.220446049250313e-16 * (abs(w[q]) + abs(w[v0]) + size)

def _excess_rows(t, w, v0, q, x):
    """:func:`_excess` for arrays of simplices (first vertices ``v0``, power vertices
    ``t[v0] + x``) and targets ``q``."""
    f = t[q] - t[v0]
    ff = np.einsum("ij,ij->i", f, f)
    xx = np.einsum("ij,ij->i", x, x)
    ex = ff - 2.0 * np.einsum("ij,ij->i", f, x) - (w[q] - w[v0])
    size = ff + 2.0 * np.sqrt(ff * xx)
    return ex, tol.tie * size + 16.0 * _EPS * (np.abs(w[q]) + np.abs(w[v0]) + size)
