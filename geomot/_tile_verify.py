"""Verification of a tiled lifted hull (:mod:`geomot._tiles`, module notes, step 3).

The kept simplices must triangulate conv(t) -- every ridge held by exactly two simplices on
opposite sides, or by one on the boundary of conv(t), volumes adding up -- be locally regular
at every interior ridge, and leave every target that is no vertex above their lifted surface.
:func:`_verify` returns a :class:`_Verdict`: what failed and where (the rows of the simplices
and the targets around which the driver builds repair boxes).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.spatial import ConvexHull, QhullError

from ._simplices import _vertex_simplices
from ._tile_geometry import _excess, _power_vertex
from ._tol import tol


@dataclass(frozen=True)
class _Verdict:
    ok: bool
    reason: str = None
    bad_rows: np.ndarray = None
    bad_points: np.ndarray = None
    boundary: np.ndarray = None
    holes: bool = False


def _verify(build, simp, hull_pts, starts):
    """Whether ``simp`` is the regular triangulation: a triangulation of conv(t) (ridges
    matched across, boundary ridges on conv(t), volumes adding up), locally regular at every
    interior ridge, with every other target above its lifted surface."""
    t, w = build.t, build.w
    n, k = t.shape
    if simp.shape[0] == 0:
        return _Verdict(False, "no simplices")
    ptr, lst = _vertex_simplices(simp, n)
    status, vol = _ridge_status(simp, t, w, ptr, lst, build.opt.workers)
    # every failure is reported at once, so that one round repairs them all
    reasons = []
    bad = np.flatnonzero(np.any(status >= _RIDGE_BAD, axis=1))
    if bad.size:
        nreg = int(np.sum(status == _RIDGE_IRREGULAR))
        nbad = int(np.sum(status == _RIDGE_BAD))
        if nreg:
            reasons.append(f"{nreg} ridges are not locally regular")
        if nbad:
            reasons.append(f"{nbad} ridges are held by more than two simplices or on one side")
    bs, bj = np.nonzero(status == _RIDGE_BOUNDARY)
    keep = np.ones((bs.size, k + 1), dtype=bool)
    keep[np.arange(bs.size), bj] = False
    ridge = simp[bs][keep].reshape(bs.size, k)
    opposite = simp[bs, bj]
    try:
        hull = ConvexHull(t[hull_pts])
    except (QhullError, ValueError) as exc:
        return _Verdict(False, f"no hull of the boundary targets: {str(exc).strip().splitlines()[0]}")
    hv = t[hull_pts[hull.vertices]]
    off = _off_hull(t, ridge, opposite, hv, build.scale)
    if off.size:
        reasons.append(f"{off.size} boundary ridges are not on the boundary of conv(t)")
    if reasons:
        return _Verdict(False, "; ".join(reasons), np.union1d(bad, bs[off]), holes=bool(off.size))
    if not abs(vol - hull.volume) <= 1e-6 * hull.volume:
        return _Verdict(False, f"the simplices cover {vol / hull.volume:.6g} times the volume of conv(t)")
    # the targets that are no vertex: above the lifted surface?
    hidden = np.flatnonzero(np.diff(ptr) == 0)
    if hidden.size:
        start = starts[build.tiling.owner[hidden]]
        start[start < 0] = 0
        where, state = _locate_hidden(simp, t, w, ptr, lst, hidden, start, tol.flat, tol.tie, 100_000)
        below = state != _ABOVE
        if below.any():
            lost = int(np.sum(state == _LOST))
            rows = where[below & (where >= 0)]
            return _Verdict(False, f"{int(below.sum())} targets that are no vertex are not above the lifted surface"
                            + (f" ({lost} not located)" if lost else ""), rows, hidden[below], holes=True)
    return _Verdict(True, boundary=np.ascontiguousarray(ridge, dtype=np.int64))


def _off_hull(t, ridge, opposite, hv, scale, chunk=4096):
    """Rows of the boundary ridges whose hyperplane does not support conv(t): a vertex of
    conv(t) (``hv``) beyond it by more than the flatness tolerance."""
    k = t.shape[1]
    p0 = t[ridge[:, 0]]
    if k == 2:
        d = t[ridge[:, 1]] - p0
        nrm = np.column_stack([d[:, 1], -d[:, 0]])
    else:
        nrm = np.cross(t[ridge[:, 1]] - p0, t[ridge[:, 2]] - p0)
    side = np.einsum("ij,ij->i", t[opposite] - p0, nrm)
    nrm = np.where((side > 0)[:, None], -nrm, nrm)  # outward: away from the simplex
    length = np.linalg.norm(nrm, axis=1)
    bad = [np.flatnonzero(~(length > 0) | (side == 0))]
    for a in range(0, ridge.shape[0], chunk):
        sl = slice(a, a + chunk)
        beyond = np.einsum("bvk,bk->bv", hv[None, :, :] - p0[sl, None, :], nrm[sl])
        bad.append(a + np.flatnonzero(beyond.max(axis=1) > tol.flat * scale * length[sl]))
    return np.unique(np.concatenate(bad))


_RIDGE_OK, _RIDGE_BOUNDARY, _RIDGE_BAD, _RIDGE_IRREGULAR, _UNKNOWN = 0, 1, 2, 3, 255
_ABOVE, _BELOW, _LOST = 0, 1, 2


@njit(cache=True, nogil=True)
def _orientation(t, simp, s, skip, apex):
    """Signed volume (times k!) of the ridge of simplex ``s`` opposite its vertex ``skip``
    with the point ``apex``, and its permanent (the scale of its rounding)."""
    k1 = simp.shape[1]
    r0 = simp[s, 1] if skip == 0 else simp[s, 0]
    r1 = simp[s, 2] if skip <= 1 else simp[s, 1]
    if k1 == 3:
        ux = t[r1, 0] - t[r0, 0]
        uy = t[r1, 1] - t[r0, 1]
        vx = t[apex, 0] - t[r0, 0]
        vy = t[apex, 1] - t[r0, 1]
        return ux * vy - uy * vx, abs(ux * vy) + abs(uy * vx)
    r2 = simp[s, 3] if skip <= 2 else simp[s, 2]
    a00 = t[r1, 0] - t[r0, 0]
    a01 = t[r1, 1] - t[r0, 1]
    a02 = t[r1, 2] - t[r0, 2]
    a10 = t[r2, 0] - t[r0, 0]
    a11 = t[r2, 1] - t[r0, 1]
    a12 = t[r2, 2] - t[r0, 2]
    a20 = t[apex, 0] - t[r0, 0]
    a21 = t[apex, 1] - t[r0, 1]
    a22 = t[apex, 2] - t[r0, 2]
    det = a00 * (a11 * a22 - a12 * a21) - a01 * (a10 * a22 - a12 * a20) + a02 * (a10 * a21 - a11 * a20)
    perm = (abs(a00) * (abs(a11 * a22) + abs(a12 * a21)) + abs(a01) * (abs(a10 * a22) + abs(a12 * a20))
            + abs(a02) * (abs(a10 * a21) + abs(a11 * a20)))
    return det, perm


@njit(cache=True, nogil=True)
def _across(simp, ptr, lst, s, j):
    """``(count, other, jo)``: how many simplices besides ``s`` hold its ridge opposite vertex
    ``j``, the last of them and the position of its vertex off the ridge."""
    k1 = simp.shape[1]
    # the ridge's vertices (a, b[, c]); the candidates are the simplices of the one of least
    # degree, which hold the ridge iff they hold the other two (one)
    a = simp[s, 1] if j == 0 else simp[s, 0]
    b = simp[s, 2] if j <= 1 else simp[s, 1]
    c = -1
    if k1 == 4:
        c = simp[s, 3] if j <= 2 else simp[s, 2]
        if ptr[c + 1] - ptr[c] < ptr[a + 1] - ptr[a]:
            a, c = c, a
    if ptr[b + 1] - ptr[b] < ptr[a + 1] - ptr[a]:
        a, b = b, a
    count = 0
    other = -1
    for i in range(ptr[a], ptr[a + 1]):
        s2 = lst[i]
        if s2 == s:
            continue
        hb = False
        hc = c < 0
        for q in range(k1):
            v = simp[s2, q]
            if v == b:
                hb = True
            elif v == c:
                hc = True
        if hb and hc:
            count += 1
            other = s2
    jo = -1
    if count == 1:  # the vertex of other off the ridge
        for q in range(k1):
            v = simp[other, q]
            if v != a and v != b and v != c:
                jo = q
    return count, other, jo


def _ridge_status(simp, t, w, ptr, lst, workers):
    """:func:`_ridge_kernel` over all simplices, in ``workers`` threads (ranges of rows)."""
    S = simp.shape[0]
    status = np.full(simp.shape, _UNKNOWN, dtype=np.uint8)
    cuts = np.linspace(0, S, max(1, min(int(workers), S // 100_000 + 1)) + 1).astype(np.int64)
    if cuts.size == 2:
        return status, _ridge_kernel(simp, t, w, ptr, lst, tol.tie, 0, S, status)
    with ThreadPoolExecutor(cuts.size - 1) as ex:
        vols = list(ex.map(lambda r: _ridge_kernel(simp, t, w, ptr, lst, tol.tie, cuts[r], cuts[r + 1], status),
                           range(cuts.size - 1)))
    return status, float(sum(vols))


@njit(cache=True, nogil=True)
def _ridge_kernel(simp, t, w, ptr, lst, tie_tol, r0, r1, status):
    """Per ridge ``(s, j)`` (simplex ``s`` without its vertex ``j``) of the rows ``r0 <= s < r1``,
    into ``status`` (initially UNKNOWN): OK when exactly one other simplex holds it, strictly on
    the other side, with its opposite vertex not inside the orthosphere of ``s`` beyond the tie
    tolerance (local regularity, symmetric in the two); BOUNDARY when none holds it; BAD when
    more do or it lies on the same side; IRREGULAR when it is not locally regular.  A matched
    ridge is examined once when both simplices are in the range (only rows in the range are
    written: ranges can run in parallel).  Returns the total volume of the range's simplices."""
    S, k1 = simp.shape
    k = k1 - 1
    unknown = np.uint8(_UNKNOWN)
    fact = 2.0 if k == 2 else 6.0
    vol = 0.0
    x = np.zeros(k)
    for s in range(r0, r1):
        v, _ = _orientation(t, simp, s, k, simp[s, k])
        vol += abs(v) / fact
        solid = _power_vertex(t, w, simp[s], 0.0, x)
        for j in range(k1):
            if status[s, j] != unknown:
                continue
            count, other, jo = _across(simp, ptr, lst, s, j)
            if count == 0:
                status[s, j] = _RIDGE_BOUNDARY
                continue
            if count > 1:
                status[s, j] = _RIDGE_BAD
                continue
            apex = simp[other, jo]
            o1, m1 = _orientation(t, simp, s, j, simp[s, j])
            o2, m2 = _orientation(t, simp, s, j, apex)
            st = _RIDGE_OK
            if not (solid and o1 * o2 < 0.0 and abs(o1) > 1e-13 * m1 and abs(o2) > 1e-13 * m2):
                st = _RIDGE_BAD
            else:
                ex, tq = _excess(t, w, simp[s, 0], apex, x, tie_tol)
                if ex < -tq:
                    st = _RIDGE_IRREGULAR
            status[s, j] = st
            # the same ridge seen from the other simplex (the set of simplices holding a ridge
            # is the same from both sides, and so is local regularity)
            if r0 <= other < r1:
                status[other, jo] = st
    return vol


@njit(cache=True, nogil=True)
def _locate_hidden(simp, t, w, ptr, lst, pts, start, flat_tol, tie_tol, max_steps):
    """Walk from a simplex of the vertex nearest to target ``pts[i]`` in memory order (else
    ``start[i]``) to the simplex holding the target (crossing a
    ridge whose hyperplane separates them, the first from a rotating offset so that
    degenerate walks do not cycle) and test that the target is above its lifted plane.  A
    target within ``flat_tol`` (relative) of a ridge's hyperplane is not beyond it: targets on
    the boundary of conv(t), which rounding may put just outside, are located.
    Returns the simplex and ABOVE, BELOW or LOST (outside the triangulation, or too many
    steps)."""
    k1 = simp.shape[1]
    k = k1 - 1
    m = pts.shape[0]
    where = np.full(m, -1, dtype=np.int64)
    state = np.full(m, _LOST, dtype=np.uint8)
    x = np.zeros(k)
    n = ptr.size - 1
    for i in range(m):
        p = pts[i]
        s = start[i]
        # start next to the nearest vertex in memory order (tile and Z-order: nearby in space)
        for dd in range(1, n):
            if p - dd >= 0 and ptr[p - dd + 1] > ptr[p - dd]:
                s = lst[ptr[p - dd]]
                break
            if p + dd < n and ptr[p + dd + 1] > ptr[p + dd]:
                s = lst[ptr[p + dd]]
                break
        for step in range(max_steps):
            moved = False
            for jj in range(k1):
                j = (jj + step) % k1
                o1, m1 = _orientation(t, simp, s, j, simp[s, j])
                o2, m2 = _orientation(t, simp, s, j, p)
                if o1 * o2 < 0.0 and abs(o2) > flat_tol * m2:  # p beyond this ridge
                    count, other, _ = _across(simp, ptr, lst, s, j)
                    if count == 1:
                        s = other
                        moved = True
                    break
            if not moved:
                break
        else:
            continue  # too many steps: lost
        # s holds p (or p is beyond a boundary ridge: lost)
        inside = True
        for j in range(k1):
            o1, m1 = _orientation(t, simp, s, j, simp[s, j])
            o2, m2 = _orientation(t, simp, s, j, p)
            if o1 * o2 < 0.0 and abs(o2) > flat_tol * m2:
                inside = False
        if not inside:
            continue
        where[i] = s
        if _power_vertex(t, w, simp[s], 0.0, x):
            ex, tq = _excess(t, w, simp[s, 0], p, x, tie_tol)
            state[i] = _ABOVE if ex >= -tq else _BELOW
    return where, state
