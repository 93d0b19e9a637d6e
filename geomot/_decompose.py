"""Decompositions of domains into convex pieces, point location and uniform sampling of pieces.

The one source for: constrained Delaunay triangulation of polygons (also used by
:meth:`geomot.BrenierPotential.graph`), Hertel-Mehlhorn merging of triangles into convex
polygons, half-spaces of triangles, tetrahedra and convex polytopes, the signed cone
decomposition of a closed surface

.. math:: \\mathbf 1_\\Omega = \\sum_f \\operatorname{sign}(T_f)\\, \\mathbf 1_{T_f}
          \\quad\\text{a.e.},\\qquad T_f = \\operatorname{conv}(c, a_f, b_f, c_f),

point-in-solid by the winding number along a ray, and uniform sampling of triangles, boxes and
tetrahedra.  Everything here only computes: the kinds in ``_domain_kinds`` validate first.

Coordinates are rescaled by exact powers of two (:func:`exponent2`) before products are formed,
so areas, volumes and normals neither overflow nor underflow for any domain whose measures are
representable, and equal bit for bit the unscaled formulas wherever those do not (the frozen
file format's pieces); areas of convex pieces are summed about each piece's first vertex, so a
domain far from the origin keeps its digits.

References
----------
.. [1] S. Hertel, K. Mehlhorn, "Fast triangulation of simple polygons", FCT 1983, LNCS 158.
"""

from __future__ import annotations

import numpy as np

from ._pieces import ConvexPieces
from ._tol import tol

__all__ = ["exponent2", "unit_rows", "box_volumes", "degenerate_triangles", "unit_geometry",
           "orient_ccw", "triangles_area", "triangle_pieces", "polygon_triangles", "merge_convex",
           "polygon_pieces", "regular_polygon", "convex_polytope_halfspaces",
           "signed_cone_tetrahedra", "tetra_pieces", "RayParity", "sample_triangles",
           "sample_boxes", "sample_tetrahedra", "rejection_sample", "incircles"]


# ---------------------------------------------------------------------------------- scaling
# Computations on coordinates run on copies scaled by a power of two (exact: no rounding), so
# that squares and cross products of any representable domain neither overflow nor underflow,
# and give bit for bit what the unscaled formula gives wherever that one does not.
def exponent2(a):
    """The integer ``e`` with ``max |a| = m 2**e``, ``0.5 <= m < 1`` (0 for an all-zero ``a``)."""
    m = float(np.max(np.abs(a))) if np.size(a) else 0.0
    return int(np.frexp(m)[1]) if m > 0 and np.isfinite(m) else 0


def unit_rows(v):
    """Rows of ``v`` (n, d) divided by their length, without overflow or underflow."""
    m = np.max(np.abs(v), axis=1, keepdims=True)
    e = np.frexp(np.where(m > 0, m, 1.0))[1]
    w = np.ldexp(v, -e)
    return w / np.linalg.norm(w, axis=1, keepdims=True)


def _cross2(tri, e=None):
    """tri (T, 3, 2) -> (signed doubled areas in units of ``4**e``, e); ``e`` defaults to
    :func:`exponent2` of ``tri``."""
    e = exponent2(tri) if e is None else e
    t = np.ldexp(tri, -e)
    u = t[:, 1] - t[:, 0]
    v = t[:, 2] - t[:, 0]
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0], e


def box_volumes(lo, hi):
    """Corners (P, d) -> (P,) volumes :math:`\\prod_k (hi_k - lo_k)` (``hi - lo`` finite).

    The product runs on the mantissas with the exponents summed apart, so it overflows or
    underflows only when the volume itself is not representable (``inf`` / 0 then), and equals
    ``np.prod(hi - lo, axis=1)`` bit for bit wherever that one does not.
    """
    m, k = np.frexp(np.asarray(hi, dtype=np.float64) - np.asarray(lo, dtype=np.float64))
    M, k2 = np.frexp(np.prod(m, axis=1))
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(M, np.sum(k, axis=1) + k2)


# ---------------------------------------------------------------------------------- triangles
def orient_ccw(tri):
    """tri (T, 3, 2) -> counter-clockwise copy and the signed doubled areas before orienting."""
    cross, e = _cross2(tri)
    out = tri.copy()
    neg = cross < 0
    out[neg] = out[neg][:, ::-1]
    with np.errstate(over="ignore", under="ignore"):
        return out, np.ldexp(cross, 2 * e)


def triangles_area(tri):
    """tri (T, 3, 2) -> (T,) unsigned areas (``inf`` / 0 where they are not representable)."""
    cross, e = _cross2(tri)
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(0.5 * np.abs(cross), 2 * e)


def degenerate_triangles(tri, points=None):
    """(T,) bool: doubled area at most ``tol.volume * scale**2``, ``scale`` the largest extent of
    ``points`` (n, 2) (default: of the triangles), all at unit size."""
    pts = tri.reshape(-1, 2) if points is None else points
    e = exponent2(pts)
    cross, _ = _cross2(tri, e)
    scale = max(float(np.ptp(np.ldexp(pts, -e), axis=0).max()), 1e-300)
    return np.abs(cross) <= tol.volume * scale ** 2


def _triangle_halfspaces(tri):
    """tri (T, 3, 2) counter-clockwise -> normals (3T, 2), offsets (3T,)."""
    a = tri
    t = np.ldexp(tri, -exponent2(tri))
    e = np.roll(t, -1, axis=1) - t
    nrm = unit_rows(np.stack([e[..., 1], -e[..., 0]], axis=-1).reshape(-1, 2)).reshape(a.shape)
    off = np.einsum("tkd,tkd->tk", nrm, a)
    return nrm.reshape(-1, 2), off.reshape(-1)


def triangle_pieces(tri, density):
    """tri (T, 3, 2) ccw, density (T,) -> ConvexPieces with 3 half-spaces per triangle."""
    T = tri.shape[0]
    nrm, off = _triangle_halfspaces(tri)
    return ConvexPieces(nrm, off, np.arange(0, 3 * T + 1, 3, dtype=np.int64),
                        tri.min(axis=1), tri.max(axis=1), np.ones(T), density)


def unit_geometry(geom, limit=100):
    """``geom`` itself, or, when its coordinates reach beyond ``2**±limit``, a copy rescaled
    exactly by a power of two to unit size (GEOS's products of coordinates overflow from
    ``1e154`` on; its results are otherwise the same at any power-of-two scale)."""
    import shapely

    e = exponent2(shapely.get_coordinates(geom))
    if abs(e) <= limit:
        return geom
    return shapely.transform(geom, lambda c: np.ldexp(c, -e))


def polygon_triangles(geom):
    """Constrained Delaunay triangles of a shapely (Multi)Polygon -> (T, 3, 2) ccw, non-degenerate.

    Triangles of area at most ``tol.volume * scale**2`` (slivers of collinear boundary
    vertices) are dropped; an empty or zero-area geometry gives ``(0, 3, 2)``.

    Example
    -------
    >>> import shapely
    >>> polygon_triangles(shapely.box(0, 0, 2, 1)).shape
    (2, 3, 2)
    """
    import shapely

    if geom.is_empty:
        return np.zeros((0, 3, 2))
    e = exponent2(shapely.get_coordinates(geom))
    work = unit_geometry(geom)
    if not work.area > 0:
        return np.zeros((0, 3, 2))
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(work))
    if len(tris) == 0:
        return np.zeros((0, 3, 2))
    coords = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(len(tris), 4, 2)[:, :3]
    if work is not geom:
        coords = np.ldexp(coords, e)
    tri, _ = orient_ccw(coords)
    keep = ~degenerate_triangles(coords)
    return np.ascontiguousarray(tri[keep])


def incircles(tri):
    """Incircles of triangles (T, 3, 2): centres (T, 2), radii (T,)."""
    e = exponent2(tri)
    t = np.ldexp(tri, -e)  # side lengths and the weighted mean at unit size
    a = np.hypot(*(t[:, 1] - t[:, 2]).T)
    b = np.hypot(*(t[:, 2] - t[:, 0]).T)
    c = np.hypot(*(t[:, 0] - t[:, 1]).T)
    s = a + b + c
    centre = (a[:, None] * t[:, 0] + b[:, None] * t[:, 1] + c[:, None] * t[:, 2]) / s[:, None]
    cross, ec = _cross2(t)
    return np.ldexp(centre, e), np.ldexp(np.abs(cross) / s, e + 2 * ec)


# ---------------------------------------------------------------------------------- polygons
def merge_convex(tri):
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

    xy = np.ldexp(pts, -exponent2(pts)).tolist()  # exact rescaling: squares below cannot overflow

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


def polygon_pieces(pts, cycles, density):
    """Convex ccw cycles (vertex indices into pts) -> ConvexPieces and areas (vectorised)."""
    counts = np.array([len(c) for c in cycles], dtype=np.int64)
    P = pts[np.concatenate(cycles)]
    # drop collinear vertices (they would give duplicate half-spaces)
    prv, nxt = _cycle_neighbors(counts)
    S = np.ldexp(P, -exponent2(P))  # exact rescaling: the products below cannot overflow
    e1, e2 = S - S[prv], S[nxt] - S
    cr = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = np.abs(cr) > tol.clip * np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
    piece = np.repeat(np.arange(len(counts)), counts)
    P, piece = P[keep], piece[keep]
    counts = np.bincount(piece, minlength=len(counts))
    prv, nxt = _cycle_neighbors(counts)
    ex = exponent2(P)
    S = np.ldexp(P, -ex)
    e = S[nxt] - S
    nrm = unit_rows(np.stack([e[:, 1], -e[:, 0]], axis=1))
    off = np.einsum("kd,kd->k", nrm, P)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    lo = np.minimum.reduceat(P, indptr[:-1], axis=0)
    hi = np.maximum.reduceat(P, indptr[:-1], axis=0)
    # shoelace about each piece's first vertex: absolute coordinates would cancel catastrophically
    # far from the origin (a unit square at 1e8 has x*y ~ 1e16)
    R = S - S[np.repeat(indptr[:-1], counts)]
    with np.errstate(over="ignore", under="ignore"):
        area = np.ldexp(0.5 * np.bincount(piece, weights=R[:, 0] * R[nxt, 1] - R[nxt, 0] * R[:, 1],
                                          minlength=len(counts)), 2 * ex)
    nP = len(counts)
    pieces = ConvexPieces(nrm, off, indptr, lo, hi, np.ones(nP), np.full(nP, density))
    return pieces, area


def regular_polygon(center, radius, resolution):
    """The ``resolution`` vertices :math:`c + r(\\cos\\theta_k, \\sin\\theta_k)`, ccw."""
    t = 2.0 * np.pi * np.arange(resolution) / resolution
    return center[None, :] + radius * np.stack([np.cos(t), np.sin(t)], axis=1)


# ---------------------------------------------------------------------------------- solids
def convex_polytope_halfspaces(vertices, faces):
    """Outward half-spaces of a convex polytope's triangle faces (outward winding), one per face.

    The normals are trimesh's (``trimesh.triangles.cross``, unitised, normalised again: the
    bytes of the frozen format), but unitised after an exact power-of-two rescaling of each
    cross product, so that no face of a small polytope falls under trimesh's absolute ``tol.zero``
    (a ball of radius 1e-6 had NaN normals).  No faces are merged: an icosphere has no two
    coplanar faces, and merging by trimesh's absolute tolerance merged the faces of small or
    finely divided ones (subdivisions 7 collapsed to one half-space).
    """
    import trimesh

    t = vertices[faces]
    cr = trimesh.triangles.cross(t)
    n = unit_rows(cr)  # rows rescaled exactly, then unitised
    m = np.max(np.abs(cr), axis=1, keepdims=True)
    e = np.frexp(np.where(m > 0, m, 1.0))[1]
    u, valid = trimesh.util.unitize(np.ldexp(cr, -e), check_valid=True)
    if np.all(valid):  # trimesh's own unitisation: the same bytes as before for any size
        n = u
    n = n / np.linalg.norm(n, axis=1, keepdims=True)
    return n, np.einsum("td,td->t", n, t[:, 0])


def _tetra_halfspaces(tet):
    """tet (T, 4, 3), any orientation -> outward normals (4T, 3), offsets (4T,) (face k opposite vertex k)."""
    T = tet.shape[0]
    nrm = np.empty((T, 4, 3))
    off = np.empty((T, 4))
    t = np.ldexp(tet, -exponent2(tet))  # exact rescaling: cross products cannot overflow
    for k in range(4):
        face = [i for i in range(4) if i != k]
        a, b, c = t[:, face[0]], t[:, face[1]], t[:, face[2]]
        n = np.cross(b - a, c - a)
        # orient away from the opposite vertex
        s = np.einsum("td,td->t", n, t[:, k] - a)
        n[s > 0] *= -1
        n = unit_rows(n)
        nrm[:, k] = n
        off[:, k] = np.einsum("td,td->t", n, tet[:, face[0]])
    return nrm.reshape(-1, 3), off.reshape(-1)


def signed_cone_tetrahedra(vertices, faces, apex=None):
    """Signed cone decomposition: one tetra (c, a, b, f) per face, apex c (default: vertex centroid).

    Returns tet (T, 4, 3), sign (T,), volume (T,) (unsigned), degenerate tetras removed.  The
    volumes are computed at unit size (exact power-of-two rescaling) and are ``inf`` or 0 where
    they are not representable in float64.
    """
    ex = exponent2(vertices)
    S = np.ldexp(vertices, -ex)
    cs = S.mean(axis=0) if apex is None else np.ldexp(np.asarray(apex, dtype=np.float64), -ex)
    c = np.ldexp(cs, ex)
    a, b, f = S[faces[:, 0]], S[faces[:, 1]], S[faces[:, 2]]
    vol = np.einsum("td,td->t", np.cross(a - cs, b - cs), f - cs) / 6.0
    scale = max(float(np.ptp(S, axis=0).max()), 1e-300)
    keep = np.abs(vol) > tol.volume * scale ** 3
    A, B, Fv = (vertices[faces[keep, k]] for k in range(3))
    tet = np.stack([np.broadcast_to(c, A.shape), A, B, Fv], axis=1)
    with np.errstate(over="ignore", under="ignore"):
        return np.ascontiguousarray(tet), np.sign(vol[keep]), np.ldexp(np.abs(vol[keep]), 3 * ex)


def tetra_pieces(tet, sign):
    """tet (T, 4, 3), sign (T,) -> ConvexPieces with 4 half-spaces per tetrahedron, density 1."""
    nrm, off = _tetra_halfspaces(tet)
    T = len(tet)
    return ConvexPieces(nrm, off, np.arange(0, 4 * T + 1, 4, dtype=np.int64),
                        tet.min(axis=1), tet.max(axis=1), sign, np.ones(T))


def _fixed_rotation(d=3):
    """A fixed generic rotation (so that ray tests along its last axis avoid mesh edges)."""
    q, r = np.linalg.qr(np.random.default_rng(20190208).standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


class RayParity:
    """Point-in-solid for a closed oriented triangle mesh by a vertical ray (winding number).

    The winding number of :math:`x` is :math:`\\sum` sign(:math:`n_z`) over the faces
    crossed by the ray :math:`\\{x + t e_z, t > 0\\}`; the mesh is first rotated by a fixed
    generic rotation so that the ray meets edges and vertices with probability 0 even for
    structured points.  Faces are bucketed on a uniform grid of their projections.
    """

    def __init__(self, vertices, faces):
        R = _fixed_rotation(3)
        self.R = R
        # centred first: far from the origin the rotation would round away the mesh's detail
        self.mid = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
        V = (vertices - self.mid) @ R
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
        """(n,) int64 winding numbers of the points ``x`` (n, 3)."""
        out = np.zeros(len(x), dtype=np.int64)
        for s in range(0, len(x), 20000):
            out[s:s + 20000] = self._winding(x[s:s + 20000])
        return out

    def _winding(self, x):
        p = (x - self.mid) @ self.R
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


# ---------------------------------------------------------------------------------- sampling
#: most candidate points a rejection sampler may draw (about a minute of point location)
MAX_CANDIDATES = 1e9


def sample_triangles(tri, weights, n, rng):
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


def sample_boxes(lo, hi, weights, n, rng):
    """Uniform points in boxes ``[lo_p, hi_p]`` (P, d) chosen with probabilities ~ weights."""
    p = weights / weights.sum()
    idx = rng.choice(len(lo), size=n, p=p)
    return lo[idx] + rng.random((n, lo.shape[1])) * (hi[idx] - lo[idx])


def sample_tetrahedra(tet, weights, n, rng):
    """Uniform points in tetrahedra (T, 4, 3) chosen with probabilities ~ weights.

    Barycentric coordinates uniform on the simplex: normalised standard exponentials
    (a flat Dirichlet), so no point is rejected.
    """
    p = weights / weights.sum()
    idx = rng.choice(len(tet), size=n, p=p)
    w = rng.standard_exponential((n, 4))
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", w, tet[idx])


def rejection_sample(contains, bounds, volume, n, rng):
    """``n`` uniform points of a region by rejection in its bounding box ``bounds`` (2, d).

    ``contains`` maps (m, d) points to (m,) bool; batches are sized from the volume fraction
    :math:`f = |\\Omega| / |\\text{box}|`.  The loop is bounded: ``ValueError`` up front when
    the box is too empty to sample from (:math:`n / f` candidates above :data:`MAX_CANDIDATES`),
    ``RuntimeError`` once the candidates drawn should have given :math:`n + 10\\sqrt n + 50`
    points (a chance below :math:`e^{-25}` for a correct ``contains``): ``contains`` and
    ``volume`` then disagree.  It never hangs.
    """
    d = bounds.shape[1]
    e = exponent2(bounds)
    box = np.ldexp(float(np.prod(np.ldexp(bounds[1] - bounds[0], -e))), d * e)
    frac = min(volume / box, 1.0) if box > 0 else 0.0
    if not frac > 0 or n / frac > MAX_CANDIDATES:
        raise ValueError(f"the domain fills only {frac:.3g} of its bounding box: rejection sampling "
                         f"{n} points would need about {n / max(frac, 1e-300):.3g} candidates "
                         f"(more than {MAX_CANDIDATES:.0e})")
    enough = n + 10.0 * np.sqrt(n) + 50.0  # expected accepted count that must have given n
    out = []
    have = 0
    drawn = 0
    while have < n and frac * drawn < enough:
        m = int(min(max(1.3 * (n - have) / frac, 64), 2_000_000))
        cand = bounds[0] + rng.random((m, d)) * (bounds[1] - bounds[0])
        cand = cand[contains(cand)]
        out.append(cand)
        have += len(cand)
        drawn += m
    if have < n:
        raise RuntimeError(f"rejection sampling accepted {have} of {drawn} candidates, expected about "
                           f"{frac * drawn:.0f} from the volume: the domain's contains and volume "
                           f"disagree")
    return np.ascontiguousarray(np.concatenate(out)[:n])
