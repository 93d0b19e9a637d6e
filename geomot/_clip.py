"""Numba kernels: clip power cells against convex pieces and integrate them exactly.

A cell ``W_i`` is the intersection of the half-spaces

.. math:: \\langle x, y_j - y_i \\rangle \\le h_i - h_j \\qquad (j \\text{ a neighbour of } i)

with a convex piece of the domain (its bounding box and its own half-spaces).  The kernels
start from the piece's bounding box and clip it by every half-space (Sutherland-Hodgman in
2D, face-by-face clipping with a sorted cap polygon in 3D), keeping on every edge / face the
*label* of the half-space that produced it: ``-1`` for the piece boundary, else the slot of
the neighbour in the CSR adjacency.  The integrals (volume, first moment, facet measure per
label) are then exact up to rounding.

The kernels take the weights relative to the Voronoi ones, ``wphi`` :math:`= \\varphi = h +
|y|^2/2` (see :func:`_halfspace_2d`), not ``h``.

Every kernel has a pure-numpy twin in :mod:`geomot._clip_ref`, tested equal.  Kernels receive
validated float64 / int64 arrays only.
"""

import numpy as np
from numba import njit, prange

# Buffer sizes of the per-cell work arrays (a 3D Laguerre cell has ~15 faces on average;
# cells of degenerate inputs can have many more).  Overflow is reported, never ignored.
MAXV2 = 512
MAXV3 = 1024
MAXF3 = 512
MAXFV3 = 4096

STATUS_OK = 0
CHUNK = 256  # cells per parallel task: work buffers are allocated once per chunk
STATUS_OVERFLOW = 1


@njit(cache=True)
def _start_box(plo, phi, clo, chi, blo, bhi):
    """The clipping starts from the piece's box cut to the box known to contain the cell."""
    for a in range(plo.shape[0]):
        blo[a] = max(plo[a], clo[a])
        bhi[a] = min(phi[a], chi[a])
        if blo[a] >= bhi[a]:
            return False
    return True


# --------------------------------------------------------------------------- 2D
@njit(cache=True)
def _halfspace_2d(y, wphi, i, j):
    """Unit normal a and offset b of <x, a> <= b for the boundary of cell i against j.

    With :math:`\\varphi = h + |y|^2/2`, :math:`h_i - h_j = \\varphi_i - \\varphi_j +
    \\langle y_j - y_i, (y_i + y_j)/2\\rangle`: both terms are computed from small, exact
    differences (h itself would lose ~|y|^2 eps to rounding, a shift of eps |y|^2 / |y_j - y_i|
    of the plane between close targets).
    """
    a0 = y[j, 0] - y[i, 0]
    a1 = y[j, 1] - y[i, 1]
    nrm = np.sqrt(a0 * a0 + a1 * a1)
    b = wphi[i] - wphi[j] + 0.5 * (a0 * (y[i, 0] + y[j, 0]) + a1 * (y[i, 1] + y[j, 1]))
    return a0 / nrm, a1 / nrm, b / nrm


@njit(cache=True)
def _clip_poly_2d(px, py, lab, m, a0, a1, b, label, eps, qx, qy, qlab):
    """Clip polygon (px, py, lab)[:m] by <x,a> <= b.  Writes into q*, returns new m.

    lab[k] labels the edge from vertex k to vertex k+1.  Returns -1 when nothing changed
    (every vertex inside), so that the caller can skip the copy.
    """
    all_in = True
    any_in = False
    for k in range(m):
        f = px[k] * a0 + py[k] * a1 - b
        if f > eps:
            all_in = False
        else:
            any_in = True
    if all_in:
        if label >= 0:
            # an edge lying on the clipping line (a piece boundary that coincides with the
            # cell boundary) belongs to the facet with this neighbour
            for k in range(m):
                if lab[k] < 0:
                    k2 = k + 1 if k + 1 < m else 0
                    if (abs(px[k] * a0 + py[k] * a1 - b) <= eps
                            and abs(px[k2] * a0 + py[k2] * a1 - b) <= eps):
                        lab[k] = label
        return -1
    if not any_in:
        return 0
    out = 0
    for k in range(m):
        k2 = k + 1 if k + 1 < m else 0
        fp = px[k] * a0 + py[k] * a1 - b
        fq = px[k2] * a0 + py[k2] * a1 - b
        pin = fp <= eps
        qin = fq <= eps
        if pin:
            qx[out] = px[k]
            qy[out] = py[k]
            if qin:
                qlab[out] = lab[k]
                out += 1
            else:
                qlab[out] = lab[k]
                out += 1
                t = fp / (fp - fq)
                qx[out] = px[k] + t * (px[k2] - px[k])
                qy[out] = py[k] + t * (py[k2] - py[k])
                qlab[out] = label
                out += 1
        elif qin:
            t = fp / (fp - fq)
            qx[out] = px[k] + t * (px[k2] - px[k])
            qy[out] = py[k] + t * (py[k2] - py[k])
            qlab[out] = lab[k]
            out += 1
    return out


@njit(cache=True)
def _cell_polygon_2d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, plo, phi, p0, p1, eps,
                     px, py, lab, qx, qy, qlab):
    """Polygon of cell i inside one convex piece.  Returns (m, status); vertices in px/py/lab.

    The piece is the box [plo, phi] cut by (nrm, off)[p0:p1]; labels are the neighbour
    slot (k - nbr_ptr[i]) or -1 for the piece boundary.
    """
    px[0] = plo[0]
    py[0] = plo[1]
    px[1] = phi[0]
    py[1] = plo[1]
    px[2] = phi[0]
    py[2] = phi[1]
    px[3] = plo[0]
    py[3] = phi[1]
    for k in range(4):
        lab[k] = -1
    m = 4
    for k in range(nbr_ptr[i], nbr_ptr[i + 1]):
        j = nbr_idx[k]
        a0, a1, b = _halfspace_2d(y, wphi, i, j)
        if m + 2 > px.shape[0]:
            return m, STATUS_OVERFLOW
        m2 = _clip_poly_2d(px, py, lab, m, a0, a1, b, k - nbr_ptr[i], eps, qx, qy, qlab)
        if m2 == 0:
            return 0, STATUS_OK
        if m2 > 0:
            m = m2
            px[:m] = qx[:m]
            py[:m] = qy[:m]
            lab[:m] = qlab[:m]
    if p1 > p0:
        # bounding circle of the current polygon: a piece half-plane farther than its
        # radius from the centre cannot cut it (cheap test for pieces with many sides)
        cx = 0.0
        cy = 0.0
        for k in range(m):
            cx += px[k]
            cy += py[k]
        cx /= m
        cy /= m
        r2 = 0.0
        for k in range(m):
            d2 = (px[k] - cx) ** 2 + (py[k] - cy) ** 2
            if d2 > r2:
                r2 = d2
        r = np.sqrt(r2)
        for k in range(p0, p1):
            if off[k] - (nrm[k, 0] * cx + nrm[k, 1] * cy) >= r + eps:
                continue
            if m + 2 > px.shape[0]:
                return m, STATUS_OVERFLOW
            m2 = _clip_poly_2d(px, py, lab, m, nrm[k, 0], nrm[k, 1], off[k], -1, eps, qx, qy, qlab)
            if m2 == 0:
                return 0, STATUS_OK
            if m2 > 0:
                m = m2
                px[:m] = qx[:m]
                py[:m] = qy[:m]
                lab[:m] = qlab[:m]
    return m, STATUS_OK


@njit(cache=True)
def _integrate_polygon_2d(px, py, lab, m, facet_out, fbase, weight, eps):
    """Area, first moments of the polygon; adds weight * edge length to facet_out[fbase+label]."""
    if m < 3:
        return 0.0, 0.0, 0.0
    ox = px[0]
    oy = py[0]
    area2 = 0.0
    mx = 0.0
    my = 0.0
    for k in range(1, m - 1):
        ax = px[k] - ox
        ay = py[k] - oy
        bx = px[k + 1] - ox
        by = py[k + 1] - oy
        c = ax * by - ay * bx
        area2 += c
        mx += c * (ax + bx)
        my += c * (ay + by)
    area = 0.5 * area2
    # a flat polygon (a piece touching the cell along one edge only) carries no facet: its
    # "edges" run there and back along the piece boundary
    diam = 0.0
    for k in range(1, m):
        dd = abs(px[k] - ox) + abs(py[k] - oy)
        if dd > diam:
            diam = dd
    if abs(area) <= eps * diam:
        return 0.0, 0.0, 0.0
    # first moment of the polygon relative to the origin: area * centroid
    momx = mx / 6.0 + area * ox
    momy = my / 6.0 + area * oy
    for k in range(m):
        if lab[k] >= 0:
            k2 = k + 1 if k + 1 < m else 0
            dx = px[k2] - px[k]
            dy = py[k2] - py[k]
            facet_out[fbase + lab[k]] += weight * np.sqrt(dx * dx + dy * dy)
    return area, momx, momy


@njit(parallel=True, cache=True)
def integrate_cells_2d(y, wphi, nbr_ptr, nbr_idx, cand_ptr, cand_piece, nrm, off, pptr,
                       plo, phi, psign, pdens, eps, clo, chi, skip):
    """Per-cell Lebesgue volume, mass, mass moment and per-slot facet measure / mass.

    Returns (vol (n,), mass (n,), mom (n,2), facet_len (nnz,), facet_mass (nnz,), status (n,)).
    Cell i is integrated over the pieces cand_piece[cand_ptr[i]:cand_ptr[i+1]]; cells with
    ``skip[i]`` (integrated elsewhere: :mod:`geomot._dual`) are left at zero.
    """
    n = y.shape[0]
    nnz = nbr_idx.shape[0]
    vol = np.zeros(n)
    mass = np.zeros(n)
    mom = np.zeros((n, 2))
    flen = np.zeros(nnz)
    fmass = np.zeros(nnz)
    status = np.zeros(n, dtype=np.int64)
    nchunk = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunk):
      px = np.empty(MAXV2)
      py = np.empty(MAXV2)
      lab = np.empty(MAXV2, dtype=np.int64)
      qx = np.empty(MAXV2)
      qy = np.empty(MAXV2)
      qlab = np.empty(MAXV2, dtype=np.int64)
      blo = np.empty(2)
      bhi = np.empty(2)
      for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
        if skip[i]:
            continue
        for c in range(cand_ptr[i], cand_ptr[i + 1]):
            p = cand_piece[c]
            if not _start_box(plo[p], phi[p], clo[i], chi[i], blo, bhi):
                continue
            m, st = _cell_polygon_2d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, blo, bhi,
                                     pptr[p], pptr[p + 1], eps, px, py, lab, qx, qy, qlab)
            if st != STATUS_OK:
                status[i] = st
                break
            if m < 3:
                continue
            base = nbr_ptr[i]
            a, mx, my = _integrate_polygon_2d(px, py, lab, m, flen, base, psign[p], eps)
            if a == 0.0:
                continue
            w = psign[p] * pdens[p]
            if pdens[p] != 0.0:
                for k in range(m):
                    if lab[k] >= 0:
                        k2 = k + 1 if k + 1 < m else 0
                        dx = px[k2] - px[k]
                        dy = py[k2] - py[k]
                        fmass[base + lab[k]] += w * np.sqrt(dx * dx + dy * dy)
            vol[i] += psign[p] * a
            mass[i] += w * a
            mom[i, 0] += w * mx
            mom[i, 1] += w * my
    return vol, mass, mom, flen, fmass, status


@njit(cache=True)
def cell_polygons_2d(y, wphi, nbr_ptr, nbr_idx, cells, cand_ptr, cand_piece, nrm, off, pptr,
                     plo, phi, eps, clo, chi):
    """Geometry of the given cells: CSR of polygons (one per (cell, piece) with area > 0).

    Returns (owner (q,), piece (q,), ptr (q+1,), pts (P,2), labels (P,)) where labels are the
    neighbour *indices* j (or -1) of the edge that starts at each vertex.
    """
    px = np.empty(MAXV2)
    py = np.empty(MAXV2)
    lab = np.empty(MAXV2, dtype=np.int64)
    qx = np.empty(MAXV2)
    qy = np.empty(MAXV2)
    qlab = np.empty(MAXV2, dtype=np.int64)
    cap = 64
    for i in cells:
        cap += 16 * (cand_ptr[i + 1] - cand_ptr[i]) * (nbr_ptr[i + 1] - nbr_ptr[i] + 8)
    owner = np.empty(cap, dtype=np.int64)
    piece = np.empty(cap, dtype=np.int64)
    ptr = np.zeros(cap + 1, dtype=np.int64)
    pts = np.empty((cap, 2))
    dummy = np.zeros(np.max(np.diff(nbr_ptr)) + 1 if nbr_ptr.shape[0] > 1 else 1)
    blo = np.empty(y.shape[1])
    bhi = np.empty(y.shape[1])
    labels = np.empty(cap, dtype=np.int64)
    q = 0
    v = 0
    for i in cells:
        for c in range(cand_ptr[i], cand_ptr[i + 1]):
            p = cand_piece[c]
            if not _start_box(plo[p], phi[p], clo[i], chi[i], blo, bhi):
                continue
            m, st = _cell_polygon_2d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, blo, bhi,
                                     pptr[p], pptr[p + 1], eps, px, py, lab, qx, qy, qlab)
            if st != STATUS_OK or m < 3:
                continue
            a, _, _ = _integrate_polygon_2d(px, py, lab, m, dummy, 0, 0.0, eps)
            if a == 0.0:
                continue
            if v + m > cap or q + 1 > cap:
                # grow (rare): double the buffers
                ncap = 2 * (cap + m)
                owner2 = np.empty(ncap, dtype=np.int64)
                owner2[:q] = owner[:q]
                piece2 = np.empty(ncap, dtype=np.int64)
                piece2[:q] = piece[:q]
                ptr2 = np.zeros(ncap + 1, dtype=np.int64)
                ptr2[:q + 1] = ptr[:q + 1]
                pts2 = np.empty((ncap, 2))
                pts2[:v] = pts[:v]
                labels2 = np.empty(ncap, dtype=np.int64)
                labels2[:v] = labels[:v]
                owner, piece, ptr, pts, labels, cap = owner2, piece2, ptr2, pts2, labels2, ncap
            for k in range(m):
                pts[v + k, 0] = px[k]
                pts[v + k, 1] = py[k]
                labels[v + k] = nbr_idx[nbr_ptr[i] + lab[k]] if lab[k] >= 0 else -1
            owner[q] = i
            piece[q] = p
            v += m
            q += 1
            ptr[q] = v
    return owner[:q].copy(), piece[:q].copy(), ptr[:q + 1].copy(), pts[:v].copy(), labels[:v].copy()


# --------------------------------------------------------------------------- 3D
@njit(cache=True)
def _halfspace_3d(y, wphi, i, j):
    """3D twin of :func:`_halfspace_2d` (weights :math:`\\varphi = h + |y|^2/2`)."""
    a0 = y[j, 0] - y[i, 0]
    a1 = y[j, 1] - y[i, 1]
    a2 = y[j, 2] - y[i, 2]
    nrm = np.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
    b = wphi[i] - wphi[j] + 0.5 * (a0 * (y[i, 0] + y[j, 0]) + a1 * (y[i, 1] + y[j, 1])
                                 + a2 * (y[i, 2] + y[j, 2]))
    return a0 / nrm, a1 / nrm, a2 / nrm, b / nrm


# Work buffers of the 3D kernels (one set per thread): vertices ``VV`` (2 MAXV3, 3) hold two
# polytopes (set s: rows s MAXV3 ...); ``fs`` (3 MAXV3,) float scratch (plane values, cap
# angles); ``ib`` int64 buffer laid out as below.  Each clip reads set s and writes set 1 - s,
# so the sets swap roles by an integer (no array views or copies in the clipping loop).
_FSET = 3 * MAXF3            # per face set: start [0, MAXF3), length, label
_FV = 2 * _FSET              # two face-vertex lists of MAXFV3
_NEWIDX = _FV + 2 * MAXFV3   # MAXV3: new index of each kept vertex
_EK0 = _NEWIDX + MAXV3       # MAXV3: edges cut (key: lower vertex * MAXV3 + upper vertex)
_CAP = _EK0 + MAXV3          # 2 MAXV3: cap polygon; its upper half holds cap successors
_NINT = _CAP + 2 * MAXV3


@njit(cache=True)
def _box_polytope(lo, hi, VV, ib, s):
    """Write the box [lo, hi] as polytope set s (8 vertices, 6 outward-oriented quads)."""
    vo = s * MAXV3
    fo = s * _FSET
    vfo = _FV + s * MAXFV3
    for k in range(8):
        VV[vo + k, 0] = hi[0] if (k & 1) else lo[0]
        VV[vo + k, 1] = hi[1] if (k & 2) else lo[1]
        VV[vo + k, 2] = hi[2] if (k & 4) else lo[2]
    # faces, counter-clockwise seen from outside
    quads = ((0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5))
    for f in range(6):
        ib[fo + f] = 4 * f
        ib[fo + MAXF3 + f] = 4
        ib[fo + 2 * MAXF3 + f] = -1
        for k in range(4):
            ib[vfo + 4 * f + k] = quads[f][k]
    return 8, 6


@njit(cache=True)
def _append_cap(ib, go, gvo, ng, gptr, nc, label):
    """Append the cap polygon ``ib[_CAP:_CAP + nc]`` as face ``ng`` (label ``label``) of the
    polytope whose face table starts at ``go`` and vertex lists at ``gvo``.  Returns the new
    ``(ng, gptr)``, or ``(-1, gptr)`` when the face buffers are full."""
    if ng >= MAXF3 or gptr + nc > MAXFV3:
        return -1, gptr
    ib[go + ng] = gptr
    ib[go + MAXF3 + ng] = nc
    ib[go + 2 * MAXF3 + ng] = label
    for k in range(nc):
        ib[gvo + gptr + k] = ib[_CAP + k]
    return ng + 1, gptr + nc


@njit(cache=True)
def _clip_polytope_3d(VV, fs, ib, s, nv, nf, a0, a1, a2, b, label, eps):
    """Clip polytope set s by <x,a> <= b.  The result is written into set 1 - s.

    Returns (nv, nf, status); nv == 0 means empty; nv < 0 means unchanged (set s kept).
    """
    vo = s * MAXV3
    wo = (1 - s) * MAXV3
    fo = s * _FSET
    go = (1 - s) * _FSET
    vfo = _FV + s * MAXFV3
    gvo = _FV + (1 - s) * MAXFV3
    chain = True  # no vertex on the plane
    # classify the vertices, copying the kept (inside / on) ones to set 1 - s as we go
    nw = 0
    for k in range(nv):
        x0 = VV[vo + k, 0]
        x1 = VV[vo + k, 1]
        x2 = VV[vo + k, 2]
        f = x0 * a0 + x1 * a1 + x2 * a2 - b
        fs[k] = f
        VV[wo + nw, 0] = x0
        VV[wo + nw, 1] = x1
        VV[wo + nw, 2] = x2
        if f <= eps:
            ib[_NEWIDX + k] = nw
            nw += 1
            if f >= -eps:
                chain = False
        else:
            ib[_NEWIDX + k] = -1
    all_in = nw == nv
    any_in = nw > 0
    if all_in:
        if label >= 0:
            # a face lying on the clipping plane belongs to the facet with this neighbour
            for f in range(nf):
                if ib[fo + 2 * MAXF3 + f] < 0:
                    on = True
                    st = vfo + ib[fo + f]
                    for t in range(ib[fo + MAXF3 + f]):
                        if abs(fs[ib[st + t]]) > eps:
                            on = False
                            break
                    if on:
                        ib[fo + 2 * MAXF3 + f] = label
        return -1, nf, STATUS_OK
    if not any_in:
        return 0, 0, STATUS_OK
    nkept = nw
    ne = 0  # edge-intersection points created (deduplicated by edge); point e is row nkept + e
    ng = 0
    gptr = 0
    # generic clip (no vertex on the plane): every cut face has one exit and one entry point
    # and the cap is chained from them (successor of edge point e at _CAP + MAXV3 + e)
    so = _CAP + MAXV3
    for f in range(nf):
        st = vfo + ib[fo + f]
        L = ib[fo + MAXF3 + f]
        # fast path: a face with no vertex outside is kept as it is
        out_any = False
        for t in range(L):
            if fs[ib[st + t]] > eps:
                out_any = True
                break
        if not out_any:
            if ng >= MAXF3 or gptr + L > MAXFV3:
                return nv, nf, STATUS_OVERFLOW
            ib[go + ng] = gptr
            ib[go + MAXF3 + ng] = L
            ib[go + 2 * MAXF3 + ng] = ib[fo + 2 * MAXF3 + f]
            ng += 1
            for t in range(L):
                ib[gvo + gptr] = ib[_NEWIDX + ib[st + t]]
                gptr += 1
            continue
        start = gptr
        x_pt = -1
        e_pt = -1
        ncross = 0
        vb = ib[st]
        fb = fs[vb]
        for t in range(L):
            va = vb
            fa = fb
            vb = ib[st + t + 1] if t + 1 < L else ib[st]
            fb = fs[vb]
            if fa <= eps:
                if gptr >= MAXFV3:
                    return nv, nf, STATUS_OVERFLOW
                ib[gvo + gptr] = ib[_NEWIDX + va]
                gptr += 1
            if (fa < -eps and fb > eps) or (fa > eps and fb < -eps):
                key = va * MAXV3 + vb if va < vb else vb * MAXV3 + va
                found = -1
                for e in range(ne):
                    if ib[_EK0 + e] == key:
                        found = e
                        break
                if found < 0:
                    if nw >= MAXV3 or ne >= MAXV3:
                        return nv, nf, STATUS_OVERFLOW
                    tt = fa / (fa - fb)
                    VV[wo + nw, 0] = VV[vo + va, 0] + tt * (VV[vo + vb, 0] - VV[vo + va, 0])
                    VV[wo + nw, 1] = VV[vo + va, 1] + tt * (VV[vo + vb, 1] - VV[vo + va, 1])
                    VV[wo + nw, 2] = VV[vo + va, 2] + tt * (VV[vo + vb, 2] - VV[vo + va, 2])
                    ib[_EK0 + ne] = key
                    ib[so + ne] = -1
                    found = ne
                    ne += 1
                    nw += 1
                if gptr >= MAXFV3:
                    return nv, nf, STATUS_OVERFLOW
                ib[gvo + gptr] = nkept + found
                gptr += 1
                ncross += 1
                if fa < -eps:
                    x_pt = found
                else:
                    e_pt = found
        if chain and ncross > 0:
            # the new face runs exit -> entry, so the cap runs entry -> exit (ncross == 0:
            # the face is entirely outside)
            if ncross == 2 and x_pt >= 0 and e_pt >= 0 and ib[so + e_pt] < 0:
                ib[so + e_pt] = x_pt
            else:
                chain = False
        if gptr - start >= 3:
            if ng >= MAXF3:
                return nv, nf, STATUS_OVERFLOW
            ib[go + ng] = start
            ib[go + MAXF3 + ng] = gptr - start
            ib[go + 2 * MAXF3 + ng] = ib[fo + 2 * MAXF3 + f]
            ng += 1
        else:
            gptr = start
    nc = 0
    if chain and ne >= 3:
        # follow the successors from edge point 0 (a cycle through all of them, else the
        # angle sort below)
        e = 0
        for k in range(ne):
            ib[_CAP + k] = nkept + e
            e = ib[so + e]
            if e < 0 or (e == 0 and k != ne - 1):
                chain = False
                break
        if chain and e == 0:
            ng, gptr = _append_cap(ib, go, gvo, ng, gptr, ne, label)
            if ng < 0:
                return nv, nf, STATUS_OVERFLOW
            return nw, ng, STATUS_OK
    # cap polygon: every new vertex on the plane (kept "on" vertices and edge points)
    nc = 0
    for k in range(nv):
        if ib[_NEWIDX + k] >= 0 and fs[k] >= -eps:
            ib[_CAP + nc] = ib[_NEWIDX + k]
            nc += 1
    for e in range(ne):
        ib[_CAP + nc] = nkept + e
        nc += 1
    if nc >= 3:
        # order by angle around the mean, in a basis (u, v) of the plane with u x v = a
        cx = 0.0
        cy = 0.0
        cz = 0.0
        for k in range(nc):
            cx += VV[wo + ib[_CAP + k], 0]
            cy += VV[wo + ib[_CAP + k], 1]
            cz += VV[wo + ib[_CAP + k], 2]
        cx /= nc
        cy /= nc
        cz /= nc
        if abs(a0) < 0.9:
            ux, uy, uz = 0.0, a2, -a1
        else:
            ux, uy, uz = -a2, 0.0, a0
        un = np.sqrt(ux * ux + uy * uy + uz * uz)
        ux /= un
        uy /= un
        uz /= un
        vx = a1 * uz - a2 * uy
        vy = a2 * ux - a0 * uz
        vz = a0 * uy - a1 * ux
        ao = MAXV3  # angles in fs[MAXV3:]
        for k in range(nc):
            dx = VV[wo + ib[_CAP + k], 0] - cx
            dy = VV[wo + ib[_CAP + k], 1] - cy
            dz = VV[wo + ib[_CAP + k], 2] - cz
            fs[ao + k] = np.arctan2(dx * vx + dy * vy + dz * vz, dx * ux + dy * uy + dz * uz)
        # insertion sort by angle (a handful of points: no allocation, unlike argsort)
        for k in range(1, nc):
            a_k = fs[ao + k]
            v_k = ib[_CAP + k]
            m = k - 1
            while m >= 0 and fs[ao + m] > a_k:
                fs[ao + m + 1] = fs[ao + m]
                ib[_CAP + m + 1] = ib[_CAP + m]
                m -= 1
            fs[ao + m + 1] = a_k
            ib[_CAP + m + 1] = v_k
        ng, gptr = _append_cap(ib, go, gvo, ng, gptr, nc, label)
        if ng < 0:
            return nv, nf, STATUS_OVERFLOW
    return nw, ng, STATUS_OK


@njit(cache=True)
def _alloc_3d():
    """Work buffers of one thread: vertices (two sets), float scratch, int buffer."""
    VV = np.empty((2 * MAXV3, 3))
    fs = np.empty(3 * MAXV3)
    ib = np.empty(_NINT, dtype=np.int64)
    return VV, fs, ib


@njit(cache=True)
def _cell_polytope_3d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, plo, phi, p0, p1, eps, VV, fs, ib,
                      hs):
    """Polytope of cell i inside one convex piece.  Returns (nv, nf, status, s): the
    polytope is set s of the work buffers (see :func:`_alloc_3d`); ``hs`` (4 * degree,)
    is scratch for the neighbours' half-spaces.

    Each clip writes into the other set and the two sets swap roles (no copy per clip).
    """
    s = 0
    nv, nf = _box_polytope(plo, phi, VV, ib, s)
    ndeg = nbr_ptr[i + 1] - nbr_ptr[i]
    # all the half-spaces first: the neighbours' (scattered) coordinates load in parallel
    for t in range(ndeg):
        a0, a1, a2, b = _halfspace_3d(y, wphi, i, nbr_idx[nbr_ptr[i] + t])
        hs[4 * t] = a0
        hs[4 * t + 1] = a1
        hs[4 * t + 2] = a2
        hs[4 * t + 3] = b
    for t in range(ndeg):
        nv2, nf2, st = _clip_polytope_3d(VV, fs, ib, s, nv, nf, hs[4 * t], hs[4 * t + 1],
                                         hs[4 * t + 2], hs[4 * t + 3], t, eps)
        if st != STATUS_OK:
            return nv, nf, st, s
        if nv2 == 0:
            return 0, 0, STATUS_OK, s
        if nv2 > 0:
            nv = nv2
            nf = nf2
            s = 1 - s
    if p1 > p0:
        # bounding sphere of the cell: piece planes farther away cannot cut it
        vo = s * MAXV3
        cx = 0.0
        cy = 0.0
        cz = 0.0
        for q in range(nv):
            cx += VV[vo + q, 0]
            cy += VV[vo + q, 1]
            cz += VV[vo + q, 2]
        cx /= nv
        cy /= nv
        cz /= nv
        r2 = 0.0
        for q in range(nv):
            d2 = (VV[vo + q, 0] - cx) ** 2 + (VV[vo + q, 1] - cy) ** 2 + (VV[vo + q, 2] - cz) ** 2
            if d2 > r2:
                r2 = d2
        r = np.sqrt(r2)
        for k in range(p0, p1):
            a0 = nrm[k, 0]
            a1 = nrm[k, 1]
            a2 = nrm[k, 2]
            b = off[k]
            if b - (a0 * cx + a1 * cy + a2 * cz) >= r + eps:
                continue
            nv2, nf2, st = _clip_polytope_3d(VV, fs, ib, s, nv, nf, a0, a1, a2, b, -1, eps)
            if st != STATUS_OK:
                return nv, nf, st, s
            if nv2 == 0:
                return 0, 0, STATUS_OK, s
            if nv2 > 0:
                nv = nv2
                nf = nf2
                s = 1 - s
    return nv, nf, STATUS_OK, s


@njit(cache=True)
def _integrate_polytope_3d(VV, ib, s, nv, nf, facet_out, fbase, weight, eps):
    """Volume and first moment of polytope set s; adds weight * face area per label."""
    if nv < 4 or nf < 4:
        return 0.0, 0.0, 0.0, 0.0
    vo = s * MAXV3
    fo = s * _FSET
    vfo = _FV + s * MAXFV3
    rx = VV[vo, 0]
    ry = VV[vo, 1]
    rz = VV[vo, 2]
    vol6 = 0.0
    mx = 0.0
    my = 0.0
    mz = 0.0
    area_total = 0.0
    for f in range(nf):
        st = vfo + ib[fo + f]
        L = ib[fo + MAXF3 + f]
        v0 = vo + ib[st]
        ax0 = VV[v0, 0] - rx
        ay0 = VV[v0, 1] - ry
        az0 = VV[v0, 2] - rz
        sx = 0.0
        sy = 0.0
        sz = 0.0
        for t in range(1, L - 1):
            v1 = vo + ib[st + t]
            v2 = vo + ib[st + t + 1]
            bx = VV[v1, 0] - rx
            by = VV[v1, 1] - ry
            bz = VV[v1, 2] - rz
            cx = VV[v2, 0] - rx
            cy = VV[v2, 1] - ry
            cz = VV[v2, 2] - rz
            det = ax0 * (by * cz - bz * cy) - ay0 * (bx * cz - bz * cx) + az0 * (bx * cy - by * cx)
            vol6 += det
            mx += det * (ax0 + bx + cx)
            my += det * (ay0 + by + cy)
            mz += det * (az0 + bz + cz)
            # face area vector (cross products of the fan from v0)
            ex = bx - ax0
            ey = by - ay0
            ez = bz - az0
            gx = cx - ax0
            gy = cy - ay0
            gz = cz - az0
            sx += ey * gz - ez * gy
            sy += ez * gx - ex * gz
            sz += ex * gy - ey * gx
        fa = 0.5 * np.sqrt(sx * sx + sy * sy + sz * sz)
        area_total += fa
        lab = ib[fo + 2 * MAXF3 + f]
        if lab >= 0:
            facet_out[fbase + lab] += weight * fa
    vol = vol6 / 6.0
    if abs(vol) <= eps * area_total:
        # flat polytope: a piece touching the cell along a face only
        for f in range(nf):
            lab = ib[fo + 2 * MAXF3 + f]
            if lab >= 0:
                facet_out[fbase + lab] = 0.0
        return 0.0, 0.0, 0.0, 0.0
    # centroid of a tetra (0,a,b,c) is (a+b+c)/4
    momx = mx / 24.0 + vol * rx
    momy = my / 24.0 + vol * ry
    momz = mz / 24.0 + vol * rz
    return vol, momx, momy, momz


@njit(parallel=True, cache=True)
def integrate_cells_3d(y, wphi, nbr_ptr, nbr_idx, cand_ptr, cand_piece, nrm, off, pptr,
                       plo, phi, psign, pdens, eps, clo, chi, skip):
    """3D twin of :func:`integrate_cells_2d` (cells with ``skip[i]`` are left at zero)."""
    n = y.shape[0]
    nnz = nbr_idx.shape[0]
    vol = np.zeros(n)
    mass = np.zeros(n)
    mom = np.zeros((n, 3))
    flen = np.zeros(nnz)
    fmass = np.zeros(nnz)
    status = np.zeros(n, dtype=np.int64)
    nchunk = (n + CHUNK - 1) // CHUNK
    maxdeg = 1
    for i in range(n):
        maxdeg = max(maxdeg, nbr_ptr[i + 1] - nbr_ptr[i])
    for ch in prange(nchunk):
      VV, fs, ib = _alloc_3d()
      blo = np.empty(3)
      bhi = np.empty(3)
      tmp = np.zeros(maxdeg)
      hs = np.empty(4 * maxdeg)
      for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
        if skip[i]:
            continue
        deg = nbr_ptr[i + 1] - nbr_ptr[i]
        base = nbr_ptr[i]
        for c in range(cand_ptr[i], cand_ptr[i + 1]):
            p = cand_piece[c]
            # the clipping starts from the piece's box cut to the box known to hold the cell
            ok = True
            for a in range(3):
                blo[a] = max(plo[p, a], clo[i, a])
                bhi[a] = min(phi[p, a], chi[i, a])
                if blo[a] >= bhi[a]:
                    ok = False
            if not ok:
                continue
            nv, nf, st, s = _cell_polytope_3d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, blo, bhi,
                                              pptr[p], pptr[p + 1], eps, VV, fs, ib, hs)
            if st != STATUS_OK:
                status[i] = st
                break
            if nv < 4:
                continue
            for k in range(deg):
                tmp[k] = 0.0
            v, mx, my, mz = _integrate_polytope_3d(VV, ib, s, nv, nf, tmp, 0, 1.0, eps)
            w = psign[p] * pdens[p]
            for k in range(deg):
                flen[base + k] += psign[p] * tmp[k]
                fmass[base + k] += w * tmp[k]
            vol[i] += psign[p] * v
            mass[i] += w * v
            mom[i, 0] += w * mx
            mom[i, 1] += w * my
            mom[i, 2] += w * mz
    return vol, mass, mom, flen, fmass, status


@njit(cache=True)
def cell_polytopes_3d(y, wphi, nbr_ptr, nbr_idx, cells, cand_ptr, cand_piece, nrm, off, pptr,
                      plo, phi, eps, clo, chi):
    """Geometry of the given cells in 3D: every (cell, piece) polytope as faces.

    Returns (owner (q,), piece (q,), face_ptr (q+1,), face_label (F,) neighbour index or -1,
    vert_ptr (F+1,), pts (P,3)): face f of polytope k is pts[vert_ptr[f]:vert_ptr[f+1]].
    """
    VV, fs, ib = _alloc_3d()
    nq = 0
    for i in cells:
        nq += cand_ptr[i + 1] - cand_ptr[i]
    owner = np.empty(nq, dtype=np.int64)
    piece = np.empty(nq, dtype=np.int64)
    face_ptr = np.zeros(nq + 1, dtype=np.int64)
    fcap = 32 * nq + 64
    dummy = np.zeros(np.max(np.diff(nbr_ptr)) + 1 if nbr_ptr.shape[0] > 1 else 1)
    hs = np.empty(4 * dummy.shape[0])
    blo = np.empty(y.shape[1])
    bhi = np.empty(y.shape[1])
    face_label = np.empty(fcap, dtype=np.int64)
    vert_ptr = np.zeros(fcap + 1, dtype=np.int64)
    pcap = 8 * fcap
    pts = np.empty((pcap, 3))
    q = 0
    F = 0
    P = 0
    for i in cells:
        for c in range(cand_ptr[i], cand_ptr[i + 1]):
            p = cand_piece[c]
            if not _start_box(plo[p], phi[p], clo[i], chi[i], blo, bhi):
                continue
            nv, nf, st, s = _cell_polytope_3d(y, wphi, nbr_ptr, nbr_idx, i, nrm, off, blo, bhi,
                                              pptr[p], pptr[p + 1], eps, VV, fs, ib, hs)
            if st != STATUS_OK or nv < 4 or nf < 4:
                continue
            vv_, _, _, _ = _integrate_polytope_3d(VV, ib, s, nv, nf, dummy, 0, 0.0, eps)
            if vv_ == 0.0:
                continue
            vo = s * MAXV3
            fo = s * _FSET
            vfo = _FV + s * MAXFV3
            need_f = F + nf
            need_p = P
            for f in range(nf):
                need_p += ib[fo + MAXF3 + f]
            if need_f > fcap or need_p > pcap:
                nfcap = 2 * need_f
                npcap = 2 * need_p
                fl2 = np.empty(nfcap, dtype=np.int64)
                fl2[:F] = face_label[:F]
                vp2 = np.zeros(nfcap + 1, dtype=np.int64)
                vp2[:F + 1] = vert_ptr[:F + 1]
                pts2 = np.empty((npcap, 3))
                pts2[:P] = pts[:P]
                face_label, vert_ptr, pts, fcap, pcap = fl2, vp2, pts2, nfcap, npcap
            for f in range(nf):
                lab = ib[fo + 2 * MAXF3 + f]
                face_label[F] = nbr_idx[nbr_ptr[i] + lab] if lab >= 0 else -1
                st0 = vfo + ib[fo + f]
                for t in range(ib[fo + MAXF3 + f]):
                    vv = vo + ib[st0 + t]
                    pts[P, 0] = VV[vv, 0]
                    pts[P, 1] = VV[vv, 1]
                    pts[P, 2] = VV[vv, 2]
                    P += 1
                F += 1
                vert_ptr[F] = P
            owner[q] = i
            piece[q] = p
            q += 1
            face_ptr[q] = F
    return (owner[:q].copy(), piece[:q].copy(), face_ptr[:q + 1].copy(),
            face_label[:F].copy(), vert_ptr[:F + 1].copy(), pts[:P].copy())


# ------------------------------------------------------------ candidate pieces per cell
@njit(cache=True)
def candidate_pieces(cell_lo, cell_hi, active, plo, phi, dlo, dhi, G):
    """For every active cell, the pieces whose bounding box meets the cell's bounding box.

    Pieces are binned in a uniform grid of G^d bins over [dlo, dhi]; a (cell, piece) pair is
    recorded only in the bin holding the lower corner of the two boxes' overlap, so no pair
    is reported twice.  Returns CSR (ptr (n+1,), piece (q,)).
    """
    n, d = cell_lo.shape
    P = plo.shape[0]
    width = np.empty(d)
    for a in range(d):
        width[a] = (dhi[a] - dlo[a]) / G
        if width[a] <= 0:
            width[a] = 1.0
    nb = G ** d
    # bin the pieces
    counts = np.zeros(nb + 1, dtype=np.int64)
    blo = np.empty((P, d), dtype=np.int64)
    bhi = np.empty((P, d), dtype=np.int64)
    for p in range(P):
        for a in range(d):
            lo_b = int(np.floor((plo[p, a] - dlo[a]) / width[a]))
            hi_b = int(np.floor((phi[p, a] - dlo[a]) / width[a]))
            blo[p, a] = min(max(lo_b, 0), G - 1)
            bhi[p, a] = min(max(hi_b, 0), G - 1)
    # two passes over the pieces' bins: count, then fill
    fill = np.zeros(nb, dtype=np.int64)
    binned = np.empty(0, dtype=np.int64)
    for rnd in range(2):
        for p in range(P):
            tot = 1
            for a in range(d):
                tot *= bhi[p, a] - blo[p, a] + 1
            for t in range(tot):
                rem = t
                b = 0
                mul = 1
                for a in range(d):
                    span = bhi[p, a] - blo[p, a] + 1
                    b += (blo[p, a] + rem % span) * mul
                    rem //= span
                    mul *= G
                if rnd == 0:
                    counts[b + 1] += 1
                else:
                    binned[fill[b]] = p
                    fill[b] += 1
        if rnd == 0:
            for b in range(nb):
                counts[b + 1] += counts[b]
            fill = counts[:-1].copy()
            binned = np.empty(counts[nb], dtype=np.int64)
    # two passes over cells: count, then fill
    ptr = np.zeros(n + 1, dtype=np.int64)
    out = np.empty(0, dtype=np.int64)
    for rnd in range(2):
        q = 0
        for i in range(n):
            if rnd == 0:
                ptr[i] = q
            if not active[i]:
                continue
            clo = np.empty(d, dtype=np.int64)
            chi = np.empty(d, dtype=np.int64)
            for a in range(d):
                clo[a] = min(max(int(np.floor((cell_lo[i, a] - dlo[a]) / width[a])), 0), G - 1)
                chi[a] = min(max(int(np.floor((cell_hi[i, a] - dlo[a]) / width[a])), 0), G - 1)
            tot = 1
            for a in range(d):
                tot *= chi[a] - clo[a] + 1
            for t in range(tot):
                rem = t
                b = 0
                mul = 1
                bcoord = np.empty(d, dtype=np.int64)
                for a in range(d):
                    span = chi[a] - clo[a] + 1
                    bcoord[a] = clo[a] + rem % span
                    b += bcoord[a] * mul
                    rem //= span
                    mul *= G
                for k in range(counts[b], counts[b + 1]):
                    p = binned[k]
                    ok = True
                    for a in range(d):
                        olo = max(cell_lo[i, a], plo[p, a])
                        ohi = min(cell_hi[i, a], phi[p, a])
                        if olo > ohi:
                            ok = False
                            break
                        ob = min(max(int(np.floor((olo - dlo[a]) / width[a])), 0), G - 1)
                        if ob != bcoord[a]:
                            ok = False
                            break
                    if ok:
                        if rnd == 1:
                            out[q] = p
                        q += 1
        if rnd == 0:
            ptr[n] = q
            out = np.empty(q, dtype=np.int64)
    return ptr, out
