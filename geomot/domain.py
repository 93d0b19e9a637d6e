"""Source domains: the support of the source measure, and its convex pieces.

A :class:`Domain` is an immutable description of a region of :math:`\\mathbb{R}^d` carrying a
piecewise-constant density (uniform unless said otherwise).  Every exact computation in geomot
sees it through :attr:`Domain.pieces`, a :class:`ConvexPieces` H-representation (see
``docs/architecture.md``):

.. math::

    \\mathbf 1_\\Omega = \\sum_p s_p\\, \\mathbf 1_{K_p} \\quad\\text{a.e.},\\qquad
    \\mu(S) = \\sum_p s_p\\, \\rho_p\\, |S \\cap K_p|,

with convex pieces :math:`K_p`, signs :math:`s_p = \\pm 1` and densities :math:`\\rho_p \\ge 0`.

Decompositions: box -> one box piece; disk / ball -> one polygon / polytope piece; polygon with
holes -> constrained Delaunay triangles, merged into convex polygons; watertight mesh -> signed cone tetrahedra; image ->
one box piece per pixel of positive value; triangulation -> one triangle per positive triangle.

References
----------
.. [1] B. Lévy, "A numerical algorithm for L2 semi-discrete optimal transport in 3D",
   ESAIM: M2AN 49(6), 2015 (clipping power cells against a simplicial domain).
.. [2] N. Lei et al., "Mode collapse and regularity of optimal transportation maps",
   arXiv:1902.02934, 2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._tol import tol
from ._validate import as_points, as_positive_float, as_positive_int, as_rng, as_vector

__all__ = ["ConvexPieces", "Domain"]

_KINDS = ("box", "polygon", "disk", "ball", "mesh", "image", "triangulation")


def _frozen(a, dtype):
    a = np.array(a, dtype=dtype, copy=True, order="C")
    a.flags.writeable = False
    return a


# ----------------------------------------------------------------------------------------------
# ConvexPieces
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConvexPieces:
    """Convex pieces of a domain in H-representation (CSR over half-spaces).

    Parameters
    ----------
    normals : (H, d) float64
        Outward unit normals of all half-spaces of all pieces.
    offsets : (H,) float64
        Piece ``p`` is :math:`\\{x \\in [lo_p, hi_p] : n_k \\cdot x \\le o_k,\\;
        k \\in [indptr_p, indptr_{p+1})\\}`.
    indptr : (P+1,) int64
        CSR pointer into ``normals``/``offsets``; a box piece has no half-spaces.
    lo, hi : (P, d) float64
        Tight bounding box of each piece.
    sign : (P,) float64
        ``+1``, or ``-1`` for the negative tetrahedra of a signed cone decomposition.
    density : (P,) float64
        Source density on each piece (``>= 0``).

    Notes
    -----
    All arrays are C-contiguous read-only copies.  The Lebesgue measure of a set :math:`S` is

    .. math:: |S| = \\sum_p s_p\\, |S \\cap K_p|.

    Example
    -------
    >>> from geomot import Domain
    >>> Domain.box([0, 0], [2, 1]).pieces.num_pieces
    1
    """

    normals: np.ndarray
    offsets: np.ndarray
    indptr: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sign: np.ndarray
    density: np.ndarray

    def __post_init__(self):
        for name, dtype in (("normals", np.float64), ("offsets", np.float64), ("indptr", np.int64),
                            ("lo", np.float64), ("hi", np.float64), ("sign", np.float64),
                            ("density", np.float64)):
            object.__setattr__(self, name, _frozen(getattr(self, name), dtype))
        lo, hi = self.lo, self.hi
        if lo.ndim != 2 or hi.shape != lo.shape:
            raise ValueError(f"lo and hi must be (P, d) arrays of equal shape, got {lo.shape}, {hi.shape}")
        P, d = lo.shape
        H = self.offsets.shape[0]
        if self.normals.ndim != 2 or self.normals.shape != (H, d) or self.offsets.ndim != 1:
            raise ValueError(f"normals must be (H, {d}) and offsets (H,), got {self.normals.shape}, "
                             f"{self.offsets.shape}")
        if self.indptr.shape != (P + 1,) or self.indptr[0] != 0 or self.indptr[-1] != H \
                or np.any(np.diff(self.indptr) < 0):
            raise ValueError(f"indptr must be a non-decreasing (P+1,) = ({P + 1},) CSR pointer "
                             f"from 0 to H = {H}")
        if self.sign.shape != (P,) or self.density.shape != (P,):
            raise ValueError(f"sign and density must be (P,) = ({P},), got {self.sign.shape}, "
                             f"{self.density.shape}")

    @property
    def dim(self):
        """Dimension ``d``."""
        return self.lo.shape[1]

    @property
    def num_pieces(self):
        """Number of pieces ``P``."""
        return self.lo.shape[0]

    def indicator(self, x):
        """(n, P) bool: ``x[i]`` lies in the closed piece ``p`` (``x`` an (n, d) float array).

        Example
        -------
        >>> from geomot import Domain
        >>> Domain.box([0, 0], [1, 1]).pieces.indicator(np.array([[0.5, 0.5]])).tolist()
        [[True]]
        """
        x = np.asarray(x, dtype=np.float64)
        out = np.all((x[:, None, :] >= self.lo[None]) & (x[:, None, :] <= self.hi[None]), axis=2)
        if self.offsets.shape[0]:
            slack = tol.clip * max(1.0, float(np.abs(self.hi).max()), float(np.abs(self.lo).max()))
            viol = (x @ self.normals.T) > (self.offsets + slack)[None, :]  # (n, H)
            counts = np.diff(self.indptr)
            nz = counts > 0
            bad = np.logical_or.reduceat(viol, self.indptr[:-1][nz], axis=1)  # (n, #nonempty)
            out[:, nz] &= ~bad
        return out


# ----------------------------------------------------------------------------------------------
# private computations
# ----------------------------------------------------------------------------------------------
def _box_pieces(lo, hi, density=None):
    lo = np.atleast_2d(lo)
    hi = np.atleast_2d(hi)
    P, d = lo.shape
    dens = np.ones(P) if density is None else density
    return ConvexPieces(np.zeros((0, d)), np.zeros(0), np.zeros(P + 1, np.int64), lo, hi,
                        np.ones(P), dens)


def _triangle_halfspaces(tri):
    """tri (T, 3, 2) counter-clockwise -> normals (3T, 2), offsets (3T,)."""
    a = tri
    b = np.roll(tri, -1, axis=1)
    e = b - a
    nrm = np.stack([e[..., 1], -e[..., 0]], axis=-1)
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    off = np.einsum("tkd,tkd->tk", nrm, a)
    return nrm.reshape(-1, 2), off.reshape(-1)


def _orient_ccw(tri):
    """tri (T, 3, 2) -> counter-clockwise copy and the signed doubled areas before orienting."""
    u = tri[:, 1] - tri[:, 0]
    v = tri[:, 2] - tri[:, 0]
    cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    out = tri.copy()
    neg = cross < 0
    out[neg] = out[neg][:, ::-1]
    return out, cross


def _triangle_pieces(tri, density):
    """tri (T, 3, 2) ccw, density (T,) -> ConvexPieces with 3 half-spaces per triangle."""
    T = tri.shape[0]
    nrm, off = _triangle_halfspaces(tri)
    return ConvexPieces(nrm, off, np.arange(0, 3 * T + 1, 3, dtype=np.int64),
                        tri.min(axis=1), tri.max(axis=1), np.ones(T), density)


def _tetra_halfspaces(tet):
    """tet (T, 4, 3), any orientation -> outward normals (4T, 3), offsets (4T,) (face k opposite vertex k)."""
    T = tet.shape[0]
    nrm = np.empty((T, 4, 3))
    off = np.empty((T, 4))
    for k in range(4):
        face = [i for i in range(4) if i != k]
        a, b, c = tet[:, face[0]], tet[:, face[1]], tet[:, face[2]]
        n = np.cross(b - a, c - a)
        # orient away from the opposite vertex
        s = np.einsum("td,td->t", n, tet[:, k] - a)
        n[s > 0] *= -1
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        nrm[:, k] = n
        off[:, k] = np.einsum("td,td->t", n, a)
    return nrm.reshape(-1, 3), off.reshape(-1)


def _polygon_triangles(geom):
    """Constrained Delaunay triangles of a shapely (Multi)Polygon -> (T, 3, 2) ccw, non-degenerate."""
    import shapely

    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(geom))
    if len(tris) == 0:
        return np.zeros((0, 3, 2))
    coords = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(len(tris), 4, 2)[:, :3]
    tri, cross = _orient_ccw(coords)
    scale = max(float(np.ptp(coords.reshape(-1, 2), axis=0).max()), 1e-300)
    keep = np.abs(cross) > tol.volume * scale ** 2
    return np.ascontiguousarray(tri[keep])


def _merge_convex(tri):
    """Hertel-Mehlhorn: merge ccw triangles (T, 3, 2) across diagonals while the union stays convex.

    Returns the distinct vertices (m, 2) and a list of ccw vertex-index cycles.  At most four
    times the minimal number of convex pieces; diagonals are tried longest first.
    """
    pts, inv = np.unique(tri.reshape(-1, 2), axis=0, return_inverse=True)
    ids = inv.reshape(-1, 3)
    T = len(ids)
    cycles = {t: [int(v) for v in ids[t]] for t in range(T)}
    owner = {}
    for t in range(T):
        c = cycles[t]
        for k in range(3):
            owner[(c[k], c[(k + 1) % 3])] = t
    diag = np.array([(u, v) for (u, v) in owner if u < v and (v, u) in owner], dtype=np.int64)
    diag = diag.reshape(-1, 2)
    length = np.sum((pts[diag[:, 0]] - pts[diag[:, 1]]) ** 2, axis=1)
    order = np.argsort(-length, kind="stable")
    diag = diag.tolist()

    xy = pts.tolist()

    def turn(a, b, c):
        (ax, ay), (bx, by), (cx, cy) = xy[a], xy[b], xy[c]
        e1x, e1y, e2x, e2y = bx - ax, by - ay, cx - bx, cy - by
        return e1x * e2y - e1y * e2x, ((e1x * e1x + e1y * e1y) * (e2x * e2x + e2y * e2y)) ** 0.5

    for i in order:
        u, v = diag[i]
        a, b = owner.get((u, v)), owner.get((v, u))
        if a is None or b is None or a == b:
            continue
        A, B = cycles[a], cycles[b]
        ia, ib = A.index(u), B.index(v)
        # A has u -> v at ia; B has v -> u at ib
        ra = A[ia + 1:] + A[:ia + 1]  # starts at v, ends at u
        rb = B[ib + 1:] + B[:ib + 1]  # starts at u, ends at v
        merged = ra + rb[1:-1]
        if len(set(merged)) != len(merged):  # the pieces touch elsewhere too: not a simple polygon
            continue
        # convexity at u (prev in A, next in B) and at v (prev in B, next in A)
        ok = True
        for p, q, r in ((ra[-2], u, rb[1]), (rb[-2], v, ra[1])):
            cr, nrm = turn(p, q, r)
            if cr < -tol.clip * nrm:
                ok = False
                break
        if not ok:
            continue
        del owner[(u, v)], owner[(v, u)]
        cycles[a] = merged
        del cycles[b]
        for k in range(len(merged)):
            owner[(merged[k], merged[(k + 1) % len(merged)])] = a
    return pts, list(cycles.values())


def _cycle_neighbors(counts):
    """For concatenated cycles of the given lengths: (prev, next) index arrays."""
    total = int(np.sum(counts))
    start = np.repeat(np.cumsum(counts) - counts, counts)
    end = start + np.repeat(counts, counts) - 1
    idx = np.arange(total)
    nxt = np.where(idx == end, start, idx + 1)
    prv = np.where(idx == start, end, idx - 1)
    return prv, nxt


def _polygon_pieces(pts, cycles, density):
    """Convex ccw cycles (vertex indices into pts) -> ConvexPieces and areas (vectorised)."""
    counts = np.array([len(c) for c in cycles], dtype=np.int64)
    P = pts[np.concatenate(cycles)]
    # drop collinear vertices (they would give duplicate half-spaces)
    prv, nxt = _cycle_neighbors(counts)
    e1, e2 = P - P[prv], P[nxt] - P
    cr = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = np.abs(cr) > tol.clip * np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
    piece = np.repeat(np.arange(len(counts)), counts)
    P, piece = P[keep], piece[keep]
    counts = np.bincount(piece, minlength=len(counts))
    prv, nxt = _cycle_neighbors(counts)
    e = P[nxt] - P
    nrm = np.stack([e[:, 1], -e[:, 0]], axis=1)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    off = np.einsum("kd,kd->k", nrm, P)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    lo = np.minimum.reduceat(P, indptr[:-1], axis=0)
    hi = np.maximum.reduceat(P, indptr[:-1], axis=0)
    area = 0.5 * np.bincount(piece, weights=P[:, 0] * P[nxt, 1] - P[nxt, 0] * P[:, 1],
                             minlength=len(counts))
    nP = len(counts)
    pieces = ConvexPieces(nrm, off, indptr, lo, hi, np.ones(nP), np.full(nP, density))
    return pieces, area


def _regular_polygon(center, radius, resolution):
    t = 2.0 * np.pi * np.arange(resolution) / resolution
    return center[None, :] + radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def _convex_polytope_halfspaces(mesh):
    """Half-spaces (outward) of a convex trimesh, coplanar adjacent faces merged."""
    fn = np.asarray(mesh.face_normals, dtype=np.float64)
    v0 = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)[:, 0]]
    keep = np.ones(len(fn), dtype=bool)
    for group in mesh.facets:
        keep[np.asarray(group)[1:]] = False
    n = fn[keep]
    n = n / np.linalg.norm(n, axis=1, keepdims=True)
    return n, np.einsum("td,td->t", n, v0[keep])


def _signed_cone_tetrahedra(vertices, faces):
    """Signed cone decomposition: apex = vertex centroid, one tetra (c, a, b, f) per face.

    Returns tet (T, 4, 3), sign (T,), volume (T,) (unsigned), degenerate tetras removed.
    """
    c = vertices.mean(axis=0)
    a, b, f = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    vol = np.einsum("td,td->t", np.cross(a - c, b - c), f - c) / 6.0
    scale = max(float(np.ptp(vertices, axis=0).max()), 1e-300)
    keep = np.abs(vol) > tol.volume * scale ** 3
    tet = np.stack([np.broadcast_to(c, a.shape), a, b, f], axis=1)[keep]
    return np.ascontiguousarray(tet), np.sign(vol[keep]), np.abs(vol[keep])



def _fixed_rotation(d=3):
    """A fixed generic rotation (so that ray tests along its last axis avoid mesh edges)."""
    q, r = np.linalg.qr(np.random.default_rng(20190208).standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


class _RayParity:
    """Point-in-solid for a closed oriented triangle mesh by a vertical ray (winding number).

    The winding number of :math:`x` is :math:`\\sum` sign(:math:`n_z`) over the faces
    crossed by the ray :math:`\\{x + t e_z, t > 0\\}`; the mesh is first rotated by a fixed
    generic rotation so that the ray meets edges and vertices with probability 0 even for
    structured points.  Faces are bucketed on a uniform grid of their projections.
    """

    def __init__(self, vertices, faces):
        R = _fixed_rotation(3)
        self.R = R
        V = vertices @ R
        tri = V[faces]  # (F, 3, 3)
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        self.a, self.b, self.c = a, b, c
        self.det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        F = len(faces)
        lo2 = V[:, :2].min(axis=0)
        hi2 = V[:, :2].max(axis=0)
        G = int(max(1, min(512, np.ceil(np.sqrt(F) / 1.5))))
        self.lo2, self.G = lo2, G
        self.step = np.maximum((hi2 - lo2) / G, 1e-300)
        tlo = np.clip(((tri[:, :, :2].min(axis=1) - lo2) / self.step).astype(np.int64), 0, G - 1)
        thi = np.clip(((tri[:, :, :2].max(axis=1) - lo2) / self.step).astype(np.int64), 0, G - 1)
        nx = thi[:, 0] - tlo[:, 0] + 1
        ny = thi[:, 1] - tlo[:, 1] + 1
        cnt = nx * ny
        tid = np.repeat(np.arange(F), cnt)
        start = np.repeat(np.cumsum(cnt) - cnt, cnt)
        local = np.arange(tid.shape[0]) - start
        ix = tlo[tid, 0] + local % nx[tid]
        iy = tlo[tid, 1] + local // nx[tid]
        cell = ix * G + iy
        order = np.argsort(cell, kind="stable")
        self.cell_tri = tid[order]
        self.cell_ptr = np.searchsorted(cell[order], np.arange(G * G + 1))
        self.zmax = V[:, 2].max()

    def winding(self, x):
        out = np.zeros(len(x), dtype=np.int64)
        for s in range(0, len(x), 20000):
            out[s:s + 20000] = self._winding(x[s:s + 20000])
        return out

    def _winding(self, x):
        p = x @ self.R
        G = self.G
        ij = np.floor((p[:, :2] - self.lo2) / self.step).astype(np.int64)
        ok = np.all((ij >= 0) & (ij < G), axis=1) & (p[:, 2] <= self.zmax)
        cell = np.where(ok, ij[:, 0] * G + ij[:, 1], 0)
        cnt = np.where(ok, self.cell_ptr[cell + 1] - self.cell_ptr[cell], 0)
        pid = np.repeat(np.arange(len(p)), cnt)
        start = np.repeat(np.cumsum(cnt) - cnt, cnt)
        t = self.cell_tri[self.cell_ptr[cell[pid]] + np.arange(pid.shape[0]) - start]
        q = p[pid]
        a, b, c, det = self.a[t], self.b[t], self.c[t], self.det[t]
        # barycentric coordinates of the projection of q, scaled by det
        l1 = (q[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (q[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        l2 = (b[:, 0] - a[:, 0]) * (q[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (q[:, 0] - a[:, 0])
        l0 = det - l1 - l2
        sg = np.sign(det)
        inside = (sg != 0) & (l0 * sg >= 0) & (l1 * sg >= 0) & (l2 * sg >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (l0 * a[:, 2] + l1 * b[:, 2] + l2 * c[:, 2]) / det
        hit = inside & (z > q[:, 2])
        return np.bincount(pid[hit], weights=sg[hit], minlength=len(p)).round().astype(np.int64)


def _triangles_area(tri):
    u = tri[:, 1] - tri[:, 0]
    v = tri[:, 2] - tri[:, 0]
    return 0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def _sample_triangles(tri, weights, n, rng):
    """Uniform points in triangles (T, 3, 2) chosen with probabilities ~ weights."""
    p = weights / weights.sum()
    idx = rng.choice(len(tri), size=n, p=p)
    r1 = rng.random(n)
    r2 = rng.random(n)
    flip = r1 + r2 > 1
    r1[flip] = 1 - r1[flip]
    r2[flip] = 1 - r2[flip]
    t = tri[idx]
    return t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])


def _sample_boxes(lo, hi, weights, n, rng):
    p = weights / weights.sum()
    idx = rng.choice(len(lo), size=n, p=p)
    return lo[idx] + rng.random((n, lo.shape[1])) * (hi[idx] - lo[idx])


def _check_finite_scalar(x, name):
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return v


def _lo_hi(lo, hi, dim=None):
    lo = as_vector(lo, "lo")
    hi = as_vector(hi, "hi")
    if lo.shape != hi.shape:
        raise ValueError(f"lo and hi must have the same length, got {lo.shape[0]} and {hi.shape[0]}")
    if dim is not None and lo.shape[0] != dim:
        raise ValueError(f"lo and hi must have length {dim}, got {lo.shape[0]}")
    if lo.shape[0] < 1:
        raise ValueError("lo and hi must have at least one coordinate")
    if np.any(lo >= hi):
        k = int(np.argmax(lo >= hi))
        raise ValueError(f"lo must be < hi in every coordinate (coordinate {k}: lo={lo[k]}, hi={hi[k]})")
    return lo, hi


# ----------------------------------------------------------------------------------------------
# Domain
# ----------------------------------------------------------------------------------------------
class Domain:
    """An immutable source domain with a piecewise-constant density.

    Build one with a constructor: :meth:`box`, :meth:`polygon`, :meth:`disk`, :meth:`ball`,
    :meth:`mesh`, :meth:`image`, :meth:`triangulation`.

    The source measure is :math:`\\mu = \\rho\\, dx` restricted to the domain; its probability
    version is :math:`\\mu / \\mu(\\Omega)` with :math:`\\mu(\\Omega)` = :attr:`total_mass`.

    Example
    -------
    >>> from geomot import Domain
    >>> D = Domain.box([0, 0], [2, 1])
    >>> D.dim, D.volume
    (2, 2.0)
    >>> bool(D.contains([[1.0, 0.5]])[0])
    True
    """

    __slots__ = ("_kind", "_dim", "_params", "_pieces", "_piece_volumes", "_aux", "_cache")

    def __init__(self, *args, **kwargs):
        raise TypeError("use a constructor: Domain.box, Domain.polygon, Domain.disk, Domain.ball, "
                        "Domain.mesh, Domain.image or Domain.triangulation")

    @classmethod
    def _new(cls, kind, dim, params, pieces, piece_volumes, aux=None):
        self = object.__new__(cls)
        for k, v in params.items():
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
        pv = _frozen(piece_volumes, np.float64)
        for name, val in (("_kind", kind), ("_dim", int(dim)), ("_params", params),
                          ("_pieces", pieces), ("_piece_volumes", pv), ("_aux", aux or {}),
                          ("_cache", {})):
            object.__setattr__(self, name, val)
        return self

    def __setattr__(self, name, value):
        raise AttributeError("Domain is immutable")

    def __delattr__(self, name):
        raise AttributeError("Domain is immutable")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def box(cls, lo, hi):
        """Axis-aligned box :math:`[lo, hi] \\subset \\mathbb{R}^d`, any ``d >= 1``, uniform density.

        Parameters
        ----------
        lo, hi : (d,) array_like
            Lower and upper corners, ``lo < hi`` coordinatewise.

        Returns
        -------
        Domain
            One box piece; volume :math:`\\prod_k (hi_k - lo_k)`.

        Example
        -------
        >>> Domain.box([0, 0, 0], [1, 2, 3]).volume
        6.0
        """
        lo, hi = _lo_hi(lo, hi)
        d = lo.shape[0]
        return cls._new("box", d, {"lo": lo, "hi": hi}, _box_pieces(lo, hi),
                        [float(np.prod(hi - lo))])

    @classmethod
    def polygon(cls, geom, density=None, merge=True):
        """A 2D shapely ``Polygon``/``MultiPolygon`` (non-convex, with holes), uniform density.

        Parameters
        ----------
        geom : shapely.Polygon or shapely.MultiPolygon
            A valid geometry of positive area.
        density : float, optional
            The constant density (default 1); scales :attr:`total_mass` only.
        merge : bool
            Merge the triangles into larger convex polygons (Hertel-Mehlhorn: drop diagonals
            of the triangulation while the union stays convex; at most 4x the minimal number
            of convex pieces).  Fewer pieces make power diagrams faster.

        Returns
        -------
        Domain
            Pieces: the constrained Delaunay triangles of ``geom``
            (``shapely.constrained_delaunay_triangles``), merged into convex polygons if
            ``merge``.

        Raises
        ------
        ValueError
            Not a (multi)polygon, invalid geometry (the reason is given), zero area.

        Example
        -------
        >>> import shapely
        >>> D = Domain.polygon(shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1, 0.75)))
        >>> round(D.volume, 12)
        1.75
        """
        import shapely
        from shapely.validation import explain_validity

        if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
            raise ValueError(f"geom must be a shapely Polygon or MultiPolygon, got {type(geom).__name__}")
        if geom.is_empty:
            raise ValueError("geom is empty")
        if not np.all(np.isfinite(shapely.get_coordinates(geom))):
            raise ValueError("geom has NaN or inf coordinates")
        if shapely.get_coordinate_dimension(geom) != 2:
            raise ValueError("geom must be 2-D (no z coordinate)")
        if not geom.is_valid:
            zero = "has zero area and " if not geom.area > 0 else ""
            raise ValueError(f"geom {zero}is not a valid polygon: {explain_validity(geom)}")
        if not geom.area > 0:
            raise ValueError("geom has zero area")
        rho = 1.0 if density is None else as_positive_float(density, "density")
        tri = _polygon_triangles(geom)
        if len(tri) == 0:
            raise ValueError("geom has zero area (no triangle in its triangulation)")
        area = _triangles_area(tri)
        if merge:
            pieces, piece_area = _polygon_pieces(*_merge_convex(tri), rho)
        else:
            pieces, piece_area = _triangle_pieces(tri, np.full(len(tri), rho)), area
        params = {"wkb": np.array(shapely.to_wkb(geom, hex=True)), "density": np.array(rho),
                  "merge": np.array(bool(merge))}
        return cls._new("polygon", 2, params, pieces, piece_area,
                        {"geometry": geom, "triangles": tri, "tri_weights": area})

    @classmethod
    def disk(cls, center, radius, resolution=256):
        """A disk, as the regular ``resolution``-gon inscribed in the circle (uniform density).

        The vertices are :math:`c + r(\\cos\\theta_k, \\sin\\theta_k)`,
        :math:`\\theta_k = 2\\pi k / N`.  :attr:`volume` is the polygon's exact area

        .. math:: |P_N| = \\frac N2 r^2 \\sin\\frac{2\\pi}{N},

        not :math:`\\pi r^2` (relative difference :math:`\\approx 2\\pi^2/(3N^2)`).

        Parameters
        ----------
        center : (2,) array_like
        radius : float > 0
        resolution : int >= 3
            Number of sides.

        Returns
        -------
        Domain
            One convex polygon piece with ``resolution`` half-spaces.

        Example
        -------
        >>> D = Domain.disk([0, 0], 1.0, resolution=4)
        >>> round(D.volume, 12)
        2.0
        """
        c = as_vector(center, "center")
        if c.shape[0] != 2:
            raise ValueError(f"center must have 2 coordinates, got {c.shape[0]}")
        r = as_positive_float(radius, "radius")
        N = as_positive_int(resolution, "resolution", minimum=3)
        verts = _regular_polygon(c, r, N)
        phi = 2.0 * np.pi * (np.arange(N) + 0.5) / N
        nrm = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        off = nrm @ c + r * np.cos(np.pi / N)
        pieces = ConvexPieces(nrm, off, [0, N], verts.min(axis=0)[None], verts.max(axis=0)[None],
                              [1.0], [1.0])
        area = 0.5 * N * r * r * np.sin(2.0 * np.pi / N)
        fan = np.stack([np.broadcast_to(c, verts.shape), verts, np.roll(verts, -1, axis=0)], axis=1)
        params = {"center": c, "radius": np.array(r), "resolution": np.array(N, dtype=np.int64)}
        return cls._new("disk", 2, params, pieces, [area],
                        {"triangles": fan, "tri_weights": _triangles_area(fan), "vertices": verts})

    @classmethod
    def ball(cls, center, radius, subdivisions=3):
        """A 3D ball, as the convex polytope ``trimesh.creation.icosphere(subdivisions, radius)``.

        Its vertices lie on the sphere; :attr:`volume` is the polytope's exact volume (slightly
        less than :math:`\\frac43\\pi r^3`).

        Parameters
        ----------
        center : (3,) array_like
        radius : float > 0
        subdivisions : int >= 0
            Icosphere subdivisions (``20 * 4**subdivisions`` faces).

        Returns
        -------
        Domain
            One convex polytope piece (one half-space per face, coplanar faces merged).

        Example
        -------
        >>> D = Domain.ball([0, 0, 0], 1.0, subdivisions=2)
        >>> 4.0 < D.volume < 4.19
        True
        """
        import trimesh

        c = as_vector(center, "center")
        if c.shape[0] != 3:
            raise ValueError(f"center must have 3 coordinates, got {c.shape[0]}")
        r = as_positive_float(radius, "radius")
        s = as_positive_int(subdivisions, "subdivisions", minimum=0)
        mesh = trimesh.creation.icosphere(subdivisions=s, radius=r)
        mesh.apply_translation(c)
        nrm, off = _convex_polytope_halfspaces(mesh)
        v = np.asarray(mesh.vertices, dtype=np.float64)
        pieces = ConvexPieces(nrm, off, [0, len(off)], v.min(axis=0)[None], v.max(axis=0)[None],
                              [1.0], [1.0])
        params = {"center": c, "radius": np.array(r), "subdivisions": np.array(s, dtype=np.int64)}
        return cls._new("ball", 3, params, pieces, [float(mesh.volume)], {"mesh": mesh})

    @classmethod
    def mesh(cls, mesh):
        """A solid bounded by a watertight ``trimesh.Trimesh`` (3D), uniform density.

        Decomposed into signed cone tetrahedra: apex :math:`c` = vertex centroid, one
        tetrahedron :math:`(c, a, b, f)` per face :math:`(a, b, f)`, sign = sign of its signed
        volume (degenerate ones skipped).  For a closed oriented surface

        .. math:: \\mathbf 1_\\Omega = \\sum_p s_p\\,\\mathbf 1_{T_p} \\quad\\text{a.e.}

        Parameters
        ----------
        mesh : trimesh.Trimesh
            Watertight, consistently wound, outward normals, positive volume.

        Returns
        -------
        Domain

        Raises
        ------
        ValueError
            Not a Trimesh, not watertight, not a volume (inconsistent winding or inverted
            normals), zero volume.

        Example
        -------
        >>> import trimesh
        >>> D = Domain.mesh(trimesh.creation.box(extents=(1, 2, 3)))
        >>> round(D.volume, 12)
        6.0
        """
        import trimesh

        if not isinstance(mesh, trimesh.Trimesh):
            raise ValueError(f"mesh must be a trimesh.Trimesh, got {type(mesh).__name__}")
        V = np.array(mesh.vertices, dtype=np.float64)
        F = np.array(mesh.faces, dtype=np.int64)
        if V.ndim != 2 or V.shape[1] != 3 or len(F) < 4:
            raise ValueError("mesh must be a 3-D triangle mesh with at least 4 faces")
        if not np.all(np.isfinite(V)):
            raise ValueError("mesh has NaN or inf vertices")
        if not mesh.is_watertight:
            raise ValueError("mesh is not watertight (it has holes or non-manifold edges); "
                             "repair it first (e.g. trimesh.repair.fill_holes or pymeshfix)")
        if not mesh.is_winding_consistent:
            raise ValueError("mesh is not a volume: its face winding is inconsistent")
        vol = float(mesh.volume)
        scale = float(np.ptp(V, axis=0).max())
        if not abs(vol) > tol.volume * scale ** 3:
            raise ValueError("mesh has zero volume")
        if vol < 0:
            raise ValueError("mesh is not a volume: its normals point inwards (negative volume); "
                             "call mesh.invert() first")
        return cls._mesh_from_arrays(V, F)

    @classmethod
    def _mesh_from_arrays(cls, V, F):
        tet, sign, vol = _signed_cone_tetrahedra(V, F)
        nrm, off = _tetra_halfspaces(tet)
        T = len(tet)
        pieces = ConvexPieces(nrm, off, np.arange(0, 4 * T + 1, 4, dtype=np.int64),
                              tet.min(axis=1), tet.max(axis=1), sign, np.ones(T))
        return cls._new("mesh", 3, {"vertices": V, "faces": F}, pieces, vol)

    @classmethod
    def image(cls, values, lo, hi, origin="upper"):
        """Piecewise-constant density on a regular grid (2D image or 3D voxels).

        ``values`` has shape ``(ny, nx)`` in 2D, ``(nz, ny, nx)`` in 3D: the last array axis runs
        along :math:`x` (left to right), the first axis along the last coordinate.  With
        ``origin="upper"`` (default, like an image file / ``matplotlib.imshow``) index 0 of the
        first axis is at the top (``y = hi[1]`` in 2D, ``z = hi[2]`` in 3D); with
        ``origin="lower"`` it is at the bottom.  Pixel ``(i, j)`` (2D, upper) is the box

        .. math:: [lo_x + j\\,\\Delta x,\\ lo_x + (j+1)\\Delta x] \\times
                  [hi_y - (i+1)\\Delta y,\\ hi_y - i\\,\\Delta y].

        The domain is the support of the density: pixels of value 0 are left out (they are
        neither pieces nor in :attr:`volume`).

        Parameters
        ----------
        values : (ny, nx) or (nz, ny, nx) array_like
            Densities, finite, ``>= 0``, not all zero.
        lo, hi : (d,) array_like
            Corners of the grid.
        origin : {"upper", "lower"}

        Returns
        -------
        Domain
            One box piece per positive pixel, ``density`` = pixel value.

        Example
        -------
        >>> D = Domain.image([[1.0, 0.0], [2.0, 3.0]], [0, 0], [2, 2])
        >>> D.volume, D.total_mass
        (3.0, 6.0)
        """
        try:
            v = np.array(values, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"values must be a 2-D or 3-D array of float: {exc}") from None
        if v.ndim not in (2, 3) or min(v.shape) < 1:
            raise ValueError(f"values must be a non-empty 2-D (ny, nx) or 3-D (nz, ny, nx) array, "
                             f"got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("values contains NaN or inf")
        if np.any(v < 0):
            raise ValueError("values must be >= 0 everywhere")
        if not np.any(v > 0):
            raise ValueError("values are all zero")
        if origin not in ("upper", "lower"):
            raise ValueError(f"origin must be 'upper' or 'lower', got {origin!r}")
        d = v.ndim
        lo, hi = _lo_hi(lo, hi, dim=d)
        shape_xyz = v.shape[::-1]  # (nx, ny[, nz])
        step = (hi - lo) / np.array(shape_xyz, dtype=np.float64)
        idx = np.argwhere(v > 0)  # (P, d) array indices (axis0 = last coord)
        ijk = idx[:, ::-1].astype(np.float64)  # x index first
        if origin == "upper":
            ijk[:, -1] = shape_xyz[-1] - 1 - ijk[:, -1]
        plo = lo + ijk * step
        phi = lo + (ijk + 1) * step
        # snap the outer faces onto lo/hi exactly
        phi = np.where(ijk + 1 == np.array(shape_xyz), hi, phi)
        dens = v[tuple(idx.T)]
        pv = np.prod(phi - plo, axis=1)
        params = {"values": v, "lo": lo, "hi": hi, "origin": np.array(origin)}
        return cls._new("image", d, params, _box_pieces(plo, phi, dens), pv)

    @classmethod
    def triangulation(cls, vertices, triangles, density=None):
        """A 2D triangulation with a constant density per triangle.

        Parameters
        ----------
        vertices : (m, 2) array_like
        triangles : (T, 3) int array_like
            Vertex indices; triangles must not overlap (not checked beyond orientation).
        density : (T,) array_like, optional
            ``>= 0``, not all zero (default 1).  Triangles of density 0 are left out of the
            domain (it is the support of the density).

        Returns
        -------
        Domain
            One triangle piece per triangle of positive density.

        Example
        -------
        >>> D = Domain.triangulation([[0, 0], [1, 0], [1, 1], [0, 1]], [[0, 1, 2], [0, 2, 3]],
        ...                          [1.0, 3.0])
        >>> D.volume, D.total_mass
        (1.0, 2.0)
        """
        V = as_points(vertices, "vertices", dim=2, min_rows=3)
        try:
            Tr = np.array(triangles, copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"triangles must be a (T, 3) integer array: {exc}") from None
        if Tr.ndim != 2 or Tr.shape[1] != 3 or Tr.shape[0] < 1:
            raise ValueError(f"triangles must be a (T, 3) integer array, got shape {Tr.shape}")
        if not np.issubdtype(Tr.dtype, np.integer):
            if not np.all(np.isfinite(Tr.astype(np.float64))) or np.any(Tr != np.round(Tr)):
                raise ValueError("triangles must contain integer vertex indices")
        Tr = Tr.astype(np.int64)
        if Tr.min() < 0 or Tr.max() >= len(V):
            raise ValueError(f"triangles has indices outside [0, {len(V)})")
        T = Tr.shape[0]
        dens = np.ones(T) if density is None else as_vector(density, "density", n=T, nonnegative=True)
        if len(dens) != T:
            raise ValueError(f"density must have length {T}")
        if not np.any(dens > 0):
            raise ValueError("density is zero on every triangle")
        tri, cross = _orient_ccw(V[Tr])
        scale = max(float(np.ptp(V, axis=0).max()), 1e-300)
        degenerate = np.abs(cross) <= tol.volume * scale ** 2
        if np.any(degenerate):
            raise ValueError(f"triangles has a degenerate (zero-area) triangle at index "
                             f"{int(np.argmax(degenerate))}")
        keep = dens > 0
        tri = np.ascontiguousarray(tri[keep])
        area = _triangles_area(tri)
        params = {"vertices": V, "triangles": Tr, "density": dens}
        return cls._new("triangulation", 2, params, _triangle_pieces(tri, dens[keep]), area,
                        {"triangles": tri, "tri_weights": area * dens[keep]})

    # ------------------------------------------------------------------ properties
    @property
    def kind(self):
        """str: the constructor used (``"box"``, ``"polygon"``, ``"disk"``, ``"ball"``,
        ``"mesh"``, ``"image"`` or ``"triangulation"``)."""
        return self._kind

    @property
    def dim(self):
        """int: dimension ``d``."""
        return self._dim

    @property
    def pieces(self):
        """ConvexPieces: the convex decomposition used by the exact computations."""
        return self._pieces

    @property
    def piece_volumes(self):
        """(P,) float64: unsigned Lebesgue measure of each piece (read-only)."""
        return self._piece_volumes

    @property
    def volume(self):
        """float: Lebesgue measure :math:`\\sum_p s_p |K_p|` (area in 2D)."""
        return float(np.sum(self._pieces.sign * self._piece_volumes))

    @property
    def total_mass(self):
        """float: :math:`\\int \\rho\\,dx = \\sum_p s_p \\rho_p |K_p|`."""
        return float(np.sum(self._pieces.sign * self._pieces.density * self._piece_volumes))

    @property
    def is_uniform(self):
        """bool: the density is the same constant on every piece."""
        d = self._pieces.density
        return bool(np.all(d == d[0]))

    @property
    def bounds(self):
        """(2, d) float64: ``[lo, hi]`` of the domain's bounding box (read-only copy)."""
        p = self._pieces
        b = np.stack([p.lo.min(axis=0), p.hi.max(axis=0)])
        b.flags.writeable = False
        return b

    @property
    def geometry(self):
        """The domain as a geometry object: shapely in 2D, ``trimesh.Trimesh`` in 3D for
        box / ball / mesh, ``None`` otherwise (d = 1, d > 3, 3D images)."""
        if "geometry" not in self._cache:
            self._cache["geometry"] = self._make_geometry()
        g = self._cache["geometry"]
        if g is not None and self._dim == 3:
            return g.copy()  # trimesh objects are mutable: hand out copies
        return g

    def _make_geometry(self):
        import shapely

        k, d = self._kind, self._dim
        if d == 2:
            if k == "box":
                lo, hi = self._params["lo"], self._params["hi"]
                return shapely.box(lo[0], lo[1], hi[0], hi[1])
            if k == "polygon":
                return self._aux["geometry"]
            if k == "disk":
                return shapely.Polygon(self._aux["vertices"])
            if k == "image":
                p = self._pieces
                return shapely.unary_union(shapely.box(p.lo[:, 0], p.lo[:, 1], p.hi[:, 0], p.hi[:, 1]))
            if k == "triangulation":
                return shapely.unary_union(shapely.polygons(self._aux["triangles"]))
        if d == 3:
            import trimesh

            if k == "box":
                lo, hi = self._params["lo"], self._params["hi"]
                return trimesh.creation.box(bounds=np.stack([lo, hi]))
            if k == "ball":
                return self._aux["mesh"].copy()
            if k == "mesh":
                return trimesh.Trimesh(self._params["vertices"].copy(), self._params["faces"].copy(),
                                       process=False)
        return None

    # ------------------------------------------------------------------ queries
    def contains(self, x):
        """Whether points lie in the (closed) domain.

        Parameters
        ----------
        x : (n, d) array_like

        Returns
        -------
        (n,) bool

        Example
        -------
        >>> Domain.disk([0, 0], 1.0).contains([[0.5, 0.5], [1.0, 1.0]]).tolist()
        [True, False]
        """
        x = as_points(x, "x", dim=self._dim, min_rows=0)
        k = self._kind
        if k == "box":
            return np.all((x >= self._params["lo"]) & (x <= self._params["hi"]), axis=1)
        if k in ("disk", "ball"):
            p = self._pieces
            slack = tol.clip * max(1.0, float(np.abs(p.hi).max()), float(np.abs(p.lo).max()))
            return np.all(x @ p.normals.T <= p.offsets + slack, axis=1)
        if k == "polygon":
            import shapely

            return shapely.intersects_xy(self._aux["geometry"], x[:, 0], x[:, 1])
        if k == "mesh":
            return self._mesh_contains(x)
        if k == "image":
            v, lo, hi = self._params["values"], self._params["lo"], self._params["hi"]
            shape_xyz = np.array(v.shape[::-1])
            inside = np.all((x >= lo) & (x <= hi), axis=1)
            ijk = np.floor((x - lo) / (hi - lo) * shape_xyz).astype(np.int64)
            ijk = np.clip(ijk, 0, shape_xyz - 1)
            if str(self._params["origin"]) == "upper":
                ijk[:, -1] = shape_xyz[-1] - 1 - ijk[:, -1]
            return inside & (v[tuple(ijk[:, ::-1].T)] > 0)
        if k == "triangulation":
            import shapely

            tree = self._cache.get("strtree")
            if tree is None:
                tree = shapely.STRtree(shapely.polygons(self._aux["triangles"]))
                self._cache["strtree"] = tree
            pts = shapely.points(x)
            hit = tree.query(pts, predicate="intersects")
            out = np.zeros(len(x), dtype=bool)
            out[hit[0]] = True
            return out
        raise NotImplementedError(k)  # pragma: no cover

    def _mesh_contains(self, x):
        rp = self._cache.get("ray_parity")
        if rp is None:
            rp = _RayParity(self._params["vertices"], self._params["faces"])
            self._cache["ray_parity"] = rp
        out = np.zeros(len(x), dtype=bool)
        b = self.bounds
        inb = np.all((x >= b[0]) & (x <= b[1]), axis=1)
        if np.any(inb):
            out[inb] = rp.winding(x[inb]) > 0
        return out

    def sample(self, n, seed=None):
        """Random points distributed as the source measure (uniform for uniform domains).

        Non-uniform domains: a piece is drawn with probability proportional to its mass,
        then a uniform point in it.  Meshes and balls: rejection in the bounding box.

        Parameters
        ----------
        n : int >= 0
        seed : None, int or numpy.random.Generator

        Returns
        -------
        (n, d) float64

        Example
        -------
        >>> x = Domain.box([0, 0], [2, 1]).sample(1000, seed=0)
        >>> x.shape, bool(x[:, 0].max() <= 2)
        ((1000, 2), True)
        """
        n = as_positive_int(n, "n", minimum=0)
        rng = as_rng(seed)
        k, d = self._kind, self._dim
        if n == 0:
            return np.zeros((0, d))
        if k == "box":
            lo, hi = self._params["lo"], self._params["hi"]
            return lo + rng.random((n, d)) * (hi - lo)
        if k in ("polygon", "disk", "triangulation"):
            return _sample_triangles(self._aux["triangles"], self._aux["tri_weights"], n, rng)
        if k == "image":
            p = self._pieces
            return _sample_boxes(p.lo, p.hi, p.density * self._piece_volumes, n, rng)
        # rejection in the bounding box (ball, mesh)
        b = self.bounds
        frac = max(self.volume / float(np.prod(b[1] - b[0])), 1e-3)
        out = []
        have = 0
        while have < n:
            m = int(min(max(1.3 * (n - have) / frac, 64), 2_000_000))
            cand = b[0] + rng.random((m, d)) * (b[1] - b[0])
            cand = cand[self.contains(cand)]
            out.append(cand)
            have += len(cand)
        return np.ascontiguousarray(np.concatenate(out)[:n])

    def inscribed_ball(self):
        """A ball contained in the domain where the density is positive.

        Returns
        -------
        center : (d,) float64
        radius : float

        Notes
        -----
        polygon: ``shapely.maximum_inscribed_circle``; disk / ball: exact for the polygon /
        polytope; box: centre and half the smallest side; mesh: the best of 1000 interior
        sample points by distance to the surface; image: the centre of the max-density pixel with half
        its smallest side; triangulation: the largest incircle of a positive triangle.

        Example
        -------
        >>> Domain.box([0, 0], [2, 1]).inscribed_ball()
        (array([1. , 0.5]), 0.5)
        """
        if "inscribed" not in self._cache:
            self._cache["inscribed"] = self._inscribed_ball()
        c, r = self._cache["inscribed"]
        return c.copy(), r

    def _inscribed_ball(self):
        k = self._kind
        p = self._pieces
        if k == "box":
            lo, hi = self._params["lo"], self._params["hi"]
            return 0.5 * (lo + hi), float(0.5 * np.min(hi - lo))
        if k in ("disk", "ball"):
            c = np.array(self._params["center"])
            return c, float(np.min(p.offsets - p.normals @ c))
        if k == "polygon":
            import shapely

            geom = self._aux["geometry"]
            parts = shapely.get_parts(geom)
            best = None
            for part in parts:
                tolr = 1e-4 * max(np.sqrt(part.area), 1e-300)
                line = shapely.maximum_inscribed_circle(part, tolr)
                c = shapely.get_coordinates(line)[0]
                r = float(line.length)
                if best is None or r > best[1]:
                    best = (np.array(c, dtype=np.float64), r)
            return best
        if k == "mesh":
            import trimesh

            mesh = self._make_geometry()
            pts = self.sample(1000, seed=0)  # interior points: distance = distance to surface
            _, dist, _ = trimesh.proximity.closest_point(mesh, pts)
            i = int(np.argmax(dist))
            return np.array(pts[i]), float(dist[i])
        if k == "image":
            i = int(np.argmax(p.density))
            return 0.5 * (p.lo[i] + p.hi[i]), float(0.5 * np.min(p.hi[i] - p.lo[i]))
        if k == "triangulation":
            tri = self._aux["triangles"]
            a = np.linalg.norm(tri[:, 1] - tri[:, 2], axis=1)
            b = np.linalg.norm(tri[:, 2] - tri[:, 0], axis=1)
            c = np.linalg.norm(tri[:, 0] - tri[:, 1], axis=1)
            s = a + b + c
            r = 2.0 * _triangles_area(tri) / s
            i = int(np.argmax(r))
            center = (a[i] * tri[i, 0] + b[i] * tri[i, 1] + c[i] * tri[i, 2]) / s[i]
            return center, float(r[i])
        raise NotImplementedError(k)  # pragma: no cover

    # ------------------------------------------------------------------ serialisation
    def to_arrays(self):
        """The domain as a dict of numpy arrays (numbers and strings only; ``np.savez``-able).

        Returns
        -------
        dict of str -> numpy.ndarray
            ``"kind"`` (0-d str array) and the constructor's parameters.

        Example
        -------
        >>> D = Domain.disk([0, 0], 1.0)
        >>> Domain.from_arrays(D.to_arrays()) == D
        True
        """
        out = {"kind": np.array(self._kind)}
        for key, v in self._params.items():
            out[key] = np.array(v, copy=True)
        return out

    @classmethod
    def from_arrays(cls, arrays):
        """Rebuild a :class:`Domain` from :meth:`to_arrays` output (e.g. an ``np.load`` file).

        Parameters
        ----------
        arrays : mapping of str -> array_like

        Returns
        -------
        Domain

        Example
        -------
        >>> D = Domain.box([0, 0], [1, 1])
        >>> Domain.from_arrays(D.to_arrays()) == D
        True
        """
        try:
            kind = str(np.asarray(arrays["kind"]))
        except (KeyError, TypeError):
            raise ValueError("arrays must be a mapping with a 'kind' entry (from Domain.to_arrays)") from None
        if kind not in _KINDS:
            raise ValueError(f"arrays['kind'] must be one of {_KINDS}, got {kind!r}")

        def get(key):
            try:
                return np.asarray(arrays[key])
            except KeyError:
                raise ValueError(f"arrays is missing the entry {key!r} for a {kind} domain") from None

        if kind == "box":
            return cls.box(get("lo"), get("hi"))
        if kind == "polygon":
            import shapely

            merge = bool(arrays["merge"]) if "merge" in arrays else True
            return cls.polygon(shapely.from_wkb(str(get("wkb"))), float(get("density")), merge=merge)
        if kind == "disk":
            return cls.disk(get("center"), float(get("radius")), int(get("resolution")))
        if kind == "ball":
            return cls.ball(get("center"), float(get("radius")), int(get("subdivisions")))
        if kind == "mesh":
            import trimesh

            V = as_points(get("vertices"), "vertices", dim=3)
            F = np.array(get("faces"), dtype=np.int64)
            if F.ndim != 2 or F.shape[1] != 3 or F.size == 0 or F.min() < 0 or F.max() >= len(V):
                raise ValueError("arrays['faces'] must be a (F, 3) array of vertex indices")
            return cls.mesh(trimesh.Trimesh(V, F, process=False))
        if kind == "image":
            return cls.image(get("values"), get("lo"), get("hi"), origin=str(get("origin")))
        return cls.triangulation(get("vertices"), get("triangles"), get("density"))

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        if not isinstance(other, Domain):
            return NotImplemented
        if self._kind != other._kind or self._params.keys() != other._params.keys():
            return False
        return all(np.array_equal(self._params[k], other._params[k]) for k in self._params)

    def __hash__(self):
        h = [self._kind]
        for k in sorted(self._params):
            v = np.asarray(self._params[k])
            h.append((k, v.shape, v.tobytes() if v.dtype.kind != "U" else str(v)))
        return hash(tuple(h))

    def __repr__(self):
        p = self._params
        k = self._kind
        if k == "box":
            return f"Domain.box(lo={p['lo'].tolist()}, hi={p['hi'].tolist()})"
        if k == "disk":
            return (f"Domain.disk(center={p['center'].tolist()}, radius={float(p['radius'])}, "
                    f"resolution={int(p['resolution'])})")
        if k == "ball":
            return (f"Domain.ball(center={p['center'].tolist()}, radius={float(p['radius'])}, "
                    f"subdivisions={int(p['subdivisions'])})")
        b = self.bounds
        return (f"<Domain {k}: dim={self._dim}, pieces={self._pieces.num_pieces}, "
                f"volume={self.volume:.6g}, bounds={b[0].tolist()}..{b[1].tolist()}>")

    def __reduce__(self):
        return (Domain.from_arrays, (self.to_arrays(),))
