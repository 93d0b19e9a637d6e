"""Numba kernels: repair a 2D regular (weighted Delaunay) triangulation by edge flips.

The Newton iterations of the transport solver change the weights only a little from one
step to the next, so the regular triangulation of the previous step is almost the new one.
Instead of rebuilding the lifted convex hull (:func:`geomot.lifting._regular_triangulation`),
:func:`flip_to_regular` repairs the old triangulation with Lawson 2-2 flips.

Conventions
-----------
Targets ``y (n, 2)`` float64 and weights ``phi (n,)`` float64 (``phi = h + |y|^2 / 2`` for the
dual weights ``h`` of :mod:`geomot.power`; ``phi = 0`` is the Delaunay triangulation).  The
lifted point of target ``i`` is :math:`(y_i, z_i)`, :math:`z_i = |y_i|^2 - 2 \\varphi_i`; the
regular triangulation is the projection of the *lower* convex hull of the lifted points.

``tri (s, 3)`` int64 lists the vertices of each triangle; ``nbr (s, 3)`` int64 the triangle
across the edge *opposite* ``tri[t, k]``, or ``-1`` on the boundary of the convex hull of the
targets.  An edge is referred to by its slot ``(t, k)`` (encoded ``3 t + k``).

Power incircle test
-------------------
For the edge shared by the counter-clockwise triangles ``(a, b, c)`` and ``(b, a, d)``,

.. math:: D = \\det \\begin{pmatrix} p - d & w_p \\end{pmatrix}_{p = a, b, c}, \\qquad
          w_p = |p - d|^2 - 2 (\\varphi_p - \\varphi_d),

is positive iff the lifted ``d`` lies strictly *below* the plane through the lifted ``a, b,
c`` (for ``phi = 0``: ``d`` strictly inside the circumcircle of ``a, b, c``): the edge is then
not locally regular and is flipped.  :math:`w_p` differs from :math:`z_p - z_d` by
:math:`2 \\langle d, p - d\\rangle`, a combination of the first two columns, so ``D`` is the
determinant of the lifted points; but :math:`w_p` is formed from the small differences
``p - d`` and ``phi_p - phi_d`` only (no :math:`|y|^2`, no ``z_i``), so it is translation
invariant and exact up to a few rounding errors of its own size even for targets 1e-6 apart.

Ties (cocircular grids) must never cycle: an edge is flipped only when ``D > RTOL * P``, with
``P`` the permanent of ``D`` (the sum of the absolute values of the products of its
expansion, :math:`|w_p|` replaced by :math:`|p - d|^2 + 2 |\\varphi_p - \\varphi_d|`), which
bounds its rounding error by a few ``eps * P``.  A flip then strictly lowers the lifted
surface, so the flips terminate.  The same relative tolerance decides whether the
quadrilateral of an edge is strictly convex (only then can it be flipped).

Kernels receive float64 / int64 C-contiguous arrays only and validate nothing.
"""

import numpy as np
from numba import njit

__all__ = ["triangle_neighbors", "make_ccw", "flip_to_regular", "is_regular",
           "STATUS_OK", "STATUS_STUCK", "STATUS_MAX_FLIPS", "RTOL"]

#: relative tolerance of the power incircle and orientation tests (against their permanents)
RTOL = 1e-12

STATUS_OK = 0
#: a non-locally-regular edge has a non-convex quadrilateral: a vertex must become hidden
STATUS_STUCK = 1
#: ``max_flips`` flips were not enough
STATUS_MAX_FLIPS = 2


# ----------------------------------------------------------------- predicates
@njit(cache=True)
def _orient(y, p, q, r):
    """Twice the signed area of (p, q, r) and its permanent."""
    ux = y[q, 0] - y[p, 0]
    uy = y[q, 1] - y[p, 1]
    vx = y[r, 0] - y[p, 0]
    vy = y[r, 1] - y[p, 1]
    a = ux * vy
    b = uy * vx
    return a - b, abs(a) + abs(b)


@njit(cache=True)
def _power_incircle(y, phi, a, b, c, d):
    """Power incircle determinant of d against the CCW triangle (a, b, c), and its permanent.

    Positive iff the lifted d is strictly below the plane of the lifted a, b, c.
    """
    d0 = y[d, 0]
    d1 = y[d, 1]
    pd = phi[d]
    ax = y[a, 0] - d0
    ay = y[a, 1] - d1
    bx = y[b, 0] - d0
    by = y[b, 1] - d1
    cx = y[c, 0] - d0
    cy = y[c, 1] - d1
    fa = 2.0 * (phi[a] - pd)
    fb = 2.0 * (phi[b] - pd)
    fc = 2.0 * (phi[c] - pd)
    ra = ax * ax + ay * ay
    rb = bx * bx + by * by
    rc = cx * cx + cy * cy
    # 2x2 minors of the (x, y) columns, split in their two products
    bc1 = bx * cy
    bc2 = by * cx
    ca1 = cx * ay
    ca2 = cy * ax
    ab1 = ax * by
    ab2 = ay * bx
    det = (ra - fa) * (bc1 - bc2) + (rb - fb) * (ca1 - ca2) + (rc - fc) * (ab1 - ab2)
    perm = ((ra + abs(fa)) * (abs(bc1) + abs(bc2)) + (rb + abs(fb)) * (abs(ca1) + abs(ca2))
            + (rc + abs(fc)) * (abs(ab1) + abs(ab2)))
    return det, perm


@njit(cache=True)
def _edge_illegal(tri, nbr, y, phi, t, k):
    """Whether the interior edge in slot (t, k) is not locally regular (beyond RTOL).

    Returns (illegal, u, j): the triangle u across the edge and the slot j of the edge in u
    (u = -1 on the hull boundary, which is never illegal).
    """
    u = nbr[t, k]
    if u < 0:
        return False, -1, -1
    j = 0
    while j < 3 and nbr[u, j] != t:
        j += 1
    c = tri[t, k]
    a = tri[t, (k + 1) % 3]
    b = tri[t, (k + 2) % 3]
    d = tri[u, j]
    det, perm = _power_incircle(y, phi, a, b, c, d)
    return det > RTOL * perm, u, j


# ----------------------------------------------------------------- topology
@njit(cache=True)
def triangle_neighbors(tri, n):
    """Neighbour triangles across the edges of a triangulation.

    Parameters
    ----------
    tri : (s, 3) ndarray of int64
        Vertex indices of the triangles, in ``range(n)`` (any orientation).
    n : int
        Number of vertices (unused vertices are allowed).

    Returns
    -------
    nbr : (s, 3) ndarray of int64
        ``nbr[t, k]`` is the triangle sharing the edge opposite ``tri[t, k]``, ``-1`` if none.

    Notes
    -----
    O(s * degree) with per-vertex incidence lists (CSR).  Every edge is assumed shared by at
    most two triangles.
    """
    s = tri.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for t in range(s):
        for k in range(3):
            ptr[tri[t, k] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    inc = np.empty(3 * s, dtype=np.int64)
    for t in range(s):
        for k in range(3):
            v = tri[t, k]
            inc[fill[v]] = t
            fill[v] += 1
    nbr = np.full((s, 3), -1, dtype=np.int64)
    for t in range(s):
        for k in range(3):
            if nbr[t, k] >= 0:
                continue
            a = tri[t, (k + 1) % 3]
            b = tri[t, (k + 2) % 3]
            for p in range(ptr[a], ptr[a + 1]):
                u = inc[p]
                if u == t:
                    continue
                ja = -1
                jb = -1
                for j in range(3):
                    v = tri[u, j]
                    if v == a:
                        ja = j
                    elif v == b:
                        jb = j
                if ja >= 0 and jb >= 0:
                    nbr[t, k] = u
                    nbr[u, 3 - ja - jb] = t
                    break
    return nbr


@njit(cache=True)
def make_ccw(tri, nbr, y):
    """Orient every triangle counter-clockwise, in place.

    Parameters
    ----------
    tri : (s, 3) ndarray of int64
        Triangles; those with a negative orientation get ``tri[t, 1]`` and ``tri[t, 2]``
        swapped (degenerate, zero-area ones are left as they are).
    nbr : (s, 3) ndarray of int64
        Neighbours (as from :func:`triangle_neighbors`); the matching entries are swapped.
    y : (n, 2) ndarray of float64
        Vertex coordinates.
    """
    for t in range(tri.shape[0]):
        o, _ = _orient(y, tri[t, 0], tri[t, 1], tri[t, 2])
        if o < 0.0:
            v = tri[t, 1]
            tri[t, 1] = tri[t, 2]
            tri[t, 2] = v
            w = nbr[t, 1]
            nbr[t, 1] = nbr[t, 2]
            nbr[t, 2] = w


# ----------------------------------------------------------------- flips
@njit(cache=True)
def _push(stack, top, e):
    """Push e on the growable stack; returns the (possibly reallocated) stack."""
    if top == stack.shape[0]:
        bigger = np.empty(2 * stack.shape[0], dtype=np.int64)
        bigger[:top] = stack[:top]
        stack = bigger
    stack[top] = e
    return stack


@njit(cache=True)
def _replace_nbr(nbr, w, old, new):
    """In triangle w (if any), the neighbour entry equal to old becomes new."""
    if w >= 0:
        for j in range(3):
            if nbr[w, j] == old:
                nbr[w, j] = new
                return


@njit(cache=True)
def flip_to_regular(tri, nbr, y, phi, max_flips):
    """Flip the edges of a CCW triangulation until it is the regular triangulation, in place.

    Parameters
    ----------
    tri : (s, 3) ndarray of int64
        Counter-clockwise triangles (see :func:`make_ccw`) of a triangulation; rewritten in
        place (same number of triangles, same vertex set).
    nbr : (s, 3) ndarray of int64
        Neighbours (see :func:`triangle_neighbors`); kept consistent with ``tri`` after
        every flip, whatever the status.
    y : (n, 2) ndarray of float64
        Targets.
    phi : (n,) ndarray of float64
        Weights; lifted points :math:`(y_i, |y_i|^2 - 2 \\varphi_i)`.
    max_flips : int
        Largest number of flips allowed.

    Returns
    -------
    status : int
        0: every interior edge is locally regular (within :data:`RTOL`); for a triangulation
        of all the targets over their convex hull, this is the regular triangulation.
        1: some edges are not locally regular but cannot be 2-2 flipped (their
        quadrilateral is not strictly convex): a vertex must become hidden.
        2: ``max_flips`` was reached before the end (the triangulation is valid but not
        regular).
    nflips : int
        Number of flips done.

    Notes
    -----
    Lawson's algorithm with an explicit stack of edge slots ``3 t + k``.  All interior edges
    are scanned once; an illegal, flippable edge is flipped and the four outer edges of its
    quadrilateral are pushed, and the stack is emptied before the scan goes on.  A slot whose
    triangle was rewritten by a later flip may point to another edge than the one pushed:
    that is harmless, because every rewrite pushes the edges it changed.  Illegal edges that
    cannot be flipped are recorded and re-tested at the end (they may have been flipped or
    become legal since).
    """
    s = tri.shape[0]
    stack = np.empty(64, dtype=np.int64)
    stuck = np.empty(16, dtype=np.int64)
    nstuck = 0
    nflips = 0
    for e0 in range(3 * s):
        t0 = e0 // 3
        if nbr[t0, e0 - 3 * t0] < t0:  # hull edge, or the edge is scanned from the other side
            continue
        stack[0] = e0
        top = 1
        while top > 0:
            top -= 1
            e = stack[top]
            t = e // 3
            k = e - 3 * t
            illegal, u, j = _edge_illegal(tri, nbr, y, phi, t, k)
            if not illegal:
                continue
            c = tri[t, k]
            a = tri[t, (k + 1) % 3]
            b = tri[t, (k + 2) % 3]
            d = tri[u, j]
            # the quadrilateral a, d, b, c (CCW) must be strictly convex at a and at b
            o1, p1 = _orient(y, c, a, d)
            o2, p2 = _orient(y, d, b, c)
            if not (o1 > RTOL * p1 and o2 > RTOL * p2):
                stuck = _push(stuck, nstuck, e)
                nstuck += 1
                continue
            if nflips >= max_flips:
                return STATUS_MAX_FLIPS, nflips
            n_bc = nbr[t, (k + 1) % 3]
            n_ca = nbr[t, (k + 2) % 3]
            n_ad = nbr[u, (j + 1) % 3]
            n_db = nbr[u, (j + 2) % 3]
            # t <- (c, a, d), u <- (d, b, c)
            tri[t, 0] = c
            tri[t, 1] = a
            tri[t, 2] = d
            nbr[t, 0] = n_ad
            nbr[t, 1] = u
            nbr[t, 2] = n_ca
            tri[u, 0] = d
            tri[u, 1] = b
            tri[u, 2] = c
            nbr[u, 0] = n_bc
            nbr[u, 1] = t
            nbr[u, 2] = n_db
            _replace_nbr(nbr, n_ad, u, t)
            _replace_nbr(nbr, n_bc, t, u)
            nflips += 1
            stack = _push(stack, top, 3 * t)
            stack = _push(stack, top + 1, 3 * t + 2)
            stack = _push(stack, top + 2, 3 * u)
            stack = _push(stack, top + 3, 3 * u + 2)
            top += 4
    for q in range(nstuck):
        t = stuck[q] // 3
        illegal, _, _ = _edge_illegal(tri, nbr, y, phi, t, stuck[q] - 3 * t)
        if illegal:
            return STATUS_STUCK, nflips
    return STATUS_OK, nflips


@njit(cache=True)
def is_regular(tri, nbr, y, phi):
    """Whether every interior edge of a CCW triangulation is locally regular (within RTOL).

    Parameters
    ----------
    tri, nbr : (s, 3) ndarray of int64
        CCW triangles and their neighbours.
    y : (n, 2) ndarray of float64
    phi : (n,) ndarray of float64

    Returns
    -------
    bool
    """
    for t in range(tri.shape[0]):
        for k in range(3):
            if nbr[t, k] > t:
                illegal, _, _ = _edge_illegal(tri, nbr, y, phi, t, k)
                if illegal:
                    return False
    return True
