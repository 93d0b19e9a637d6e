"""The kinds of :class:`geomot.Domain`: box, polygon, disk, ball, mesh, image, triangulation.

One private class per kind, each a :class:`~geomot._domain_kind.DomainKind` registered in
:data:`KINDS` by the ``@register`` above it: it validates its own parameters in ``create``,
decomposes itself into :class:`~geomot.ConvexPieces` (with ``geomot._decompose``), and answers
``contains``, ``sample``, ``inscribed_ball``, ``make_geometry``, ``repr_args`` and the array round
trip.  Inputs reaching ``contains`` and ``sample`` are already checked by the facade.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from . import _decompose as dec
from ._domain_kind import KINDS, DomainKind, register
from ._pieces import ConvexPieces, box_pieces
from ._tol import tol
from ._validate import as_points, as_positive_float, as_positive_int, as_vector

__all__ = ["KINDS"]


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


def _center(center, d):
    c = as_vector(center, "center")
    if c.shape[0] != d:
        raise ValueError(f"center must have {d} coordinates, got {c.shape[0]}")
    return c


def _in_convex_piece(pieces, x):
    """(n,) bool: ``x`` satisfies every half-space of the single piece (relative slack)."""
    slack = tol.clip * max(1.0, float(np.abs(pieces.hi).max()), float(np.abs(pieces.lo).max()))
    return np.all(x @ pieces.normals.T <= pieces.offsets + slack, axis=1)


# ---------------------------------------------------------------------------------- box
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Box(DomainKind):
    """:math:`[lo, hi] \\subset \\mathbb R^d`, one box piece."""

    name: ClassVar[str] = "box"
    convex: ClassVar[bool] = True
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def create(cls, lo, hi):
        lo, hi = _lo_hi(lo, hi)
        return cls(lo=lo, hi=hi, pieces=box_pieces(lo, hi), piece_volumes=[float(np.prod(hi - lo))])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("lo"), get("hi"))

    def to_arrays(self):
        return {"lo": self.lo, "hi": self.hi}

    def contains(self, x):
        return np.all((x >= self.lo) & (x <= self.hi), axis=1)

    def sample(self, n, rng):
        return self.lo + rng.random((n, self.dim)) * (self.hi - self.lo)

    def inscribed_ball(self):
        return 0.5 * (self.lo + self.hi), float(0.5 * np.min(self.hi - self.lo))

    def make_geometry(self):
        if self.dim == 2:
            import shapely

            return shapely.box(self.lo[0], self.lo[1], self.hi[0], self.hi[1])
        if self.dim == 3:
            import trimesh

            return trimesh.creation.box(bounds=np.stack([self.lo, self.hi]))
        return None

    def repr_args(self):
        return f"lo={self.lo.tolist()}, hi={self.hi.tolist()}"


# ---------------------------------------------------------------------------------- polygon
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Polygon(DomainKind):
    """A shapely (multi)polygon: constrained Delaunay triangles, merged into convex pieces."""

    name: ClassVar[str] = "polygon"
    geom: object  # shapely.Polygon | shapely.MultiPolygon (immutable)
    wkb: str  # hex WKB of geom: the stored form
    density: float
    merge: bool
    tri_xy: np.ndarray  # (T, 3, 2) ccw triangles (sampling)
    tri_weights: np.ndarray  # (T,) their areas

    @classmethod
    def create(cls, geom, density=None, merge=True):
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
        tri = dec.polygon_triangles(geom)
        if len(tri) == 0:
            raise ValueError("geom has zero area (no triangle in its triangulation)")
        area = dec.triangles_area(tri)
        if merge:
            pieces, piece_area = dec.polygon_pieces(*dec.merge_convex(tri), rho)
        else:
            pieces, piece_area = dec.triangle_pieces(tri, np.full(len(tri), rho)), area
        return cls(geom=geom, wkb=shapely.to_wkb(geom, hex=True), density=rho, merge=bool(merge),
                   tri_xy=tri, tri_weights=area, pieces=pieces, piece_volumes=piece_area)

    @classmethod
    def from_arrays(cls, get):
        import shapely

        merge = bool(get("merge", True))  # files from before the merge option meant True
        return cls.create(shapely.from_wkb(str(get("wkb"))), float(get("density")), merge=merge)

    def to_arrays(self):
        return {"wkb": np.array(self.wkb), "density": np.array(self.density),
                "merge": np.array(self.merge)}

    def contains(self, x):
        import shapely

        return shapely.intersects_xy(self.geom, x[:, 0], x[:, 1])

    def sample(self, n, rng):
        return dec.sample_triangles(self.tri_xy, self.tri_weights, n, rng)

    def inscribed_ball(self):
        import shapely

        best = None
        for part in shapely.get_parts(self.geom):
            line = shapely.maximum_inscribed_circle(part, 1e-4 * max(np.sqrt(part.area), 1e-300))
            r = float(line.length)
            if best is None or r > best[1]:
                best = (np.array(shapely.get_coordinates(line)[0], dtype=np.float64), r)
        return best

    def make_geometry(self):
        return self.geom

    def repr_args(self):
        return None


# ---------------------------------------------------------------------------------- disk
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Disk(DomainKind):
    """The regular ``resolution``-gon inscribed in a circle: one convex polygon piece."""

    name: ClassVar[str] = "disk"
    convex: ClassVar[bool] = True
    center: np.ndarray
    radius: float
    resolution: int
    vertices: np.ndarray  # (N, 2) ccw
    tri_xy: np.ndarray  # (N, 3, 2) fan from the centre (sampling)
    tri_weights: np.ndarray

    @classmethod
    def create(cls, center, radius, resolution=256):
        c = _center(center, 2)
        r = as_positive_float(radius, "radius")
        N = as_positive_int(resolution, "resolution", minimum=3)
        verts = dec.regular_polygon(c, r, N)
        phi = 2.0 * np.pi * (np.arange(N) + 0.5) / N
        nrm = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        off = nrm @ c + r * np.cos(np.pi / N)
        pieces = ConvexPieces(nrm, off, [0, N], verts.min(axis=0)[None], verts.max(axis=0)[None],
                              [1.0], [1.0])
        area = 0.5 * N * r * r * np.sin(2.0 * np.pi / N)
        fan = np.stack([np.broadcast_to(c, verts.shape), verts, np.roll(verts, -1, axis=0)], axis=1)
        return cls(center=c, radius=r, resolution=N, vertices=verts, tri_xy=fan,
                   tri_weights=dec.triangles_area(fan), pieces=pieces, piece_volumes=[area])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("center"), float(get("radius")), int(get("resolution")))

    def to_arrays(self):
        return {"center": self.center, "radius": np.array(self.radius),
                "resolution": np.array(self.resolution, dtype=np.int64)}

    def contains(self, x):
        return _in_convex_piece(self.pieces, x)

    def sample(self, n, rng):
        return dec.sample_triangles(self.tri_xy, self.tri_weights, n, rng)

    def inscribed_ball(self):
        p = self.pieces
        return np.array(self.center), float(np.min(p.offsets - p.normals @ self.center))

    def make_geometry(self):
        import shapely

        return shapely.Polygon(self.vertices)

    def repr_args(self):
        return f"center={self.center.tolist()}, radius={self.radius}, resolution={self.resolution}"


# ---------------------------------------------------------------------------------- ball
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Ball(DomainKind):
    """The convex polytope ``trimesh.creation.icosphere(subdivisions, radius)`` moved to ``center``."""

    name: ClassVar[str] = "ball"
    convex: ClassVar[bool] = True
    center: np.ndarray
    radius: float
    subdivisions: int
    mesh: object  # trimesh.Trimesh; private, handed out as copies only
    cones: np.ndarray  # (F, 4, 3) tetrahedra (center, face): they partition the polytope
    cone_volumes: np.ndarray

    @classmethod
    def create(cls, center, radius, subdivisions=3):
        import trimesh

        c = _center(center, 3)
        r = as_positive_float(radius, "radius")
        s = as_positive_int(subdivisions, "subdivisions", minimum=0)
        mesh = trimesh.creation.icosphere(subdivisions=s, radius=r)
        mesh.apply_translation(c)
        nrm, off = dec.convex_polytope_halfspaces(mesh)
        v = np.asarray(mesh.vertices, dtype=np.float64)
        pieces = ConvexPieces(nrm, off, [0, len(off)], v.min(axis=0)[None], v.max(axis=0)[None],
                              [1.0], [1.0])
        cones, _, cone_vol = dec.signed_cone_tetrahedra(v, np.asarray(mesh.faces, dtype=np.int64), c)
        return cls(center=c, radius=r, subdivisions=s, mesh=mesh, cones=cones, cone_volumes=cone_vol,
                   pieces=pieces, piece_volumes=[float(mesh.volume)])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("center"), float(get("radius")), int(get("subdivisions")))

    def to_arrays(self):
        return {"center": self.center, "radius": np.array(self.radius),
                "subdivisions": np.array(self.subdivisions, dtype=np.int64)}

    def contains(self, x):
        return _in_convex_piece(self.pieces, x)

    def sample(self, n, rng):
        # the centre sees every face from inside: the cones partition the polytope, so a cone
        # drawn by volume and a uniform point in it is exact, without rejection
        return dec.sample_tetrahedra(self.cones, self.cone_volumes, n, rng)

    def inscribed_ball(self):
        p = self.pieces
        return np.array(self.center), float(np.min(p.offsets - p.normals @ self.center))

    def make_geometry(self):
        return self.mesh.copy()

    def repr_args(self):
        return f"center={self.center.tolist()}, radius={self.radius}, subdivisions={self.subdivisions}"


# ---------------------------------------------------------------------------------- mesh
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Mesh(DomainKind):
    """The solid bounded by a watertight triangle mesh: signed cone tetrahedra."""

    name: ClassVar[str] = "mesh"
    pieces_disjoint: ClassVar[bool] = False
    vertices: np.ndarray  # (m, 3) float64
    faces: np.ndarray  # (F, 3) int64, outward winding

    @classmethod
    def create(cls, mesh):
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
        tet, sign, tet_vol = dec.signed_cone_tetrahedra(V, F)
        return cls(vertices=V, faces=F, pieces=dec.tetra_pieces(tet, sign), piece_volumes=tet_vol)

    @classmethod
    def from_arrays(cls, get):
        import trimesh

        V = as_points(get("vertices"), "vertices", dim=3)
        F = np.array(get("faces"), dtype=np.int64)
        if F.ndim != 2 or F.shape[1] != 3 or F.size == 0 or F.min() < 0 or F.max() >= len(V):
            raise ValueError("arrays['faces'] must be a (F, 3) array of vertex indices")
        return cls.create(trimesh.Trimesh(V, F, process=False))

    def to_arrays(self):
        return {"vertices": self.vertices, "faces": self.faces}

    @cached_property
    def _ray_parity(self):
        return dec.RayParity(self.vertices, self.faces)

    def contains(self, x):
        out = np.zeros(len(x), dtype=bool)
        b = self.bounds
        inb = np.all((x >= b[0]) & (x <= b[1]), axis=1)
        if np.any(inb):
            out[inb] = self._ray_parity.winding(x[inb]) > 0
        return out

    def sample(self, n, rng):
        return dec.rejection_sample(self.contains, self.bounds, self.volume, n, rng)

    def inscribed_ball(self):
        import trimesh

        pts = self.sample(1000, np.random.default_rng(0))  # interior: distance = to the surface
        _, dist, _ = trimesh.proximity.closest_point(self.make_geometry(), pts)
        i = int(np.argmax(dist))
        return np.array(pts[i]), float(dist[i])

    def make_geometry(self):
        import trimesh

        return trimesh.Trimesh(self.vertices.copy(), self.faces.copy(), process=False)

    def repr_args(self):
        return None


# ---------------------------------------------------------------------------------- image
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Image(DomainKind):
    """A piecewise-constant density on a regular 2D / 3D grid: one box per positive pixel."""

    name: ClassVar[str] = "image"
    values: np.ndarray  # (ny, nx) or (nz, ny, nx)
    lo: np.ndarray
    hi: np.ndarray
    origin: str  # "upper" or "lower"

    @classmethod
    def create(cls, values, lo, hi, origin="upper"):
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
        lo, hi = _lo_hi(lo, hi, dim=v.ndim)
        shape_xyz = v.shape[::-1]  # (nx, ny[, nz])
        step = (hi - lo) / np.array(shape_xyz, dtype=np.float64)
        idx = np.argwhere(v > 0)  # (P, d) array indices (axis0 = last coord)
        ijk = idx[:, ::-1].astype(np.float64)  # x index first
        if origin == "upper":
            ijk[:, -1] = shape_xyz[-1] - 1 - ijk[:, -1]
        plo = lo + ijk * step
        phi = lo + (ijk + 1) * step
        phi = np.where(ijk + 1 == np.array(shape_xyz), hi, phi)  # outer faces exactly on hi
        return cls(values=v, lo=lo, hi=hi, origin=str(origin),
                   pieces=box_pieces(plo, phi, v[tuple(idx.T)]), piece_volumes=np.prod(phi - plo, axis=1))

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("values"), get("lo"), get("hi"), origin=str(get("origin")))

    def to_arrays(self):
        return {"values": self.values, "lo": self.lo, "hi": self.hi, "origin": np.array(self.origin)}

    def contains(self, x):
        v, lo, hi = self.values, self.lo, self.hi
        shape_xyz = np.array(v.shape[::-1])
        inside = np.all((x >= lo) & (x <= hi), axis=1)
        ijk = np.clip(np.floor((x - lo) / (hi - lo) * shape_xyz).astype(np.int64), 0, shape_xyz - 1)
        if self.origin == "upper":
            ijk[:, -1] = shape_xyz[-1] - 1 - ijk[:, -1]
        return inside & (v[tuple(ijk[:, ::-1].T)] > 0)

    def sample(self, n, rng):
        p = self.pieces
        return dec.sample_boxes(p.lo, p.hi, p.density * self.piece_volumes, n, rng)

    def inscribed_ball(self):
        p = self.pieces
        i = int(np.argmax(p.density))
        return 0.5 * (p.lo[i] + p.hi[i]), float(0.5 * np.min(p.hi[i] - p.lo[i]))

    def make_geometry(self):
        if self.dim != 2:
            return None
        import shapely

        p = self.pieces
        return shapely.unary_union(shapely.box(p.lo[:, 0], p.lo[:, 1], p.hi[:, 0], p.hi[:, 1]))

    def repr_args(self):
        return None


# ---------------------------------------------------------------------------------- triangulation
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Triangulation(DomainKind):
    """A 2D triangulation with a density per triangle: one piece per positive triangle."""

    name: ClassVar[str] = "triangulation"
    vertices: np.ndarray  # (m, 2)
    triangles: np.ndarray  # (T, 3) int64 vertex indices, as given
    density: np.ndarray  # (T,)
    tri_xy: np.ndarray  # (K, 3, 2) ccw triangles of positive density
    tri_weights: np.ndarray  # (K,) their masses

    @classmethod
    def create(cls, vertices, triangles, density=None):
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
        tri, cross = dec.orient_ccw(V[Tr])
        scale = max(float(np.ptp(V, axis=0).max()), 1e-300)
        degenerate = np.abs(cross) <= tol.volume * scale ** 2
        if np.any(degenerate):
            raise ValueError(f"triangles has a degenerate (zero-area) triangle at index "
                             f"{int(np.argmax(degenerate))}")
        keep = dens > 0
        tri = np.ascontiguousarray(tri[keep])
        area = dec.triangles_area(tri)
        return cls(vertices=V, triangles=Tr, density=dens, tri_xy=tri, tri_weights=area * dens[keep],
                   pieces=dec.triangle_pieces(tri, dens[keep]), piece_volumes=area)

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("vertices"), get("triangles"), get("density"))

    def to_arrays(self):
        return {"vertices": self.vertices, "triangles": self.triangles, "density": self.density}

    @cached_property
    def _tree(self):
        import shapely

        return shapely.STRtree(shapely.polygons(self.tri_xy))

    def contains(self, x):
        import shapely

        hit = self._tree.query(shapely.points(x), predicate="intersects")
        out = np.zeros(len(x), dtype=bool)
        out[hit[0]] = True
        return out

    def sample(self, n, rng):
        return dec.sample_triangles(self.tri_xy, self.tri_weights, n, rng)

    def inscribed_ball(self):
        centre, r = dec.incircles(self.tri_xy)
        i = int(np.argmax(r))
        return centre[i], float(r[i])

    def make_geometry(self):
        import shapely

        return shapely.unary_union(shapely.polygons(self.tri_xy))

    def repr_args(self):
        return None
