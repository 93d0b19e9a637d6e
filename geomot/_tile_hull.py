"""One hull of :mod:`geomot._tiles`: a tile (or the band, or a repair box) and where it runs.

A :class:`_TileJob` carries everything one qhull call needs (it travels to dask workers);
:func:`_run_tile` builds the lower facets of its lifted points and selects the simplices the
tile keeps (anchored in its box, within its reach) and the targets it hands to the band.
The runners run jobs in local threads or on a ``dask.distributed`` cluster.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from ._tile_geometry import _anchors, _simplex_geometry
from ._tol import tol
from ._validate import require_distributed


@dataclass(frozen=True, eq=False)
class _TileJob:
    """Everything one hull needs (self-contained: it travels to dask workers).

    ``idx (m,)`` global indices, the tile's own targets first (``n_own``); ``t, z, w``
    their coordinates, lifted heights and weights; ``lo, hi`` the tile's box and ``reach``
    its reach; ``by_centroid``: the anchor (``tile = -1``: the band, which returns every solid
    lower simplex)."""

    tile: int
    idx: np.ndarray
    n_own: int
    t: np.ndarray
    z: np.ndarray
    w: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    reach: float
    by_centroid: bool


@dataclass(frozen=True, eq=False)
class _TileResult:
    """What one hull returns: ``simp (e, k+1)`` the simplices it keeps (global indices in
    increasing order), ``x (e, k)`` their power vertices minus their first vertex (band
    only), ``band (b,)`` the targets it hands to the band (vertices of its simplices beyond its
    reach, own targets on the boundary of its hull), ``hull_pts`` its own targets on the
    boundary of its hull (they hold every vertex of conv(t)), ``flat`` its number of flat lower
    facets (degenerate input), ``points`` the number of points it hulled, ``error`` qhull's
    message."""

    tile: int
    simp: np.ndarray = None
    x: np.ndarray = None
    band: np.ndarray = None
    hull_pts: np.ndarray = None
    flat: int = 0
    points: int = 0
    error: str = None


def _local_hull(t, z):
    """Lower facets of the lifted points ``(t_i, z_i)`` plus a point high above them (as
    :func:`geomot.lifting._lower_hull`): ``(simp, lower)`` in local indices (``m``: the top
    point).  Coordinates are centred and the heights lose their least-squares affine part
    (which changes no lower facet), so that qhull sees a small, untilted cloud."""
    m, k = t.shape
    tc = t - t.mean(axis=0)
    # (normal equations: the centred coordinates are well conditioned, unless the tile is
    # flat, when lstsq's minimum-norm solution is needed)
    try:
        coef = np.linalg.solve(tc.T @ tc, tc.T @ z)
    except np.linalg.LinAlgError:
        coef = np.linalg.lstsq(tc, z - z.mean(), rcond=None)[0]
    zl = z - tc @ coef
    zl -= zl.mean()
    zspan = float(np.ptp(zl))
    tspan = float(np.ptp(tc, axis=0).max())
    top = np.concatenate([np.zeros(k), [zl.max() + zspan + tspan]])
    hull = ConvexHull(np.vstack([np.column_stack([tc, zl]), top]))
    simp = np.ascontiguousarray(hull.simplices, dtype=np.int64)
    lower = (hull.equations[:, k] < 0) & np.all(simp < m, axis=1)
    return simp, lower


def _run_tile(job):
    """Hull one tile (or the band) and select the simplices it keeps."""
    try:
        simp, lower = _local_hull(job.t, job.z)
    except QhullError as exc:
        msg = str(exc).strip().splitlines()
        return _TileResult(job.tile, points=job.idx.size, error=msg[0] if msg else "QhullError")
    srt, x, solid = _simplex_geometry(job.t, job.w, job.idx, simp, lower, tol.flat)
    top = simp[~lower].ravel()
    hull_pts = np.unique(top[top < job.n_own])
    flat = int(np.count_nonzero(lower & ~solid))
    if job.tile < 0:  # the band: every solid simplex (the caller selects and certifies)
        return _TileResult(job.tile, job.idx[srt[solid]], x[solid], None, job.idx[hull_pts], flat, job.idx.size)
    rows = np.flatnonzero(solid)
    anchor, spread = _anchors(job.t, srt[rows], x[rows], job.by_centroid)
    inbox = np.all((job.lo <= anchor) & (anchor < job.hi), axis=1)
    near = spread <= job.reach
    far = ~near & (inbox | np.any(srt[rows] < job.n_own, axis=1))
    band = np.union1d(np.unique(srt[rows[far]]), hull_pts)
    keep = rows[near & inbox]
    keep = keep[np.argsort(job.idx[srt[keep, 0]], kind="stable")]  # (memory order, for the checks)
    return _TileResult(job.tile, job.idx[srt[keep]], None, job.idx[band], job.idx[hull_pts], flat,
                       job.idx.size)

# ----------------------------------------------------------------- runners
class _ThreadRunner:
    """Hulls in local threads (qhull and the kernels release the GIL)."""

    def __init__(self, workers):
        self.workers = max(1, int(workers))

    def run(self, tiles, prepare):
        if self.workers == 1 or len(tiles) == 1:
            return [_run_tile(prepare(i)) for i in tiles]
        # the jobs are prepared in the threads too (gathering a halo is numpy work)
        with ThreadPoolExecutor(self.workers) as ex:
            return list(ex.map(lambda i: _run_tile(prepare(i)), tiles))


class _DaskRunner:
    """Hulls on a ``dask.distributed`` cluster: each job carries its points."""

    def __init__(self, client):
        self.client = client

    def run(self, tiles, prepare):
        futures = self.client.map(_run_tile, [prepare(i) for i in tiles], pure=False)
        return self.client.gather(futures)


def _runner(opt):
    if opt.client is None:
        return _ThreadRunner(opt.workers)
    require_distributed(opt.client)
    return _DaskRunner(opt.client)
