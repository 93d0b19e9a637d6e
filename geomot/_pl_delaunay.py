"""The Delaunay construction of :class:`geomot.PiecewiseLinearMap` (exact 2D/3D results).

The centroids of the non-empty power cells are triangulated (``scipy.spatial.Delaunay``, in the
diagram's frame); points are located by a visibility walk (numba) from the start simplex of a
bucket grid, with closed-form barycentric transforms, and mapped affinely onto the simplex's
targets; outside the triangulation the discrete map is used (hill climbing on the cell
adjacency on convex domains, the potential's certified argmax elsewhere).
"""

import numba as nb
import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import Delaunay, QhullError, cKDTree

from .singular import _diagram_of


def _cells_and_targets(res):
    """(m,) indices of the non-empty cells, their centroids (m, d) and targets (m, d)."""
    diagram = _diagram_of(res)
    y = np.asarray(diagram.y, dtype=np.float64)
    cen = np.asarray(diagram.centroids, dtype=np.float64)
    empty = np.asarray(diagram.empty, dtype=bool) | ~np.all(np.isfinite(cen), axis=1)
    idx = np.flatnonzero(~empty)
    return diagram, idx, cen[idx], y[idx]


class _FrameView:
    """The frame quantities of a diagram (:mod:`geomot.frame`): the piecewise-linear map is built
    and evaluated on O(1) coordinates -- frame centroids, targets and heights, source points
    :math:`x' = (x - a)/s` -- and its images moved back, :math:`y = b + t y'`."""

    def __init__(self, diagram):
        self.frame = diagram.frame
        self.centroids = np.asarray(diagram._frame_centroids, dtype=np.float64)
        self.y = np.asarray(diagram._yf, dtype=np.float64)
        self.h = np.asarray(diagram._wphi, dtype=np.float64) - 0.5 * np.einsum("ij,ij->i", self.y, self.y)


def _spatial_order(x, n_cells):
    """A permutation that sorts points along a snake path through a grid (locality for walks)."""
    n, d = x.shape
    if n < 2:
        return np.arange(n)
    lo = x.min(axis=0)
    span = np.maximum(x.max(axis=0) - lo, 1e-300)
    g = max(1, int(np.ceil(n_cells ** (1.0 / d))))
    q = np.minimum((x - lo) / span * g, g - 1).astype(np.int64)
    # boustrophedon: reverse the fast axis on every other row (and slab in 3D)
    key = q[:, 0]
    for k in range(1, d):
        flip = (key % 2) == 1
        qk = np.where(flip, g - 1 - q[:, k], q[:, k])
        key = key * g + qk
    return np.argsort(key, kind="stable")


def _barycentric_transforms(points, simplices):
    """Closed-form barycentric transforms, in the layout of ``scipy.spatial.Delaunay.transform``.

    ``T[s, :d]`` is the inverse of ``A = [v_0 - v_d, ..., v_{d-1} - v_d]`` and ``T[s, d] = v_d``,
    so that ``lambda_{0..d-1} = T[s, :d] @ (x - T[s, d])``, ``lambda_d = 1 - sum``.  Computed with
    the adjugate (no LAPACK call per simplex: scipy's per-simplex LAPACK calls are very slow when
    BLAS threads contend for a few cores).  Flat simplices get NaN.
    """
    v = points[simplices]  # (S, d+1, d)
    d = points.shape[1]
    last = v[:, d, :]
    c = v[:, :d, :] - last[:, None, :]  # rows are the columns of A
    out = np.empty((simplices.shape[0], d + 1, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        if d == 2:
            (a00, a10), (a01, a11) = c[:, 0].T, c[:, 1].T  # A = [[a00, a01], [a10, a11]]
            det = a00 * a11 - a01 * a10
            inv = np.stack([np.stack([a11, -a01], -1), np.stack([-a10, a00], -1)], 1)
        else:
            r0 = np.cross(c[:, 1], c[:, 2])
            r1 = np.cross(c[:, 2], c[:, 0])
            r2 = np.cross(c[:, 0], c[:, 1])
            det = np.einsum("ij,ij->i", c[:, 0], r0)
            inv = np.stack([r0, r1, r2], 1)
        scale = np.abs(c).max(axis=(1, 2)) ** d
        det = np.where(np.abs(det) > 1e-13 * scale, det, np.nan)
        out[:, :d, :] = inv / det[:, None, None]
    out[:, d, :] = last
    return out


@nb.njit(cache=True)
def _locate(xk, s, trans, neighbors, lam, max_steps):  # pragma: no cover (numba)
    """Visibility walk from simplex ``s`` to the simplex containing ``xk``.

    Returns ``(simplex, last)``: the simplex (``lam`` then holds the barycentric coordinates),
    -1 if ``xk`` is outside the triangulation, -2 if the walk did not terminate; ``last`` is the
    last simplex visited.
    """
    d = xk.shape[0]
    for _ in range(max_steps):
        tot = 0.0
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += trans[s, i, j] * (xk[j] - trans[s, d, j])
            lam[i] = acc
            tot += acc
        lam[d] = 1.0 - tot
        arg = -1
        minl = -1e-12
        for i in range(d + 1):
            li = lam[i]
            if li != li:  # flat simplex: step over it
                arg = i
                break
            if li < minl:
                minl = li
                arg = i
        if arg < 0:
            return s, s
        nbr = neighbors[s, arg]
        if nbr < 0:
            return -1, s
        s = nbr
    return -2, s


@nb.njit(cache=True)
def _bucket_of(xk, lo, inv_cell, g):  # pragma: no cover (numba)
    b = 0
    for j in range(xk.shape[0]):
        q = int(np.floor((xk[j] - lo[j]) * inv_cell[j]))
        q = min(max(q, 0), g - 1)
        b = b * g + q
    return b


@nb.njit(cache=True)
def _fill_starts(centers, order, lo, inv_cell, g, trans, neighbors, max_steps):  # pragma: no cover
    """Start simplex of every bucket: walk to the bucket centres along ``order`` (a snake path)."""
    starts = np.zeros(centers.shape[0], np.int64)
    lam = np.empty(centers.shape[1] + 1)
    s = 0
    for kk in range(order.shape[0]):
        k = order[kk]
        res, last = _locate(centers[k], s, trans, neighbors, lam, max_steps)
        s = res if res >= 0 else last
        starts[_bucket_of(centers[k], lo, inv_cell, g)] = s
    return starts


@nb.njit(cache=True)
def _bucket_sort(x, lo, inv_cell, g, n_buckets):  # pragma: no cover (numba)
    """Counting sort of the points by bucket: ``(order, bucket index of x[order])``."""
    n = x.shape[0]
    bucket = np.empty(n, np.int64)
    count = np.zeros(n_buckets + 1, np.int64)
    for k in range(n):
        b = _bucket_of(x[k], lo, inv_cell, g)
        bucket[k] = b
        count[b + 1] += 1
    for b in range(n_buckets):
        count[b + 1] += count[b]
    order = np.empty(n, np.int64)
    sorted_bucket = np.empty(n, np.int64)
    for k in range(n):
        b = bucket[k]
        order[count[b]] = k
        sorted_bucket[count[b]] = b
        count[b] += 1
    return order, sorted_bucket


@nb.njit(cache=True)
def _walk(x, bucket, starts, trans, neighbors, simplices, targets, max_steps):  # pragma: no cover
    """Locate every point (walk from its bucket's start simplex) and interpolate the targets.

    ``x`` is sorted by bucket (:func:`_bucket_sort`), so consecutive walks touch the same
    simplices.  Returns the simplex of each point (-1 outside the triangulation, -2 if a walk did
    not terminate: left to a fallback) and ``sum_k lambda_k targets[simplex[k]]`` (rows of points
    not in a simplex are left unset).
    """
    n, d = x.shape
    out = np.empty(n, np.int64)
    img = np.empty((n, targets.shape[1]))
    lam = np.empty(d + 1)
    for k in range(n):
        res, _ = _locate(x[k], starts[bucket[k]], trans, neighbors, lam, max_steps)
        out[k] = res
        if res >= 0:
            for j in range(targets.shape[1]):
                acc = 0.0
                for i in range(d + 1):
                    acc += lam[i] * targets[simplices[res, i], j]
                img[k, j] = acc
    return out, img


@nb.njit(cache=True)
def _greedy_argmax(x, start, y, h, indptr, indices, max_steps):  # pragma: no cover (numba)
    """``argmax_i <x, y_i> + h_i`` by hill climbing on the cell adjacency, from ``start``.

    Exact when the domain is convex and ``x`` lies in it: the segment from a point of the
    current cell to ``x`` stays in the domain and leaves the cell through a facet shared with a
    neighbour ``D``; ``f_D - f_C`` is affine along it, zero on the facet, so ``f_D(x) > f_C(x)``.
    """
    n, d = x.shape
    out = np.empty(n, np.int64)
    for k in range(n):
        c = start[k]
        fc = h[c]
        for j in range(d):
            fc += x[k, j] * y[c, j]
        for _ in range(max_steps):
            best = c
            fb = fc
            for p in range(indptr[c], indptr[c + 1]):
                m = indices[p]
                fm = h[m]
                for j in range(d):
                    fm += x[k, j] * y[m, j]
                if fm > fb:
                    fb = fm
                    best = m
            if best == c:
                break
            c = best
            fc = fb
        out[k] = c
    return out


class _DelaunayConstruction:
    """The exact 2D/3D construction: the Delaunay triangulation of the cell centroids (see
    :class:`geomot.PiecewiseLinearMap`)."""

    name = "delaunay"

    @classmethod
    def create(cls, res, avoid_singular, singular, n_samples, seed):
        for key, val in (("n_samples", n_samples), ("seed", seed)):
            if val is not None:
                raise ValueError(f"{key} applies to construction='top-cells' only (the Delaunay "
                                 f"construction uses the exact cells of res.diagram)")
        return cls(res, avoid_singular, singular=singular)

    @property
    def acceptance(self):
        """A guess of the accepted fraction of source samples (for :meth:`PiecewiseLinearMap.sample`)."""
        return 1.0 - self._rejected.mean() if self._rejected.size else 1.0

    @property
    def domain(self):
        return self._domain

    def __init__(self, res, avoid_singular=True, *, singular=None):
        # (avoid_singular and singular= are checked by PiecewiseLinearMap, the only caller)
        diagram, cells, cen, tgt = _cells_and_targets(res)
        d = cen.shape[1]
        if cells.size < d + 2:
            raise ValueError(
                f"res has {cells.size} non-empty cells: need at least {d + 2} to triangulate "
                f"their centroids in {d}D")
        fv = _FrameView(diagram)
        # qhull is faster on spatially sorted input: put the vertices in a snake order
        cen_f = fv.centroids[cells]
        order = _spatial_order(cen_f, cen_f.shape[0])
        cells, cen, tgt, cen_f = cells[order], cen[order], tgt[order], cen_f[order]
        try:
            tri = Delaunay(cen_f)  # (in the frame: O(1) coordinates wherever the problem lies)
        except QhullError as exc:
            raise ValueError(f"cannot triangulate the cell centroids (degenerate?): {exc}") from None
        self._res = res
        self._domain = getattr(res, "domain", None) or getattr(diagram, "domain", None)
        self._dim = d
        self._frame = fv
        self._cells = cells
        self._cen = cen
        self._tgt = tgt
        self._tgt_f = np.ascontiguousarray(fv.y[cells])
        self._tri = tri
        self._trans = _barycentric_transforms(tri.points, tri.simplices)
        self._nbrs = np.ascontiguousarray(tri.neighbors, dtype=np.int64)
        self._simp = np.ascontiguousarray(tri.simplices, dtype=np.int64)
        # a grid of buckets over the centroids' bounding box, each with a nearby start simplex
        g = max(1, int(np.ceil(self._simp.shape[0] ** (1.0 / d))))
        lo = cen_f.min(axis=0)
        span = np.maximum(cen_f.max(axis=0) - lo, 1e-300)
        axes = [(np.arange(g) + 0.5) / g for _ in range(d)]
        centers = lo + np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d) * span
        self._g = g
        self._lo = lo
        self._inv_cell = g / span
        self._starts = _fill_starts(centers, _spatial_order(centers, centers.shape[0]), lo,
                                    self._inv_cell, g, self._trans, self._nbrs,
                                    self._simp.shape[0] + 16)
        self._avoid = bool(avoid_singular)
        self._h = np.asarray(diagram.h, dtype=np.float64)
        self._y_all = np.asarray(diagram.y, dtype=np.float64)
        n = self._y_all.shape[0]
        dp = np.asarray(diagram.pairs, dtype=np.int64).reshape(-1, 2)
        adj = csr_matrix((np.ones(2 * dp.shape[0], dtype=np.int8),
                          (np.concatenate([dp[:, 0], dp[:, 1]]), np.concatenate([dp[:, 1], dp[:, 0]]))),
                         shape=(n, n))
        self._adj_ptr = adj.indptr.astype(np.int64)
        self._adj_idx = adj.indices.astype(np.int64)
        self._cen_tree = cKDTree(cen_f)
        self._convex_domain = bool(getattr(self._domain, "is_convex", False))
        self._potential = None
        if avoid_singular:
            if singular is None:
                from .singular import singular_set

                singular = singular_set(res)
            if not hasattr(singular, "pairs") or not hasattr(singular, "classify"):
                raise ValueError(f"singular must be a SingularSet, got {type(singular).__name__}")
            if np.asarray(singular.local_scale).shape[0] != self._y_all.shape[0]:
                raise ValueError(
                    f"singular was computed for {np.asarray(singular.local_scale).shape[0]} "
                    f"targets, res has {self._y_all.shape[0]}")
            rejected = self._reject(diagram, singular)
        else:
            rejected = np.zeros(tri.simplices.shape[0], dtype=bool)
        rejected.setflags(write=False)
        self._singular = singular if avoid_singular else None
        self._rejected = rejected

    def _reject(self, diagram, singular):
        n = self._y_all.shape[0]
        simp = self._cells[self._tri.simplices]  # global target indices
        d1 = simp.shape[1]
        a_idx, b_idx = np.triu_indices(d1, k=1)
        ea = simp[:, a_idx]
        eb = simp[:, b_idx]
        lo = np.minimum(ea, eb).ravel()
        hi = np.maximum(ea, eb).ravel()
        key = lo * n + hi
        sp = np.asarray(singular.pairs, dtype=np.int64).reshape(-1, 2)
        sing_key = np.minimum(sp[:, 0], sp[:, 1]) * n + np.maximum(sp[:, 0], sp[:, 1])
        bad = np.isin(key, sing_key)
        # Delaunay edges that are not adjacent cells: test them with the same criterion
        dp = np.asarray(diagram.pairs, dtype=np.int64).reshape(-1, 2)
        pair_key = np.minimum(dp[:, 0], dp[:, 1]) * n + np.maximum(dp[:, 0], dp[:, 1])
        ukey, inv = np.unique(key, return_inverse=True)
        nondual = ~np.isin(ukey, pair_key)
        if np.any(nondual):
            cand = ukey[nondual]
            flag = np.zeros(ukey.size, dtype=bool)
            # the criterion that built the singular set (emptiness, support, ...), on these edges
            flag[np.flatnonzero(nondual)] = singular.classify(np.column_stack([cand // n, cand % n]))
            bad |= flag[inv.ravel()]
        return bad.reshape(simp.shape[0], -1).any(axis=1)

    # ------------------------------------------------------------------ properties
    @property
    def cells(self):
        return self._cells

    @property
    def centroids(self):
        return self._cen

    @property
    def targets(self):
        return self._tgt

    @property
    def triangulation(self):
        return self._tri

    @property
    def rejected(self):
        return self._rejected

    @property
    def singular(self):
        return self._singular

    # ------------------------------------------------------------------ evaluation
    def _discrete_index(self, x, xf=None):
        """The cell of each point (world ``x``; ``xf`` the same points in the frame, computed
        when None): ``argmax_i <x, y_i> + h_i`` (the discrete map's index)."""
        fv = self._frame
        near = np.zeros(x.shape[0], dtype=bool)
        if self._convex_domain:
            # hill climbing is exact for points of a convex domain only; far points (the tree's
            # squared distances overflow) and points outside the domain go to the potential's
            # certified argmax
            with np.errstate(over="ignore", invalid="ignore"):
                if xf is None:
                    xf = np.ascontiguousarray(fv.frame.to_source(x))
                dist, j = self._cen_tree.query(xf, k=1)
            near = np.isfinite(dist) & np.asarray(self._domain.contains(x), dtype=bool)
        out = np.empty(x.shape[0], dtype=np.int64)
        if np.any(near):
            out[near] = _greedy_argmax(np.ascontiguousarray(xf[near]), self._cells[j[near]], fv.y, fv.h,
                                       self._adj_ptr, self._adj_idx, self._y_all.shape[0])
        if not np.all(near):
            if self._potential is None:
                pot = getattr(self._res, "potential", None)
                if pot is None:
                    from .brenier import BrenierPotential

                    fv = self._frame
                    pot = BrenierPotential._in_frame(self._y_all, self._h, fv.frame, fv.h)
                self._potential = pot
            out[~near] = np.asarray(self._potential.index(x[~near]), dtype=np.int64)
        return out

    def _evaluate(self, x):
        """(N, d) images and (N,) bool "rejected" for validated points ``x``."""
        far = ~np.all((x >= self._cen.min(axis=0)) & (x <= self._cen.max(axis=0)), axis=1)
        if np.any(far):
            # outside the centroids' bounding box, hence outside the triangulation: the discrete
            # map, without a walk (whose barycentric coordinates overflow for |x| ~ 1e308)
            out = np.empty_like(x)
            rej = np.zeros(x.shape[0], dtype=bool)
            out[far] = self._y_all[self._discrete_index(x[far])]
            if not np.all(far):
                out[~far], rej[~far] = self._evaluate(x[~far])
            return out, rej
        tri = self._tri
        d = self._dim
        frame = self._frame.frame
        xf = np.ascontiguousarray(frame.to_source(x))
        order, bucket = _bucket_sort(xf, self._lo, self._inv_cell, self._g, self._starts.shape[0])
        s_sorted, img = _walk(xf[order], bucket, self._starts, self._trans, self._nbrs, self._simp,
                              self._tgt_f, tri.simplices.shape[0] + 16)
        s = np.empty_like(s_sorted)
        s[order] = s_sorted
        out = np.empty_like(x)
        out[order] = img
        lost = np.flatnonzero(s == -2)
        if lost.size:  # pragma: no cover (a walk that cycles: qhull's own point location)
            s[lost] = tri.find_simplex(xf[lost])
            ok = lost[s[lost] >= 0]
            trans = self._trans[s[ok]]
            b = np.einsum("nij,nj->ni", trans[:, :d, :], xf[ok] - trans[:, d, :])
            lam = np.column_stack([b, 1.0 - b.sum(axis=1)])
            out[ok] = np.einsum("nk,nkd->nd", lam, self._tgt_f[self._simp[s[ok]]])
        inside = s >= 0
        si = s[inside]
        # barycentric images of the frame targets, moved back (y = b + t y')
        out[inside] = frame.from_targets(out[inside])
        if not np.all(inside):
            out[~inside] = self._y_all[self._discrete_index(x[~inside], xf[~inside])]
        rej = np.zeros(x.shape[0], dtype=bool)
        rej[inside] = self._rejected[si]
        return out, rej
