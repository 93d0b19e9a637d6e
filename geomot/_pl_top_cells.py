"""The top-cells construction of :class:`geomot.PiecewiseLinearMap` (any dimension ``d >= 2``).

AE-OT's construction for Monte-Carlo results, where no triangulation of the centroids exists:
the simplex of a point is the one of its ``d + 1`` cells of largest score, the centroids are
means of source samples, and a point is written in clipped barycentric coordinates of the
kept centroids (those pairwise non-singular, best score first).
"""

import numpy as np

from ._validate import as_points, as_positive_int, as_rng


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
    :class:`geomot.PiecewiseLinearMap`)."""

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
