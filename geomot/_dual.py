"""Numba kernels: integrate interior power cells from the regular triangulation, without clipping.

The power vertices of a cell :math:`W_i` are the power centres :math:`c_T` of the lower
simplices :math:`T \\ni i` of the regular triangulation (the point where
:math:`\\langle x, y_v\\rangle + h_v` is the same for the ``d + 1`` vertices :math:`v` of
:math:`T`).  When target ``i`` is interior to :math:`\\operatorname{conv}(y)` (no top simplex
holds it), every simplex around it is well shaped, and every :math:`c_T` lies strictly inside
ONE convex piece of the domain that is a plain box (no half-spaces of its own) and is the only
candidate piece of the cell, the cell inside the domain is the whole power cell

.. math:: W_i = \\operatorname{conv}\\{c_T : T \\ni i\\},

and its facet with the neighbour ``j`` is the polygon of the :math:`c_T`, :math:`T \\ni i, j`,
in the cyclic order of the *link* of the edge ``(i, j)`` (the simplices around an edge follow
each other through shared faces).  In 2D the facet with ``j`` is the segment between the
centres of the two triangles around the edge ``(i, j)``, from the one whose link edge
(counter-clockwise around ``i``) ends at ``j`` to the one whose link starts there: no sorting
at all.  The integrals (volume, first moment, facet measure per CSR
slot) are then O(simplices), with no clipping; every other cell is clipped by
:mod:`geomot._clip`, which skips the cells done here.  The outputs are those of the clipping
kernel (same conventions: ``flen`` / ``fmass`` per slot of the row, mass and moment weighted by
``psign * pdens``) to rounding.

Exactness.  The power centre of a simplex with vertices :math:`v_0, \\dots, v_d` is
:math:`c = y_{v_0} + z` with

.. math:: \\langle z, y_{v_r} - y_{v_0}\\rangle = \\varphi_{v_0} - \\varphi_{v_r}
          + |y_{v_r} - y_{v_0}|^2 / 2 \\qquad (r = 1, \\dots, d),

from small differences only (``wphi`` :math:`= \\varphi = h + |y|^2/2`, as in
:func:`geomot._clip._halfspace_3d`).  Its rounding error is about
:math:`\\epsilon (|c| + |z|) / q_T` with :math:`q_T = |\\det| / \\ell_{\\max}^d` the shape of the
simplex; a cell is done here only when the simplices around it have :math:`q_T \\ge`
``tol.dual_shape`` and that error is below ``tol.dual_error`` times the cell's diameter (else a
sliver, a tiny cell or power centres far from the targets would cancel digits): those go to the
clipping.

Reproducibility.  The results depend on the triangulation's combinatorics only, not on the
order of its simplices or of their vertices (a triangulation repaired by flips and a fresh hull
give the same bits, as the clipping does): the centres are computed from the vertices in
increasing index order, the reference point of a cell is the centre of the box of its power
vertices (not a sum over them), each ring is walked from its smallest link vertex, and the
facets are summed in slot order.

References
----------
F. Aurenhammer, *Power diagrams: properties, algorithms and applications*, SIAM J. Comput. 16
(1987) (the power diagram is the dual of the regular triangulation).

Kernels receive validated float64 / int64 arrays only; :func:`geomot._clip_ref.dual_cells_reference`
is the numpy twin (hulls of the power centres), tested equal.
"""

import numpy as np
from numba import njit, prange

from ._clip import CHUNK
from ._simplices import _vertex_simplices

#: longest ring of tetrahedra around an edge in the work buffers (a Delaunay edge has ~5;
#: cells with longer rings are clipped)
RING = 64


@njit(parallel=True, cache=True)
def power_centres_3d(simp, y, wphi):
    """Power centres, signed shapes and rounding estimates of tetrahedra, packed ``cq (s, 5)``
    (one row per tetrahedron: the cell kernels read them together, from scattered rows).

    ``cq[:, :3]`` the centre (0 for a flat tetrahedron); ``q = cq[:, 3]`` with
    ``|q| = |det| / l_max^3`` (0 when flat) and the sign of ``q`` the orientation of the
    tetrahedron ``simp[t]``, ``det(y_1 - y_0, y_2 - y_0, y_3 - y_0)``; ``cq[:, 4] = eps (|c| +
    |z|) / |q|`` (infinite when flat), in the units of ``y``.  Computed from the vertices in
    increasing index order, so that the result depends on the vertex set only (a triangulation
    from flips and one from a hull give the same bits).
    """
    s = simp.shape[0]
    cq = np.zeros((s, 5))
    cq[:, 4] = np.inf
    u = np.finfo(np.float64).eps
    for t in prange(s):
        v0 = simp[t, 0]
        v1 = simp[t, 1]
        v2 = simp[t, 2]
        v3 = simp[t, 3]
        # sort the vertices (a sorting network), tracking the permutation's parity
        odd = False
        if v0 > v1:
            v0, v1 = v1, v0
            odd = not odd
        if v2 > v3:
            v2, v3 = v3, v2
            odd = not odd
        if v0 > v2:
            v0, v2 = v2, v0
            odd = not odd
        if v1 > v3:
            v1, v3 = v3, v1
            odd = not odd
        if v1 > v2:
            v1, v2 = v2, v1
            odd = not odd
        a00 = y[v1, 0] - y[v0, 0]
        a01 = y[v1, 1] - y[v0, 1]
        a02 = y[v1, 2] - y[v0, 2]
        a10 = y[v2, 0] - y[v0, 0]
        a11 = y[v2, 1] - y[v0, 1]
        a12 = y[v2, 2] - y[v0, 2]
        a20 = y[v3, 0] - y[v0, 0]
        a21 = y[v3, 1] - y[v0, 1]
        a22 = y[v3, 2] - y[v0, 2]
        n0 = a00 * a00 + a01 * a01 + a02 * a02
        n1 = a10 * a10 + a11 * a11 + a12 * a12
        n2 = a20 * a20 + a21 * a21 + a22 * a22
        b0 = wphi[v0] - wphi[v1] + 0.5 * n0
        b1 = wphi[v0] - wphi[v2] + 0.5 * n1
        b2 = wphi[v0] - wphi[v3] + 0.5 * n2
        lmax = max(n0, n1, n2, (a10 - a00) ** 2 + (a11 - a01) ** 2 + (a12 - a02) ** 2,
                   (a20 - a10) ** 2 + (a21 - a11) ** 2 + (a22 - a12) ** 2,
                   (a00 - a20) ** 2 + (a01 - a21) ** 2 + (a02 - a22) ** 2)
        c00 = a11 * a22 - a12 * a21
        c01 = a12 * a20 - a10 * a22
        c02 = a10 * a21 - a11 * a20
        det = a00 * c00 + a01 * c01 + a02 * c02
        lm3 = lmax * np.sqrt(lmax)
        if not (lm3 > 0.0) or not (abs(det) > 0.0):
            continue
        qt = abs(det) / lm3
        # z = A^{-1} b via the adjugate
        z0 = (b0 * c00 + b1 * (a02 * a21 - a01 * a22) + b2 * (a01 * a12 - a02 * a11)) / det
        z1 = (b0 * c01 + b1 * (a00 * a22 - a02 * a20) + b2 * (a02 * a10 - a00 * a12)) / det
        z2 = (b0 * c02 + b1 * (a01 * a20 - a00 * a21) + b2 * (a00 * a11 - a01 * a10)) / det
        cq[t, 0] = y[v0, 0] + z0
        cq[t, 1] = y[v0, 1] + z1
        cq[t, 2] = y[v0, 2] + z2
        cq[t, 3] = qt if (det > 0.0) != odd else -qt
        zn = max(abs(z0), abs(z1), abs(z2))
        cn = max(abs(cq[t, 0]), abs(cq[t, 1]), abs(cq[t, 2]))
        cq[t, 4] = u * (cn + zn) / qt
    return cq


@njit(cache=True)
def _hash_row(keys, vals, nbr_idx, base, deg):
    """Fill the open-addressing table (keys, vals) with row ``nbr_idx[base:base+deg]`` -> slot.

    A cell looks its neighbours up ~6 times each (3 per tetrahedron around it): a table of
    twice the degree answers in about one probe, a bisection of the row in many mispredicted
    branches (measured 4x slower)."""
    mask = keys.shape[0] - 1
    for h in range(keys.shape[0]):
        keys[h] = -1
    for k in range(deg):
        j = nbr_idx[base + k]
        h = (j * 2654435761) & mask
        while keys[h] >= 0:
            h = (h + 1) & mask
        keys[h] = j
        vals[h] = k


@njit(cache=True)
def _slot_of(keys, vals, j):
    """Slot of neighbour ``j`` in the table of :func:`_hash_row`, -1 when absent."""
    mask = keys.shape[0] - 1
    h = (j * 2654435761) & mask
    while keys[h] != j:
        if keys[h] < 0:
            return -1
        h = (h + 1) & mask
    return vals[h]


@njit(cache=True)
def _dual_cell_3d(i, nbr_ptr, nbr_idx, simp, tptr, tidx, cq, blo, bhi, min_shape,
                  max_error, cnt, keys, vals, ent_t, ent_b, ent_c, succ, tmp):
    """Integrate cell ``i`` from the power centres of its tetrahedra.

    Returns ``(ok, vol, mx, my, mz)`` (first moment about the origin); the facet area of each
    slot is written to ``tmp[:degree]``.  ``ok`` is False (the cell then goes to the clipping)
    when a tetrahedron around ``i`` is shaped below ``min_shape``, has its power centre outside
    the open box ``(blo, bhi)`` or a rounding estimate above ``max_error`` times the cell's
    diameter, or when the tetrahedra do not form closed rings around its edges.
    """
    base = nbr_ptr[i]
    deg = nbr_ptr[i + 1] - base
    # the checks (shapes, power centres inside the box, rounding); the loop also loads the
    # tetrahedra's rows, scattered in memory, ahead of their use
    touch = 0
    emax = 0.0
    lo0 = np.inf
    lo1 = np.inf
    lo2 = np.inf
    hi0 = -np.inf
    hi1 = -np.inf
    hi2 = -np.inf
    for e in range(tptr[i], tptr[i + 1]):
        t = tidx[e]
        c0 = cq[t, 0]
        c1 = cq[t, 1]
        c2 = cq[t, 2]
        if (not (abs(cq[t, 3]) >= min_shape)
                or c0 <= blo[0] or c0 >= bhi[0] or c1 <= blo[1] or c1 >= bhi[1]
                or c2 <= blo[2] or c2 >= bhi[2]):
            return False, 0.0, 0.0, 0.0, 0.0
        emax = max(emax, cq[t, 4])
        lo0 = min(lo0, c0)
        lo1 = min(lo1, c1)
        lo2 = min(lo2, c2)
        hi0 = max(hi0, c0)
        hi1 = max(hi1, c1)
        hi2 = max(hi2, c2)
        touch += simp[t, 0]
    if not (emax <= max_error * max(hi0 - lo0, hi1 - lo1, hi2 - lo2)) or touch < 0:
        return False, 0.0, 0.0, 0.0, 0.0
    # reference point: the centre of the box of the power vertices (not their mean: a sum
    # depends on the order of the tetrahedra, and the result must depend on the triangulation
    # only)
    rx = 0.5 * (lo0 + hi0)
    ry = 0.5 * (lo1 + hi1)
    rz = 0.5 * (lo2 + hi2)
    # entries (tetrahedron, link edge b -> c) bucketed by slot: the ring of slot k is
    # ent_*[k * cap : k * cap + cnt[k]].  With o0, o1, o2 the other vertices of t in their
    # order in simp[t] and p its position of i, (i, o_a, o_a+1, o_a+2) is an even permutation
    # of simp[t] iff p is even: so the link edge of (i, o_a) runs o_a+1 -> o_a+2 counter-
    # clockwise seen from y_(o_a) iff sign(q_t) (-1)^p > 0, else o_a+2 -> o_a+1
    cap = ent_t.shape[0] // (deg if deg > 0 else 1)
    for k in range(deg):
        cnt[k] = 0
    _hash_row(keys, vals, nbr_idx, base, deg)
    for e in range(tptr[i], tptr[i + 1]):
        t = tidx[e]
        q = 0
        pos = -1
        o0 = -1
        o1 = -1
        o2 = -1
        for p in range(4):
            v = simp[t, p]
            if v == i:
                pos = p
            else:
                if q == 0:
                    o0 = v
                elif q == 1:
                    o1 = v
                else:
                    o2 = v
                q += 1
        if q != 3:
            return False, 0.0, 0.0, 0.0, 0.0
        ccw = (cq[t, 3] > 0.0) == (pos % 2 == 0)
        for a in range(3):
            v = o0 if a == 0 else (o1 if a == 1 else o2)
            k = _slot_of(keys, vals, v)
            if k < 0 or cnt[k] >= cap:
                return False, 0.0, 0.0, 0.0, 0.0
            w = k * cap + cnt[k]
            cnt[k] += 1
            nb = o1 if a == 0 else (o2 if a == 1 else o0)
            nc = o2 if a == 0 else (o0 if a == 1 else o1)
            ent_t[w] = t
            ent_b[w] = nb if ccw else nc
            ent_c[w] = nc if ccw else nb
    vol6 = 0.0
    mx = 0.0
    my = 0.0
    mz = 0.0
    for k in range(deg):
        start = k * cap
        L = cnt[k]
        stop = start + L
        tmp[k] = 0.0
        if L < 3:
            return False, 0.0, 0.0, 0.0, 0.0
        # the ring around edge (i, j): the successor of tetrahedron (b -> c) is the one
        # (c -> d) (branch-free matching; rings are short)
        for w in range(start, stop):
            c = ent_c[w]
            nxt = -1
            for w2 in range(start, stop):
                nxt = w2 if ent_b[w2] == c else nxt
            succ[w - start] = nxt
        # one cycle through all L tetrahedra (else not a ring: clipped instead), walked from
        # the tetrahedron of the smallest link vertex b (the sums then do not depend on the
        # order of the tetrahedra)
        w0 = start
        for w in range(start + 1, stop):
            w0 = w if ent_b[w] < ent_b[w0] else w0
        w = w0
        for step in range(1, L):
            w = succ[w - start]
            if w < 0 or w == w0:
                return False, 0.0, 0.0, 0.0, 0.0
        if succ[w - start] != w0:
            return False, 0.0, 0.0, 0.0, 0.0
        # fan from the first vertex: area vector and the tetrahedra to the reference point
        t0 = ent_t[w0]
        ax0 = cq[t0, 0] - rx
        ay0 = cq[t0, 1] - ry
        az0 = cq[t0, 2] - rz
        w1 = succ[w0 - start]
        t1 = ent_t[w1]
        bx = cq[t1, 0] - rx
        by = cq[t1, 1] - ry
        bz = cq[t1, 2] - rz
        sx = 0.0
        sy = 0.0
        sz = 0.0
        for f in range(1, L - 1):
            w1 = succ[w1 - start]
            t2 = ent_t[w1]
            cx = cq[t2, 0] - rx
            cy = cq[t2, 1] - ry
            cz = cq[t2, 2] - rz
            det = ax0 * (by * cz - bz * cy) - ay0 * (bx * cz - bz * cx) + az0 * (bx * cy - by * cx)
            vol6 += det
            mx += det * (ax0 + bx + cx)
            my += det * (ay0 + by + cy)
            mz += det * (az0 + bz + cz)
            ex = bx - ax0
            ey = by - ay0
            ez = bz - az0
            gx = cx - ax0
            gy = cy - ay0
            gz = cz - az0
            sx += ey * gz - ez * gy
            sy += ez * gx - ex * gz
            sz += ex * gy - ey * gx
            bx = cx
            by = cy
            bz = cz
        tmp[k] = 0.5 * np.sqrt(sx * sx + sy * sy + sz * sz)
    vol = vol6 / 6.0
    if not (vol > 0.0):
        return False, 0.0, 0.0, 0.0, 0.0
    return True, vol, mx / 24.0 + vol * rx, my / 24.0 + vol * ry, mz / 24.0 + vol * rz


@njit(parallel=True, cache=True)
def integrate_dual_3d(y, wphi, nbr_ptr, nbr_idx, simp, top_simp, cand_ptr, cand_piece, pptr, plo,
                      phi, psign, pdens, margin, min_shape, max_error):
    """The cells that can be integrated from the triangulation, and their integrals.

    Returns ``(done (n,) bool, vol, mass, mom (n, 3), flen (nnz,), fmass (nnz,))`` laid out as
    :func:`geomot._clip.integrate_cells_3d`'s, zero outside the rows of the ``done`` cells.
    A cell is done when its target is in no top simplex, it has exactly one candidate piece
    ``p`` and that piece is a plain box (``pptr[p] == pptr[p + 1]``), the power centres of its
    tetrahedra lie inside the box shrunk by ``margin``, their shapes are at least ``min_shape``
    and their rounding estimates at most ``max_error`` times the cell's diameter.
    """
    n = y.shape[0]
    nnz = nbr_idx.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    vol = np.zeros(n)
    mass = np.zeros(n)
    mom = np.zeros((n, 3))
    flen = np.zeros(nnz)
    fmass = np.zeros(nnz)
    if simp.shape[0] == 0:
        return done, vol, mass, mom, flen, fmass
    unbounded = np.zeros(n, dtype=np.bool_)
    for s in range(top_simp.shape[0]):
        for p in range(top_simp.shape[1]):
            v = top_simp[s, p]
            if v < n:
                unbounded[v] = True
    tptr, tidx = _vertex_simplices(simp, n)
    cq = power_centres_3d(simp, y, wphi)
    maxdeg = 1
    maxinc = 1
    for i in range(n):
        maxdeg = max(maxdeg, nbr_ptr[i + 1] - nbr_ptr[i])
        maxinc = max(maxinc, tptr[i + 1] - tptr[i])
    nchunk = (n + CHUNK - 1) // CHUNK
    nhash = 2
    while nhash < 2 * maxdeg:
        nhash *= 2
    for ch in prange(nchunk):
        cnt = np.empty(maxdeg + 1, dtype=np.int64)
        keys = np.empty(nhash, dtype=np.int64)
        vals = np.empty(nhash, dtype=np.int64)
        # rings around an edge hold at most maxinc tetrahedra (longer than RING: clipped)
        ring = min(maxinc, RING)
        ent_t = np.empty(maxdeg * ring, dtype=np.int64)
        ent_b = np.empty(maxdeg * ring, dtype=np.int64)
        ent_c = np.empty(maxdeg * ring, dtype=np.int64)
        succ = np.empty(maxinc, dtype=np.int64)
        blo = np.empty(3)
        bhi = np.empty(3)
        tmp = np.empty(maxdeg)
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            if unbounded[i] or cand_ptr[i + 1] - cand_ptr[i] != 1 or tptr[i + 1] == tptr[i]:
                continue
            p = cand_piece[cand_ptr[i]]
            if pptr[p + 1] != pptr[p]:
                continue
            for a in range(3):
                blo[a] = plo[p, a] + margin
                bhi[a] = phi[p, a] - margin
            ok, v, m0, m1, m2 = _dual_cell_3d(i, nbr_ptr, nbr_idx, simp, tptr, tidx, cq,
                                              blo, bhi, min_shape, max_error, cnt, keys, vals,
                                              ent_t, ent_b, ent_c, succ, tmp)
            if not ok:
                continue
            done[i] = True
            base = nbr_ptr[i]
            w = psign[p] * pdens[p]
            for k in range(nbr_ptr[i + 1] - base):
                flen[base + k] = psign[p] * tmp[k]
                fmass[base + k] = w * tmp[k]
            vol[i] = psign[p] * v
            mass[i] = w * v
            mom[i, 0] = w * m0
            mom[i, 1] = w * m1
            mom[i, 2] = w * m2
    return done, vol, mass, mom, flen, fmass


# --------------------------------------------------------------------------- 2D
@njit(parallel=True, cache=True)
def power_centres_2d(simp, y, wphi):
    """2D twin of :func:`power_centres_3d`: ``cq (s, 4)``, the centre, the signed shape
    ``q = det / l_max^2`` (positive: ``simp[t]`` counter-clockwise) and the rounding estimate."""
    s = simp.shape[0]
    cq = np.zeros((s, 4))
    cq[:, 3] = np.inf
    u = np.finfo(np.float64).eps
    for t in prange(s):
        v0 = simp[t, 0]
        v1 = simp[t, 1]
        v2 = simp[t, 2]
        odd = False
        if v0 > v1:
            v0, v1 = v1, v0
            odd = not odd
        if v1 > v2:
            v1, v2 = v2, v1
            odd = not odd
        if v0 > v1:
            v0, v1 = v1, v0
            odd = not odd
        a00 = y[v1, 0] - y[v0, 0]
        a01 = y[v1, 1] - y[v0, 1]
        a10 = y[v2, 0] - y[v0, 0]
        a11 = y[v2, 1] - y[v0, 1]
        n0 = a00 * a00 + a01 * a01
        n1 = a10 * a10 + a11 * a11
        b0 = wphi[v0] - wphi[v1] + 0.5 * n0
        b1 = wphi[v0] - wphi[v2] + 0.5 * n1
        lmax = max(n0, n1, (a10 - a00) ** 2 + (a11 - a01) ** 2)
        det = a00 * a11 - a01 * a10
        if not (lmax > 0.0) or not (abs(det) > 0.0):
            continue
        qt = abs(det) / lmax
        z0 = (b0 * a11 - a01 * b1) / det
        z1 = (a00 * b1 - b0 * a10) / det
        cq[t, 0] = y[v0, 0] + z0
        cq[t, 1] = y[v0, 1] + z1
        cq[t, 2] = qt if (det > 0.0) != odd else -qt
        zn = max(abs(z0), abs(z1))
        cn = max(abs(cq[t, 0]), abs(cq[t, 1]))
        cq[t, 3] = u * (cn + zn) / qt
    return cq


@njit(cache=True)
def _dual_cell_2d(i, nbr_ptr, nbr_idx, simp, tptr, tidx, cq, blo, bhi, min_shape,
                  max_error, keys, vals, pfrom, pto, tmp):
    """2D twin of :func:`_dual_cell_3d`: the cell is the polygon of the power centres of the
    triangles around ``i``; its edge with neighbour ``j`` runs from the centre of the triangle
    whose link edge (counter-clockwise around ``i``) ends at ``j`` to the one whose link starts
    at ``j`` (no sorting: each neighbour is the end of one link edge and the start of another)."""
    base = nbr_ptr[i]
    deg = nbr_ptr[i + 1] - base
    if tptr[i + 1] - tptr[i] != deg:
        return False, 0.0, 0.0, 0.0
    emax = 0.0
    lo0 = np.inf
    lo1 = np.inf
    hi0 = -np.inf
    hi1 = -np.inf
    for e in range(tptr[i], tptr[i + 1]):
        t = tidx[e]
        c0 = cq[t, 0]
        c1 = cq[t, 1]
        if (not (abs(cq[t, 2]) >= min_shape)
                or c0 <= blo[0] or c0 >= bhi[0] or c1 <= blo[1] or c1 >= bhi[1]):
            return False, 0.0, 0.0, 0.0
        emax = max(emax, cq[t, 3])
        lo0 = min(lo0, c0)
        lo1 = min(lo1, c1)
        hi0 = max(hi0, c0)
        hi1 = max(hi1, c1)
    if not (emax <= max_error * max(hi0 - lo0, hi1 - lo1)):
        return False, 0.0, 0.0, 0.0
    # reference point: the centre of the box of the power vertices (order-independent)
    rx = 0.5 * (lo0 + hi0)
    ry = 0.5 * (lo1 + hi1)
    for k in range(deg):
        pfrom[k] = -1
        pto[k] = -1
    _hash_row(keys, vals, nbr_idx, base, deg)
    for e in range(tptr[i], tptr[i + 1]):
        t = tidx[e]
        pos = 0 if simp[t, 0] == i else (1 if simp[t, 1] == i else 2)
        if simp[t, pos] != i:
            return False, 0.0, 0.0, 0.0
        o0 = simp[t, 1] if pos == 0 else simp[t, 0]
        o1 = simp[t, 1] if pos == 2 else simp[t, 2]
        # (i, o0, o1) is an even permutation of simp[t] iff pos is even
        ccw = (cq[t, 2] > 0.0) == (pos % 2 == 0)
        b = o0 if ccw else o1
        c = o1 if ccw else o0
        kb = _slot_of(keys, vals, b)
        kc = _slot_of(keys, vals, c)
        if kb < 0 or kc < 0 or pto[kb] >= 0 or pfrom[kc] >= 0:
            return False, 0.0, 0.0, 0.0
        pto[kb] = t
        pfrom[kc] = t
    area2 = 0.0
    mx = 0.0
    my = 0.0
    for k in range(deg):
        tp = pfrom[k]
        tq = pto[k]
        if tp < 0 or tq < 0:
            return False, 0.0, 0.0, 0.0
        ax = cq[tp, 0] - rx
        ay = cq[tp, 1] - ry
        bx = cq[tq, 0] - rx
        by = cq[tq, 1] - ry
        cr = ax * by - ay * bx
        area2 += cr
        mx += cr * (ax + bx)
        my += cr * (ay + by)
        dx = bx - ax
        dy = by - ay
        tmp[k] = np.sqrt(dx * dx + dy * dy)
    area = 0.5 * area2
    if not (area > 0.0):
        return False, 0.0, 0.0, 0.0
    return True, area, mx / 6.0 + area * rx, my / 6.0 + area * ry


@njit(parallel=True, cache=True)
def integrate_dual_2d(y, wphi, nbr_ptr, nbr_idx, simp, top_simp, cand_ptr, cand_piece, pptr, plo,
                      phi, psign, pdens, margin, min_shape, max_error):
    """2D twin of :func:`integrate_dual_3d` (laid out as :func:`geomot._clip.integrate_cells_2d`'s
    outputs)."""
    n = y.shape[0]
    nnz = nbr_idx.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    vol = np.zeros(n)
    mass = np.zeros(n)
    mom = np.zeros((n, 2))
    flen = np.zeros(nnz)
    fmass = np.zeros(nnz)
    if simp.shape[0] == 0:
        return done, vol, mass, mom, flen, fmass
    unbounded = np.zeros(n, dtype=np.bool_)
    for s in range(top_simp.shape[0]):
        for p in range(top_simp.shape[1]):
            v = top_simp[s, p]
            if v < n:
                unbounded[v] = True
    tptr, tidx = _vertex_simplices(simp, n)
    cq = power_centres_2d(simp, y, wphi)
    maxdeg = 1
    for i in range(n):
        maxdeg = max(maxdeg, nbr_ptr[i + 1] - nbr_ptr[i])
    nchunk = (n + CHUNK - 1) // CHUNK
    nhash = 2
    while nhash < 2 * maxdeg:
        nhash *= 2
    for ch in prange(nchunk):
        keys = np.empty(nhash, dtype=np.int64)
        vals = np.empty(nhash, dtype=np.int64)
        pfrom = np.empty(maxdeg, dtype=np.int64)
        pto = np.empty(maxdeg, dtype=np.int64)
        blo = np.empty(2)
        bhi = np.empty(2)
        tmp = np.empty(maxdeg)
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            if unbounded[i] or cand_ptr[i + 1] - cand_ptr[i] != 1 or tptr[i + 1] == tptr[i]:
                continue
            p = cand_piece[cand_ptr[i]]
            if pptr[p + 1] != pptr[p]:
                continue
            for a in range(2):
                blo[a] = plo[p, a] + margin
                bhi[a] = phi[p, a] - margin
            ok, v, m0, m1 = _dual_cell_2d(i, nbr_ptr, nbr_idx, simp, tptr, tidx, cq, blo,
                                          bhi, min_shape, max_error, keys, vals, pfrom, pto, tmp)
            if not ok:
                continue
            done[i] = True
            base = nbr_ptr[i]
            w = psign[p] * pdens[p]
            for k in range(nbr_ptr[i + 1] - base):
                flen[base + k] = psign[p] * tmp[k]
                fmass[base + k] = w * tmp[k]
            vol[i] = psign[p] * v
            mass[i] = w * v
            mom[i, 0] = w * m0
            mom[i, 1] = w * m1
    return done, vol, mass, mom, flen, fmass
