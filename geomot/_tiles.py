"""Tiled lifted hulls: the regular triangulation of many targets from one qhull call per tile.

:func:`geomot.lifting._regular_triangulation` projects ONE lower convex hull of the lifted
targets; one qhull call runs on one core and slows per point as the number of points grows.
:func:`tiled_lower_hull` builds the same lower simplices from many small hulls:

1. *Tiles.*  A k-d split of the targets ``t (n, k)`` (in their affine frame) at quantiles of
   their coordinates into ``ceil(n / tile_points)`` boxes :math:`B_T` that partition
   :math:`\\mathbb{R}^k` (the outer sides reach infinity; a point belongs to the box with
   ``lo <= x < hi``).  Each tile is one qhull call of its own targets and of its halo: every
   target within ``margin`` of the box.  Tiles run in threads (qhull releases the GIL) or,
   with ``client=``, on a ``dask.distributed`` cluster.
2. *Ownership.*  With the weights :math:`w_j = |t_j|^2 - z_j` (minus their least-squares
   affine part, which changes no lower facet), a lower facet :math:`\\sigma` of the lifted
   points is a regular simplex: its power vertex (orthocentre) :math:`c` has the same power
   :math:`R = |t_i - c|^2 - w_i` for its vertices and no smaller power for any target.
   Each simplex has an *anchor*: its power vertex when the weights are close to Voronoi's
   (then :math:`c` lies near the simplex, and a non-simplicial cell -- cocircular grids --
   has one power vertex, hence one tile, which triangulates it consistently), else
   (transport weights, whose power vertices lie in the source's geometry, far from the
   targets) its centroid.  It is *local* when its vertices lie within the reach of the tile
   whose box holds its anchor (``REACH_SPACINGS`` mean spacings of that tile; measured on
   uniform targets away from the boundary of their hull), and that tile keeps it.  The
   others -- the large orthoballs along the boundary of conv(t), or across empty regions --
   are kept by one more hull, of the *band*: the targets the tiles found on such simplices
   or on the boundary of their own hulls; a band simplex is kept if no target lies inside
   its orthosphere (k-d trees of the lifted points :math:`(t_j, \\sqrt{w_{\\max} - w_j})`,
   where the power is a squared Euclidean distance).  Ownership is a function of the
   simplex alone (the same simplex gives the same numbers in every hull): every simplex has
   at most one owner.
3. *Verification.*  The kept simplices must triangulate conv(t) -- every ridge shared by
   exactly two of them, on opposite sides, or by one when it lies on the boundary of conv(t)
   (tested against the facets of conv(t)), volumes adding up to its volume -- the
   triangulation must be *locally regular*: at every interior ridge the opposite vertex
   of the neighbour has power excess

   .. math:: e_j(\\sigma) = |t_j - c|^2 - w_j - R \\ge -\\delta

   over the orthosphere of :math:`\\sigma` (:math:`\\delta` the tie tolerance ``tol.tie``), and
   every target that is no vertex must lie above the lifted surface (located by a walk).  A
   locally regular triangulation of conv(t) lifts to a convex surface, the lower hull of its
   vertices; with every other target above it, it is the lower hull of all of them: exactly
   the global lower facets (as sets) for targets in general position, and a regular
   triangulation with the same power diagram when ties leave a choice.
4. *Repair or fall back.*  Around each failure (a tile that missed a target just beyond its
   halo) a *repair box* takes over the ownership of the simplices anchored in it, with one
   small hull of the targets within a halo of three reaches (doubled when the box fails
   again); the targets there join the band.  Up to ``max_rounds`` rounds.  When that does
   not help (a tie split between two hulls, flat simplices of degenerate input that leave
   holes, qhull failing), the caller builds the single global hull instead: never a wrong
   result.

Flat lower simplices (qhull's split of a degenerate facet, vertical facets of targets on a
face of conv(t)) are dropped: they carry no volume and no visible vertex of their own.

References
----------
H. Edelsbrunner, N. R. Shah, *Incremental topological flipping works for regular
triangulations*, Algorithmica 15 (1996) (local regularity implies regularity).
L. Caraffa, P. Memari, M. Yirci, M. Brédif, *Tile & merge: distributed Delaunay triangulations
for cloud computing*, IEEE Big Data (2019) (tiles with halos, verified and merged).
"""

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from numba import njit
from scipy.spatial import ConvexHull, QhullError, cKDTree

from ._tol import scale_of, tol

__all__ = ["TileOptions", "TileReport", "tiled_lower_hull"]

log = logging.getLogger(__name__)

#: targets per tile (qhull's time per point grows with the hull's size, the halo's share
#: shrinks with it; measured with benchmarks/bench_tiles.py)
TILE_POINTS = {2: 8_000, 3: 50_000}
#: below this many targets one global hull is built; None: tiles only with a dask client.
#: Measured on this 2-core machine (benchmarks/bench_tiles.py, CPU shared with other jobs):
#: 2D break-even near 5e4, 1.2-1.3 times faster at 1e5, 1.9 at 1e6, 2.4 at 1e7 with a third of
#: the memory; 3D tiles need halos of +20-30% of the targets, which cost more than qhull's
#: gain per point: 1.35 times the CPU time of one hull at 1e6 (half the memory)
TILE_MIN_POINTS = {2: 100_000, 3: None}
#: the reach of a tile, in its mean target spacings, for each anchor (the point whose tile
#: owns a simplex): simplices with a vertex farther from their anchor belong to the band.
#: Measured on uniform targets, of the simplices farther than 6 spacings from the hull's
#: boundary: orthoballs (power vertex) of radius above 2 spacings 4e-5 in 2D at 4e5, none above
#: 2.5; above 1.5 3e-6 in 3D at 2e5, none above 1.75; centroid-vertex distances at most 2.71
#: (2D) and 2.03 (3D)
REACH_SPACINGS = {"power vertex": {2: 2.25, 3: 1.6}, "centroid": {2: 2.75, 3: 2.1}}
#: rounds of halo growth before giving up (the caller then builds one global hull)
MAX_ROUNDS = 3

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class TileOptions:
    """How :func:`tiled_lower_hull` splits and runs the hull.

    ``tile_points``: targets per tile (default :data:`TILE_POINTS`); ``min_points``: fewer
    targets than this build one global hull (default :data:`TILE_MIN_POINTS`; 0 tiles any
    size; None tiles only with a ``client``); ``anchor``: the point whose tile owns a simplex, ``"power vertex"``, ``"centroid"``
    or ``"auto"`` (the power vertex when the weights are close to Voronoi's, so that power
    vertices lie near their simplices; module notes); ``reach``: the tiles' reach in mean
    spacings (default :data:`REACH_SPACINGS`); ``max_rounds``: rounds of halo growth; ``workers``: threads (default: the CPU count);
    ``client``: a ``dask.distributed.Client`` that runs the tile hulls instead of threads.

    Example
    -------
    >>> from geomot._tiles import TileOptions
    >>> opt = TileOptions(tile_points=500, min_points=0).resolve(2)
    >>> opt.tile_points, opt.anchor, opt.applies(10_000, 2), opt.applies(400, 2)
    (500, 'auto', True, False)
    """

    tile_points: int = None
    min_points: int = None
    anchor: str = "auto"
    reach: float = None
    max_rounds: int = MAX_ROUNDS
    workers: int = None
    client: object = None

    def resolve(self, k):
        """These options with the defaults for targets of affine dimension ``k`` filled in
        (the reach stays None for ``anchor="auto"``: it depends on the anchor chosen)."""
        kk = 2 if k <= 2 else 3
        if self.anchor not in ("auto", "power vertex", "centroid"):
            raise ValueError(f"anchor must be 'auto', 'power vertex' or 'centroid', got {self.anchor!r}")
        reach = self.reach
        if reach is None and self.anchor != "auto":
            reach = REACH_SPACINGS[self.anchor][kk]
        min_points = TILE_MIN_POINTS[kk] if self.min_points is None else int(self.min_points)
        return TileOptions(
            TILE_POINTS[kk] if self.tile_points is None else int(self.tile_points), min_points,
            self.anchor, None if reach is None else float(reach),
            int(self.max_rounds), (os.cpu_count() or 1) if self.workers is None else int(self.workers),
            self.client)

    def applies(self, n, k):
        """Whether ``n`` targets of affine dimension ``k`` are tiled (2 or 3, two tiles or more,
        at least ``min_points``; a minimum of None tiles only on a dask client)."""
        if k not in (2, 3):
            return False
        opt = self.resolve(k)
        if opt.min_points is None and opt.client is None:
            return False
        return n >= (opt.min_points or 0) and n > opt.tile_points


@dataclass(frozen=True)
class TileReport:
    """What one tiled build did.

    ``tiles``: number of tiles; ``rounds``: verification rounds; ``rebuilt``: repair hulls
    built around verification failures; ``hulled_points``: points over all hulls (targets,
    halos, band and repairs); ``band_points``: targets in the band's hull (last round); ``band_simplices``:
    simplices the band keeps; ``fallback``: why the tiled build gave up (the caller then builds
    one global hull), ``None`` when it did not; ``seconds``: wall time of the tiled build, and
    ``phases``: of its parts (``setup``: weights and tiles, ``tiles``: the tile hulls,
    ``band``: the band's hull and its certification, ``repair``: the repair hulls, ``verify``:
    the checks), all rounds;
    ``anchor``: the point whose tile owns a simplex (``"power vertex"`` or ``"centroid"``);
    ``failures``: what the verification found in each round that failed.
    """

    tiles: int
    rounds: int
    rebuilt: int
    hulled_points: int
    band_points: int
    band_simplices: int
    fallback: str = None
    seconds: float = 0.0
    phases: tuple = ()
    anchor: str = None
    failures: tuple = ()


# ----------------------------------------------------------------- k-d tiles
@dataclass(frozen=True, eq=False)
class _Tiling:
    """``T`` tiles: own targets ``perm[start[i]:start[i+1]]``, box ``lo[i] <= x < hi[i]``
    (+-inf on the outer sides), bounding box of the own targets ``plo, phi``, tile of each
    target ``owner (n,)``; the split tree (``axis``, ``split``, children ``left``/``right``,
    a leaf ``-1 - tile``) locates points."""

    perm: np.ndarray
    start: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    plo: np.ndarray
    phi: np.ndarray
    owner: np.ndarray
    axis: np.ndarray
    split: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def count(self):
        return self.lo.shape[0]

    def own(self, i):
        return self.perm[self.start[i]:self.start[i + 1]]

    def in_tile_order(self):
        """The same tiles with the targets renumbered in tile order (``perm`` the identity)."""
        return _Tiling(np.arange(self.perm.size), self.start, self.lo, self.hi, self.plo, self.phi,
                       self.owner[self.perm], self.axis, self.split, self.left, self.right)

    def locate(self, c):
        """(m,) tile whose box holds each point ``c (m, k)``."""
        node = np.zeros(c.shape[0], dtype=np.int64)
        inner = node >= 0
        while inner.any():
            i = np.flatnonzero(inner)
            nd = node[i]
            go_left = c[i, self.axis[nd]] < self.split[nd]
            node[i] = np.where(go_left, self.left[nd], self.right[nd])
            inner = node >= 0
        return -1 - node


def _kd_tiling(t, leaf):
    """Split the rows of ``t (n, k)`` into ``ceil(n / leaf)`` boxes of as many targets each, at
    quantiles of a coordinate (across the widest side of the box first; a box to be split
    into ``L`` tiles is cut at its ``floor(L/2) / L`` quantile).  The split value is a target's coordinate:
    targets with ``x < split`` go left, the others right (grid rows lie on box sides, never the
    centres of grid cells, which are the power vertices that decide ownership)."""
    n, k = t.shape
    inf = np.full(k, np.inf)
    axis, split, left, right = [], [], [], []
    leaves = []
    perm = np.arange(n)
    tw = t.copy()  # the coordinates in the order of perm (the splits then stream through memory)
    stack = [(0, n, -inf, inf, -1, 0, max(1, -(-n // max(1, leaf))))]  # (segment, box, parent, side, tiles)

    def link(parent, side, ref):
        if parent >= 0:
            (left if side == 0 else right)[parent] = ref

    gmin, gmax = t.min(axis=0), t.max(axis=0)
    while stack:
        a, b, lo, hi, parent, side, L = stack.pop()
        ax, m, sv = -1, -1, 0.0
        if L > 1:
            # the widest side of the box (within the targets' bounding box): no pass over
            # the targets, which would cost more than the split itself
            ext = np.minimum(hi, gmax) - np.maximum(lo, gmin)
            for c in np.argsort(-ext, kind="stable"):
                m, sv = _split_segment(tw, perm, a, b, int(c), ((b - a) * (L // 2)) // L)
                if m >= 0:
                    ax = int(c)
                    break
        if ax < 0:  # small enough (or every target of the box at one point): a tile
            link(parent, side, -1 - len(leaves))
            leaves.append((a, b, lo, hi))
            continue
        node = len(axis)
        axis.append(ax)
        split.append(sv)
        left.append(0)
        right.append(0)
        link(parent, side, node)
        hl, lr = hi.copy(), lo.copy()
        hl[ax] = sv
        lr[ax] = sv
        # (the tiles go to the two sides in proportion to their targets: ties of coordinates
        # can move the split away from the quantile)
        Ll = min(L - 1, max(1, int(round(L * (m - a) / (b - a)))))
        stack.append((m, b, lr, hi, node, 1, L - Ll))
        stack.append((a, m, lo, hl, node, 0, Ll))
    if not axis:  # one tile: a root that is a leaf
        axis, split, left, right = [0], [np.inf], [-1], [-1]
    start = np.array([lf[0] for lf in leaves] + [n], dtype=np.int64)
    plo, phi, owner = _segment_boxes(t, perm, start)
    return _Tiling(perm, start, np.array([lf[2] for lf in leaves]), np.array([lf[3] for lf in leaves]),
                   plo, phi, owner, np.array(axis, dtype=np.int64), np.array(split),
                   np.array(left, dtype=np.int64), np.array(right, dtype=np.int64))


@njit(cache=True, nogil=True)
def _split_segment(tw, perm, a, b, axis, rank):
    """Reorder ``perm[a:b]`` and the rows ``tw[a:b]`` (the targets' coordinates in the order of
    ``perm``) so that the targets with coordinate ``axis`` below the split value come first.
    The split value is a target's coordinate of about rank ``rank`` (the quantile of a regular
    sample of at most 8192 targets: balance need not be exact) or, when no target is below it,
    the next larger one.  Returns ``(m, split)``, ``m`` the first target not below (-1 when
    all coordinates are equal)."""
    size = b - a
    step = max(1, size // 8192)
    sample = tw[a:b:step, axis].copy()
    r = min(max((rank * sample.size) // size, 0), sample.size - 1)
    sv = np.partition(sample, r)[r]
    m = _partition_below(tw, perm, a, b, axis, sv)
    if m == a:  # nothing below the sampled value: split below the next larger one
        nxt = np.inf
        for i in range(a, b):
            v = tw[i, axis]
            if sv < v < nxt:
                nxt = v
        if nxt == np.inf:
            return -1, 0.0
        sv = nxt
        m = _partition_below(tw, perm, a, b, axis, sv)
    return m, sv


@njit(cache=True, nogil=True)
def _partition_below(tw, perm, a, b, axis, sv):
    """In place (Hoare): the rows of ``tw[a:b]`` (and ``perm``) with coordinate ``axis`` below
    ``sv`` first; returns the first row not below.  (The order within a side does not matter:
    the tiles are Z-ordered later.)"""
    k = tw.shape[1]
    i, j = a, b - 1
    while True:
        while i <= j and tw[i, axis] < sv:
            i += 1
        while i <= j and not (tw[j, axis] < sv):
            j -= 1
        if i >= j:
            return i
        perm[i], perm[j] = perm[j], perm[i]
        for c in range(k):
            tmp = tw[i, c]
            tw[i, c] = tw[j, c]
            tw[j, c] = tmp
        i += 1
        j -= 1


@njit(cache=True, nogil=True)
def _segment_boxes(t, perm, start):
    """Bounding boxes of the targets of each tile and the tile of each target."""
    n, k = t.shape
    T = start.size - 1
    plo = np.full((T, k), np.inf)
    phi = np.full((T, k), -np.inf)
    owner = np.empty(n, dtype=np.int32)
    for i in range(T):
        for p in range(start[i], start[i + 1]):
            v = perm[p]
            owner[v] = i
            for c in range(k):
                plo[i, c] = min(plo[i, c], t[v, c])
                phi[i, c] = max(phi[i, c], t[v, c])
    return plo, phi, owner


@njit(cache=True, nogil=True)
def _z_order_tiles(t, perm, start):
    """Sort each tile's slice of ``perm`` along a Z-order (Morton) curve of its bounding box,
    in place (16 bits per axis)."""
    n, k = t.shape
    bits = 16 if k <= 3 else 48 // k
    top = float((1 << bits) - 1)
    for i in range(start.size - 1):
        a, b = start[i], start[i + 1]
        if b - a < 2:
            continue
        lo = np.full(k, np.inf)
        hi = np.full(k, -np.inf)
        for p in range(a, b):
            for c in range(k):
                v = t[perm[p], c]
                lo[c] = min(lo[c], v)
                hi[c] = max(hi[c], v)
        code = np.zeros(b - a, dtype=np.uint64)
        for p in range(a, b):
            cc = np.uint64(0)
            for c in range(k):
                span = hi[c] - lo[c]
                q = np.uint64(0) if span <= 0 else np.uint64((t[perm[p], c] - lo[c]) / span * top)
                for bit in range(bits):
                    cc |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(bit * k + c)
            code[p - a] = cc
        order = np.argsort(code, kind="mergesort")
        perm[a:b] = perm[a:b][order]


@njit(cache=True, nogil=True)
def _tile_gradients(t, w, start):
    """(T, k): the gradient of the least-squares plane of ``w`` over each tile's targets."""
    n, k = t.shape
    T = start.size - 1
    out = np.zeros((T, k))
    for i in range(T):
        a, b = start[i], start[i + 1]
        if b - a <= k + 1:
            continue
        mean = np.zeros(k)
        wm = 0.0
        for p in range(a, b):
            wm += w[p]
            for c in range(k):
                mean[c] += t[p, c]
        mean /= b - a
        wm /= b - a
        G = np.zeros((k, k))
        r = np.zeros(k)
        for p in range(a, b):
            for c in range(k):
                dc = t[p, c] - mean[c]
                r[c] += dc * (w[p] - wm)
                for e in range(k):
                    G[c, e] += dc * (t[p, e] - mean[e])
        if abs(np.linalg.det(G)) > 0.0:
            out[i] = np.linalg.solve(G, r)
    return out


@njit(cache=True, nogil=True)
def _gather_box(t, start, tiles, lo, hi):
    """The targets (in tile order) of the given tiles that lie in the closed box ``lo, hi``."""
    k = t.shape[1]
    count = 0
    for pass_ in range(2):
        if pass_ == 1:
            out = np.empty(count, dtype=np.int64)
            count = 0
        for j in tiles:
            for p in range(start[j], start[j + 1]):
                inside = True
                for c in range(k):
                    if not (lo[c] <= t[p, c] <= hi[c]):
                        inside = False
                        break
                if inside:
                    if pass_ == 1:
                        out[count] = p
                    count += 1
    return out


# ----------------------------------------------------------------- one hull
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


def _anchors(t, simp, x, by_centroid):
    """``(anchor (s, k), spread (s,))``: the point whose tile owns each simplex ``simp (s, k+1)``
    (its centroid, or its power vertex ``t[simp[:, 0]] + x``) and the largest distance from it
    to a vertex.  A function of the simplex alone: every hull gives the same numbers."""
    p = t[simp]
    anchor = p.mean(axis=1) if by_centroid else p[:, 0] + x
    d = p - anchor[:, None, :]
    return anchor, np.sqrt(np.einsum("sij,sij->si", d, d).max(axis=1))


@njit(cache=True, nogil=True)
def _simplex_geometry(t, w, gidx, simp, lower, flat_tol):
    """Per lower facet ``s``: its vertices in increasing global index (``srt``: the same
    simplex gives the same numbers in every hull), its power vertex minus the first vertex
    (``x``) and whether it is solid (relative volume, |det| over the product of the edges,
    above ``flat_tol``)."""
    S, k1 = simp.shape
    k = k1 - 1
    srt = np.empty((S, k1), dtype=np.int64)
    x = np.zeros((S, k))
    solid = np.zeros(S, dtype=np.bool_)
    for s in range(S):
        for p in range(k1):
            srt[s, p] = simp[s, p]
        if not lower[s]:
            continue
        for p in range(1, k1):  # insertion sort by global index
            v = srt[s, p]
            q = p - 1
            while q >= 0 and gidx[srt[s, q]] > gidx[v]:
                srt[s, q + 1] = srt[s, q]
                q -= 1
            srt[s, q + 1] = v
        solid[s] = _power_vertex(t, w, srt[s], flat_tol, x[s])
    return srt, x, solid


@njit(cache=True, nogil=True)
def _power_vertex(t, w, v, flat_tol, x):
    """Power vertex of the simplex ``v (k+1,)`` minus its first vertex, into ``x (k,)``:
    :math:`\\langle e_r, x\\rangle = (|e_r|^2 - (w_r - w_0)) / 2`, :math:`e_r = t_r - t_0`.
    False (``x`` untouched) for a flat simplex (relative volume, |det| over the product of
    the edges, not above ``flat_tol``)."""
    k = t.shape[1]
    v0 = v[0]
    if k == 2:
        e00 = t[v[1], 0] - t[v0, 0]
        e01 = t[v[1], 1] - t[v0, 1]
        e10 = t[v[2], 0] - t[v0, 0]
        e11 = t[v[2], 1] - t[v0, 1]
        n0 = e00 * e00 + e01 * e01
        n1 = e10 * e10 + e11 * e11
        det = e00 * e11 - e01 * e10
        if not abs(det) > flat_tol * np.sqrt(n0 * n1):
            return False
        b0 = 0.5 * (n0 - (w[v[1]] - w[v0]))
        b1 = 0.5 * (n1 - (w[v[2]] - w[v0]))
        x[0] = (b0 * e11 - e01 * b1) / det
        x[1] = (e00 * b1 - b0 * e10) / det
        return True
    e00 = t[v[1], 0] - t[v0, 0]
    e01 = t[v[1], 1] - t[v0, 1]
    e02 = t[v[1], 2] - t[v0, 2]
    e10 = t[v[2], 0] - t[v0, 0]
    e11 = t[v[2], 1] - t[v0, 1]
    e12 = t[v[2], 2] - t[v0, 2]
    e20 = t[v[3], 0] - t[v0, 0]
    e21 = t[v[3], 1] - t[v0, 1]
    e22 = t[v[3], 2] - t[v0, 2]
    n0 = e00 * e00 + e01 * e01 + e02 * e02
    n1 = e10 * e10 + e11 * e11 + e12 * e12
    n2 = e20 * e20 + e21 * e21 + e22 * e22
    c00 = e11 * e22 - e12 * e21
    c01 = e12 * e20 - e10 * e22
    c02 = e10 * e21 - e11 * e20
    det = e00 * c00 + e01 * c01 + e02 * c02
    if not abs(det) > flat_tol * np.sqrt(n0 * n1 * n2):
        return False
    b0 = 0.5 * (n0 - (w[v[1]] - w[v0]))
    b1 = 0.5 * (n1 - (w[v[2]] - w[v0]))
    b2 = 0.5 * (n2 - (w[v[3]] - w[v0]))
    x[0] = (b0 * c00 + b1 * (e02 * e21 - e01 * e22) + b2 * (e01 * e12 - e02 * e11)) / det
    x[1] = (b0 * c01 + b1 * (e00 * e22 - e02 * e20) + b2 * (e02 * e10 - e00 * e12)) / det
    x[2] = (b0 * c02 + b1 * (e01 * e20 - e00 * e21) + b2 * (e00 * e11 - e01 * e10)) / det
    return True


@njit(cache=True, nogil=True)
def _power_vertices(t, w, simp, x):
    for s in range(simp.shape[0]):
        _power_vertex(t, w, simp[s], 0.0, x[s])


@njit(cache=True, nogil=True)
def _excess(t, w, v0, q, x, tie_tol):
    """Power excess of target ``q`` over the orthosphere of the simplex with first vertex ``v0``
    and power vertex ``t[v0] + x``, and the tolerance under which it ties.

    :math:`e = |f|^2 - 2 f \\cdot x - (w_q - w_0)`, :math:`f = t_q - t_0`: made of small
    differences only, so that it is exact to a few roundings of its terms; the tolerance is
    ``tie_tol`` of the squared lengths it is made of, plus their rounding."""
    ff = 0.0
    fx = 0.0
    xx = 0.0
    for c in range(t.shape[1]):
        f = t[q, c] - t[v0, c]
        ff += f * f
        fx += f * x[c]
        xx += x[c] * x[c]
    e = ff - 2.0 * fx - (w[q] - w[v0])
    size = ff + 2.0 * np.sqrt(ff * xx)
    return e, tie_tol * size + 16.0 * 2.220446049250313e-16 * (abs(w[q]) + abs(w[v0]) + size)


class _Clock:
    """Wall seconds per phase (``with clock("name"): ...``), accumulated."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def __call__(self, name):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


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
    _require_distributed(opt.client)
    return _DaskRunner(opt.client)


def _require_distributed(client):
    """``client`` must be usable: dask.distributed importable and a map/gather interface."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError("client= needs dask.distributed, which is not installed; install it with "
                          "`pip install 'dask[distributed]'` (or `pip install geomot[dask]`), or pass client=None"
                          ) from None
    if not (callable(getattr(client, "map", None)) and callable(getattr(client, "gather", None))):
        raise ValueError(f"client must be a dask.distributed.Client (with .map and .gather), got {type(client).__name__}")


# ----------------------------------------------------------------- the build
class _Build:
    """One tiled build: targets, weights, tiles, their reach and halos, their results."""

    def __init__(self, t, z, opt):
        n, k = t.shape
        self.opt = opt
        self.n, self.k = n, k
        # the targets are renumbered in tile order and, within a tile, along a Z-order curve
        # (``perm``): the kernels then read neighbouring targets from neighbouring memory
        # (measured: half the time of the ridge checks at 1e6); results are mapped back
        til = _kd_tiling(t, opt.tile_points)
        _z_order_tiles(t, til.perm, til.start)
        self.perm = til.perm
        self.tiling = til = til.in_tile_order()
        self.t = t = np.ascontiguousarray(t[self.perm])
        self.z = z = np.ascontiguousarray(z[self.perm])
        # w = |t|^2 - z minus its least-squares affine part (no lower facet changes): as flat
        # as possible, so that the lifted coordinate sqrt(w_max - w) of the band's k-d trees
        # stays small
        w = np.einsum("ij,ij->i", t, t) - z
        G = np.empty((k + 1, k + 1))
        G[:k, :k] = t.T @ t
        G[:k, k] = G[k, :k] = t.sum(axis=0)
        G[k, k] = n
        rhs = np.concatenate([t.T @ w, [w.sum()]])
        coef = np.linalg.solve(G, rhs)
        w -= t @ coef[:k] + coef[k]
        self.w = w
        self.wmax = float(w.max())
        self.scale = scale_of(t)
        sizes = np.diff(til.start)
        ext = np.maximum(til.phi - til.plo, 0.0)
        gext = np.ptp(t, axis=0)
        gspacing = float(np.prod(np.maximum(gext, 1e-300)) / n) ** (1.0 / k)
        vol = np.prod(ext, axis=1)
        spacing = np.where(vol > 0, (vol / np.maximum(sizes, 1)) ** (1.0 / k), gspacing)
        spacing = np.maximum(spacing, 1e-3 * gspacing)
        # the anchor: power vertices lie within about half the local gradient of w from the
        # Voronoi vertices; far from their simplices (transport weights), centroids own them
        if opt.anchor == "auto":
            offset = 0.5 * np.linalg.norm(_tile_gradients(t, w, til.start), axis=1)
            self.by_centroid = bool(np.mean(offset > 0.25 * spacing) > 0.01)
        else:
            self.by_centroid = opt.anchor == "centroid"
        self.anchor = "centroid" if self.by_centroid else "power vertex"
        reach = REACH_SPACINGS[self.anchor][2 if k == 2 else 3] if opt.reach is None else opt.reach
        # the reach decides ownership, so it never changes; the halo starts just beyond it
        self.reach = reach * spacing
        self.margin = 1.05 * self.reach
        self.results = [None] * til.count
        self.band = None
        self._trees = {}
        self._u = None
        self.rebuilt = 0
        self.hulled = 0

    # -- tiles
    def prepare(self, i):
        """The job of tile ``i``."""
        return self.job(self.spec(i))

    def spec(self, i):
        """The targets of tile ``i``: own first, then every other target in its grown box."""
        til = self.tiling
        m = self.margin[i]
        elo, ehi = til.lo[i] - m, til.hi[i] + m
        near = np.flatnonzero(np.all(til.plo <= ehi, axis=1) & np.all(til.phi >= elo, axis=1))
        near = near[near != i]
        own = til.own(i)
        halo = _gather_box(self.t, til.start, near, elo, ehi)
        return i, np.concatenate([own, halo]).astype(np.int64), own.size

    def job(self, spec):
        i, idx, n_own = spec
        til = self.tiling
        if i < 0:  # the band (-1) or a repair (-2 - j): all solid simplices, selected by the caller
            lo, hi, reach = np.full(self.k, -np.inf), np.full(self.k, np.inf), np.inf
        else:
            lo, hi, reach = til.lo[i], til.hi[i], float(self.reach[i])
        return _TileJob(i, idx, n_own, np.ascontiguousarray(self.t[idx]), np.ascontiguousarray(self.z[idx]),
                        np.ascontiguousarray(self.w[idx]), lo, hi, reach, self.by_centroid)

    def power_vertices(self, simp):
        """(s, k): the power vertices of the simplices minus their first vertex (zeros when
        they are flat, or when the anchor is the centroid, which does not need them)."""
        x = np.zeros((simp.shape[0], self.k))
        if not self.by_centroid:
            _power_vertices(self.t, self.w, simp, x)
        return x

    # -- the band
    def band_simplices(self, res, exhaustive):
        """The band's simplices beyond the reach of the tile of their anchor with no target
        inside their orthosphere (``exhaustive``: searched in every tile it can reach;
        else in the tiles of its vertices and power vertex, which hold the targets that
        reject the band hull's simplices across the inside of the band: the verification
        catches any other)."""
        simp, x = res.simp, res.x
        if simp.shape[0] == 0:
            return simp
        anchor, spread = _anchors(self.t, simp, x, self.by_centroid)
        home = self.tiling.locate(anchor)
        far = spread > self.reach[home]
        simp, x, home = simp[far], x[far], home[far]
        c = self.t[simp[:, 0]] + x
        return simp[self.empty_orthospheres(simp, x, c, home, exhaustive)]

    @property
    def u(self):
        """(n,): the lifting coordinate :math:`\\sqrt{w_{\\max} - w_j}` (computed once)."""
        if self._u is None:
            self._u = np.sqrt(np.maximum(self.wmax - self.w, 0.0))
            til = self.tiling
            self._umin = np.array([float(self._u[til.own(j)].min()) for j in range(til.count)])
        return self._u

    def tree(self, j):
        """k-d tree of the lifted own targets ``(t, sqrt(w_max - w))`` of tile ``j``."""
        tr = self._trees.get(j)
        if tr is None:
            own = self.tiling.own(j)
            tr = (cKDTree(np.column_stack([self.t[own], self.u[own]])), own)
            self._trees[j] = tr
        return tr

    def empty_orthospheres(self, simp, x, c, home, exhaustive=True):
        """(e,) bool: no target has a power excess below the tie tolerance's negative over the
        orthosphere of each simplex.  In the lifted coordinates the power at ``c`` is
        :math:`|(t_j, u_j) - (c, 0)|^2 - w_{\\max}`: the nearest lifted targets of every tile
        that the orthosphere can reach are the ones to test (first the tiles of the vertices
        and of the power vertex, which reject most)."""
        e = simp.shape[0]
        k = self.k
        ok = np.ones(e, dtype=bool)
        if e == 0:
            return ok
        g0 = simp[:, 0]
        rho2 = np.einsum("ij,ij->i", x, x) + (self.wmax - self.w[g0])
        r2 = rho2 * (1.0 + 1e-7) + (1e-9 * self.scale) ** 2
        til = self.tiling
        first = np.column_stack([til.owner[simp], home])

        def test(rows, j):
            tree, own = self.tree(j)
            kk = min(k + 2, own.size)
            _, nn = tree.query(np.column_stack([c[rows], np.zeros(rows.size)]), k=kk)
            nn = own[np.asarray(nn).reshape(rows.size, kk)]
            for col in range(kk):
                q = nn[:, col]
                ex, tq = _excess_rows(self.t, self.w, g0[rows], q, x[rows])
                vert = np.any(simp[rows] == q[:, None], axis=1)
                ok[rows[(ex < -tq) & ~vert]] = False

        for j in np.unique(first):
            rows = np.flatnonzero(np.any(first == j, axis=1) & ok)
            if rows.size:
                test(rows, j)
        if not exhaustive:
            return ok
        self.u  # (sets the tiles' smallest lifting coordinates)
        for j in range(til.count):
            live = np.flatnonzero(ok)
            if live.size == 0:
                break
            gap = np.maximum(np.maximum(til.plo[j] - c[live], c[live] - til.phi[j]), 0.0)
            reach = np.einsum("bk,bk->b", gap, gap) + self._umin[j] ** 2 <= r2[live]
            rows = live[reach & ~np.any(first[live] == j, axis=1)]
            if rows.size:
                test(rows, j)
        return ok


class _Repairs:
    """Repair boxes: axis-aligned, disjoint, each with a halo.  A simplex whose anchor lies in a
    repair box is owned by the box's hull (not by its k-d tile), which sees every target within
    the box's halo: verification failures (a tile that missed a target just beyond its halo)
    are repaired by one small hull instead of rebuilding tiles.  A box hit again merges with
    the new one and doubles its halo."""

    def __init__(self, build):
        self.build = build
        self.lo = np.zeros((0, build.k))
        self.hi = np.zeros((0, build.k))
        self.margin = np.zeros(0)
        self.simplices = []
        self._stale = []

    def add(self, lo, hi):
        """Boxes around the boxes ``lo, hi (m, k)`` (of failed simplices or targets), grown by
        the reach of their tiles, with a halo of three reaches."""
        b = self.build
        r = b.reach[b.tiling.locate(0.5 * (lo + hi))]
        for blo, bhi, rr in zip(lo - r[:, None], hi + r[:, None], r):
            blo, bhi, m = blo.copy(), bhi.copy(), 3.0 * rr
            while True:
                hit = np.flatnonzero(np.all((self.lo <= bhi) & (self.hi >= blo), axis=1))
                if hit.size == 0:
                    break
                blo = np.minimum(blo, self.lo[hit].min(axis=0))
                bhi = np.maximum(bhi, self.hi[hit].max(axis=0))
                # a box of an earlier round hit again: its halo was too small
                again = np.array([not self._stale[j] for j in hit])
                m = max(m, float(self.margin[hit].max()), 2.0 * float(self.margin[hit][again].max(initial=0.0)))
                keep = np.ones(self.lo.shape[0], dtype=bool)
                keep[hit] = False
                self.lo, self.hi, self.margin = self.lo[keep], self.hi[keep], self.margin[keep]
                self.simplices = [s for s, kk in zip(self.simplices, keep) if kk]
                self._stale = [s for s, kk in zip(self._stale, keep) if kk]
            self.lo = np.vstack([self.lo, blo])
            self.hi = np.vstack([self.hi, bhi])
            self.margin = np.append(self.margin, m)
            self.simplices.append(None)
            self._stale.append(True)

    def run(self, runner):
        """Hull the new boxes; None, or why not."""
        todo = [j for j, st in enumerate(self._stale) if st]
        if not todo:
            return None
        b = self.build
        til = b.tiling
        jobs = []
        for j in todo:
            elo, ehi = self.lo[j] - self.margin[j], self.hi[j] + self.margin[j]
            near = np.flatnonzero(np.all(til.plo <= ehi, axis=1) & np.all(til.phi >= elo, axis=1))
            idx = _gather_box(b.t, til.start, near, elo, ehi)
            if idx.size > max(b.n // 2, 20 * b.opt.tile_points):  # (as costly as one global hull)
                return f"repairs need {idx.size} targets in one hull"
            if idx.size <= b.k + 1:  # (an empty box: nothing to own)
                self.simplices[j] = np.zeros((0, b.k + 1), dtype=np.int64)
                self._stale[j] = False
                continue
            jobs.append((-2 - j, idx, 0))
        todo = [j for j in todo if self._stale[j]]
        b.rebuilt += len(jobs)
        for j, res in zip(todo, runner.run(jobs, b.job)):
            if res.error is not None:
                return f"qhull failed on a repair: {res.error}"
            b.hulled += res.points
            simp = res.simp
            anchor, spread = _anchors(b.t, simp, res.x, b.by_centroid)
            mine = np.all((self.lo[j] <= anchor) & (anchor < self.hi[j]), axis=1)
            mine &= spread <= b.reach[til.locate(anchor)]
            self.simplices[j] = simp[mine]
            self._stale[j] = False
        return None

    def targets(self):
        """The targets of the hulls not yet built (each box with its halo)."""
        b = self.build
        til = b.tiling
        out = [np.zeros(0, dtype=np.int64)]
        for j, st in enumerate(self._stale):
            if st:
                elo, ehi = self.lo[j] - self.margin[j], self.hi[j] + self.margin[j]
                near = np.flatnonzero(np.all(til.plo <= ehi, axis=1) & np.all(til.phi >= elo, axis=1))
                out.append(_gather_box(b.t, til.start, near, elo, ehi))
        return np.unique(np.concatenate(out))

    def without(self, i, simp):
        """The simplices ``simp`` of tile ``i`` whose anchor is in no repair box."""
        til = self.build.tiling
        if self.lo.shape[0] == 0 or simp.shape[0] == 0:
            return simp
        near = np.flatnonzero(np.all((self.lo <= til.hi[i]) & (self.hi >= til.lo[i]), axis=1))
        if near.size == 0:
            return simp
        b = self.build
        anchor = _anchors(b.t, simp, b.power_vertices(simp), b.by_centroid)[0]
        inside = np.zeros(simp.shape[0], dtype=bool)
        for j in near:
            inside |= np.all((self.lo[j] <= anchor) & (anchor < self.hi[j]), axis=1)
        return simp[~inside]


def _excess_rows(t, w, v0, q, x):
    """:func:`_excess` for arrays of simplices (first vertices ``v0``, power vertices
    ``t[v0] + x``) and targets ``q``."""
    f = t[q] - t[v0]
    ff = np.einsum("ij,ij->i", f, f)
    xx = np.einsum("ij,ij->i", x, x)
    ex = ff - 2.0 * np.einsum("ij,ij->i", f, x) - (w[q] - w[v0])
    size = ff + 2.0 * np.sqrt(ff * xx)
    return ex, tol.tie * size + 16.0 * _EPS * (np.abs(w[q]) + np.abs(w[v0]) + size)


def tiled_lower_hull(t, z, options=None):
    """The lower simplices of the lifted points ``(t_i, z_i)`` from one qhull call per tile.

    Parameters
    ----------
    t : (n, k) ndarray of float64
        Targets in their affine frame (full rank, ``k`` = 2 or 3).
    z : (n,) ndarray of float64
        Lifted heights (as :func:`geomot.lifting._lower_hull` takes them).
    options : TileOptions, optional

    Returns
    -------
    simp : (s, k+1) int64 ndarray or None
        The solid lower simplices (None: the caller must build one global hull; the report's
        ``fallback`` says why).
    top : (b, k+1) int64 ndarray or None
        The boundary ridges of conv(t), each with the index ``n`` appended (as the top facets of
        :func:`geomot.lifting._lower_hull`: their targets have unbounded cells).
    report : TileReport

    Notes
    -----
    The simplices are verified to triangulate conv(t), locally regular, with every other
    target above their lifted surface (module notes): for targets in general position they
    are the lower facets of the global hull (as sets); with ties, a regular triangulation
    with the same power diagram.

    Example
    -------
    >>> import numpy as np
    >>> from geomot._tiles import TileOptions, tiled_lower_hull
    >>> from geomot.lifting import _lower_hull
    >>> t = np.random.default_rng(0).random((2000, 2)) - 0.5
    >>> z = (t**2).sum(axis=1)                                     # Delaunay
    >>> simp, top, rep = tiled_lower_hull(t, z, TileOptions(tile_points=300, min_points=0))
    >>> ref, _ = _lower_hull(t, z)
    >>> rows = lambda s: {tuple(r) for r in np.sort(s, axis=1)}
    >>> rep.tiles, rep.fallback, rows(simp) == rows(ref)
    (7, None, True)
    """
    t0 = time.perf_counter()
    n, k = t.shape
    opt = (TileOptions() if options is None else options).resolve(k)
    if k not in (2, 3):
        return None, None, TileReport(0, 0, 0, 0, 0, 0, f"affine dimension {k} (tiles need 2 or 3)")
    clock = _Clock()
    with clock("setup"):
        build = _Build(np.ascontiguousarray(t, dtype=np.float64), np.ascontiguousarray(z, dtype=np.float64), opt)
    til = build.tiling
    T = til.count
    band_pts = np.zeros(0, dtype=np.int64)
    band_simp = np.zeros((0, k + 1), dtype=np.int64)
    failures = []

    def report(rounds, fallback=None):
        rep = TileReport(T, rounds, build.rebuilt, build.hulled, int(band_pts.size), int(band_simp.shape[0]),
                         fallback, time.perf_counter() - t0, tuple(clock.seconds.items()),
                         getattr(build, "anchor", None), tuple(failures))
        if fallback is not None:
            log.info("tiled hull of %d targets falls back to one global hull: %s", n, fallback)
        return rep

    if T < 2:
        return None, None, report(0, "a single tile")
    runner = _runner(opt)
    with clock("tiles"):
        kept = [None] * T  # the simplices each tile keeps
        for res in runner.run(np.arange(T), build.prepare):
            if res.error is not None:
                return None, None, report(1, f"qhull failed on tile {res.tile}: {res.error}")
            kept[res.tile] = res.simp
            build.results[res.tile] = replace(res, simp=None)
            build.hulled += res.points
    band_pts = np.unique(np.concatenate([r.band for r in build.results]))
    hull_pts = np.unique(np.concatenate([r.hull_pts for r in build.results]))
    repairs = _Repairs(build)
    redo_band = False  # the band has new targets
    exhaustive = False  # certify the band's simplices in every tile they reach (after a failure)
    for rnd in range(1, opt.max_rounds + 1):
        with clock("band"):
            if rnd == 1 or redo_band:
                band_simp = np.zeros((0, k + 1), dtype=np.int64)
                if band_pts.size > k + 1:
                    res = _run_tile(build.job((-1, band_pts, 0)))
                    if res.error is not None:
                        return None, None, report(rnd, f"qhull failed on the band: {res.error}")
                    build.hulled += res.points
                    band_simp = build.band_simplices(res, exhaustive)
        with clock("repair"):
            err = repairs.run(runner)
            if err is not None:
                return None, None, report(rnd, err)
        with clock("verify"):
            parts = [repairs.without(i, kept[i]) for i in range(T)] + repairs.simplices + [band_simp]
            sizes = np.array([p.shape[0] for p in parts])
            offsets = np.concatenate([[0], np.cumsum(sizes)])
            simp = np.concatenate(parts)
            del parts
            # where the walks to the targets that are no vertex start: a simplex of their tile
            starts = np.where(sizes[:T] > 0, offsets[:T], 0)
            verdict = _verify(build, simp, hull_pts, starts)
        if verdict.ok:
            del kept
            perm = build.perm
            top = np.column_stack([perm[verdict.boundary], np.full(verdict.boundary.shape[0], n, dtype=np.int64)])
            simp = perm[simp]
            return simp, top, report(rnd)
        failures.append(verdict.reason)
        if sum(r.flat for r in build.results) and verdict.reason:
            # flat lower facets: qhull split non-simplicial facets of degenerate input, which
            # larger halos do not change
            return None, None, report(rnd, f"{verdict.reason}; the input is degenerate (flat simplices)")
        if verdict.bad_rows is None or rnd == opt.max_rounds:
            return None, None, report(rnd, verdict.reason + (f" after {rnd} rounds" if rnd > 1 else ""))
        # repair boxes around the failures (the simplices there and the targets that should be
        # visible); the band is certified exhaustively when its simplices failed
        bad = simp[verdict.bad_rows]
        lo, hi = build.t[bad].min(axis=1), build.t[bad].max(axis=1)
        if verdict.bad_points is not None:
            lo = np.vstack([lo, build.t[verdict.bad_points]])
            hi = np.vstack([hi, build.t[verdict.bad_points]])
        repairs.add(lo, hi)
        # the targets of the new repair hulls join the band: a simplex there beyond the reach
        # (which no repair keeps) may have been hidden by the simplices that failed
        band_pts = np.union1d(band_pts, repairs.targets())
        redo_band = True
        exhaustive = bool(np.any(verdict.bad_rows >= offsets[-2]))
    return None, None, report(opt.max_rounds, "unreachable")  # pragma: no cover


# ----------------------------------------------------------------- verification
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
    ptr, lst = _incidence(simp, n)
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
def _incidence(simp, n):
    """CSR of the simplices of each vertex (simplex ids as int32: fewer than 2**31 for any
    triangulation that fits in memory)."""
    S, k1 = simp.shape
    ptr = np.zeros(n + 1, dtype=np.int64)
    for s in range(S):
        for p in range(k1):
            ptr[simp[s, p] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    lst = np.empty(S * k1, dtype=np.int32)
    for s in range(S):
        for p in range(k1):
            v = simp[s, p]
            lst[fill[v]] = s
            fill[v] += 1
    return ptr, lst


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
