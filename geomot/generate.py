"""Generation that respects the singular set (AE-OT), and the continuous baseline that does not.

:class:`PiecewiseLinearMap` extends the discrete optimal map piecewise linearly over the Delaunay
triangulation of the cell centroids and refuses to interpolate across the singular set;
:func:`continuous_map` fits a smooth map to the same data and shows mode collapse (samples in the
gap between modes).  :func:`off_support_fraction` and :func:`mode_balance` measure the two.
"""

import numba as nb
import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import Delaunay, QhullError, cKDTree

from ._validate import as_points, as_positive_float, as_positive_int, as_rng
from .singular import _diagram_of

__all__ = ["PiecewiseLinearMap", "ContinuousMap", "continuous_map", "off_support_fraction",
           "mode_balance"]


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
    :class:`PiecewiseLinearMap`)."""

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
        if not isinstance(avoid_singular, (bool, np.bool_)):
            raise ValueError(f"avoid_singular must be True or False, got {avoid_singular!r}")
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
        if singular is not None and not avoid_singular:
            raise ValueError("singular= is only used with avoid_singular=True")
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
    def dim(self):
        return self._dim

    @property
    def avoid_singular(self):
        return self._avoid

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


#: source samples per target used to estimate the cell centroids (construction="top-cells")
TOP_CELLS_SAMPLES_PER_CELL = 100
#: ... and at least this many in all
TOP_CELLS_MIN_SAMPLES = 100_000


def _top_cells(xf, yf, hf, k, memory_budget=None):
    """(N, k) int64: the ``k`` cells of largest score ``<x', y'_i> + h'_i`` of each row, best first.

    In blocks of rows that fit the memory budget (:func:`geomot._backend.block_shape`): one BLAS
    product and one ``argpartition`` per block, ``O(N n d)`` work and ``O(rows n)`` memory.
    """
    from ._backend import block_shape

    N, n = xf.shape[0], yf.shape[0]
    out = np.empty((N, k), dtype=np.int64)
    rows, _ = block_shape(N, n, memory_budget)
    rows = max(rows, 1)
    for r0 in range(0, N, rows):
        s = xf[r0:r0 + rows] @ yf.T
        s += hf
        if k < n:
            part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(n), s.shape).copy()
        v = np.take_along_axis(s, part, axis=1)
        out[r0:r0 + rows] = np.take_along_axis(part, np.argsort(-v, axis=1, kind="stable"), axis=1)
    return out


class _TopCellsConstruction:
    """AE-OT's construction in any dimension, over the top ``d + 1`` cells of each point (see
    :class:`PiecewiseLinearMap`)."""

    name = "top-cells"

    @classmethod
    def create(cls, res, avoid_singular, singular, n_samples, seed):
        return cls(res, avoid_singular, singular, n_samples, seed)

    def __init__(self, res, avoid_singular, singular, n_samples, seed):
        from ._gaps import criterion_of

        domain = getattr(res, "domain", None)
        frame = getattr(res, "frame", None)
        weights = getattr(res, "frame_weights", None)
        if domain is None or frame is None or weights is None:
            raise ValueError(f"res must be an OTResult (with domain, frame and frame_weights), got "
                             f"{type(res).__name__}")
        y = as_points(res.y, "res.y")
        n, d = y.shape
        if d < 2:
            raise ValueError(f"res targets must have dimension >= 2, got {d}")
        if n < d + 1:
            raise ValueError(f"res has {n} targets: the top-cells construction needs at least d + 1 = "
                             f"{d + 1} in {d}D")
        if n_samples is None:
            n_samples = max(TOP_CELLS_SAMPLES_PER_CELL * n, TOP_CELLS_MIN_SAMPLES)
        n_samples = as_positive_int(n_samples, "n_samples", minimum=n)
        rng = as_rng(seed)
        yf = frame.to_targets(y)
        self._yf = yf
        self._hf = np.asarray(weights, dtype=np.float64) - 0.5 * np.einsum("ij,ij->i", yf, yf)
        self._frame = frame
        self._domain = domain
        self._dim = d
        self._y_all = y
        self._k = d + 1
        # the centroids: means of the source samples of each cell (in the frame)
        xf = np.ascontiguousarray(frame.to_source(np.asarray(domain.sample(n_samples, seed=rng), dtype=np.float64)))
        top = _top_cells(xf, yf, self._hf, self._k)
        counts = np.bincount(top[:, 0], minlength=n).astype(np.float64)
        sums = np.stack([np.bincount(top[:, 0], weights=xf[:, j], minlength=n) for j in range(d)], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cen_f = sums / counts[:, None]
        cen_f[counts == 0] = np.nan
        self._cen_f = cen_f
        self._cells = np.flatnonzero(counts > 0)
        self._avoid = avoid_singular
        self._criterion = criterion_of(res, singular) if avoid_singular else None
        self._keys = np.zeros(0, dtype=np.int64)  # memo of classified pairs i * n + j (i < j), sorted
        self._flags = np.zeros(0, dtype=bool)
        if avoid_singular:  # the accepted fraction, on (part of) the construction's own samples
            m = min(n_samples, 20_000)
            self._acceptance = 1.0 - float(self._singular_pairs(top[:m, 0], top[:m, 1]).mean())
        else:
            self._acceptance = 1.0

    # ------------------------------------------------------------------ the criterion, memoised
    def _singular_pairs(self, i, j):
        """(m,) bool: target pairs ``(i, j)`` singular by the criterion (classified once each)."""
        n = self._y_all.shape[0]
        key = np.minimum(i, j) * n + np.maximum(i, j)
        ukey, inv = np.unique(key, return_inverse=True)
        pos = np.searchsorted(self._keys, ukey)
        known = (pos < self._keys.size) & (self._keys[np.minimum(pos, self._keys.size - 1)] == ukey) \
            if self._keys.size else np.zeros(ukey.size, dtype=bool)
        new = ukey[~known]
        if new.size:
            same = (new // n) == (new % n)
            flag = np.zeros(new.size, dtype=bool)
            diff = np.flatnonzero(~same)
            if diff.size:
                flag[diff] = self._criterion.classify(np.column_stack([new[diff] // n, new[diff] % n]))
            keys = np.concatenate([self._keys, new])
            flags = np.concatenate([self._flags, flag])
            order = np.argsort(keys, kind="stable")
            self._keys, self._flags = keys[order], flags[order]
        return self._flags[np.searchsorted(self._keys, ukey)][inv.ravel()]

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, x):
        """(N, d) images and (N,) bool "rejected" for validated world points ``x``."""
        N, d = x.shape
        out = np.empty((N, d))
        rej = np.zeros(N, dtype=bool)
        if N == 0:
            return out, rej
        xf = np.ascontiguousarray(self._frame.to_source(x))
        # blocks of points: the (N, k, k) pair tests and (N, d, d) solves stay bounded
        step = max(1, 2**22 // (self._k * self._k * 8 + d * d * 8))
        for r0 in range(0, N, step):
            sl = slice(r0, r0 + step)
            out[sl], rej[sl] = self._evaluate_block(xf[sl])
        out = self._frame.from_targets(out)
        return out, rej

    def _evaluate_block(self, xf):
        k = min(self._k, self._yf.shape[0])
        top = _top_cells(xf, self._yf, self._hf, k)
        N = top.shape[0]
        cen = self._cen_f[top]  # (N, k, d), NaN rows for cells without samples
        usable = np.all(np.isfinite(cen), axis=2)
        usable[:, 0] = True  # the point's own cell always counts (its target is the discrete map)
        rej = np.zeros(N, dtype=bool)
        if self._avoid and k > 1:
            a_idx, b_idx = np.triu_indices(k, k=1)
            sing = np.zeros((N, k, k), dtype=bool)
            flags = self._singular_pairs(top[:, a_idx].ravel(), top[:, b_idx].ravel()).reshape(N, -1)
            sing[:, a_idx, b_idx] = flags
            sing[:, b_idx, a_idx] = flags
            # AE-OT's rule: the two highest facets of the potential at x meet across the singular set
            rej = sing[:, 0, 1].copy()
            # interpolate only among cells pairwise non-singular (greedily, best score first)
            keep = np.zeros((N, k), dtype=bool)
            keep[:, 0] = True
            for m in range(1, k):
                keep[:, m] = usable[:, m] & ~np.any(sing[:, :m, m] & keep[:, :m], axis=1)
        else:
            keep = usable
        lam = _clipped_barycentric(xf, np.where(np.isfinite(cen), cen, 0.0), keep)
        img = np.einsum("nk,nkd->nd", lam, self._yf[top])
        return img, rej

    # ------------------------------------------------------------------ properties
    @property
    def acceptance(self):
        return self._acceptance

    @property
    def domain(self):
        return self._domain

    @property
    def cells(self):
        return self._cells

    @property
    def centroids(self):
        return self._frame.from_source(self._cen_f[self._cells])

    @property
    def targets(self):
        return self._y_all[self._cells]

    @property
    def triangulation(self):
        return None

    @property
    def rejected(self):
        return None

    @property
    def singular(self):
        return self._criterion


def _clipped_barycentric(x, cen, keep):
    """(N, k) weights: barycentric coordinates of ``x`` (N, d) w.r.t. the kept centroids, clipped.

    ``lambda`` minimises ``|x - sum_k lambda_k c_k|`` over the affine hull of the kept centroids
    ``c_k = cen[:, k]`` (``keep[:, 0]`` is always set; unkept columns get 0): the barycentric
    coordinates when ``x`` is in their simplex.  Negative coordinates (``x`` outside it) are set
    to 0 and the rest renormalised, so ``sum_k lambda_k y_k`` is a convex combination of targets.
    """
    N, k, d = cen.shape
    if k == 1:
        return np.ones((N, 1))
    c0 = cen[:, 0, :]
    D = (cen[:, 1:, :] - c0[:, None, :]) * keep[:, 1:, None]  # (N, k-1, d)
    r = np.einsum("nkd,nd->nk", D, x - c0)
    G = np.einsum("nkd,njd->nkj", D, D)
    # pseudo-inverse: unkept columns are zero, kept ones may be (nearly) affinely dependent
    mu = np.einsum("nkj,nj->nk", np.linalg.pinv(G, rcond=1e-10, hermitian=True), r)
    mu *= keep[:, 1:]
    lam = np.concatenate([1.0 - mu.sum(axis=1, keepdims=True), mu], axis=1)
    lam = np.maximum(lam, 0.0)
    tot = lam.sum(axis=1, keepdims=True)
    lam = np.where(tot > 0, lam / np.where(tot > 0, tot, 1.0), np.eye(1, k))
    return lam


#: the constructions of PiecewiseLinearMap, by name
CONSTRUCTIONS = {c.name: c for c in (_DelaunayConstruction, _TopCellsConstruction)}

class PiecewiseLinearMap:
    """Piecewise-linear extension of a semi-discrete optimal map (AE-OT generation), in any dimension.

    Two constructions (``construction=``), one interface.

    **Delaunay** (exact 2D/3D results, the default for ``method="newton"``).  The centroids ``c_i`` of the non-empty power cells are triangulated (Delaunay, the dual of
    the power diagram up to a few boundary edges); on each simplex ``conv(c_{i_0}, ..., c_{i_d})``
    the map is the affine map onto ``conv(y_{i_0}, ..., y_{i_d})``:

    .. math::

        g(x) = \\sum_{k=0}^{d} \\lambda_k(x)\\, y_{i_k}, \\qquad
        x = \\sum_k \\lambda_k(x)\\, c_{i_k},\\ \\sum_k \\lambda_k = 1 .

    With ``avoid_singular=True`` a simplex is *rejected* when one of its edges ``(i, j)`` is a
    singular pair (:func:`geomot.singular_set`), or is not a pair of adjacent cells and is
    singular by the same criterion (:meth:`geomot.SingularSet.classify`: its targets' segment
    crosses empty target space, or leaves the support when the singular set was found with
    ``support=``): such a simplex straddles the singular set and would interpolate across the
    gap / hole.  ``g`` gives NaN rows there and :meth:`sample` redraws.

    Outside the convex hull of the centroids (a thin band along the domain boundary) ``g`` is the
    discrete map itself, ``T(x) = y_{argmax_i <x, y_i> + h_i}``, which always lands on a target
    (hill climbing on the cell adjacency from the nearest centroid, exact on convex domains; the
    potential's certified argmax on other domains).  Points outside the domain are mapped by
    the same rules.

    Built and evaluated in the frame of the diagram (:mod:`geomot.frame`): centroids, targets,
    heights and source points on O(1) coordinates, the images moved back to world units, so
    the map of a translated or scaled problem is the translated or scaled map.

    Point location is a visibility walk (numba) from the start simplex of a bucket grid, with
    the points counting-sorted by bucket and closed-form barycentric transforms; no ``n x m``
    array is formed.  Measured on rectangle -> two half-disks with ``10^5`` cells, as ratios to
    one ``power_diagram`` call in the same run (``benchmarks/bench_singular.py``, 2 shared
    cores): construction (dominated by the Delaunay triangulation) 0.6 x, ``sample(10^6)``
    0.15 x, ``PiecewiseLinearMap(res).sample(10^6)`` with its own ``singular_set`` 0.9 x (under
    heavy load from other processes: 1.1 x, 0.3 x and 1.9 x).

    **Top cells** (Monte-Carlo results in any dimension ``d >= 2``, the default for
    ``method="montecarlo"``; exact results too).  No triangulation exists in a latent space of
    dimension 8 or 100, so the simplex of a point is the one of its own cells (AE-OT, An et al.
    2020): the ``d + 1`` cells ``i_0, ..., i_d`` of largest score ``<x, y_i> + h_i`` at ``x``
    (``i_0`` its cell).  The centroids ``c_i`` are the means of ``n_samples`` source samples per
    cell (default ``max(100 n, 10^5)`` samples in all); ``x`` is written in barycentric
    coordinates of the kept centroids (least squares on their affine hull, negative
    coordinates set to 0 and the rest renormalised: a convex combination of their targets),

    .. math::

        g(x) = \\sum_{k \\in K(x)} \\lambda_k(x)\\, y_{i_k}, \\qquad
        \\lambda = \\operatorname{clip}_{\\ge 0}\\Big(\\operatorname{argmin}_{\\sum \\lambda = 1}
        \\big|x - \\textstyle\\sum_{k \\in K} \\lambda_k c_{i_k}\\big|\\Big) \\text{ renormalised}.

    With ``avoid_singular=True`` the same scale-aware criterion decides which pairs of targets are
    separated by empty target space (``singular_set(res).classify`` for exact results, the
    emptiness criterion written for ``d`` dimensions, :class:`geomot._gaps.TargetGaps`, for
    Monte-Carlo results): ``x`` is *rejected* when its top two cells ``(i_0, i_1)`` are singular
    (AE-OT's rule: the two highest facets of the potential meet on the singular set), and the
    interpolation set ``K(x)`` keeps, best score first, only the cells that are non-singular with
    every cell kept before; ``avoid_singular=False`` interpolates over all ``d + 1``.  Cost: the
    construction one ``O(M n d)`` product for ``M`` samples; each point ``O(n d)`` (one BLAS
    row and an ``argpartition``) plus ``O(d^3)`` (the least squares), in blocks of bounded
    memory; each pair of cells is classified once (memoised).  In 2D on an exact solve it is
    close to the Delaunay construction (the top three cells of a point are mostly the vertices
    of its Delaunay triangle; tested).

    Parameters
    ----------
    res : OTResult
        An exact solve (``res.diagram``, ``res.h``, ``res.domain`` are used) or a Monte-Carlo
        result (``res.domain``, ``res.frame``, ``res.frame_weights``).
    avoid_singular : bool
        Reject points that straddle the singular set (default).  ``False``: the naive
        extension, which interpolates across it.
    singular : SingularSet or geomot._gaps.TargetGaps, optional
        The criterion to avoid (default: ``singular_set(res)`` with its default threshold for
        exact results, ``TargetGaps(res.y)`` for Monte-Carlo results).
    construction : {"delaunay", "top-cells"}, optional
        Default: ``"top-cells"`` for Monte-Carlo results, else ``"delaunay"``.
    n_samples : int, optional
        ``"top-cells"`` only: source samples for the centroids (default ``max(100 n, 10^5)``).
    seed : None, int or numpy.random.Generator
        ``"top-cells"`` only: seeds those samples.

    Attributes
    ----------
    construction : str
    cells : (m,) int64
        Target indices of the non-empty cells: vertex ``v`` of the triangulation is cell
        ``cells[v]`` (Delaunay: in a spatial order, not sorted; top cells: the cells that
        received samples, sorted).
    centroids, targets : (m, d) float64
    triangulation : scipy.spatial.Delaunay or None
        Of the centroids in the diagram's frame coordinates (:mod:`geomot.frame`: O(1)
        wherever the problem lies); its simplices index :attr:`centroids`.  None for top cells.
    rejected : (S,) bool or None
        Rejected simplices (all False when ``avoid_singular=False``).  None for top cells.
    singular : SingularSet, TargetGaps or None

    References
    ----------
    D. An, Y. Guo, N. Lei, Z. Luo, S.-T. Yau, X. Gu, *AE-OT: a new generative model based on
    extended semi-discrete optimal transport*, ICLR 2020.
    N. Lei et al., *Mode Collapse and Regularity of Optimal Transportation Maps*,
    arXiv:1902.02934.

    Example
    -------
    >>> import geomot
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(geomot.shapes.two_half_disks(), 800, seed=0),
    ...                       tol=1e-6)
    >>> g = geomot.PiecewiseLinearMap(res)
    >>> g.sample(1000, seed=1).shape
    (1000, 2)

    In any dimension, from a Monte-Carlo result (two modes in 4D):

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.vstack([rng.normal(0.2, 0.03, (40, 4)), rng.normal(0.8, 0.03, (40, 4))])
    >>> mc = geomot.solve_ot(geomot.Domain.box([0] * 4, [1] * 4), y, method="montecarlo",
    ...                      seed=0, n_samples=10000, max_iter=300, tol=0.3)
    >>> x = geomot.PiecewiseLinearMap(mc, seed=0).sample(500, seed=1)
    >>> x.shape, bool(np.all(np.minimum(np.abs(x - 0.2), np.abs(x - 0.8)).max(axis=1) < 0.15))
    ((500, 4), True)
    """

    def __init__(self, res, avoid_singular=True, *, singular=None, construction=None, n_samples=None,
                 seed=None):
        if not isinstance(avoid_singular, (bool, np.bool_)):
            raise ValueError(f"avoid_singular must be True or False, got {avoid_singular!r}")
        if construction is None:
            construction = "top-cells" if getattr(res, "method", None) == "montecarlo" else "delaunay"
        if construction not in CONSTRUCTIONS:
            raise ValueError(f"construction must be one of {sorted(CONSTRUCTIONS)}, got {construction!r}")
        if singular is not None and not avoid_singular:
            raise ValueError("singular= is only used with avoid_singular=True")
        self._impl = CONSTRUCTIONS[construction].create(res, bool(avoid_singular), singular, n_samples, seed)
        self._dim = int(self._impl._dim)

    # ------------------------------------------------------------------ properties
    @property
    def construction(self):
        """``"delaunay"`` or ``"top-cells"``."""
        return self._impl.name

    @property
    def dim(self):
        return self._dim

    @property
    def avoid_singular(self):
        return self._impl._avoid

    @property
    def cells(self):
        return self._impl.cells

    @property
    def centroids(self):
        return self._impl.centroids

    @property
    def targets(self):
        return self._impl.targets

    @property
    def triangulation(self):
        return self._impl.triangulation

    @property
    def rejected(self):
        return self._impl.rejected

    @property
    def singular(self):
        return self._impl.singular

    def __call__(self, x):
        """Map source points.

        Parameters
        ----------
        x : (N, d) array_like
            Source points (anywhere; outside the centroids' hull the discrete map is used).

        Returns
        -------
        (N, d) float64
            ``g(x)``; NaN rows for points in rejected simplices.
        """
        x = _source_points(x, self._dim)
        out, rej = self._impl._evaluate(x)
        out[rej] = np.nan
        return out

    def sample(self, n, seed=None, *, max_rounds=50):
        """Exactly ``n`` generated points: source samples mapped by ``g``, rejected ones redrawn.

        Parameters
        ----------
        n : int >= 0
        seed : None, int or numpy.random.Generator
        max_rounds : int
            Rounds of drawing before giving up.

        Returns
        -------
        (n, d) float64

        Raises
        ------
        RuntimeError
            If fewer than ``n`` points were accepted after ``max_rounds`` rounds (the rejected
            simplices cover almost all of the domain).
        """
        n = as_positive_int(n, "n", minimum=0)
        max_rounds = as_positive_int(max_rounds, "max_rounds")
        rng = as_rng(seed)
        domain = self._impl.domain
        if domain is None:
            raise ValueError("res has no domain to sample the source from")
        chunks = []
        have = 0
        rate = max(self._impl.acceptance, 0.05)
        drawn = accepted = 0
        for _ in range(max_rounds):
            if have >= n:
                break
            need = n - have
            m = int(min(np.ceil(need / rate * 1.05) + 16, max(4 * need, 1_000_000)))
            x = np.asarray(domain.sample(m, seed=rng), dtype=np.float64)
            out, rej = self._impl._evaluate(x)
            good = out[~rej]
            chunks.append(good[:need])
            have += min(good.shape[0], need)
            drawn += m
            accepted += good.shape[0]
            rate = max(accepted / drawn, 1e-3)
        if have < n:
            raise RuntimeError(
                f"PiecewiseLinearMap.sample: only {have} of {n} points accepted after "
                f"{max_rounds} rounds ({drawn} source samples, acceptance {accepted / max(drawn, 1):.2%}); "
                f"the rejected (singular) points cover almost all of the domain")
        if not chunks:
            return np.zeros((0, self._dim))
        return np.concatenate(chunks, axis=0)


def _source_points(x, dim):
    """``x`` as validated ``(N, dim)`` points; an empty sequence is ``(0, dim)``."""
    if np.size(x) == 0 and np.ndim(x) < 2:
        return np.zeros((0, dim))
    return as_points(x, "x", dim=dim, min_rows=0)


class ContinuousMap:
    """A smooth map fitted to (centroid, target) pairs: the continuous baseline.

    Like a neural network generator it is continuous, so on a target with several modes it
    either drops a mode or fills the gap between them (mode collapse, THEORY.md).

    Call it on source points, or :meth:`sample` it.  Built by :func:`continuous_map`.

    Example
    -------
    >>> import geomot
    >>> from geomot import shapes
    >>> from geomot.generate import continuous_map
    >>> y = shapes.sample(shapes.two_half_disks(), 300, seed=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y)
    >>> f = continuous_map(res)
    >>> f.sample(1000, seed=0).shape
    (1000, 2)
    """

    def __init__(self, fn, domain, dim, kind, model=None):
        self.model = model  # the fitted estimator (the MLP of kind="mlp"), or None
        self._fn = fn
        self._domain = domain
        self._dim = dim
        self.kind = kind

    def __call__(self, x):
        """(N, d) source points -> (N, d) images.

        Raises ``ValueError`` naming ``x`` where the fitted map is not finite (points so far from
        the centroids that the fit overflows).
        """
        x = _source_points(x, self._dim)
        if x.shape[0] == 0:
            return np.zeros((0, self._dim))
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(self._fn(x), dtype=np.float64)
        bad = ~np.all(np.isfinite(out), axis=1)
        if np.any(bad):
            r = int(np.argmax(bad))
            raise ValueError(f"x row {r} ({x[r].tolist()}) is too far from the data: the fitted "
                             f"{self.kind} map overflows there")
        return out

    def sample(self, n, seed=None):
        """``n`` images of source samples drawn from the domain."""
        n = as_positive_int(n, "n", minimum=0)
        x = np.asarray(self._domain.sample(n, seed=as_rng(seed)), dtype=np.float64)
        if n == 0:
            return np.zeros((0, self._dim))
        return np.asarray(self._fn(x), dtype=np.float64)


def continuous_map(res, kind="rbf", *, smoothing=None, degree=3, neighbors=None, hidden=None,
                   n_samples=None, seed=None):
    """Fit a continuous map to a transport result: the continuous baseline of mode collapse.

    Parameters
    ----------
    res : OTResult
        An exact solve, or a Monte-Carlo result in any dimension (its cell centroids are then
        the means of ``n_samples`` source samples).
    kind : {"rbf", "poly", "mlp"}
        ``"rbf"``: a thin-plate-spline :class:`scipy.interpolate.RBFInterpolator` with smoothing
        on the (centroid, target) pairs; ``"poly"``: a least-squares polynomial of total degree
        ``degree`` on them (a tiny regressor); ``"mlp"``: a neural network
        (:class:`sklearn.neural_network.MLPRegressor`, ``pip install geomot[ml]``) trained to
        regress the optimal map itself, ``x -> T(x)``, on ``n_samples`` source samples: a
        continuous generator given the best possible target.
    smoothing : float, optional
        RBF smoothing (default ``1e-3 * m``, ``m`` the number of cells: a mild regularisation,
        like a network that cannot represent the jump).
    degree : int
        Polynomial degree for ``kind="poly"``.
    neighbors : int, optional
        RBF: use only this many nearest centroids per evaluation (default: all for up to 4000
        cells, else 64).
    hidden : tuple of int, optional
        MLP hidden layer sizes (default ``(64, 64)``).
    n_samples : int, optional
        Source samples: the MLP's training set (default ``min(max(10 n, 5000), 20000)``), or the
        centroid estimate of a Monte-Carlo result (default ``max(100 n, 10^5)``).
    seed : None, int or numpy.random.Generator
        Seeds those samples and the MLP's initialisation.

    Returns
    -------
    ContinuousMap

    Notes
    -----
    The RBF and polynomial fits minimise

    .. math:: \\sum_i m_i |f(c_i) - y_i|^2 + \\text{regularisation}

    (the cell masses ``m_i`` are equal for uniform targets and are ignored by the RBF); the MLP
    minimises :math:`\\frac1M \\sum_k |f(x_k) - T(x_k)|^2` over source samples ``x_k`` (Adam,
    scikit-learn's defaults, ``tanh`` units, in the result's frame coordinates).  Any such
    ``f`` is continuous, so where the true map jumps across the singular set it passes through
    the gap: :func:`off_support_fraction` of its samples is positive.

    Example
    -------
    >>> import geomot
    >>> from geomot.generate import continuous_map, off_support_fraction
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(geomot.shapes.two_half_disks(), 800, seed=0),
    ...                       tol=1e-6)
    >>> f = continuous_map(res)
    >>> off_support_fraction(f.sample(5000, seed=2), geomot.shapes.two_half_disks()) > 0.02
    True
    """
    if not isinstance(kind, str) or kind not in _FITS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _FITS))}, got {kind!r}")
    degree = as_positive_int(degree, "degree")
    fit = _FITS[kind]
    given = {"smoothing": smoothing, "neighbors": neighbors, "hidden": hidden}
    for key, val in given.items():
        if val is not None and key not in fit.keywords:
            owner = next(k for k, f in _FITS.items() if key in f.keywords)
            raise ValueError(f"{key} applies to kind={owner!r} only, not kind={kind!r}")
    exact = getattr(res, "method", "newton") != "montecarlo"
    if exact and kind != "mlp":
        for key, val in (("n_samples", n_samples), ("seed", seed)):
            if val is not None:
                raise ValueError(f"{key} applies to kind='mlp' and to Monte-Carlo results only "
                                 f"(an exact result has exact centroids)")
    return fit.fit(res, exact=exact, smoothing=smoothing, degree=degree, neighbors=neighbors,
                   hidden=hidden, n_samples=n_samples, seed=seed)


def _centroid_pairs(res, exact, n_samples, seed):
    """``(domain, centroids (m, d), targets (m, d), masses (m,))`` of the non-empty cells: exact
    from the diagram, or the means of source samples for a Monte-Carlo result."""
    if exact:
        diagram, cells, cen, tgt = _cells_and_targets(res)
        domain = getattr(res, "domain", None) or getattr(diagram, "domain", None)
        return domain, cen, tgt, np.asarray(diagram.masses, dtype=np.float64)[cells]
    pl = _TopCellsConstruction(res, False, None, n_samples, seed)
    counts = np.asarray(res.masses, dtype=np.float64)[pl.cells]
    return res.domain, pl.centroids, pl.targets, counts


class _RBFFit:
    keywords = ("smoothing", "neighbors")

    @staticmethod
    def fit(res, exact, smoothing, neighbors, n_samples, seed, **_):
        from scipy.interpolate import RBFInterpolator

        domain, cen, tgt, _ = _centroid_pairs(res, exact, n_samples, seed)
        m, d = cen.shape
        if m < d + 2:
            raise ValueError(f"res has {m} non-empty cells: too few to fit an RBF")
        sm = 1e-3 * m if smoothing is None else as_positive_float(smoothing, "smoothing", allow_zero=True)
        if neighbors is None:
            neighbors = None if m <= 4000 else 64
        else:
            neighbors = as_positive_int(neighbors, "neighbors", minimum=d + 2)
        fn = RBFInterpolator(cen, tgt, kernel="thin_plate_spline", smoothing=sm, neighbors=neighbors)
        return ContinuousMap(fn, domain, d, "rbf")


class _PolyFit:
    keywords = ()

    @staticmethod
    def fit(res, exact, degree, n_samples, seed, **_):
        domain, cen, tgt, masses = _centroid_pairs(res, exact, n_samples, seed)
        m, d = cen.shape
        exps = _monomials(d, degree)
        if m < len(exps):
            raise ValueError(f"res has {m} non-empty cells: too few for a degree-{degree} polynomial")
        lo = cen.min(axis=0)
        span = np.maximum(cen.max(axis=0) - lo, 1e-300)

        def design(x):
            z = 2.0 * (x - lo) / span - 1.0
            return np.stack([np.prod(z ** e, axis=1) for e in exps], axis=1)

        w = np.sqrt(masses / masses.sum())
        coef, *_ = np.linalg.lstsq(design(cen) * w[:, None], tgt * w[:, None], rcond=None)
        return ContinuousMap(lambda x: design(x) @ coef, domain, d, "poly")


#: the MLP's defaults: hidden layers, and the training set's size per target, floor and cap
MLP_HIDDEN = (64, 64)
MLP_SAMPLES_PER_TARGET = 10
MLP_SAMPLES_RANGE = (5000, 20000)


class _MLPFit:
    keywords = ("hidden",)

    @staticmethod
    def fit(res, exact, hidden, n_samples, seed, **_):
        from ._ml import require_sklearn, single_threaded

        require_sklearn("continuous_map(kind='mlp')")
        from sklearn.neural_network import MLPRegressor

        hidden = MLP_HIDDEN if hidden is None else _as_layers(hidden)
        y = as_points(res.y, "res.y")
        n, d = y.shape
        if n_samples is None:
            lo, hi = MLP_SAMPLES_RANGE
            n_samples = int(min(max(MLP_SAMPLES_PER_TARGET * n, lo), hi))
        n_samples = as_positive_int(n_samples, "n_samples", minimum=10)
        rng = as_rng(seed)
        domain = res.domain
        frame = res.frame
        yf = frame.to_targets(y)
        hf = np.asarray(res.frame_weights, dtype=np.float64) - 0.5 * np.einsum("ij,ij->i", yf, yf)
        xf = np.ascontiguousarray(frame.to_source(np.asarray(domain.sample(n_samples, seed=rng), dtype=np.float64)))
        target = yf[_top_cells(xf, yf, hf, 1)[:, 0]]  # T(x) = y_{argmax}, in the frame
        net = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh", max_iter=300,
                           random_state=int(rng.integers(2**31 - 1)))
        with single_threaded():
            net.fit(xf, target)

        def fn(x):
            with single_threaded():
                return frame.from_targets(net.predict(frame.to_source(x)).reshape(-1, d))

        return ContinuousMap(fn, domain, d, "mlp", model=net)


def _as_layers(hidden):
    try:
        layers = tuple(int(v) for v in np.atleast_1d(hidden))
        ok = len(layers) >= 1 and all(v >= 1 for v in layers) and all(
            float(v) == float(w) for v, w in zip(layers, np.atleast_1d(hidden)))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"hidden must be a tuple of layer sizes >= 1, got {hidden!r}")
    return layers


#: the fits of continuous_map, by kind
_FITS = {"rbf": _RBFFit, "poly": _PolyFit, "mlp": _MLPFit}


def _monomials(d, degree):
    from itertools import product

    return [np.array(e) for e in product(range(degree + 1), repeat=d) if sum(e) <= degree]


def off_support_fraction(points, shape, tol=0.0):
    """Fraction of points that lie off a support, beyond a tolerance band.

    Parameters
    ----------
    points : (N, d) array_like
        Finite points.
    shape : shapely geometry (2D), trimesh.Trimesh (3D) or geomot.Domain
        The support (a ``Domain`` is converted with ``.geometry``).
    tol : float >= 0
        Width of the band around the support counted as "on" it (absolute distance).

    Returns
    -------
    float
        .. math:: \\frac{1}{N} \\#\\{k : \\operatorname{dist}(p_k, S) > \\mathrm{tol}\\}

    Example
    -------
    >>> import shapely
    >>> off_support_fraction([[0.5, 0.5], [2.0, 0.5], [1.05, 0.5]], shapely.box(0, 0, 1, 1),
    ...                      tol=0.1)
    0.3333333333333333
    """
    tol = as_positive_float(tol, "tol", allow_zero=True)
    geom = shape
    if hasattr(shape, "geometry") and hasattr(shape, "sample") and hasattr(shape, "dim"):
        geom = shape.geometry
        if geom is None:
            if tol > 0:
                raise ValueError("shape: this Domain has no geometry; use tol=0")
            x = as_points(points, "points", dim=shape.dim)
            return float(np.mean(~np.asarray(shape.contains(x), dtype=bool))) if len(x) else 0.0
    import shapely

    if isinstance(geom, shapely.Geometry):
        x = as_points(points, "points", dim=2, dim_of="shape")
        if x.shape[0] == 0:
            return 0.0
        g = geom.buffer(tol) if tol > 0 else geom
        shapely.prepare(g)
        on = shapely.intersects_xy(g, x[:, 0], x[:, 1])
        return float(np.mean(~on))
    import trimesh

    if isinstance(geom, trimesh.Trimesh):
        x = as_points(points, "points", dim=3, dim_of="shape")
        if x.shape[0] == 0:
            return 0.0
        if tol == 0:
            on = geom.contains(x)
        else:
            on = trimesh.proximity.signed_distance(geom, x) >= -tol
        return float(np.mean(~np.asarray(on, dtype=bool)))
    raise ValueError(
        f"shape must be a shapely geometry, a trimesh.Trimesh or a geomot.Domain, "
        f"got {type(shape).__name__}")


def mode_balance(points, labels_fn, modes=None):
    """Fraction of points in each mode.

    Parameters
    ----------
    points : (N, d) array_like
        Generated points.
    labels_fn : callable
        ``labels_fn(points) -> (N,)`` mode label of each point (ints, bools or strings).
    modes : sequence, optional
        The expected labels: reported even when absent (fraction 0, a collapsed mode).

    Returns
    -------
    dict
        ``{label: fraction}``, fractions summing to 1 (over the labels that occur).

    Example
    -------
    >>> mode_balance([[0.2, 0], [1.5, 0], [1.7, 0], [0.1, 0]], lambda p: p[:, 0] > 1)
    {False: 0.5, True: 0.5}
    """
    if not callable(labels_fn):
        raise ValueError(f"labels_fn must be callable, got {type(labels_fn).__name__}")
    if modes is not None and (isinstance(modes, (str, bytes)) or not np.iterable(modes)):
        raise ValueError(f"modes must be a sequence of labels, got {type(modes).__name__}")
    x = as_points(points, "points", min_rows=1)
    lab = np.asarray(labels_fn(x))
    if lab.shape != (x.shape[0],):
        raise ValueError(
            f"labels_fn must return one label per point, shape ({x.shape[0]},), got {lab.shape}")
    try:
        vals, counts = np.unique(lab, return_counts=True)
        out = {_py(v): c / x.shape[0] for v, c in zip(vals, counts)}
        if modes is not None:
            for mlab in modes:
                out.setdefault(_py(mlab), 0.0)
        return {k: float(out[k]) for k in sorted(out, key=lambda v: (str(type(v)), v))}
    except TypeError as exc:  # labels of kinds that cannot be compared (or unhashable ones)
        raise ValueError(f"labels_fn returned labels (and modes) that cannot be sorted and "
                         f"counted: {exc}") from None


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v

