"""Lifting the targets: affine frame, lower convex hull, regular triangulation, adjacency.

The one module that turns weighted targets into exact combinatorics; :mod:`geomot.power`
(the cells), :mod:`geomot.brenier` (walks and the Legendre dual) and the 2D edge flips of the
Newton solver all use it.  The regular triangulation of the targets :math:`y_i` with the dual
weights :math:`h_i` is the projection of the lower convex hull of the lifted points

.. math:: \\hat y_i = (y_i, -2 h_i) \\in \\mathbb{R}^{d+1};

targets whose lifted point is not a vertex of that hull are *hidden* (their power cells are
empty, :math:`\\langle x, y_i\\rangle + h_i` is nowhere the strict maximum).  The hull is
one ``scipy.spatial.ConvexHull`` call (qhull): qhull is the source of the exact combinatorics.
For many targets (``_tiles.TILE_MIN_POINTS``: 2D above 1e5; 3D on a ``dask.distributed``
cluster) it is one qhull call per spatial tile, in threads or on the cluster, verified to be
the same lower hull, else one global call (:mod:`geomot._tiles`).

Affine frame and its rank rule
------------------------------
Targets in a lower-dimensional affine subspace (collinear in 2D, coplanar in 3D) are lifted in
that subspace.  :func:`affine_frame` finds it: the mean of the points plus the first ``k``
right singular vectors of the centred points, ``k`` the smallest dimension such that *every*
point lies within

.. math:: \\rho = \\max\\big(\\tau_{\\rm rank}\\, \\operatorname{diam}_\\square(y),\\;
          \\tau_{\\rm rounding}\\, \\epsilon \\sqrt{d} \\max_{i,c} |y_{ic}|\\big)

of that subspace (``tol.rank = 1e-10`` of the bounding-box diagonal ``scale_of(y)``, or 4
roundings of the coordinates, ``tol.rounding``; :mod:`geomot._tol`).  Why this rule:

* it bounds what the projection does: every target moves by at most :math:`\\rho`, so the
  triangulation is exact for targets perturbed by at most ``1e-10`` of the problem's size, the
  order of the other geometric tolerances; a rule on singular values (root sums of squares,
  the former :mod:`geomot.power` rule ``s_k > 1e-10 s_0``) lets one far outlier count as much as
  a small uniform noise over ``n`` points, and so depends on ``n``;
* it is invariant under rotation and scaling, and under translation up to the resolution of
  the coordinates: the centred coordinates hold the geometry to a few ``eps |y|`` whatever the
  offset (a rounded mean shifts all points alike), so thin sets are kept thin until their
  thickness is made of rounding (a collinear set moved to an offset ``1e8`` times its size is
  off its line by ``~1e-8`` of its size, and is still collinear here).  The former
  :class:`~geomot.brenier.BrenierPotential` rule, ``1e-10 |y| sqrt(n)``, flattened well-resolved
  sets far from the origin: 50 targets along a segment of length 1 with noise ``1e-6`` at
  offset ``1e6`` were collinear for it and not for :mod:`geomot.power`; they are 2-dimensional;
* above it qhull resolves the thickness (``1e-10`` is far above its roundoff), below it the
  thickness is at the level of the tolerances that decide empty facets and cells anyway.

Lower-dimensional and degenerate cases
--------------------------------------
* one point (or all points equal, affine dimension 0): the target of largest ``h`` is visible;
* affine dimension 1: the lower hull of the 2D lifted points ``(t_i, z_i)`` by a monotone chain;
* flat lifted points (``h`` affine in ``y``) and ``n <= k + 1``: an extra lifted point high above
  the centroid makes the hull full-dimensional and never touches the lower hull;
* non-simplicial lower facets (grids, cocircular targets) are triangulated by qhull; the flat
  simplices this can create give edges whose facets have zero measure (dropped by
  :attr:`geomot.power.PowerDiagram.pairs`);
* a target is visible iff it is a vertex of a lower simplex of positive volume: targets on a
  face of conv(y) lifted above the lower chain of that face span a *vertical* facet, which
  rounding may put among the lower ones, and which must not make them visible.

The functions work on the coordinates they are given and assume nothing about the origin:
the frame is centred on the points' mean and the lifted heights on their mean.
Two private helpers compute for this module and own nothing: :mod:`geomot._simplices` (numba
kernels over simplices: CSR adjacency, solid vertices, cell boxes; re-exported here) and
:mod:`geomot._flip3d_state` (the start of the 3D flips from qhull's tetrahedra).

References
----------
F. Aurenhammer, *Power diagrams: properties, algorithms and applications*, SIAM J. Comput.
16 (1987).  H. Edelsbrunner, N. R. Shah, *Incremental topological flipping works for regular
triangulations*, Algorithmica 15 (1996).  C. B. Barber, D. P. Dobkin, H. Huhdanpaa, *The
quickhull algorithm for convex hulls*, ACM TOMS 22 (1996).
"""

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from . import _tiles
from ._flip3d_state import _flip_state_3d, _hull_triangles_3d
from ._simplices import _cell_boxes, _simplex_adjacency, _solid_vertices
from ._tol import scale_of, tol
from ._validate import as_points, as_vector, readonly, require_distributed

__all__ = ["AffineFrame", "affine_frame", "RegularTriangulation", "regular_triangulation"]

#: above this many targets qhull inserts them along a space-filling curve (measured faster)
MORTON_MIN_POINTS = 200_000


# ----------------------------------------------------------------- affine frame
@dataclass(frozen=True, eq=False)
class AffineFrame:
    """An affine subspace of :math:`\\mathbb{R}^d`: ``origin (d,)`` plus the span of the
    orthonormal rows of ``basis (k, d)``.

    Example
    -------
    >>> import numpy as np
    >>> from geomot.lifting import affine_frame
    >>> f = affine_frame([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> f.dim, f.origin.tolist()
    (1, [1.0, 1.0])
    >>> np.round(np.abs(f.coordinates([[3.0, 3.0]])), 12).tolist(), np.round(f.distance([[1.0, 0.0]]), 12).tolist()
    ([[2.828427124746]], [0.707106781187])
    """

    origin: np.ndarray
    basis: np.ndarray

    @property
    def dim(self):
        """Dimension ``k`` of the subspace (the affine dimension of the points)."""
        return self.basis.shape[0]

    @property
    def ambient_dim(self):
        """Dimension ``d`` of the space around it."""
        return self.origin.shape[0]

    def coordinates(self, p):
        """(m, k): coordinates of the points ``p (m, d)`` projected onto the subspace."""
        return (np.asarray(p, dtype=np.float64) - self.origin) @ self.basis.T

    def distance(self, p):
        """(m,): distance of the points ``p (m, d)`` to the subspace."""
        q = np.asarray(p, dtype=np.float64) - self.origin
        return np.linalg.norm(q - (q @ self.basis.T) @ self.basis, axis=1)


def affine_frame(points):
    """The affine hull of a point set, with geomot's rank rule.

    Parameters
    ----------
    points : (n, d) array_like of float

    Returns
    -------
    AffineFrame
        Origin the mean of the points; basis the first ``k`` right singular vectors of the
        centred points, ``k`` the smallest dimension such that every point lies within
        :math:`\\rho` of the subspace (see the module notes for :math:`\\rho` and why).

    Notes
    -----
    With the singular value decomposition :math:`Y - \\bar y = U \\Sigma V^T` and
    :math:`c = (Y - \\bar y) V` the principal coordinates,

    .. math:: k = \\min \\{ j : \\max_i \\| (c_{i,j+1}, \\dots, c_{i,d}) \\| \\le \\rho \\}.

    Example
    -------
    >>> from geomot.lifting import affine_frame
    >>> affine_frame([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]).dim
    2
    >>> affine_frame([[0.5, 0.5]]).dim
    0
    """
    return _affine_frame(as_points(points, "points"))[0]


def _affine_frame(p):
    """``(frame, t)``: the affine frame of the rows of ``p (n, d)`` and their coordinates in it."""
    center, pc, vt, k = _principal_axes(p)
    basis = readonly(vt[:k])
    return AffineFrame(readonly(center), basis), pc @ basis.T


def _rank_reach(p):
    """The distance :math:`\\rho` of the rank rule for the points ``p (n, d)``."""
    rounding = tol.rounding * np.finfo(np.float64).eps * np.sqrt(p.shape[1]) * float(np.abs(p).max())
    return max(tol.rank * scale_of(p), rounding)


def _principal_axes(p):
    """Mean, centred points, principal axes (rows) and affine dimension (the rank rule) of ``p``."""
    n, d = p.shape
    center = p.mean(axis=0)
    pc = p - center
    if n == 1 or not np.any(pc):
        return center, pc, np.zeros((0, d)), 0
    _, _, vt = np.linalg.svd(pc, full_matrices=False)
    # k: the fewest principal axes whose span every point is within reach of; the squared
    # distance to the span of the first k axes is the sum of the squared coordinates on the
    # others, accumulated from the last axis (full-rank sets stop after one)
    reach = _rank_reach(p)
    tail = np.zeros(n)
    for j in range(vt.shape[0] - 1, -1, -1):
        tail += (pc @ vt[j]) ** 2
        if np.sqrt(tail.max()) > reach:
            return center, pc, vt, j + 1
    return center, pc, vt, 0


# ----------------------------------------------------------------- lower hull
def _lower_hull_1d(t, z):
    """Vertices of the lower convex hull of the 2D points (t_k, z_k), in increasing t."""
    order = np.lexsort((z, t))
    # of points with equal t only the lowest can be a lower vertex (sorted first)
    first = np.concatenate([[True], t[order[1:]] != t[order[:-1]]])
    hull = []
    for k in order[first]:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (t[b] - t[a]) * (z[k] - z[a]) - (z[b] - z[a]) * (t[k] - t[a])
            if cross <= 0:  # b is on or above the segment a-k: not a strict lower vertex
                hull.pop()
            else:
                break
        hull.append(k)
    return np.asarray(hull, dtype=np.int64)


def _morton_order(t):
    """Permutation sorting points along a Z-order (Morton) curve: qhull inserts points
    faster when consecutive points are close in space."""
    k = t.shape[1]
    bits = 20 if k <= 3 else 60 // k
    lo = t.min(axis=0)
    span = np.ptp(t, axis=0)
    span[span == 0] = 1.0
    q = ((t - lo) / span * ((1 << bits) - 1)).astype(np.uint64)
    code = np.zeros(t.shape[0], dtype=np.uint64)
    for b in range(bits):
        for a in range(k):
            code |= ((q[:, a] >> np.uint64(b)) & np.uint64(1)) << np.uint64(b * k + a)
    return np.argsort(code, kind="stable")


def _lower_hull(t, z):
    """Lower facets ``(s, k+1)`` and the other facets of the hull of the points ``(t_i, z_i)``
    (``t (n, k)``, k >= 2, full rank) plus one extra point (index ``n``) high above them.

    The extra point above the centroid, higher than every lifted point, is never on the lower
    hull, and makes the hull full-dimensional when the lifted points are flat.
    """
    n, k = t.shape
    zspan = float(z.max() - z.min())
    tspan = float(np.ptp(t, axis=0).max())
    top = np.concatenate([t.mean(axis=0), [z.max() + zspan + tspan]])
    pts = np.vstack([np.column_stack([t, z]), top])
    # insertion order along a space-filling curve (the extra point stays last)
    big = n > MORTON_MIN_POINTS
    order = np.append(_morton_order(t), n) if big else np.arange(n + 1)
    try:
        hull = ConvexHull(pts[order])
    except QhullError as exc:  # pragma: no cover - qhull failing on valid input is a bug
        raise ValueError(f"qhull could not build the lifted hull of the targets: {exc}") from None
    lower = hull.equations[:, k] < 0
    simp = order[hull.simplices[lower]] if big else hull.simplices[lower]
    if simp.size and simp.max() >= n:  # (the top point is never on a lower facet)
        simp = simp[np.all(simp < n, axis=1)]
    top_simp = order[hull.simplices[~lower]] if big else hull.simplices[~lower]
    return (np.ascontiguousarray(simp, dtype=np.int64), np.ascontiguousarray(top_simp, dtype=np.int64))


# ----------------------------------------------------------------- regular triangulation
@dataclass(frozen=True)
class RegularTriangulation:
    """Adjacency of the regular triangulation of weighted points (CSR, symmetric).

    ``indptr (n+1,)``, ``indices (nnz,)``: neighbours of each target; ``hidden (n,)``: targets
    that are not vertices of the lower hull (their cells are empty everywhere);
    ``affine_dim``: dimension ``k`` of the affine hull of the targets; ``simplices (s, k+1)``:
    the lower simplices (target indices; ``None`` when ``k = 0``), from which
    :meth:`cell_boxes` bounds the cells; ``top_simplices``: the other facets of the lifted hull
    (index ``n`` is the extra point above the targets; full-dimensional targets only);
    ``frame``: the :class:`AffineFrame` of the targets (``k = frame.dim``).
    """

    indptr: np.ndarray
    indices: np.ndarray
    hidden: np.ndarray
    affine_dim: int
    simplices: np.ndarray = None
    top_simplices: np.ndarray = None
    frame: AffineFrame = None

    @property
    def n(self):
        """Number of targets."""
        return self.hidden.shape[0]

    def relabelled(self, perm):
        """The same triangulation with target ``k`` renamed ``perm[k]`` (``perm`` (n,) a
        permutation): the triangulation of the targets ``z`` with ``z[perm] = y``, as a new hull
        of them would give it (adjacency rebuilt from the simplices, rows sorted)."""
        n = self.n
        perm = np.asarray(perm, dtype=np.int64)
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        hidden = np.ascontiguousarray(self.hidden[inv])
        if self.simplices is None:  # a single visible target (k = 0): no edges
            return RegularTriangulation(self.indptr.copy(), self.indices.copy(), hidden, self.affine_dim,
                                        None, None, self.frame)
        simp = np.ascontiguousarray(perm[self.simplices])
        indptr, indices = _simplex_adjacency(simp, n)
        top = None
        if self.top_simplices is not None:
            # index n is the extra point above the targets: it keeps its name
            top = np.ascontiguousarray(np.append(perm, n)[self.top_simplices])
        return RegularTriangulation(indptr, indices, hidden, self.affine_dim, simp, top, self.frame)

    def cell_boxes(self, y, wphi):
        """(n, d) lo / hi boxes containing each cell, from the cell's power vertices (with a
        margin); +-inf for unbounded cells (targets on the boundary of their convex hull) and
        for lower-dimensional target sets.  ``wphi`` are the weights :math:`h + |y|^2/2`."""
        n, d = y.shape
        if self.simplices is None or self.top_simplices is None or self.affine_dim < d:
            return np.full((n, d), -np.inf), np.full((n, d), np.inf)
        return _cell_boxes(self.simplices, self.top_simplices, y, wphi, 1e-9 * scale_of(y))



def regular_triangulation(y, h, *, client=None):
    """Regular triangulation of the targets ``y`` with the dual weights ``h`` (one hull call,
    or one per spatial tile for many targets: :mod:`geomot._tiles`).

    Parameters
    ----------
    y : (n, d) array_like of float
        Distinct targets.
    h : (n,) array_like of float
        Dual weights; the lifted points are :math:`(y_i, -2 h_i)`.
    client : dask.distributed.Client, optional
        Builds the tile hulls of many targets on the cluster instead of local threads (2D above
        ``geomot._tiles.TILE_MIN_POINTS``; 3D from two tiles' worth, which are not tiled
        without a client); the result is the same.

    Returns
    -------
    RegularTriangulation
        Symmetric CSR adjacency, hidden mask, lower simplices and affine frame of the targets.

    Notes
    -----
    Target ``i`` is a vertex (not hidden) iff its lifted point is a vertex of the lower hull,

    .. math:: \\operatorname{conv}_{\\text{lower}} \\{(y_j, -2 h_j)\\};

    its neighbours are the targets of the power cells that share a facet with its cell.

    Example
    -------
    >>> import numpy as np
    >>> from geomot.lifting import regular_triangulation
    >>> y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.3, 0.3]])
    >>> tri = regular_triangulation(y, -0.5 * (y**2).sum(axis=1))   # Delaunay
    >>> tri.affine_dim, tri.hidden.tolist(), tri.indices[tri.indptr[3]:tri.indptr[4]].tolist()
    (2, [False, False, False, False], [0, 1, 2])
    >>> regular_triangulation(y, [0.0, 0.0, 0.0, -1.0]).hidden.tolist()   # its plane is too low
    [False, False, False, True]
    """
    y = as_points(y, "y")
    h = as_vector(h, "h", n=y.shape[0])
    if client is not None:
        require_distributed(client)
    return _regular_triangulation(y, h, None if client is None else _tiles.TileOptions(client=client))


def _regular_triangulation(y, h, tiles=None):
    """``tiles``: a :class:`geomot._tiles.TileOptions` (None: the defaults, which tile many
    targets; False: one global hull whatever the size)."""
    n, d = y.shape
    hidden = np.zeros(n, dtype=bool)
    frame, t = _affine_frame(y)
    k = frame.dim
    if k == 0:  # one point (or all equal): the largest h wins
        hidden[:] = True
        hidden[int(np.argmax(h))] = False
        return RegularTriangulation(np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                    hidden, 0, None, None, frame)
    z = _lifted_heights(t, h)
    if k == 1:
        verts = _lower_hull_1d(t[:, 0], z)
        hidden[:] = True
        hidden[verts] = False
        simp = np.ascontiguousarray(np.column_stack([verts[:-1], verts[1:]]), dtype=np.int64)
        indptr, indices = _simplex_adjacency(simp, n)
        return RegularTriangulation(indptr, indices, hidden, 1, simp, None, frame)
    simp = None
    opt = _tiles.TileOptions() if tiles is None else tiles
    if opt is not False and opt.applies(n, k):
        # one hull per spatial tile, verified to be the global lower hull (else None: one hull)
        simp, top_simp, _ = _tiles.tiled_lower_hull(t, z, opt)
    if simp is None:
        simp, top_simp = _lower_hull(t, z)
    # a target is a vertex of the lower hull iff it is a vertex of a lower simplex of positive
    # volume: qhull's flat split of a merged facet only repeats vertices of its solid parts,
    # and a vertical facet (targets on a face of conv(y) lifted above the lower chain of that
    # face, classified "lower" by rounding) adds no vertex of its own
    hidden = ~_solid_vertices(t, simp, n)
    indptr, indices = _simplex_adjacency(simp, n)
    return RegularTriangulation(indptr, indices, hidden, k, simp, top_simp if k == d else None, frame)


def _lifted_heights(t, h):
    """(n,): the heights :math:`-2 h` of the lifted targets ``t (n, k)`` (frame coordinates),
    centred and without their least-squares affine part: the lower hull is unchanged by adding
    an affine function of t, and qhull sees a well-scaled, untilted point cloud."""
    z = -2.0 * (h - h.mean())
    A = np.column_stack([t, np.ones(t.shape[0])])
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    return z - A @ coef


def _hull_halfspaces(p, simp):
    """Unit outer normals ``a (b, r)`` and offsets ``c (b,)`` of conv(p): ``a . z <= c`` inside.

    ``p (n, r)`` spans :math:`\\mathbb{R}^r` and ``simp (s, r+1)`` triangulates conv(p) (the
    simplices of a :class:`RegularTriangulation`, in the coordinates of its frame or, full
    dimensional, in the targets' own).  The boundary is made of the ridges (faces of r
    vertices) that belong to one simplex only; flat ridges (of a flat simplex) are skipped:
    the other ridges of their facet of conv(p) give the same half-space.  No hull is built.
    """
    k1 = simp.shape[1]
    r = k1 - 1
    ridges = np.sort(np.concatenate([np.delete(simp, j, axis=1) for j in range(k1)]), axis=1)
    uniq, count = np.unique(ridges, axis=0, return_counts=True)
    bnd = uniq[count == 1]
    p0 = p[bnd[:, 0]]
    if r == 1:
        nrm = np.ones((bnd.shape[0], 1))
        ok = np.ones(bnd.shape[0], dtype=bool)
    else:
        e = p[bnd[:, 1:]] - p0[:, None, :]  # (b, r-1, r): the normal is their cofactor vector
        nrm = np.stack([(-1.0) ** j * np.linalg.det(np.delete(e, j, axis=2)) for j in range(r)], axis=1)
        ok = np.linalg.norm(nrm, axis=1) > tol.flat * np.prod(np.linalg.norm(e, axis=2), axis=1)
    # outward: away from the mean of the points, inside conv(p)
    side = np.einsum("ij,ij->i", p.mean(axis=0) - p0, nrm)
    nrm = np.where((side > 0)[:, None], -nrm, nrm)
    ok &= side != 0
    nrm = nrm[ok] / np.linalg.norm(nrm[ok], axis=1)[:, None]
    return nrm, np.einsum("ij,ij->i", nrm, p0[ok])


def _check_triangulation(tri, y, name="triangulation"):
    """ValueError naming ``name`` unless ``tri`` is a regular triangulation of the targets ``y``.

    Checked: the type, the number and dimension of the targets, that the frame is the one of
    ``y`` (its mean, its dimension, every target within the rank tolerance of it) and that the
    simplices index the visible targets.  Not checked: the weights, nor a permutation of the
    targets.
    """
    n, d = y.shape
    if not isinstance(tri, RegularTriangulation):
        raise ValueError(f"{name} must be a geomot RegularTriangulation (e.g. PowerDiagram.triangulation), "
                         f"got {type(tri).__name__}")
    if tri.n != n or tri.indptr.shape != (n + 1,):
        raise ValueError(f"{name} is a triangulation of {tri.n} targets, not of these {n}")
    frame = tri.frame
    if frame is None or frame.ambient_dim != d:
        got = "unknown" if frame is None else frame.ambient_dim
        raise ValueError(f"{name} is a triangulation of targets of dimension {got}, not {d}")
    if frame.dim != tri.affine_dim:
        raise ValueError(f"{name} is inconsistent: affine_dim {tri.affine_dim}, frame of dimension {frame.dim}")
    center, _, _, k = _principal_axes(y)
    moved = np.max(np.abs(frame.origin - center)) > tol.duplicate * max(scale_of(y), float(np.abs(y).max()))
    if k != frame.dim or moved or (k < d and np.max(frame.distance(y)) > 2.0 * _rank_reach(y)):
        raise ValueError(f"{name} is not a triangulation of these targets (its affine frame does not fit them)")
    simp = tri.simplices
    if frame.dim > 0:
        if simp is None or simp.ndim != 2 or simp.shape[1] != frame.dim + 1 or (
                simp.size and (simp.min() < 0 or simp.max() >= n)):
            raise ValueError(f"{name} has no valid (s, {frame.dim + 1}) simplices of {n} targets")
        if np.any(~tri.hidden & (np.bincount(simp.ravel(), minlength=n) == 0)):
            raise ValueError(f"{name} is inconsistent: it has visible targets outside its simplices")


# ----------------------------------------------------------------- 2D edge flips
#: status of :func:`_flipped_triangulation` when flips do not apply
FLIP_NOT_APPLICABLE = -1


def _flipped_triangulation(previous, y, wphi, max_flips=None):
    """The regular triangulation for the weights ``wphi`` (:math:`h + |y|^2/2`), repaired by
    edge flips from the regular triangulation ``previous`` of the same 2D targets.

    Used by the Newton solver, whose steps change the weights a little: a flip of every edge
    that is not locally regular (Lawson) lowers the lifted surface, and a triangulation of all
    targets whose edges are all locally regular is the regular one (the lower hull), so the
    result is exact -- the same combinatorics as a new hull, without the hull.

    Returns ``(triangulation, status)``: ``status`` is ``_flip.STATUS_OK`` (0) with the
    triangulation, else the triangulation is None and a hull must be built: ``FLIP_NOT_APPLICABLE``
    (-1: not 2D, collinear targets, hidden targets or flat triangles in ``previous``),
    ``_flip.STATUS_MAX_FLIPS`` (more than ``max_flips`` flips, default 4n + 1000) or
    ``_flip.STATUS_STUCK``: an illegal edge whose quadrilateral is not convex.  Then a target
    *is* hidden -- its lifted point lies over the triangle of the three others and above their
    plane (the edge is reflex there), hence above the lower hull -- and the solver rejects such
    a trial step without building the hull (its cell is empty).

    3D targets are repaired by 2-3 / 3-2 flips (:func:`_flipped_triangulation_3d`, the same
    statuses, ``previous`` itself when it is still regular, and ``_flip3d.STATUS_UNFLIPPABLE``
    when illegal triangles admit no flip).
    """
    from . import _flip

    n, d = y.shape
    if d == 3:
        return _flipped_triangulation_3d(previous, y, wphi, max_flips)
    if d != 2 or previous.affine_dim != 2 or previous.simplices is None or previous.hidden.any():
        return None, FLIP_NOT_APPLICABLE
    state = previous.__dict__.get("_flip_state")
    if state is None:
        # counter-clockwise lower triangles and their neighbours (nbr[t, k] across the edge
        # opposite tri[t, k], -1 on the convex hull), kept on the triangulation for the next call
        tri = np.array(previous.simplices, dtype=np.int64, order="C", copy=True)
        nbr = _flip.triangle_neighbors(tri, n)
        _flip.make_ccw(tri, nbr, y)
        e1 = y[tri[:, 1]] - y[tri[:, 0]]
        e2 = y[tri[:, 2]] - y[tri[:, 0]]
        if np.any(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] <= 0.0):
            state = ()  # flat triangles (qhull's split of a degenerate facet): no flips from here
        else:
            state = (tri, nbr)
        previous.__dict__["_flip_state"] = state
    if not state:
        return None, FLIP_NOT_APPLICABLE
    tri0, nbr0 = state
    tri = tri0.copy()
    nbr = nbr0.copy()
    if max_flips is None:
        max_flips = 4 * n + 1000
    wphi = np.ascontiguousarray(wphi, dtype=np.float64)
    status, _ = _flip.flip_to_regular(tri, nbr, y, wphi - wphi.mean(), max_flips)
    if status != _flip.STATUS_OK:
        return None, int(status)
    indptr, indices = _simplex_adjacency(tri, n)
    # the convex-hull edges (no neighbour): the cells of their vertices are unbounded
    t_idx, k_idx = np.nonzero(nbr < 0)
    top = np.column_stack([tri[t_idx, (k_idx + 1) % 3], tri[t_idx, (k_idx + 2) % 3],
                           np.full(t_idx.size, n, dtype=np.int64)])
    out = RegularTriangulation(indptr, indices, np.zeros(n, dtype=bool), 2, tri, top, previous.frame)
    out.__dict__["_flip_state"] = (tri, nbr)
    return out, _flip.STATUS_OK


#: halvings of the weight path tried when 3D flips cannot repair a step in one go
FLIP_PATH_SPLITS = 2


def _flipped_triangulation_path(previous, previous_weights, y, wphi, splits=FLIP_PATH_SPLITS):
    """:func:`_flipped_triangulation` from ``previous`` (regular for the weights
    ``previous_weights`` (n,)) to ``wphi`` (n,), along the straight path of weights when 3D
    flips get stuck.

    Lawson's flips in 3D can meet illegal triangles that no 2-3 / 3-2 flip removes
    (``_flip3d.STATUS_UNFLIPPABLE``), more often for large weight changes (early Newton steps).
    Then the regular triangulation of the midpoint weights is reached first and the rest of the
    way from there, halving again up to ``splits`` times: every leg ends at a triangulation
    checked regular for its weights, so the result is still exactly the regular triangulation
    for ``wphi`` (the same as a new hull), while a hull of 1e5 3D targets costs 10-20 flip
    passes.  The statuses are those of :func:`_flipped_triangulation`, except that a hidden
    target met on an intermediate leg (not a proof for ``wphi``) is reported as
    ``STATUS_UNFLIPPABLE``: a hull is needed.
    """
    from . import _flip3d

    tri, status = _flipped_triangulation(previous, y, wphi)
    if status != _flip3d.STATUS_UNFLIPPABLE or splits <= 0:
        return tri, status
    mid = 0.5 * (previous_weights + wphi)
    tri_mid, _ = _flipped_triangulation_path(previous, previous_weights, y, mid, splits - 1)
    if tri_mid is None:
        return None, _flip3d.STATUS_UNFLIPPABLE
    return _flipped_triangulation_path(tri_mid, mid, y, wphi, splits - 1)


# ----------------------------------------------------------------- 3D flips
def _flipped_triangulation_3d(previous, y, wphi, max_flips=None):
    """The 3D branch of :func:`_flipped_triangulation`: 2-3 / 3-2 flips (:mod:`geomot._flip3d`).

    First one pass checks every interior triangle of ``previous`` under the new weights: when
    all are locally regular, ``previous`` itself is the regular triangulation and is returned
    (no copy, no hull).  Else its tetrahedra are flipped to the regular ones; a new
    :class:`RegularTriangulation` is returned with its flip state for the next call (its
    adjacency patched by the flips' edge events, its hull triangles changed by boundary
    2-2 flips only).

    Statuses: ``_flip.STATUS_OK`` with the triangulation; otherwise None and
    ``FLIP_NOT_APPLICABLE`` (targets not full-dimensional, hidden targets or flat tetrahedra
    off the faces of conv(y) in ``previous``), ``_flip3d.STATUS_HIDDEN`` (=
    ``_flip.STATUS_STUCK``: an illegal triangle proves a target hidden -- it lies inside the
    tetrahedron of four others, lifted above their hyperplane -- so the solver rejects the
    trial without a hull), ``_flip.STATUS_MAX_FLIPS`` or ``_flip3d.STATUS_UNFLIPPABLE``
    (illegal triangles that no flip removes: a new hull is needed).
    """
    from . import _flip3d

    n = y.shape[0]
    if previous.affine_dim != 3 or previous.simplices is None or previous.hidden.any():
        return None, FLIP_NOT_APPLICABLE
    state = previous.__dict__.get("_flip_state")
    if state is None:
        state = _flip_state_3d(previous, y)
        previous.__dict__["_flip_state"] = state
    if not state:
        return None, FLIP_NOT_APPLICABLE
    tet, nbr, indptr, indices, top = state
    wphi = np.ascontiguousarray(wphi, dtype=np.float64)
    phi = wphi - wphi.mean()
    seeds = _flip3d.illegal_slots(tet, nbr, y, phi)
    if seeds.shape[0] == 0:
        return previous, _flip3d.STATUS_OK
    if max_flips is None:
        max_flips = 4 * n + 1000
    status, tet, nbr, counts, edges = _flip3d.flip_to_regular(tet, nbr, y, phi, max_flips, seeds)
    if status != _flip3d.STATUS_OK:
        return None, int(status)
    indptr, indices = _flip3d.patch_adjacency(indptr, indices, edges, n)
    if counts[_flip3d.N_22]:
        top = _hull_triangles_3d(tet, nbr, n)
    out = RegularTriangulation(indptr, indices, np.zeros(n, dtype=bool), 3, tet, top, previous.frame)
    out.__dict__["_flip_state"] = (tet, nbr, indptr, indices, top)
    return out, _flip3d.STATUS_OK
