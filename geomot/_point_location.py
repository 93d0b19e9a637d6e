"""Exact point location for :class:`geomot.brenier.BrenierPotential`: the argmax of planes.

For frame targets ``y`` and heights ``h`` (validated float64), ``sigma(x) = argmax_i <x, y_i> +
h_i`` with ties to the smallest index, exactly as the brute force (:mod:`geomot._backend`)
answers it; the structures only find it faster and hand the rows they cannot certify back to it:

* ``_LiftedTree`` -- the nearest lifted target ``(y_i, sqrt(C - w_i))`` of ``(x, 0)``, ``w_i =
  |y_i|^2 + 2 h_i``, by a k-d tree: candidates rescored exactly, certified by the ``k``-th
  distance;
* ``_Walker`` -- steepest ascent in the regular triangulation (:mod:`geomot.lifting`) from the
  exact answers on a hierarchy of grids, certified by a margin over the neighbours;
* ``_LowerEnvelope`` -- the lower convex envelope of the points ``(y_j, -h_j)`` (the Legendre
  dual), as the maximum of the planes of the triangulation's simplices on conv(y).

The choice between them, the frame and the world values are :class:`~geomot.brenier.BrenierPotential`'s
(see :mod:`geomot.brenier`).
"""

import numpy as np

from . import _backend
from ._tol import tol as _tol
from .lifting import _hull_halfspaces

#: candidates returned by the k-d tree before the exact rescoring
KDTREE_CANDIDATES = 8
#: relative score margin below which a walk's answer is re-checked by brute force
WALK_CERTIFY_RTOL = 1e-11



class _LiftedTree:
    """k-d tree on the lifted targets ``(y_i, sqrt(C - w_i))`` with a certified argmax."""

    def __init__(self, y, h):
        from scipy.spatial import cKDTree

        self.y = y
        self.h = h
        w = np.einsum("ij,ij->i", y, y) + 2.0 * h
        self.C = float(w.max())
        lift = np.sqrt(np.maximum(self.C - w, 0.0))
        self.tree = cKDTree(np.column_stack([y, lift]))
        self.k = min(KDTREE_CANDIDATES, y.shape[0])
        # magnitude of the quantities whose rounding enters the lifted distances
        self.mag = float(np.max(np.abs(w)) + np.max(np.einsum("ij,ij->i", y, y)) + abs(self.C)) + 1.0

    def query(self, x, memory_budget, brute):
        N, d = x.shape
        n = self.y.shape[0]
        k = self.k
        # per row: k distances, indices and scores (24 k bytes) + k candidate targets (8 k d)
        rows = max(1, _backend._as_budget(memory_budget) // (8 * k * (d + 3) + 8 * d + 64))
        index = np.empty(N, dtype=np.int64)
        value = np.empty(N, dtype=np.float64)
        for r0 in range(0, N, rows):
            r1 = min(N, r0 + rows)
            xb = x[r0:r1]
            q = np.column_stack([xb, np.zeros(r1 - r0)])
            dist, cand = self.tree.query(q, k=k)
            if k == 1:
                dist = dist[:, None]
                cand = cand[:, None]
            cand = cand.astype(np.int64)
            # beyond |x| ~ 1e154 the squared lifted distances overflow: the tree then returns
            # infinite distances and the index n ("no neighbour"); those rows go to the brute force
            lost = ~np.isfinite(dist[:, -1])
            if np.any(lost):
                cand[cand >= n] = 0
            # exact scores of the candidates, same association order as the loop kernels
            s = np.zeros(cand.shape)
            yc = self.y[cand]  # (m, k, d)
            for j in range(d):
                s += xb[:, j, None] * yc[:, :, j]
            s += self.h[cand]
            best = s.max(axis=1)
            # ties: the smallest target index among the exact maxima
            masked = np.where(s == best[:, None], cand, np.iinfo(np.int64).max)
            bi = masked.min(axis=1)
            index[r0:r1] = bi
            value[r0:r1] = best
            bad = lost
            if k < n:
                # every non-candidate j has lifted distance >= dist[:, -1] (up to rounding),
                # i.e. score <= (|x|^2 + C - dist_k^2) / 2; certify a strict margin
                xx = np.einsum("ij,ij->i", xb, xb)
                bound = 0.5 * (xx + self.C - dist[:, -1] ** 2)
                slack = 64.0 * np.finfo(np.float64).eps * (xx + self.mag + dist[:, -1] ** 2)
                bad = bad | ~(best > bound + slack)
            if np.any(bad):
                rows_bad = np.flatnonzero(bad)
                bi2, bv2 = brute(np.ascontiguousarray(xb[rows_bad]))
                index[r0 + rows_bad] = bi2
                value[r0 + rows_bad] = bv2
        return index, value


def _score_rows(x, y, h, idx):
    """Scores ``<x_k, y_{idx_k}> + h_{idx_k}`` in the loop kernels' fixed order (bitwise equal)."""
    yi = y[idx]
    s = np.zeros(idx.shape[0])
    for k in range(x.shape[1]):
        s += x[:, k] * yi[:, k]
    s += h[idx]
    return s


class _Walker:
    """Exact point location by a walk in the regular triangulation (steepest ascent).

    The cell of a visible target is cut out by its neighbours in the regular triangulation
    alone, so a target whose score beats all its neighbours' is the global argmax.  Walks
    start from the exact answer at the nearest node of a hierarchy of grids over the
    queries, so they are a few steps long.  A row is certified when the winner beats all
    its neighbours by a margin (``WALK_CERTIFY_RTOL`` of the scores' magnitude) larger than
    the rounding of the scores and of qhull; other rows (ties, near-ties) go to the brute
    force, so the result equals the brute force's, ties included.
    """

    def __init__(self, y, h, tri):
        n, d = y.shape
        self.y, self.h = y, h
        # the neighbours of the regular triangulation (geomot.lifting): sorted CSR rows
        self.indptr, self.indices = tri.indptr, tri.indices
        self.deg = np.diff(self.indptr)
        self.verts = np.flatnonzero(self.deg > 0)
        # exact duplicates (same y and h) tie everywhere: report the smallest index
        cols = np.column_stack([y, h])
        order = np.lexsort(cols.T[::-1])
        sc = cols[order]
        new_group = np.concatenate([[True], np.any(sc[1:] != sc[:-1], axis=1)])
        group = np.cumsum(new_group) - 1
        first = np.full(int(group[-1]) + 1, n, dtype=np.int64)
        np.minimum.at(first, group, order)
        self.rep = np.empty(n, dtype=np.int64)
        self.rep[order] = first[group]
        self.ymax = float(np.abs(y).max())
        self.hmax = float(np.abs(h).max())

    def _gather(self, indptr, indices, cur):
        deg = indptr[cur + 1] - indptr[cur]
        tot = int(deg.sum())
        rows = np.repeat(np.arange(cur.shape[0]), deg)
        starts = np.cumsum(deg) - deg
        offs = np.arange(tot) - np.repeat(starts, deg)
        nb = indices[np.repeat(indptr[cur], deg) + offs]
        return rows, nb, deg, starts

    def _walk(self, x, cur):
        """Steepest ascent from the vertices ``cur``; returns the local maxima and scores."""
        cur = cur.copy()
        s_cur = _score_rows(x, self.y, self.h, cur)
        active = np.arange(x.shape[0])
        while active.size:
            c = cur[active]
            rows, nb, deg, starts = self._gather(self.indptr, self.indices, c)
            s = _score_rows(x[active[rows]], self.y, self.h, nb)
            m = np.maximum.reduceat(s, starts)
            hit = np.flatnonzero(s == m[rows])
            r, first = np.unique(rows[hit], return_index=True)
            best_nb = np.empty(active.shape[0], dtype=np.int64)
            best_nb[r] = nb[hit[first]]
            up = m > s_cur[active]
            move = active[up]
            cur[move] = best_nb[up]
            s_cur[move] = m[up]
            active = move
        return cur, s_cur

    def _certified(self, x, cur, s_cur):
        """Rows whose winner beats every neighbour by more than the slack.

        A target left out of the triangulation (hidden) whose lifted point is on (or within
        qhull's roundoff below) a lower facet scores at most a convex combination of the
        facet's vertices' scores (plus that roundoff): where it could win, the facet's
        vertices, which are neighbours of each other, are within the slack of each other,
        so the row is not certified and goes to the brute force.
        """
        # rows closer than this to a tie go to the brute force: it covers the rounding of the
        # scores and qhull's merging of nearly coplanar facets (relative 1e-11 of the scores)
        slack = WALK_CERTIFY_RTOL * (np.abs(x).sum(axis=1) * self.ymax + self.hmax)
        rows, nb, deg, starts = self._gather(self.indptr, self.indices, cur)
        s = _score_rows(x[rows], self.y, self.h, nb)
        other = np.maximum.reduceat(s, starts)  # every vertex has >= d neighbours
        return s_cur > other + slack

    def _starts(self, x, brute):
        """Winners at the nearest node of a hierarchy of grids over the bounding box of x."""
        N, d = x.shape
        n = self.y.shape[0]
        lo = x.min(axis=0)
        span = x.max(axis=0) - lo
        span = np.where(span > 0, span, 1.0)

        def nodes(m):
            g = np.meshgrid(*([np.arange(m)] * d), indexing="ij")
            return lo + span * np.column_stack([a.ravel() for a in g]) / (m - 1)

        def nearest(p, m):
            jj = np.clip(np.rint((p - lo) / span * (m - 1)), 0, m - 1).astype(np.int64)
            return np.ravel_multi_index(tuple(jj.T), (m,) * d)

        def to_vertex(idx):
            bad = self.deg[idx] == 0
            if np.any(bad):
                idx = idx.copy()
                idx[bad] = self.verts[0]
            return idx

        m = 4
        P = nodes(m)
        win = to_vertex(brute(P)[0])
        goal = max(min(N // 4, n), 1)
        while (2 * m - 1) ** d <= goal and m < 2**20:
            m2 = 2 * m - 1
            P2 = nodes(m2)
            win, _ = self._walk(P2, win[nearest(P2, m)])
            m = m2
        return win[nearest(x, m)]

    def query(self, x, memory_budget, brute):
        N, d = x.shape
        if N <= 4 * 4**d:
            i, v = brute(x)
            return self.rep[i], v
        avg = max(1.0, float(self.deg.mean()))
        rows = max(4 * 4**d + 1, _backend._as_budget(memory_budget) // int(64 * (avg + d + 4)))
        index = np.empty(N, dtype=np.int64)
        value = np.empty(N, dtype=np.float64)
        for r0 in range(0, N, rows):
            r1 = min(N, r0 + rows)
            xb = x[r0:r1]
            cur, s_cur = self._walk(xb, self._starts(xb, brute))
            ok = self._certified(xb, cur, s_cur)
            index[r0:r1] = cur
            value[r0:r1] = s_cur
            bad = np.flatnonzero(~ok)
            if bad.shape[0]:
                bi, bv = brute(np.ascontiguousarray(xb[bad]))
                index[r0 + bad] = bi
                value[r0 + bad] = bv
        return self.rep[index], value


class _LowerEnvelope:
    """Lower convex envelope of the points ``(y_j, -h_j)``: ``g(z)`` on conv(y), else +inf.

    The envelope is the piecewise-linear interpolant of ``-h`` on the lower simplices of the
    regular triangulation ``tri`` (:mod:`geomot.lifting`), a convex function, hence the
    maximum of the simplices' planes; conv(y) is cut out by the boundary ridges of the
    simplices.  Built from the triangulation alone (no hull), in the affine frame of y
    (collinear or coplanar targets, ``n <= d + 1``) or, for targets spanning
    :math:`\\mathbb{R}^d`, in their own coordinates (no rounding from a rotation).
    """

    def __init__(self, y, h, tri):
        n, d = y.shape
        scale_y = float(np.ptp(y, axis=0).max()) if n > 1 else 0.0
        self.scale_y = max(scale_y, float(np.abs(y).max()), 1.0)
        self.frame = tri.frame
        self.full = tri.affine_dim == d
        t = -h
        if tri.affine_dim == 0:
            # all targets at one point: the envelope there is min(-h)
            self.plane_a, self.plane_c = np.zeros((1, 0)), np.array([float(t.min())])
            self.wall_a, self.wall_c = np.zeros((0, 0)), np.zeros(0)
            return
        p = self._coords(y)
        self.plane_a, self.plane_c = _simplex_planes(p, t, tri.simplices)
        self.wall_a, self.wall_c = _hull_halfspaces(p, tri.simplices)

    def _coords(self, z):
        return z if self.full else self.frame.coordinates(z)

    def __call__(self, z):
        z = np.asarray(z, dtype=np.float64)
        slack = 1e-9 * self.scale_y
        out = np.empty(z.shape[0])
        rows = max(1, 2**22 // max(self.plane_a.shape[0], self.wall_a.shape[0], 1))
        for r0 in range(0, z.shape[0], rows):
            zb = z[r0:r0 + rows]
            zl = self._coords(zb)
            inside = np.ones(zb.shape[0], dtype=bool) if self.full else self.frame.distance(zb) <= slack
            if self.wall_a.shape[0]:
                inside &= np.all(zl @ self.wall_a.T - self.wall_c <= slack, axis=1)
            g = np.max(zl @ self.plane_a.T + self.plane_c, axis=1)
            out[r0:r0 + rows] = np.where(inside, g, np.inf)
        return out


def _simplex_planes(p, t, simp):
    """Planes ``t = a . p + c`` through the lifted vertices ``(p_v, t_v)`` of the simplices.

    Flat simplices (qhull's triangulation of a non-simplicial facet) are skipped: they cover
    no volume and the other simplices of their facet carry the same plane.
    """
    # vertices in index order: the same plane, to the last bit, whichever way a simplex is
    # written (qhull's facets, or the counter-clockwise triangles of the 2D flips)
    simp = np.sort(simp, axis=1)
    v = p[simp]  # (s, r+1, r)
    e = v[:, 1:] - v[:, :1]
    dt = t[simp[:, 1:]] - t[simp[:, :1]]
    size = np.prod(np.linalg.norm(e, axis=2), axis=1)
    good = np.abs(np.linalg.det(e)) > _tol.flat * size
    a = np.linalg.solve(e[good], dt[good][..., None])[..., 0]
    c = t[simp[good, 0]] - np.einsum("ij,ij->i", a, v[good, 0])
    return a, c
