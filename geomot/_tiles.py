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
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree

from ._tile_geometry import _anchors, _excess_rows, _power_vertices
from ._tile_hull import _runner, _run_tile, _TileJob
from ._tile_split import _gather_box, _kd_tiling, _tile_gradients, _z_order_tiles
from ._tile_verify import _verify
from ._tol import scale_of

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
