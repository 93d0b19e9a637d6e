"""Numba kernels: repair a 3D regular triangulation by 2-3 and 3-2 flips.

The 3D counterpart of :mod:`geomot._flip`.  A Newton step of the transport solver changes the
weights a little, so the regular triangulation of the previous step is almost the new one:
:func:`is_regular` checks every interior triangle under the new weights in one O(n) pass (a
triangulation of all the targets whose triangles are all locally regular *is* the regular
one: a locally convex lifted surface over a convex domain is convex), and
:func:`flip_to_regular` repairs the others by 2-3 and 3-2 flips.

Conventions
-----------
Targets ``y (n, 3)`` float64, weights ``phi (n,)`` float64 (``phi = h + |y|^2 / 2``); lifted
points :math:`(y_i, |y_i|^2 - 2 \\varphi_i)`; the regular triangulation is the projection of
their lower convex hull.  ``tet (s, 4)`` int64 lists positively oriented tetrahedra
(:math:`\\det(y_1 - y_0, y_2 - y_0, y_3 - y_0) > 0`), ``nbr (s, 4)`` int64 the tetrahedron
across the triangle *opposite* ``tet[t, k]``, ``-1`` on the boundary of the convex hull.  A
triangle is referred to by its slot ``(t, k)`` (encoded ``4 t + k``).

Power insphere test
-------------------
For the triangle ``abc`` shared by ``t = (a, b, c, d)`` (``orient(a, b, c, d) > 0``) and the
tetrahedron ``u`` with apex ``e`` on the other side,

.. math:: D = -\\det \\begin{pmatrix} p - e & w_p \\end{pmatrix}_{p = a, b, c, d}, \\qquad
          w_p = |p - e|^2 - 2 (\\varphi_p - \\varphi_e),

is positive iff the lifted ``e`` lies strictly *below* the hyperplane through the lifted
``a, b, c, d`` (for ``phi = 0``: ``e`` inside the circumsphere): the triangle is then not
locally regular.  As in 2D, :math:`w_p` uses the differences only (translation invariant),
and a triangle counts as illegal only when ``D > RTOL * P``, ``P`` the permanent of ``D``
(the sum of the absolute values of its expanded products), so ties (cospherical grids) never
cycle.  Orientations are decided against their permanents with the same ``RTOL``.

Flips
-----
``d``, ``e`` and the triangle ``abc`` are 5 points; the segment ``de`` crosses the plane of
``abc`` at a point ``x``, located by the signs of :math:`s_c = \\operatorname{orient}(a, b, e,
d)`, :math:`s_a = \\operatorname{orient}(e, b, c, d)`, :math:`s_b = \\operatorname{orient}(a,
e, c, d)` (each positive iff ``x`` is on the inner side of the edge opposite that vertex):

* all positive (``x`` inside ``abc``): 2-3 flip, ``{abcd, abce} -> {abed, aecd, ebcd}``;
* one negative, say :math:`s_c` (the edge ``ab`` is reflex): if ``ab`` is shared by exactly
  three tetrahedra ``abcd, abce, abde``, 3-2 flip to ``{cdea, cdeb}``; else the triangle waits
  (other flips may lower the degree of ``ab``);
* two negative, say :math:`s_a, s_b`: ``c`` lies strictly inside the tetrahedron ``abde`` and
  its lifted point strictly above their hyperplane (the triangle is illegal), hence above the
  lower hull: ``c`` is *hidden* (:data:`STATUS_HIDDEN`, a proof; no flip can drop a vertex);
* one zero sign, say :math:`s_c` (``a, b, d, e`` coplanar, ``x`` inside the edge ``ab``: the
  square ``a d b e`` with the diagonal ``ab``; grids): the 2D flip of that diagonal, coned
  from the apexes on either side -- 2-2 when the square is on the hull (``abd`` and ``abe``
  are hull triangles), 4-4 when ``ab`` is shared by exactly four tetrahedra ``abcd, abce,
  abdf, abef``; else the triangle waits;
* any other degenerate sign pattern: no flip (the triangle waits).

Each flip replaces the upper triangulation of its points by the lower one, so it strictly
lowers the lifted surface and the flips terminate.  3D triangulations exist in which illegal
triangles admit no flip at all: then :data:`STATUS_UNFLIPPABLE` asks for a new hull, never a
wrong triangulation.  Every flip creates or removes whole edges (one each, two for a square),
so the adjacency of the targets is patched from these events (:func:`patch_adjacency`)
instead of being rebuilt.

Example
-------
Two tetrahedra on either side of the triangle ``012``; a larger weight lowers the lifted
target 4 below the hyperplane of the others, and a 2-3 flip creates the edge 4-3:

>>> import numpy as np
>>> from geomot._flip3d import flip_to_regular, is_regular, orient_positive, tet_neighbors
>>> y = np.array([[1, 0, 0], [-0.5, 0.8, 0], [-0.5, -0.8, 0], [0, 0, 1], [0, 0, -1.0]])
>>> tet = np.array([[0, 1, 2, 3], [0, 1, 2, 4]])
>>> nbr = tet_neighbors(tet, 5)
>>> orient_positive(tet, nbr, y), is_regular(tet, nbr, y, np.zeros(5))
(True, True)
>>> status, tet2, nbr2, counts, edges = flip_to_regular(tet, nbr, y, np.array([0, 0, 0, 0, 0.5]), 10)
>>> int(status), tet2.shape, counts.tolist(), edges.tolist()
(0, (3, 4), [1, 0, 0, 0, 0, 0], [[4, 3, 1]])

Kernels receive float64 / int64 C-contiguous arrays only and validate nothing.

References
----------
H. Edelsbrunner, N. R. Shah, *Incremental topological flipping works for regular
triangulations*, Algorithmica 15 (1996).  B. Joe, *Three-dimensional triangulations from
local transformations*, SIAM J. Sci. Stat. Comput. 10 (1989).
"""

import numpy as np
from numba import njit, prange

from ._flip import RTOL, STATUS_MAX_FLIPS, STATUS_OK, STATUS_STUCK

__all__ = ["tet_neighbors", "orient_positive", "flat_tetrahedra", "illegal_slots", "is_regular", "flip_to_regular",
           "patch_adjacency", "boundary_faces", "STATUS_OK", "STATUS_HIDDEN", "STATUS_MAX_FLIPS", "STATUS_UNFLIPPABLE", "RTOL"]

#: an illegal triangle proves a target hidden (the value of :data:`geomot._flip.STATUS_STUCK`,
#: whose meaning it has in 2D: the solver rejects such a trial step without a hull)
STATUS_HIDDEN = STATUS_STUCK
#: illegal triangles remain that no 2-3 / 3-2 flip can remove: build a new hull
STATUS_UNFLIPPABLE = 3

#: ``FACE[k]``: the triangle opposite vertex ``k`` of a positive tetrahedron, ordered so that
#: it is positive with that vertex as apex: ``orient(v[F[0]], v[F[1]], v[F[2]], v[k]) > 0``
FACE = np.array([[2, 1, 3], [0, 2, 3], [1, 0, 3], [0, 1, 2]], dtype=np.int64)

# entries of the ``counts`` array of flip_to_regular
N_23, N_32, N_22, N_44, N_WAIT_REFLEX, N_WAIT_DEGENERATE = 0, 1, 2, 3, 4, 5


# ----------------------------------------------------------------- predicates
@njit(cache=True, inline="always")
def _det3(ux, uy, uz, vx, vy, vz, wx, wy, wz):
    """det(u, v, w) (rows) and its permanent (the sum of |products| of its 6 terms)."""
    p1 = ux * (vy * wz)
    p2 = ux * (vz * wy)
    p3 = uy * (vz * wx)
    p4 = uy * (vx * wz)
    p5 = uz * (vx * wy)
    p6 = uz * (vy * wx)
    return (p1 - p2) + (p3 - p4) + (p5 - p6), abs(p1) + abs(p2) + abs(p3) + abs(p4) + abs(p5) + abs(p6)


@njit(cache=True)
def _orient(y, p, q, r, s):
    """det(q - p, r - p, s - p) (six times the signed volume) and its permanent."""
    return _det3(y[q, 0] - y[p, 0], y[q, 1] - y[p, 1], y[q, 2] - y[p, 2],
                 y[r, 0] - y[p, 0], y[r, 1] - y[p, 1], y[r, 2] - y[p, 2],
                 y[s, 0] - y[p, 0], y[s, 1] - y[p, 1], y[s, 2] - y[p, 2])


@njit(cache=True)
def _power_insphere(y, phi, a, b, c, d, e, lazy):
    """Power insphere determinant of e against the positive tetrahedron (a, b, c, d), and its
    permanent.  Positive iff the lifted e is strictly below the hyperplane of the lifted a, b, c, d.

    With ``lazy``, the permanent is only computed for a positive determinant (else 0.0): a
    non-positive one is legal whatever the tolerance, and is the common case.
    """
    e0 = y[e, 0]
    e1 = y[e, 1]
    e2 = y[e, 2]
    pe = phi[e]
    ax, ay, az = y[a, 0] - e0, y[a, 1] - e1, y[a, 2] - e2
    bx, by, bz = y[b, 0] - e0, y[b, 1] - e1, y[b, 2] - e2
    cx, cy, cz = y[c, 0] - e0, y[c, 1] - e1, y[c, 2] - e2
    dx, dy, dz = y[d, 0] - e0, y[d, 1] - e1, y[d, 2] - e2
    fa = 2.0 * (phi[a] - pe)
    fb = 2.0 * (phi[b] - pe)
    fc = 2.0 * (phi[c] - pe)
    fd = 2.0 * (phi[d] - pe)
    ra = ax * ax + ay * ay + az * az
    rb = bx * bx + by * by + bz * bz
    rc = cx * cx + cy * cy + cz * cz
    rd = dx * dx + dy * dy + dz * dz
    # the four 3x3 minors of the coordinate columns, from three cross products
    cdx = cy * dz - cz * dy
    cdy = cz * dx - cx * dz
    cdz = cx * dy - cy * dx
    bdx = by * dz - bz * dy
    bdy = bz * dx - bx * dz
    bdz = bx * dy - by * dx
    bcx = by * cz - bz * cy
    bcy = bz * cx - bx * cz
    bcz = bx * cy - by * cx
    m_a = bx * cdx + by * cdy + bz * cdz  # det(B, C, D)
    m_b = ax * cdx + ay * cdy + az * cdz  # det(A, C, D)
    m_c = ax * bdx + ay * bdy + az * bdz  # det(A, B, D)
    m_d = ax * bcx + ay * bcy + az * bcz  # det(A, B, C)
    # minus the expansion of det(p - e, w_p) along its last column
    det = ((ra - fa) * m_a - (rb - fb) * m_b) + ((rc - fc) * m_c - (rd - fd) * m_d)
    if lazy and det <= 0.0:
        return det, 0.0
    _, q_a = _det3(bx, by, bz, cx, cy, cz, dx, dy, dz)
    _, q_b = _det3(ax, ay, az, cx, cy, cz, dx, dy, dz)
    _, q_c = _det3(ax, ay, az, bx, by, bz, dx, dy, dz)
    _, q_d = _det3(ax, ay, az, bx, by, bz, cx, cy, cz)
    perm = ((ra + abs(fa)) * q_a + (rb + abs(fb)) * q_b) + ((rc + abs(fc)) * q_c + (rd + abs(fd)) * q_d)
    return det, perm


@njit(cache=True)
def _sign(val, perm):
    """+1 / -1 beyond RTOL * perm, else 0."""
    if val > RTOL * perm:
        return 1
    if val < -RTOL * perm:
        return -1
    return 0


@njit(cache=True)
def _across(tet, nbr, t, k):
    """(u, j): the tetrahedron across the triangle in slot (t, k) and the slot of that
    triangle in u (u = -1 on the hull boundary)."""
    u = nbr[t, k]
    if u < 0:
        return -1, -1
    j = 0
    while j < 4 and nbr[u, j] != t:
        j += 1
    return u, j


@njit(cache=True)
def _facet_illegal(tet, nbr, y, phi, t, k):
    """Whether the interior triangle in slot (t, k) is not locally regular (beyond RTOL).

    Returns (illegal, u, j) as :func:`_across` (the hull boundary is never illegal).
    """
    u, j = _across(tet, nbr, t, k)
    if u < 0:
        return False, -1, -1
    a = tet[t, FACE[k, 0]]
    b = tet[t, FACE[k, 1]]
    c = tet[t, FACE[k, 2]]
    det, perm = _power_insphere(y, phi, a, b, c, tet[t, k], tet[u, j], True)
    return det > RTOL * perm, u, j


# ----------------------------------------------------------------- topology
@njit(cache=True)
def tet_neighbors(tet, n):
    """Neighbour tetrahedra across the triangles of a tetrahedralization.

    Parameters
    ----------
    tet : (s, 4) ndarray of int64
        Vertex indices, in ``range(n)`` (any orientation).
    n : int
        Number of vertices (unused vertices are allowed).

    Returns
    -------
    nbr : (s, 4) ndarray of int64
        ``nbr[t, k]`` is the tetrahedron sharing the triangle opposite ``tet[t, k]``, ``-1``
        if none.

    Notes
    -----
    O(s * degree) with per-vertex incidence lists (CSR): the triangle is looked up among the
    tetrahedra of its first vertex.  Every triangle is assumed shared by at most two
    tetrahedra.
    """
    s = tet.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for t in range(s):
        for k in range(4):
            ptr[tet[t, k] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    inc = np.empty(4 * s, dtype=np.int64)
    for t in range(s):
        for k in range(4):
            v = tet[t, k]
            inc[fill[v]] = t
            fill[v] += 1
    nbr = np.full((s, 4), -1, dtype=np.int64)
    for t in range(s):
        for k in range(4):
            if nbr[t, k] >= 0:
                continue
            a = tet[t, (k + 1) % 4]
            b = tet[t, (k + 2) % 4]
            c = tet[t, (k + 3) % 4]
            for p in range(ptr[a], ptr[a + 1]):
                u = inc[p]
                if u == t:
                    continue
                miss = _has3(tet, u, a, b, c)
                if miss >= 0:
                    nbr[t, k] = u
                    nbr[u, miss] = t
                    break
    return nbr


@njit(cache=True)
def orient_positive(tet, nbr, y):
    """Orient every tetrahedron positively, in place; False if one is flat.

    Parameters
    ----------
    tet, nbr : (s, 4) ndarray of int64
        Tetrahedra and their neighbours (:func:`tet_neighbors`); negative ones get vertices
        2 and 3 swapped (and the matching neighbours).
    y : (n, 3) ndarray of float64

    Returns
    -------
    bool
        Whether every tetrahedron has a nonzero orientation beyond ``RTOL`` of its permanent
        (qhull's split of a degenerate facet may leave flat ones, from which no flip is safe).
    """
    ok = True
    for t in range(tet.shape[0]):
        o, p = _orient(y, tet[t, 0], tet[t, 1], tet[t, 2], tet[t, 3])
        if _sign(o, p) == 0:
            ok = False
        if o < 0.0:
            v = tet[t, 2]
            tet[t, 2] = tet[t, 3]
            tet[t, 3] = v
            w = nbr[t, 2]
            nbr[t, 2] = nbr[t, 3]
            nbr[t, 3] = w
    return ok


@njit(cache=True)
def flat_tetrahedra(tet, y):
    """(s,) bool: the tetrahedra whose orientation is zero within ``RTOL`` of its permanent."""
    out = np.zeros(tet.shape[0], dtype=np.bool_)
    for t in range(tet.shape[0]):
        o, p = _orient(y, tet[t, 0], tet[t, 1], tet[t, 2], tet[t, 3])
        out[t] = _sign(o, p) == 0
    return out


@njit(cache=True)
def boundary_faces(tet, nbr):
    """(b, 3) int64: the triangles of the hull boundary (slots without a neighbour)."""
    m = 0
    for t in range(tet.shape[0]):
        for k in range(4):
            if nbr[t, k] < 0:
                m += 1
    out = np.empty((m, 3), dtype=np.int64)
    m = 0
    for t in range(tet.shape[0]):
        for k in range(4):
            if nbr[t, k] < 0:
                for q in range(3):
                    out[m, q] = tet[t, FACE[k, q]]
                m += 1
    return out


# ----------------------------------------------------------------- regularity
@njit(parallel=True, cache=True)
def illegal_slots(tet, nbr, y, phi):
    """The slots ``4 t + k`` of the interior triangles that are not locally regular (beyond
    ``RTOL``), each triangle once (from its tetrahedron of smaller index).

    Parameters
    ----------
    tet, nbr : (s, 4) ndarray of int64
        Positive tetrahedra and their neighbours.
    y : (n, 3) ndarray of float64
    phi : (n,) ndarray of float64

    Returns
    -------
    (m,) ndarray of int64
        Empty iff every interior triangle is locally regular: for a tetrahedralization of all
        the targets over their convex hull, it is then the regular triangulation.
    """
    # the tests run in parallel (one flag per slot), the slots are then listed in order:
    # the same output as a serial pass
    s = tet.shape[0]
    flag = np.zeros(4 * s, dtype=np.uint8)
    for t in prange(s):
        for k in range(4):
            if nbr[t, k] > t:
                illegal, _, _ = _facet_illegal(tet, nbr, y, phi, t, k)
                if illegal:
                    flag[4 * t + k] = 1
    return np.flatnonzero(flag).astype(np.int64)


@njit(cache=True)
def is_regular(tet, nbr, y, phi):
    """Whether every interior triangle is locally regular (stops at the first illegal one)."""
    for t in range(tet.shape[0]):
        for k in range(4):
            if nbr[t, k] > t:
                illegal, _, _ = _facet_illegal(tet, nbr, y, phi, t, k)
                if illegal:
                    return False
    return True


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
def _has3(tet, u, a, b, c):
    """Slot of u's vertex outside {a, b, c} if u holds all three, else -1."""
    hit = 0
    miss = -1
    for j in range(4):
        v = tet[u, j]
        if v == a or v == b or v == c:
            hit += 1
        else:
            miss = j
    return miss if hit == 3 else -1


@njit(cache=True)
def _replace(tet, nbr, y, old, nold, ids, verts, nnew):
    """Replace the tetrahedra ``old[:nold]`` by ``nnew`` new ones, in place.

    ``verts[i]`` holds the vertices of new tetrahedron i, which goes in slot ``ids[i]`` (the
    caller reuses old slots and allocates the others); it is stored positively oriented.  The
    outer triangles of the old tetrahedra (those without an old neighbour) are glued to the new
    tetrahedra that hold them, and their outer neighbours point back; a new triangle held by
    no other tetrahedron is on the hull boundary (the 2-2 flip of a boundary square).
    """
    # outer triangles: (vertices, neighbour), read before any slot is rewritten
    of = np.empty((16, 3), dtype=np.int64)
    on = np.empty(16, dtype=np.int64)
    m = 0
    for q in range(nold):
        t = old[q]
        for k in range(4):
            w = nbr[t, k]
            inner = False
            for r in range(nold):
                if w == old[r]:
                    inner = True
            if not inner:
                for p in range(3):
                    of[m, p] = tet[t, FACE[k, p]]
                on[m] = w
                m += 1
    for i in range(nnew):
        t = ids[i]
        for p in range(4):
            tet[t, p] = verts[i, p]
        o, _ = _orient(y, tet[t, 0], tet[t, 1], tet[t, 2], tet[t, 3])
        if o < 0.0:
            v = tet[t, 2]
            tet[t, 2] = tet[t, 3]
            tet[t, 3] = v
    for i in range(nnew):
        t = ids[i]
        for k in range(4):
            a = tet[t, FACE[k, 0]]
            b = tet[t, FACE[k, 1]]
            c = tet[t, FACE[k, 2]]
            nbr[t, k] = -1
            found = False
            for i2 in range(nnew):
                if i2 != i and _has3(tet, ids[i2], a, b, c) >= 0:
                    nbr[t, k] = ids[i2]
                    found = True
                    break
            if found:
                continue
            for q in range(m):
                f0 = of[q, 0]
                f1 = of[q, 1]
                f2 = of[q, 2]
                if (a == f0 or a == f1 or a == f2) and (b == f0 or b == f1 or b == f2) and (
                        c == f0 or c == f1 or c == f2):
                    w = on[q]
                    nbr[t, k] = w
                    if w >= 0:
                        nbr[w, _has3(tet, w, a, b, c)] = t
                    break


@njit(cache=True)
def _slot_of(tet, t, v):
    """Slot of vertex v in tetrahedron t (-1 if absent)."""
    for k in range(4):
        if tet[t, k] == v:
            return k
    return -1


@njit(cache=True)
def _solid(y, verts, nnew):
    """Whether the new tetrahedra ``verts[:nnew]`` all have a nonzero orientation beyond RTOL."""
    for i in range(nnew):
        o, p = _orient(y, verts[i, 0], verts[i, 1], verts[i, 2], verts[i, 3])
        if _sign(o, p) == 0:
            return False
    return True


@njit(cache=True)
def _set4(verts, i, p, q, r, s):
    verts[i, 0] = p
    verts[i, 1] = q
    verts[i, 2] = r
    verts[i, 3] = s


@njit(cache=True)
def _plan_flip(T, N, y, t, k, u, j, old, verts):
    """The flip of the illegal triangle in slot (t, k) (u across it, in its slot j).

    Returns ``(kind, nold, nnew)`` with the old tetrahedra in ``old`` and the new ones'
    vertices in ``verts``: kind 0: 2-3, 1: 3-2, 2: 2-2 (a boundary square), 3: 4-4 (a square
    inside), -1: the hidden target's proof (``nold`` is that target), -2: waits at a reflex
    edge of degree > 3, -3: waits at another degenerate configuration.
    """
    a = T[t, FACE[k, 0]]
    b = T[t, FACE[k, 1]]
    c = T[t, FACE[k, 2]]
    d = T[t, k]
    e = T[u, j]
    o, p = _orient(y, a, b, e, d)
    sc = _sign(o, p)
    o, p = _orient(y, e, b, c, d)
    sa = _sign(o, p)
    o, p = _orient(y, a, e, c, d)
    sb = _sign(o, p)
    old[0] = t
    old[1] = u
    nneg = (sa < 0) + (sb < 0) + (sc < 0)
    nzero = (sa == 0) + (sb == 0) + (sc == 0)
    if nzero == 0 and nneg == 0:
        # x inside abc: {abcd, abce} -> {abed, aecd, ebcd}
        _set4(verts, 0, a, b, e, d)
        _set4(verts, 1, a, e, c, d)
        _set4(verts, 2, e, b, c, d)
        return 0, 2, 3
    if nzero == 0 and nneg >= 2:
        # the vertex of positive sign lies inside the tetrahedron of the other four, its
        # lifted point above theirs: it is hidden
        return -1, c if sc > 0 else (a if sa > 0 else b), 0
    if nzero + nneg != 1:
        return -3, 0, 0
    # one sign is negative (a reflex edge) or zero (a square: a, b, d, e coplanar); the edge
    # p0 p1 is the one opposite the vertex q0 of that sign
    if sc <= 0:
        p0, p1, q0, sq = a, b, c, sc
    elif sa <= 0:
        p0, p1, q0, sq = b, c, a, sa
    else:
        p0, p1, q0, sq = c, a, b, sb
    # the tetrahedra across the triangles p0 p1 d of t and p0 p1 e of u
    w1 = N[t, _slot_of(T, t, q0)]
    w2 = N[u, _slot_of(T, u, q0)]
    if sq < 0:
        if w1 < 0 or w1 != w2:
            return -2, 0, 0
        # 3-2: {p0 p1 q0 d, p0 p1 q0 e, p0 p1 d e} -> {q0 d e p0, q0 d e p1}
        old[2] = w1
        _set4(verts, 0, q0, d, e, p0)
        _set4(verts, 1, q0, d, e, p1)
        if not _solid(y, verts, 2):
            return -3, 0, 0
        return 1, 3, 2
    if w1 < 0 and w2 < 0:
        # 2-2: the square p0 d p1 e is on the hull; its diagonal p0 p1 becomes d e
        _set4(verts, 0, d, e, p0, q0)
        _set4(verts, 1, d, e, p1, q0)
        return (2, 2, 2) if _solid(y, verts, 2) else (-3, 0, 0)
    if w1 < 0 or w2 < 0 or w1 == w2:
        return -3, 0, 0
    # 4-4: the square p0 d p1 e inside, between q0 and the apex f of w1 = p0 p1 d f and
    # w2 = p0 p1 e f (neighbours across p0 p1 f)
    kd = _slot_of(T, w1, d)
    f = -1
    for q in range(4):
        v = T[w1, q]
        if v != p0 and v != p1 and v != d:
            f = v
    if kd < 0 or N[w1, kd] != w2 or _slot_of(T, w2, f) < 0:
        return -3, 0, 0
    old[2] = w1
    old[3] = w2
    _set4(verts, 0, d, e, p0, q0)
    _set4(verts, 1, d, e, p1, q0)
    _set4(verts, 2, d, e, p0, f)
    _set4(verts, 3, d, e, p1, f)
    return (3, 4, 4) if _solid(y, verts, 4) else (-3, 0, 0)


@njit(cache=True)
def flip_to_regular(tet, nbr, y, phi, max_flips, seeds=None):
    """Flip the triangles of a positive tetrahedralization until it is regular.

    Parameters
    ----------
    tet, nbr : (s, 4) ndarray of int64
        Positive tetrahedra of a tetrahedralization of the targets (:func:`orient_positive`)
        and their neighbours (:func:`tet_neighbors`); not modified.
    y : (n, 3) ndarray of float64
        Targets.
    phi : (n,) ndarray of float64
        Weights; lifted points :math:`(y_i, |y_i|^2 - 2 \\varphi_i)`.
    max_flips : int
        Largest number of flips allowed.
    seeds : (m,) ndarray of int64, optional
        The slots of the illegal triangles (:func:`illegal_slots`, computed when None): every
        other triangle is locally regular.

    Returns
    -------
    status : int
        :data:`STATUS_OK` (0): every interior triangle is locally regular (within
        :data:`RTOL`), the regular triangulation for a tetrahedralization of all the targets;
        :data:`STATUS_HIDDEN` (1): an illegal triangle proves a vertex hidden (see the
        module notes); :data:`STATUS_MAX_FLIPS` (2): ``max_flips`` reached;
        :data:`STATUS_UNFLIPPABLE` (3): illegal triangles remain that no flip removes.
    tet, nbr : ndarray of int64
        The flipped tetrahedralization (compacted; empty unless the status is 0).
    counts : (6,) ndarray of int64
        2-3, 3-2, 2-2 and 4-4 flips, then the waits of illegal triangles at a reflex edge
        shared by more than three tetrahedra and at other degenerate configurations.
    edges : (f, 3) ndarray of int64
        One row per flip, in order: the edge ``(p, q)`` it creates (``+1``: the 2-3 flip's
        ``de``) or removes (``-1``: the 3-2 flip's ``ab``), or for 2-2 / 4-4 flips two rows,
        ``ab`` removed and ``de`` created; :func:`patch_adjacency` turns them into the new
        adjacency.

    Notes
    -----
    Lawson's algorithm with an explicit stack of triangle slots ``4 t + k``, seeded with the
    illegal ones; an illegal, flippable triangle is flipped and every triangle of the new
    tetrahedra is pushed.  Illegal
    triangles that cannot be flipped yet wait in a list, pushed again while that makes flips.
    A slot whose tetrahedron was rewritten may point to another triangle than the one
    pushed: harmless, every rewrite pushes the triangles it changed.  So when the stack is
    empty every triangle has been found legal since its two tetrahedra last changed (the
    legality of a triangle depends on them only; the seeds hold all the illegal ones of the
    start), or waits: no final pass is needed.
    The degenerate 2-2 and 4-4 flips of a square (``a, b, d, e`` coplanar, ``x`` inside the
    edge ``ab``) are the 2D flip of its diagonal, coned from the apexes on either side; they
    occur with coplanar targets (grids) only.
    """
    start = illegal_slots(tet, nbr, y, phi) if seeds is None else seeds
    s0 = tet.shape[0]
    cap = s0 + s0 // 8 + 64
    T = np.empty((cap, 4), dtype=np.int64)
    N = np.empty((cap, 4), dtype=np.int64)
    T[:s0] = tet
    N[:s0] = nbr
    alive = np.zeros(cap, dtype=np.bool_)
    alive[:s0] = True
    used = s0
    free = np.empty(64, dtype=np.int64)
    nfree = 0
    counts = np.zeros(6, dtype=np.int64)
    stack = np.empty(max(256, 2 * start.shape[0]), dtype=np.int64)
    top = start.shape[0]
    stack[:top] = start[::-1]  # (popped in scan order)
    wait = np.empty(64, dtype=np.int64)
    nwait = 0
    edges = np.empty((64, 3), dtype=np.int64)
    nedges = 0
    old = np.empty(4, dtype=np.int64)
    ids = np.empty(4, dtype=np.int64)
    verts = np.empty((4, 4), dtype=np.int64)
    empty = np.empty((0, 4), dtype=np.int64)
    nflips = 0
    rounds = 0
    nflips_round = 0
    while True:
        if top == 0:
            # the waiting triangles again, while that makes flips
            if nwait == 0 or (rounds > 0 and nflips == nflips_round):
                break
            rounds += 1
            nflips_round = nflips
            for q in range(nwait):
                stack = _push(stack, top, wait[q])
                top += 1
            nwait = 0
            continue
        top -= 1
        e = stack[top]
        t = e // 4
        k = e - 4 * t
        if not alive[t]:
            continue
        illegal, u, j = _facet_illegal(T, N, y, phi, t, k)
        if not illegal:
            continue
        kind, nold, nnew = _plan_flip(T, N, y, t, k, u, j, old, verts)
        if kind == -1:
            return STATUS_HIDDEN, empty, empty, counts, edges[:0]
        if kind < 0:
            counts[N_WAIT_REFLEX if kind == -2 else N_WAIT_DEGENERATE] += 1
            wait = _push(wait, nwait, e)
            nwait += 1
            continue
        if nflips >= max_flips:
            return STATUS_MAX_FLIPS, empty, empty, counts, edges[:0]
        # the edge events: 2-3 creates d e; 3-2 removes the reflex edge, the one of the old
        # tetrahedra not in the new ones; 2-2 / 4-4 swap that diagonal for d e
        if nedges + 2 > edges.shape[0]:
            bigger = np.empty((2 * edges.shape[0], 3), dtype=np.int64)
            bigger[:nedges] = edges[:nedges]
            edges = bigger
        if kind != 0:
            # verts[0] = (q0, d, e, p0) or (d, e, p0, q0) and verts[1] the same with p1
            p0, p1 = _swapped(verts)
            edges[nedges, 0] = p0
            edges[nedges, 1] = p1
            edges[nedges, 2] = -1
            nedges += 1
        if kind != 1:
            dd, ee = _new_edge(verts, kind)
            edges[nedges, 0] = dd
            edges[nedges, 1] = ee
            edges[nedges, 2] = 1
            nedges += 1
        # slots: the old ones first, then free or appended ones (the 2-3 flip); the 3-2 flip
        # frees its third
        if nnew > nold and nfree == 0 and used == cap:
            cap = 2 * cap
            T2 = np.empty((cap, 4), dtype=np.int64)
            N2 = np.empty((cap, 4), dtype=np.int64)
            A2 = np.zeros(cap, dtype=np.bool_)
            T2[:used] = T[:used]
            N2[:used] = N[:used]
            A2[:used] = alive[:used]
            T, N, alive = T2, N2, A2
        for i in range(nnew):
            if i < nold:
                ids[i] = old[i]
            elif nfree > 0:
                nfree -= 1
                ids[i] = free[nfree]
            else:
                ids[i] = used
                used += 1
            alive[ids[i]] = True
        _replace(T, N, y, old, nold, ids, verts, nnew)
        for i in range(nnew, nold):
            alive[old[i]] = False
            free = _push(free, nfree, old[i])
            nfree += 1
        counts[kind] += 1
        nflips += 1
        for i in range(nnew):
            for kk in range(4):
                stack = _push(stack, top, 4 * ids[i] + kk)
                top += 1
    if nwait > 0:
        # re-tested in a round without flips: they are still illegal
        return STATUS_UNFLIPPABLE, empty, empty, counts, edges[:0]
    # compact
    m = 0
    remap = np.full(used, -1, dtype=np.int64)
    for t in range(used):
        if alive[t]:
            remap[t] = m
            m += 1
    tet_out = np.empty((m, 4), dtype=np.int64)
    nbr_out = np.empty((m, 4), dtype=np.int64)
    for t in range(used):
        r = remap[t]
        if r >= 0:
            for k in range(4):
                tet_out[r, k] = T[t, k]
                w = N[t, k]
                nbr_out[r, k] = remap[w] if w >= 0 else -1
    return STATUS_OK, tet_out, nbr_out, counts, edges[:nedges].copy()


@njit(cache=True)
def _swapped(verts):
    """The removed edge of a 3-2 / 2-2 / 4-4 flip: the vertices in which the new tetrahedra
    0 and 1 differ."""
    p0 = -1
    p1 = -1
    for q in range(4):
        v = verts[0, q]
        if v != verts[1, 0] and v != verts[1, 1] and v != verts[1, 2] and v != verts[1, 3]:
            p0 = v
        w = verts[1, q]
        if w != verts[0, 0] and w != verts[0, 1] and w != verts[0, 2] and w != verts[0, 3]:
            p1 = w
    return p0, p1


@njit(cache=True)
def _new_edge(verts, kind):
    """The created edge d e of a 2-3 flip (verts (a, b, e, d), (a, e, c, d), ...: the vertices
    common to its three new tetrahedra) or of a 2-2 / 4-4 flip (verts[0] = (d, e, p0, q0))."""
    if kind != 0:
        return verts[0, 0], verts[0, 1]
    return verts[0, 2], verts[0, 3]


@njit(cache=True)
def patch_adjacency(indptr, indices, edges, n):
    """The CSR adjacency after the edge events of :func:`flip_to_regular`.

    Parameters
    ----------
    indptr : (n+1,) ndarray of int64
    indices : (nnz,) ndarray of int64
        Symmetric adjacency (sorted rows) of the tetrahedralization before the flips.
    edges : (f, 3) ndarray of int64
        Rows ``(p, q, +1)`` (edge created) / ``(p, q, -1)`` (removed), in flip order.
    n : int

    Returns
    -------
    indptr, indices : ndarray of int64
        The adjacency of the flipped tetrahedralization (rows sorted), equal to the one built
        from its tetrahedra: every flip creates or removes whole edges (a 2-3 flip's new edge
        crosses a triangle, so it is new; a 3-2 flip's edge is in its three tetrahedra only).

    Notes
    -----
    O(n + nnz + f log f): the net change of each edge (created and removed again cancel) is
    found by sorting the events; rows without a change are copied.
    """
    f = edges.shape[0]
    # each event in both directions, sorted by (row, column, order)
    key = np.empty(2 * f, dtype=np.int64)
    for r in range(f):
        p = edges[r, 0]
        q = edges[r, 1]
        key[2 * r] = p * n + q
        key[2 * r + 1] = q * n + p
    order = np.argsort(key, kind="mergesort")
    # net change per directed edge: the last event decides (events of one edge alternate)
    add_row = np.empty(2 * f, dtype=np.int64)
    add_col = np.empty(2 * f, dtype=np.int64)
    rem_row = np.empty(2 * f, dtype=np.int64)
    rem_col = np.empty(2 * f, dtype=np.int64)
    na = 0
    nr = 0
    m = 0
    while m < 2 * f:
        k0 = key[order[m]]
        first = edges[order[m] // 2, 2]
        last = first
        while m < 2 * f and key[order[m]] == k0:
            last = edges[order[m] // 2, 2]
            m += 1
        if first == last:  # created then (removed, created)* -> created; likewise removed
            if last > 0:
                add_row[na] = k0 // n
                add_col[na] = k0 % n
                na += 1
            else:
                rem_row[nr] = k0 // n
                rem_col[nr] = k0 % n
                nr += 1
    # new row lengths
    delta = np.zeros(n, dtype=np.int64)
    for r in range(na):
        delta[add_row[r]] += 1
    for r in range(nr):
        delta[rem_row[r]] -= 1
    new_ptr = np.empty(n + 1, dtype=np.int64)
    new_ptr[0] = 0
    for i in range(n):
        new_ptr[i + 1] = new_ptr[i] + (indptr[i + 1] - indptr[i]) + delta[i]
    out = np.empty(new_ptr[n], dtype=np.int64)
    ia = 0  # add / remove lists are sorted by row, then column
    ir = 0
    for i in range(n):
        w = new_ptr[i]
        if delta[i] == 0 and (ia >= na or add_row[ia] != i) and (ir >= nr or rem_row[ir] != i):
            for p in range(indptr[i], indptr[i + 1]):
                out[w] = indices[p]
                w += 1
            continue
        # merge the old row less the removed with the added
        p = indptr[i]
        while True:
            has_old = p < indptr[i + 1]
            has_add = ia < na and add_row[ia] == i
            if not has_old and not has_add:
                break
            if has_old and (not has_add or indices[p] < add_col[ia]):
                v = indices[p]
                p += 1
                if ir < nr and rem_row[ir] == i and rem_col[ir] == v:
                    ir += 1
                    continue
                out[w] = v
            else:
                out[w] = add_col[ia]
                ia += 1
            w += 1
    return new_ptr, out
