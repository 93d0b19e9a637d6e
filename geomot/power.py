"""Exact power (Laguerre) diagrams restricted to a domain.

The cells of the semi-discrete transport problem,

.. math:: W_i(h) = \\{x \\in \\Omega : \\langle x, y_i\\rangle + h_i \\ge
          \\langle x, y_j\\rangle + h_j \\ \\forall j\\},

form the power diagram of the targets with weights :math:`w_i = |y_i|^2 + 2 h_i`.  Its
combinatorics come from ONE convex hull: the regular triangulation is the lower hull of the
lifted points :math:`(y_i, -2 h_i) \\in \\mathbb{R}^{d+1}` (:mod:`geomot.lifting`, which owns
the affine frame, the hull, the triangulation and its adjacency, and the 2D edge flips).
Points that are not vertices of the lower hull are *hidden* (empty cells).  Each cell is then
the intersection of the half-spaces of its triangulation neighbours with each convex piece of
the domain, clipped and integrated exactly by the numba kernels of :mod:`geomot._clip`; the
interior cells that lie inside one box piece are the convex hulls of their power vertices, and
are integrated from the triangulation's power centres without clipping (:mod:`geomot._dual`).

Degenerate input is normal input: targets in a lower-dimensional affine subspace (collinear
in 2D, coplanar in 3D) are triangulated in that subspace (cells are then cylinders over a
lower-dimensional diagram, which is exact); flat lifted configurations and non-simplicial
lower facets (grids, cocircular points) are handled by :mod:`geomot.lifting`, and the
zero-length facets the latter create are dropped from :attr:`PowerDiagram.pairs`.

Everything is computed in the problem's frame (:mod:`geomot.frame`): targets
:math:`y' = (y - b)/t`, source :math:`x' = (x - a)/s`, weights
:math:`\\varphi' = h' + |y'|^2/2`, all O(1) wherever the problem lies and whatever its size;
the diagram reports world units (volumes :math:`\\times s^d`, centroids, cells and facets moved
back, the Hessian :math:`\\partial m/\\partial h`).  A diagram built from a solve
(:attr:`geomot.OTResult.diagram`) is built from the solver's own frame weights, so it is the
diagram the solver measured, not one rebuilt from the rounded world ``h``.

References
----------
F. Aurenhammer, *Power diagrams: properties, algorithms and applications*, SIAM J. Comput.
16 (1987).  B. Lévy, *A numerical algorithm for L2 semi-discrete optimal transport in 3D*,
ESAIM M2AN 49 (2015).
"""

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sps
from numba import njit

from . import _clip, _dual
from ._tol import scale_of, tol
from ._validate import as_points, as_vector, check_distinct, readonly
from .domain import Domain
from .frame import Frame, FramedDomain
# the triangulation lives in geomot.lifting; these names stay importable from here
from .lifting import (FLIP_NOT_APPLICABLE, RegularTriangulation, _flipped_triangulation,  # noqa: F401
                      _regular_triangulation, regular_triangulation)

__all__ = ["power_diagram", "PowerDiagram", "FacetGeometry", "regular_triangulation"]


# ----------------------------------------------------------------- Hessian kernel
@njit(cache=True)
def _laplacian_csr(pairs, weights, y, n):
    """CSR of the weighted graph Laplacian: -w_k / |y_i - y_j| off the diagonal, rows summing to 0.

    ``pairs`` is sorted lexicographically with i < j.  Every row is written in column order:
    its lower entries (pairs (j, i), increasing j), its diagonal, then its upper entries.
    """
    m = pairs.shape[0]
    w = np.empty(m)
    diag = np.zeros(n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        i = pairs[k, 0]
        j = pairs[k, 1]
        d = 0.0
        for c in range(y.shape[1]):
            d += (y[i, c] - y[j, c]) ** 2
        w[k] = weights[k] / np.sqrt(d)
        diag[i] += w[k]
        diag[j] += w[k]
        indptr[i + 1] += 1
        indptr[j + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i] + 1
    indices = np.empty(indptr[n], dtype=np.int64)
    data = np.empty(indptr[n])
    fill = indptr[:-1].copy()
    for k in range(m):  # lower entries, in increasing column per row
        j = pairs[k, 1]
        indices[fill[j]] = pairs[k, 0]
        data[fill[j]] = -w[k]
        fill[j] += 1
    for i in range(n):
        indices[fill[i]] = i
        data[fill[i]] = diag[i]
        fill[i] += 1
    for k in range(m):  # upper entries
        i = pairs[k, 0]
        indices[fill[i]] = pairs[k, 1]
        data[fill[i]] = -w[k]
        fill[i] += 1
    return indptr, indices, data


# ----------------------------------------------------------------- result objects
def _clipped_polygon(ring, merge):
    """A valid shapely polygon from the vertex ring of a clipped cell piece.

    Half-spaces that cross at (or within rounding of) a corner of the piece leave vertices a
    few ulps apart, and with them zero-length edges and rounding-level spikes that make the
    ring self-intersect: vertices closer than ``merge`` to the previous kept one are merged, and
    what is still invalid is repaired by ``buffer(0)`` (which removes the zero-area spikes).
    """
    import shapely

    keep = [0]
    for k in range(1, len(ring)):
        if np.max(np.abs(ring[k] - ring[keep[-1]])) > merge:
            keep.append(k)
    while len(keep) > 1 and np.max(np.abs(ring[keep[-1]] - ring[keep[0]])) <= merge:
        keep.pop()
    if len(keep) < 3:
        return shapely.Polygon()
    poly = shapely.Polygon(ring[keep])
    return poly if poly.is_valid else poly.buffer(0)


@dataclass(frozen=True)
class FacetGeometry:
    """Geometry of the facets shared by adjacent cells, clipped to the domain.

    ``pair_index (s,)`` index into :attr:`PowerDiagram.pairs` of each facet piece;
    ``indptr (s+1,)`` and ``points (P, d)``: the vertices of piece k are
    ``points[indptr[k]:indptr[k+1]]`` (a segment in 2D, a convex polygon in 3D).
    A facet cut by a hole of the domain has several pieces.

    Example
    -------
    >>> import numpy as np, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> y = np.array([[0.25, 0.5], [0.75, 0.5]])
    >>> f = geomot.power_diagram(y, -0.5 * (y**2).sum(axis=1), dom).facets()
    >>> f.pair_index.tolist(), np.sort(f.segments[0][:, 1]).tolist()   # the segment x = 1/2
    ([0], [0.0, 1.0])
    """

    pair_index: np.ndarray
    indptr: np.ndarray
    points: np.ndarray

    @cached_property
    def segments(self):
        """(s, 2, 2) array: the facet pieces of a 2D diagram as segments."""
        if self.points.shape[1] != 2:
            raise ValueError("segments are defined for 2D diagrams; use polygons in 3D")
        return readonly(self.points.reshape(-1, 2, 2))

    @property
    def polygons(self):
        """List of (p, d) arrays, one per facet piece."""
        return [self.points[self.indptr[k]:self.indptr[k + 1]] for k in range(len(self.pair_index))]


@dataclass(frozen=True, eq=False)
class PowerDiagram:
    """The power diagram of targets ``y`` with dual weights ``h``, restricted to ``domain``.

    Attributes
    ----------
    y : (n, d) ndarray
    h : (n,) ndarray
    domain : Domain
    volumes : (n,) ndarray
        Lebesgue measure of each cell inside the domain (0 for empty cells); sums to
        ``domain.volume``.
    masses : (n,) ndarray
        Source probability of each cell, :math:`\\mu(W_i) = \\int_{W_i} \\rho / \\int_\\Omega \\rho`.
    triangulation : geomot.lifting.RegularTriangulation
        The regular triangulation of the targets (all potential neighbours, hidden targets,
        lower simplices, affine frame of the frame targets).  ``BrenierPotential(y, h,
        triangulation=...)`` reuses it instead of building a second hull.
    frame : geomot.frame.Frame
        The frame the diagram was computed in (property); volumes, centroids, cells, facets
        and the Hessian are reported in world units.

    Example
    -------
    >>> import numpy as np, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> y = np.array([[0.25, 0.5], [0.75, 0.5], [0.5, 0.9]])
    >>> pd = geomot.power_diagram(y, -0.5 * (y**2).sum(axis=1), dom)
    >>> bool(np.isclose(pd.volumes.sum(), 1.0)), pd.pairs.tolist()
    (True, [[0, 1], [0, 2], [1, 2]])
    >>> H = pd.hessian()
    >>> bool(np.allclose(H.sum(axis=1), 0.0))          # rows of the Jacobian sum to zero
    True
    """

    domain: Domain
    volumes: np.ndarray
    masses: np.ndarray
    triangulation: RegularTriangulation
    _moments: np.ndarray = field(repr=False)
    _slot_measure: np.ndarray = field(repr=False)
    _slot_mass: np.ndarray = field(repr=False)
    _cand_ptr: np.ndarray = field(repr=False)
    _cand_piece: np.ndarray = field(repr=False)
    _eps: float = field(repr=False)
    _clo: np.ndarray = field(repr=False)
    _chi: np.ndarray = field(repr=False)
    #: the frame weights the kernels used, :math:`\varphi' = h' + |y'|^2/2` (centred)
    _wphi: np.ndarray = field(repr=False, default=None)
    #: the domain in the frame of the diagram (pieces, bounds, total mass in frame units)
    _space: FramedDomain = field(repr=False, default=None)
    #: the targets in the frame, :math:`y' = (y - b) / t`
    _yf: np.ndarray = field(repr=False, default=None)
    #: the frame weights as given (before centring): what a result stores to rebuild this diagram
    _weights: np.ndarray = field(repr=False, default=None)
    #: the world targets and (centred) heights when the builder has them; else computed from
    #: the frame ones on first use (the Newton solver's trial diagrams never need them)
    _y: np.ndarray = field(repr=False, default=None)
    _h: np.ndarray = field(repr=False, default=None)
    #: (n,) bool: the cells integrated from the triangulation's power centres (:mod:`geomot._dual`)
    #: instead of clipped
    _fast: np.ndarray = field(repr=False, default=None)

    @cached_property
    def y(self):
        """(n, d): the targets (world units, read-only)."""
        return readonly(self.frame.from_targets(self._yf) if self._y is None else self._y)

    @cached_property
    def h(self):
        """(n,): the heights (world units, centred, read-only)."""
        if self._h is not None:
            return readonly(self._h)
        h = self.frame.heights_from_frame(self._yf, self._wphi - _half_squares(self._yf))
        return readonly(h - h.mean() if h.size else h)

    @property
    def dim(self):
        return self._yf.shape[1]

    @property
    def n(self):
        return self._yf.shape[0]

    @property
    def frame(self):
        """The :class:`~geomot.frame.Frame` the diagram was computed in."""
        return self._space.frame

    def __repr__(self):
        return (f"PowerDiagram(n={self.n}, dim={self.dim}, domain={self.domain.kind}, "
                f"empty={int(self.empty.sum())}, hidden={int(self.hidden.sum())}, "
                f"volume={self.volumes.sum():.6g})")

    @property
    def hidden(self):
        """(n,) bool: targets that are not on the lower hull of the lifted points."""
        return self.triangulation.hidden

    @cached_property
    def empty(self):
        """(n,) bool: cells of zero source mass inside the domain."""
        return readonly(~(self.masses > 0))

    @cached_property
    def _frame_centroids(self):
        """(n, d): the centroids in frame coordinates (NaN rows for empty cells)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mass_abs = self.masses * self._space.total_mass
            c = self._moments / mass_abs[:, None]
        c[self.empty] = np.nan
        return readonly(c)

    @cached_property
    def centroids(self):
        """(n, d): μ-barycentre of each cell (NaN rows for empty cells)."""
        return readonly(self.frame.from_source(self._frame_centroids))

    @cached_property
    def _pair_slots(self):
        tri = self.triangulation
        rows = np.repeat(np.arange(self.n), np.diff(tri.indptr))
        cols = tri.indices
        keep = rows < cols
        slots = np.flatnonzero(keep)
        meas = self._slot_measure[slots]
        # a facet of positive measure: longer than the facet tolerance of the domain's size
        scale = scale_of(self._space.bounds)
        thresh = tol.facet * scale ** (self.dim - 1)
        good = meas > thresh
        return slots[good], rows[slots[good]], cols[slots[good]]

    @cached_property
    def pairs(self):
        """(m, 2) int64, i < j: adjacent cells sharing a facet of positive measure in the domain."""
        _, r, c = self._pair_slots
        return readonly(np.column_stack([r, c]).astype(np.int64))

    @cached_property
    def facet_measures(self):
        """(m,): length (2D) or area (3D) of the facet of each pair inside the domain."""
        return readonly(self._slot_measure[self._pair_slots[0]] * self.frame.source_scale ** (self.dim - 1))

    @cached_property
    def _frame_facet_masses(self):
        return self._slot_mass[self._pair_slots[0]] / self._space.total_mass

    @cached_property
    def facet_masses(self):
        """(m,): :math:`\\int_{W_i \\cap W_j} \\rho\\, d\\sigma` divided by the total source mass."""
        return readonly(self._frame_facet_masses / self.frame.source_scale)

    def hessian(self):
        """Jacobian of the masses with respect to h, as a ``scipy.sparse.csr_matrix`` (n, n).

        .. math::
            \\frac{\\partial \\mu(W_i)}{\\partial h_j} = -\\frac{\\int_{W_i\\cap W_j} \\rho\\, d\\sigma}
            {|y_i - y_j|} \\ (i \\ne j), \\qquad
            \\frac{\\partial \\mu(W_i)}{\\partial h_i} = -\\sum_{j\\ne i}
            \\frac{\\partial \\mu(W_i)}{\\partial h_j}.

        Symmetric, off-diagonal entries <= 0, rows summing to 0 (a weighted graph Laplacian).
        Returns a fresh matrix at each call.  Computed in the frame (:math:`\\partial m /
        \\partial h'`, what the Newton solver uses) and divided by :math:`s t`.
        """
        H = self._frame_hessian()
        H.data /= self.frame.scale
        return H

    def _frame_hessian(self):
        """:math:`\\partial m / \\partial h'` in the frame (a fresh CSR matrix)."""
        p = self.pairs
        n = self.n
        if p.shape[0] == 0:
            return sps.csr_matrix((n, n))
        indptr, indices, data = _laplacian_csr(p, self._frame_facet_masses, self._yf, n)
        return sps.csr_matrix((data, indices, indptr), shape=(n, n))

    # -------------------------------------------------------------- geometry
    def _cell_geometry(self, cells):
        """The kernels' clipped geometry of ``cells``, in frame coordinates."""
        cells = np.asarray(cells, dtype=np.int64)
        pc = self._space.pieces
        tri = self.triangulation
        if self.dim == 2:
            return _clip.cell_polygons_2d(self._yf, self._wphi, tri.indptr, tri.indices, cells,
                                          self._cand_ptr, self._cand_piece, pc.normals,
                                          pc.offsets, pc.indptr, pc.lo, pc.hi, self._eps,
                                          self._clo, self._chi)
        return _clip.cell_polytopes_3d(self._yf, self._wphi, tri.indptr, tri.indices, cells,
                                       self._cand_ptr, self._cand_piece, pc.normals, pc.offsets,
                                       pc.indptr, pc.lo, pc.hi, self._eps, self._clo, self._chi)

    def _world_mesh(self, mesh):
        """A trimesh in frame coordinates moved to world coordinates (in place)."""
        f = self.frame
        if not f.is_identity:
            m = np.eye(4)
            m[:3, :3] *= f.source_scale
            m[:3, 3] = f.source_center
            mesh.apply_transform(m)
        return mesh

    def cell(self, i):
        """Geometry of cell ``i`` inside the domain.

        2D: a shapely geometry (Polygon, MultiPolygon, or an empty Polygon).
        3D: a ``trimesh.Trimesh`` (convex for convex domains; for a mesh domain, the exact
        intersection of the convex cell with the mesh).
        """
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise ValueError(f"i must be an integer cell index, got {i!r}")
        if not 0 <= i < self.n:
            raise ValueError(f"i must be in [0, {self.n}), got {i}")
        if self.dim == 2:
            import shapely

            owner, piece, ptr, pts, _ = self._cell_geometry([i])
            sign = self.domain.pieces.sign
            merge = tol.facet * scale_of(self._space.bounds)
            polys = [_clipped_polygon(pts[ptr[k]:ptr[k + 1]], merge) for k in range(len(owner))
                     if sign[piece[k]] > 0]
            polys = [q for q in polys if not q.is_empty]
            if not polys:
                return shapely.Polygon()
            if len(polys) == 1:
                cell = polys[0]
            else:
                try:
                    merged = shapely.union_all(polys)  # (in the frame: O(1) coordinates)
                except shapely.errors.GEOSException:
                    # pieces that meet along edges off by rounding (their half-spaces moved to
                    # the frame): snap-rounded union on a grid far below the clipping tolerance
                    merged = shapely.union_all(polys, grid_size=tol.facet * scale_of(self._space.bounds))
                cell = merged.buffer(0) if not merged.is_valid else merged
            f = self.frame
            return cell if f.is_identity else shapely.transform(cell, f.from_source)
        import trimesh

        if not self.domain.pieces_disjoint:
            # the signed cone decomposition is not a partition: intersect the convex cell
            # (clipped to the bounding box) with the solid itself, in the frame
            box = FramedDomain.of(Domain.box(*self.domain.bounds), self.frame)
            pd_box = _framed_diagram(box, self._yf, self._weights, self.triangulation, y=self.y, h=self.h)
            convex = pd_box._frame_cell_3d(i)
            if convex.is_empty or len(convex.faces) == 0:
                return trimesh.Trimesh()
            solid = self.domain.geometry
            if not self.frame.is_identity:
                solid.vertices = self.frame.to_source(solid.vertices)
            return self._world_mesh(trimesh.boolean.intersection([convex, solid], engine="manifold"))
        return self._world_mesh(self._frame_cell_3d(i))

    def _frame_cell_3d(self, i):
        """Cell ``i`` of a 3D diagram of disjoint pieces as a trimesh, in frame coordinates."""
        import trimesh

        owner, piece, fptr, flab, vptr, pts = self._cell_geometry([i])
        meshes = []
        for k in range(len(owner)):
            vs = pts[vptr[fptr[k]]:vptr[fptr[k + 1]]]
            if len(vs) >= 4:
                meshes.append(trimesh.convex.convex_hull(vs))
        if not meshes:
            return trimesh.Trimesh()
        if len(meshes) == 1:
            return meshes[0]
        return trimesh.util.concatenate(meshes)

    def facets(self, pair_index=None):
        """Geometry of the facets of :attr:`pairs` inside the domain (:class:`FacetGeometry`).

        Parameters
        ----------
        pair_index : (k,) array_like of int, optional
            Only these rows of :attr:`pairs` (default: all).  Only the cells ``i`` of the
            selected pairs are clipped again, so a small selection is cheap.

        Raises ``ValueError`` on a mesh domain: its signed cone decomposition is not a
        partition, so the pieces' facets overlap (the facet *measures* are exact there).
        """
        if not self.domain.pieces_disjoint:
            raise ValueError("facet geometry is not available on a mesh domain (its signed cone "
                             "decomposition is not a partition); facet_measures are exact")
        d = self.dim
        pairs = self.pairs
        m = len(pairs)
        if pair_index is None:
            sel = np.arange(m)
        else:
            sel = np.unique(np.asarray(pair_index, dtype=np.int64).ravel())
            if sel.size and (sel[0] < 0 or sel[-1] >= m):
                raise ValueError(f"pair_index must index the {m} pairs, got values outside [0, {m})")
        n = self.n
        keys = pairs[sel, 0] * n + pairs[sel, 1]  # sorted, since pairs are sorted
        empty = FacetGeometry(readonly(np.zeros(0, dtype=np.int64)),
                              readonly(np.zeros(1, dtype=np.int64)), readonly(np.zeros((0, d))))
        if sel.size == 0:
            return empty
        cells = np.unique(pairs[sel, 0])
        sign = self.domain.pieces.sign

        def lookup(i, j):
            key = i * n + j
            loc = np.minimum(np.searchsorted(keys, key), keys.size - 1)
            return (j > i) & (keys[loc] == key), sel[loc]

        if d == 2:
            owner, piece, ptr, pts, labels = self._cell_geometry(cells)
            counts = np.diff(ptr)
            poly = np.repeat(np.arange(counts.size), counts)
            v = np.arange(ptr[-1])
            nxt = v + 1
            wrap = nxt == ptr[poly + 1]
            nxt[wrap] = ptr[poly[wrap]]
            hit, where = lookup(owner[poly], labels)
            keep = hit & (sign[piece[poly]] > 0) & np.any(pts[nxt] != pts[v], axis=1)
            pts = self.frame.from_source(pts)
            segs = np.stack([pts[v[keep]], pts[nxt[keep]]], axis=1)
            return FacetGeometry(readonly(where[keep]),
                                 readonly(np.arange(0, 2 * len(segs) + 1, 2, dtype=np.int64)),
                                 readonly(segs.reshape(-1, 2)))
        owner, piece, fptr, flab, vptr, pts = self._cell_geometry(cells)
        counts = np.diff(fptr)
        face_poly = np.repeat(np.arange(counts.size), counts)
        hit, where = lookup(owner[face_poly], flab)
        keep = np.flatnonzero(hit & (sign[piece[face_poly]] > 0))
        nv = vptr[keep + 1] - vptr[keep]
        vidx = np.repeat(vptr[keep], nv) + (np.arange(nv.sum()) - np.repeat(np.cumsum(nv) - nv, nv))
        indptr = np.concatenate([[0], np.cumsum(nv)]).astype(np.int64)
        return FacetGeometry(readonly(where[keep]), readonly(indptr), readonly(self.frame.from_source(pts[vidx])))


# ----------------------------------------------------------------- construction
def power_diagram(y, h, domain):
    """Exact power diagram of the targets restricted to a domain.

    Parameters
    ----------
    y : (n, d) array_like of float
        Distinct targets (d = 2 or 3, the domain's dimension).
    h : (n,) array_like of float
        Dual weights (the Brenier potential is :math:`\\max_i \\langle x, y_i\\rangle + h_i`).
    domain : Domain
        The support of the source measure.

    Returns
    -------
    PowerDiagram

    Notes
    -----
    The cells are

    .. math:: W_i = \\{x \\in \\Omega: \\langle x, y_i\\rangle + h_i \\ge \\langle x, y_j\\rangle + h_j\\ \\forall j\\},

    a power diagram with weights :math:`w_i = |y_i|^2 + 2 h_i`.  Its combinatorics are the lower
    convex hull of :math:`(y_i, -2h_i)`, computed by one ``scipy.spatial.ConvexHull`` call
    (:func:`geomot.lifting.regular_triangulation`).

    Computed in the frame of the domain and the targets (:class:`geomot.frame.Frame`):
    ``h`` is converted once to the O(1) frame heights
    :math:`h' = (h + \\langle a, y - b\\rangle)/(s t)`, so the diagram is as precise as the given
    ``h`` allows wherever the problem lies; the results are in world units.

    Examples
    --------
    >>> import numpy as np, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> y = np.array([[0.25, 0.5], [0.75, 0.5]])
    >>> pd = geomot.power_diagram(y, -0.5 * (y**2).sum(axis=1), dom)   # Voronoi heights
    >>> np.allclose(pd.volumes, [0.5, 0.5])
    True
    """
    if not isinstance(domain, Domain):
        raise ValueError(f"domain must be a geomot.Domain, got {type(domain).__name__}")
    if domain.dim not in (2, 3):
        raise ValueError(f"exact power diagrams need a 2D or 3D domain, got dimension {domain.dim}")
    y = as_points(y, "y", dim=domain.dim)
    h = as_vector(h, "h", n=y.shape[0])
    frame = Frame.of(domain.bounds, y)
    yf = frame.to_targets(y)
    wf = frame.heights_to_frame(yf, h) + _half_squares(yf)
    tri = _triangulate(yf, wf)
    if tri.hidden.any():
        # two coinciding targets cannot both be vertices of the lifted hull: duplicates
        # always leave a hidden target, so the (costly) check is needed only then (relative to
        # the targets' extent, whatever their scale; the message names the user's rows)
        check_distinct(y)
    return _framed_diagram(FramedDomain.of(domain, frame), yf, wf, tri, y=y, h=h - h.mean())


def _voronoi_relative(y, h):
    """The weights :math:`\\varphi = h + |y|^2/2` (0 for the Voronoi diagram)."""
    return h + 0.5 * np.einsum("ij,ij->i", y, y)


def _half_squares(y):
    """:math:`|y_i|^2 / 2` (n,)."""
    return 0.5 * np.einsum("ij,ij->i", y, y)


def _triangulate(yf, wphi):
    """The regular triangulation (one lifted hull) of the frame targets at the weights ``wphi``."""
    h = wphi - _half_squares(yf)
    return _regular_triangulation(yf, h - h.mean())


def _power_diagram(y, h, domain, triangulation=None, wphi=None):
    """The diagram of ``power_diagram`` without validation, from world inputs.

    ``wphi`` (n,), optional: the world weights :math:`\\varphi = h + |y|^2/2` when the caller
    keeps them: ``h`` is then ignored.  Close targets' cells depend on differences
    :math:`h_i - h_j` that ``h`` (of size :math:`|y|^2`) only holds to :math:`\\epsilon |y|^2`;
    :math:`\\varphi` holds them to :math:`\\epsilon |\\varphi|`, and goes to the frame
    (:meth:`geomot.frame.Frame.weights_to_frame`) without forming :math:`|y|^2`.
    ``triangulation``: a regular triangulation of ``y`` at these weights (its combinatorics are
    those of the frame targets: a positive scaling and a translation change no lower hull).
    """
    frame = Frame.of(domain.bounds, y)
    yf = frame.to_targets(y)
    if wphi is None:
        wf = frame.heights_to_frame(yf, h) + _half_squares(yf)
        h = h - h.mean() if h.size else h
    else:
        wf = frame.weights_to_frame(yf, wphi)
        h = None
    return _framed_diagram(FramedDomain.of(domain, frame), yf, wf, triangulation, y=y, h=h)


def _framed_diagram(space, yf, wphi, triangulation=None, y=None, h=None):
    """The power diagram in the frame of ``space`` (a :class:`~geomot.frame.FramedDomain`).

    ``yf (n, d)`` frame targets, ``wphi (n,)`` frame weights :math:`\\varphi' = h' + |y'|^2/2`
    (any constant added: they are centred here for the kernels' rounding), ``triangulation``
    (built when None), ``y`` and ``h`` the world targets and (centred) heights when the
    caller has them (else they are computed from the frame ones).
    """
    n, d = yf.shape
    frame = space.frame
    given = wphi
    # adding a constant to the weights changes nothing: centre them for the kernels' rounding
    wphi = wphi - wphi.mean() if n else wphi
    tri = _triangulate(yf, given) if triangulation is None else triangulation
    pc = space.pieces
    scale = scale_of(space.bounds)
    eps = tol.clip * scale
    active = ~tri.hidden
    P = pc.lo.shape[0]
    if P == 1:
        # one convex piece: every cell is clipped from the piece's box (boxes around the cells
        # were measured not to speed the clipping up)
        clo, chi = _unbounded_boxes(n, d)
        cand_ptr = np.concatenate([[0], np.cumsum(active)]).astype(np.int64)
        cand_piece = np.zeros(int(active.sum()), dtype=np.int64)
    else:
        # many pieces: boxes around the cells (from their power vertices) select the pieces
        # each cell can meet
        clo, chi = tri.cell_boxes(yf, wphi)
        cand_ptr, cand_piece = _candidates(yf, wphi, tri, space, active, eps, clo, chi)
    fast, vol, mass, mom, slot_len, slot_mass, status = _integrate(
        yf, wphi, tri, pc, eps, scale, cand_ptr, cand_piece, clo, chi)
    if np.any(status != _clip.STATUS_OK):
        bad = int(np.flatnonzero(status)[0])
        raise RuntimeError(f"cell {bad} overflowed the clipping buffers (degree {np.diff(tri.indptr)[bad]}); "
                           "this is a bug or an extremely degenerate input")
    # signed decompositions (meshes) can leave rounding-level negative values
    vol = np.where(vol < 0, 0.0, vol)
    mass = np.where(mass < 0, 0.0, mass)
    masses = mass / space.total_mass
    return PowerDiagram(
        domain=space.domain, volumes=readonly(vol * space.volume_scale if frame.source_scale != 1.0 else vol),
        masses=readonly(masses), triangulation=tri, _moments=mom, _slot_measure=slot_len,
        _slot_mass=slot_mass, _cand_ptr=cand_ptr, _cand_piece=cand_piece, _eps=eps, _clo=clo,
        _chi=chi, _wphi=readonly(wphi), _space=space, _yf=readonly(yf), _weights=readonly(given), _y=y, _h=h,
        _fast=readonly(fast))


def _integrate(yf, wphi, tri, pc, eps, scale, cand_ptr, cand_piece, clo, chi):
    """Volume, mass, moment, per-slot facet measure / mass and status of every cell.

    Interior cells inside one box piece are integrated from the power centres of the
    triangulation (:mod:`geomot._dual`, no clipping); the clipping kernel of :mod:`geomot._clip`
    does the others.  Returns ``(fast (n,) bool, vol, mass, mom, slot_len, slot_mass, status)``,
    ``fast`` the cells done from the triangulation.
    """
    n, d = yf.shape
    dual = _dual_cells(yf, wphi, tri, pc, scale, cand_ptr, cand_piece)
    fast = np.zeros(n, dtype=bool) if dual is None else dual[0]
    kernel = _clip.integrate_cells_2d if d == 2 else _clip.integrate_cells_3d
    out = kernel(yf, wphi, tri.indptr, tri.indices, cand_ptr, cand_piece, pc.normals, pc.offsets,
                 pc.indptr, pc.lo, pc.hi, pc.sign, pc.density, eps, clo, chi, fast)
    if dual is not None:
        # disjoint rows: each array is zero where the other kernel computed
        for a, b in zip(out[:5], dual[1:]):
            a += b
    return (fast,) + out


def _dual_cells(yf, wphi, tri, pc, scale, cand_ptr, cand_piece):
    """The outputs of :func:`geomot._dual.integrate_dual_2d` / ``_3d`` (``done`` first), or None
    when the targets are not full-dimensional (no simplices of the domain's dimension)."""
    d = yf.shape[1]
    if tri.affine_dim != d or tri.simplices is None or tri.top_simplices is None:
        return None
    kernel = _dual.integrate_dual_2d if d == 2 else _dual.integrate_dual_3d
    return kernel(yf, wphi, tri.indptr, tri.indices, tri.simplices, tri.top_simplices, cand_ptr, cand_piece,
                  pc.indptr, pc.lo, pc.hi, pc.sign, pc.density, tol.dual_margin * scale, tol.dual_shape,
                  tol.dual_error)


def _unbounded_boxes(n, d):
    return np.full((n, d), -np.inf), np.full((n, d), np.inf)


def _candidates(y, wphi, tri, space, active, eps, clo, chi):
    """Pieces each cell may meet: cell bounding boxes (clipped to the domain's box) vs pieces
    (all in the frame of ``space``)."""
    d = y.shape[1]
    pc = space.pieces
    lo, hi = space.bounds
    box_nrm = np.zeros((0, d))
    box_off = np.zeros(0)
    box_ptr = np.zeros(2, dtype=np.int64)
    # bounded cells: their power vertices give the box; the others are clipped to the
    # domain's box first to find theirs
    unbounded = active & ~np.all(np.isfinite(clo) & np.isfinite(chi), axis=1)
    cand_ptr = np.concatenate([[0], np.cumsum(unbounded)]).astype(np.int64)
    cand_piece = np.zeros(int(unbounded.sum()), dtype=np.int64)
    cells = np.flatnonzero(unbounded)
    if d == 2:
        owner, _, ptr, pts, _ = _clip.cell_polygons_2d(
            y, wphi, tri.indptr, tri.indices, cells, cand_ptr, cand_piece, box_nrm, box_off,
            box_ptr, lo[None, :], hi[None, :], eps, clo, chi)
        counts = np.diff(ptr)
    else:
        owner, _, fptr, _, vptr, pts = _clip.cell_polytopes_3d(
            y, wphi, tri.indptr, tri.indices, cells, cand_ptr, cand_piece, box_nrm, box_off,
            box_ptr, lo[None, :], hi[None, :], eps, clo, chi)
        counts = vptr[fptr[1:]] - vptr[fptr[:-1]]
    cell_lo = np.where(active[:, None], np.maximum(clo, lo), np.inf)
    cell_hi = np.where(active[:, None], np.minimum(chi, hi), -np.inf)
    cell_lo[unbounded] = np.inf
    cell_hi[unbounded] = -np.inf
    has = active & ~unbounded & np.all(cell_lo <= cell_hi, axis=1)
    if len(owner):
        starts = np.repeat(np.arange(len(owner)), counts)
        seg_lo = np.full((len(owner), d), np.inf)
        seg_hi = np.full((len(owner), d), -np.inf)
        np.minimum.at(seg_lo, starts, pts)
        np.maximum.at(seg_hi, starts, pts)
        cell_lo[owner] = seg_lo - eps
        cell_hi[owner] = seg_hi + eps
        has[owner] = True
    P = pc.lo.shape[0]
    G = max(1, int(np.ceil(P ** (1.0 / d))))
    return _clip.candidate_pieces(np.where(has[:, None], cell_lo, 0.0), np.where(has[:, None], cell_hi, 0.0),
                                  has, pc.lo, pc.hi, lo, hi, G)
