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
from ._domain_args import TINY, check_measure, check_resolved, real_points
from ._domain_kind import KINDS, DomainKind, register
from ._pieces import ConvexPieces, box_pieces
from ._tol import tol
from ._validate import as_positive_float, as_positive_int, as_real_array, as_vector

__all__ = ["KINDS"]

#: most sides of a disk's polygon / subdivisions of a ball's icosphere (beyond: memory, not detail)
MAX_RESOLUTION = 2 ** 20
MAX_SUBDIVISIONS = 7


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
    with np.errstate(over="ignore"):
        side = hi - lo
    if not np.all(np.isfinite(side)):
        k = int(np.argmax(~np.isfinite(side)))
        raise ValueError(f"lo, hi: hi - lo overflows float64 in coordinate {k} (lo={lo[k]}, hi={hi[k]}): "
                         f"the box is too large to represent; rescale the problem (e.g. to unit size)")
    return lo, hi


def _center(center, d):
    c = as_vector(center, "center")
    if c.shape[0] != d:
        raise ValueError(f"center must have {d} coordinates, got {c.shape[0]}")
    return c


def _in_unit_polytope(x, center, radius, normals, offsets):
    """(n,) bool: :math:`(x - c) / r` meets every :math:`n_k \\cdot u \\le o_k` (slack ``tol.clip``).

    At unit size the slack is relative (the same for a disk / ball of any radius); the rows go
    in chunks so that the (rows, faces) products stay small.
    """
    out = np.empty(len(x), dtype=bool)
    step = max(1, 2_000_000 // max(len(offsets), 1))
    for s in range(0, len(x), step):
        u = (x[s:s + step] - center) / radius
        out[s:s + step] = np.all(u @ normals.T <= offsets + tol.clip, axis=1)
    return out


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
        vol = float(dec.box_volumes(lo[None], hi[None])[0])
        check_measure(vol, "volume", f"lo={lo.tolist()}, hi={hi.tolist()}")
        return cls(lo=lo, hi=hi, pieces=box_pieces(lo, hi), piece_volumes=[vol])

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
        return 0.5 * self.lo + 0.5 * self.hi, float(0.5 * np.min(self.hi - self.lo))

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
        coords = shapely.get_coordinates(geom)
        if not np.all(np.isfinite(coords)):
            raise ValueError("geom has NaN or inf coordinates")
        if shapely.get_coordinate_dimension(geom) != 2:
            raise ValueError("geom must be 2-D (no z coordinate)")
        if not isinstance(merge, (bool, np.bool_)):
            raise TypeError(f"merge must be True or False, got {type(merge).__name__}")
        work = dec.unit_geometry(geom)  # exactly rescaled when its coordinates are extreme
        if not work.is_valid:
            zero = "has zero area and " if not work.area > 0 else ""
            raise ValueError(f"geom {zero}is not a valid polygon: {explain_validity(work)}")
        if not work.area > 0:
            raise ValueError("geom has zero area")
        rho = 1.0 if density is None else as_positive_float(density, "density")
        tri = dec.polygon_triangles(geom)
        if len(tri) == 0:
            raise ValueError("geom has zero area (no triangle in its triangulation)")
        area = dec.triangles_area(tri)
        vol = check_measure(float(np.sum(area)), "area", "geom")
        check_measure(rho * vol, "total mass", f"density={rho:.3g} on geom")
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

        e = dec.exponent2(shapely.get_coordinates(self.geom))
        best = None
        for part in shapely.get_parts(self.geom):
            # at unit size (exact power-of-two rescaling): GEOS's tolerances are then relative
            part = shapely.transform(part, lambda c: np.ldexp(c, -e))
            line = shapely.maximum_inscribed_circle(part, 1e-4 * max(np.sqrt(part.area), 1e-300))
            r = float(np.ldexp(line.length, e))
            if best is None or r > best[1]:
                best = (np.ldexp(np.array(shapely.get_coordinates(line)[0], dtype=np.float64), e), r)
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
    unit_normals: np.ndarray  # (N, 2) outward normals of the edges
    unit_fan: np.ndarray  # (N, 3, 2) fan of the unit polygon from 0 (sampling, at unit size)
    unit_weights: np.ndarray

    @classmethod
    def create(cls, center, radius, resolution=256):
        c = _center(center, 2)
        r = as_positive_float(radius, "radius")
        N = as_positive_int(resolution, "resolution", minimum=3)
        if N > MAX_RESOLUTION:
            raise ValueError(f"resolution must be at most {MAX_RESOLUTION}, got {N}")
        # built at unit size around the origin, then scaled and moved: normals, the unit offset
        # cos(pi/N) and the area do not depend on the radius
        with np.errstate(over="ignore", under="ignore"):
            area = 0.5 * N * r * r * np.sin(2.0 * np.pi / N)  # (the frozen format's rounding)
            if not (np.isfinite(area) and area >= TINY):  # where that one over/underflows
                area = r * r * (0.5 * N * np.sin(2.0 * np.pi / N))
        area = check_measure(area, "area", f"radius={r!r}")
        check_resolved(r, float(np.max(np.abs(c))), f"radius={r!r} at center={c.tolist()}")
        unit = dec.regular_polygon(np.zeros(2), 1.0, N)
        verts = c + r * unit
        phi = 2.0 * np.pi * (np.arange(N) + 0.5) / N
        nrm = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        off = nrm @ c + r * np.cos(np.pi / N)
        pieces = ConvexPieces(nrm, off, [0, N], verts.min(axis=0)[None], verts.max(axis=0)[None],
                              [1.0], [1.0])
        fan = np.stack([np.zeros_like(unit), unit, np.roll(unit, -1, axis=0)], axis=1)
        return cls(center=c, radius=r, resolution=N, vertices=verts, unit_normals=nrm, unit_fan=fan,
                   unit_weights=dec.triangles_area(fan), pieces=pieces, piece_volumes=[area])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("center"), float(get("radius")), int(get("resolution")))

    def to_arrays(self):
        return {"center": self.center, "radius": np.array(self.radius),
                "resolution": np.array(self.resolution, dtype=np.int64)}

    def contains(self, x):
        h = np.full(self.resolution, np.cos(np.pi / self.resolution))
        return _in_unit_polytope(x, self.center, self.radius, self.unit_normals, h)

    def sample(self, n, rng):
        return self.center + self.radius * dec.sample_triangles(self.unit_fan, self.unit_weights, n, rng)

    def inscribed_ball(self):
        return np.array(self.center), float(self.radius * np.cos(np.pi / self.resolution))

    def make_geometry(self):
        import shapely

        return shapely.Polygon(self.vertices)

    def repr_args(self):
        return f"center={self.center.tolist()}, radius={self.radius}, resolution={self.resolution}"


# ---------------------------------------------------------------------------------- ball
@register
@dataclass(frozen=True, eq=False, kw_only=True)
class _Ball(DomainKind):
    """The convex polytope ``trimesh.creation.icosphere(subdivisions, radius)`` moved to ``center``.

    Built at unit radius around the origin, then scaled and moved: the face normals, the unit
    offsets and the cones are those of the unit polytope, so a ball of radius ``1e-6`` or ``1e8``
    is the same polytope (trimesh's own normals and facet merging use absolute tolerances).
    """

    name: ClassVar[str] = "ball"
    convex: ClassVar[bool] = True
    center: np.ndarray
    radius: float
    subdivisions: int
    vertices: np.ndarray  # (m, 3) icosphere(s, r) + c
    faces: np.ndarray  # (F, 3) outward
    unit_normals: np.ndarray  # (F, 3)
    unit_offsets: np.ndarray  # (F,)
    unit_cones: np.ndarray  # (F, 4, 3) tetrahedra (0, face) of the unit polytope: they partition it
    unit_cone_volumes: np.ndarray
    cones: np.ndarray  # (F, 4, 3) the same, scaled and moved
    cone_volumes: np.ndarray

    @classmethod
    def create(cls, center, radius, subdivisions=3):
        import trimesh

        c = _center(center, 3)
        r = as_positive_float(radius, "radius")
        s = as_positive_int(subdivisions, "subdivisions", minimum=0)
        if s > MAX_SUBDIVISIONS:
            raise ValueError(f"subdivisions must be at most {MAX_SUBDIVISIONS} "
                             f"({20 * 4 ** MAX_SUBDIVISIONS} faces), got {s}")
        unit = trimesh.creation.icosphere(subdivisions=s, radius=1.0)
        U = np.asarray(unit.vertices, dtype=np.float64)
        F = np.asarray(unit.faces, dtype=np.int64)
        ucones, _, uvol = dec.signed_cone_tetrahedra(U, F, np.zeros(3))
        vol = check_measure(r * r * r * float(np.sum(uvol)), "volume", f"radius={r!r}")
        check_resolved(r, float(np.max(np.abs(c))), f"radius={r!r} at center={c.tolist()}")
        unrm, uoff = dec.convex_polytope_halfspaces(U, F)
        # the pieces: the half-spaces of the polytope with vertices icosphere(s, r) + c, as
        # stored by the frozen format (the same polytope as c + r * unit, up to rounding), and
        # its trimesh volume.  Below r = 2**-10 trimesh's icosphere rounds its vertices to
        # eps / r of the radius (it moves unit vertices by r - 1), and its volume loses digits
        # far from the origin: c + r * unit and r**3 * the unit volume there.
        if r >= 2.0 ** -10:
            mesh = trimesh.creation.icosphere(subdivisions=s, radius=r)
            mesh.apply_translation(c)
            V = np.asarray(mesh.vertices, dtype=np.float64)
            tv = float(mesh.volume)
        else:
            V, tv = c + r * U, vol
        if not (np.isfinite(tv) and abs(tv - vol) <= 1e-12 * vol):
            tv = vol
        nrm, off = dec.convex_polytope_halfspaces(V, F)
        pieces = ConvexPieces(nrm, off, [0, len(off)], V.min(axis=0)[None], V.max(axis=0)[None],
                              [1.0], [1.0])
        return cls(center=c, radius=r, subdivisions=s, vertices=V, faces=F, unit_normals=unrm,
                   unit_offsets=uoff, unit_cones=ucones, unit_cone_volumes=uvol,
                   cones=c + r * ucones, cone_volumes=(r * r * r) * uvol,
                   pieces=pieces, piece_volumes=[tv])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("center"), float(get("radius")), int(get("subdivisions")))

    def to_arrays(self):
        return {"center": self.center, "radius": np.array(self.radius),
                "subdivisions": np.array(self.subdivisions, dtype=np.int64)}

    def contains(self, x):
        return _in_unit_polytope(x, self.center, self.radius, self.unit_normals, self.unit_offsets)

    def sample(self, n, rng):
        # the centre sees every face from inside: the cones partition the polytope, so a cone
        # drawn by volume and a uniform point in it is exact, without rejection
        u = dec.sample_tetrahedra(self.unit_cones, self.unit_cone_volumes, n, rng)
        return self.center + self.radius * u

    def inscribed_ball(self):
        return np.array(self.center), float(self.radius * np.min(self.unit_offsets))

    def make_geometry(self):
        import trimesh

        return trimesh.Trimesh(self.vertices.copy(), self.faces.copy(), process=False)

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

        from ._solid_check import check_solid

        if not isinstance(mesh, trimesh.Trimesh):
            raise ValueError(f"mesh must be a trimesh.Trimesh, got {type(mesh).__name__}")
        V = as_real_array(mesh.vertices, "mesh.vertices", "a (V, 3) array of float")
        F = np.array(mesh.faces, dtype=np.int64)
        if V.ndim != 2 or V.shape[1] != 3 or F.ndim != 2 or F.shape[1] != 3 or len(F) < 4:
            raise ValueError("mesh must be a 3-D triangle mesh with at least 4 faces")
        if not np.all(np.isfinite(V)):
            raise ValueError("mesh has NaN or inf vertices")
        if not mesh.is_watertight:
            raise ValueError("mesh is not watertight (it has holes or non-manifold edges); "
                             "repair it first (e.g. trimesh.repair.fill_holes or pymeshfix)")
        if not mesh.is_winding_consistent:
            raise ValueError("mesh is not a volume: its face winding is inconsistent")
        # the signed cone volumes at unit size (exact power-of-two rescaling): their sum is the
        # mesh's volume for any size, where trimesh's own overflows from about 1e100 on
        e = dec.exponent2(V)
        S = np.ldexp(V, -e)
        a, b, c = (S[F[:, k]] - S.mean(axis=0) for k in range(3))
        rel = float(np.sum(np.einsum("td,td->t", np.cross(a, b), c))) / 6.0
        if not abs(rel) > tol.volume * float(np.ptp(S, axis=0).max()) ** 3:
            raise ValueError("mesh has zero volume")
        if rel < 0:
            raise ValueError("mesh is not a volume: its normals point inwards (negative volume); "
                             "call mesh.invert() first")
        tet, sign, tet_vol = dec.signed_cone_tetrahedra(V, F)
        check_measure(np.sum(sign * tet_vol), "volume", "mesh")
        check_solid(V, F, "mesh")
        return cls(vertices=V, faces=F, pieces=dec.tetra_pieces(tet, sign), piece_volumes=tet_vol)

    @classmethod
    def from_arrays(cls, get):
        import trimesh

        V = real_points(get("vertices"), "arrays['vertices']", 3)
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
        # at unit size about the bounding-box centre: trimesh's tolerances are absolute
        mid = 0.5 * (self.vertices.min(axis=0) + self.vertices.max(axis=0))
        e = dec.exponent2(self.vertices - mid)
        unit = trimesh.Trimesh(np.ldexp(self.vertices - mid, -e), self.faces.copy(), process=False)
        _, dist, _ = trimesh.proximity.closest_point(unit, np.ldexp(pts - mid, -e))
        i = int(np.argmax(dist))
        return np.array(pts[i]), float(np.ldexp(dist[i], e))

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
        v = as_real_array(values, "values", "a 2-D or 3-D array of float")
        if v.ndim not in (2, 3) or min(v.shape) < 1:
            raise ValueError(f"values must be a non-empty 2-D (ny, nx) or 3-D (nz, ny, nx) array, "
                             f"got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("values contains NaN or inf")
        if np.any(v < 0):
            raise ValueError("values must be >= 0 everywhere")
        if not np.any(v > 0):
            raise ValueError("values are all zero")
        if not isinstance(origin, str) or origin not in ("upper", "lower"):
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
        vol = dec.box_volumes(plo, phi)
        check_measure(float(np.min(vol)), "smallest pixel volume", f"lo, hi and values.shape={v.shape}")
        dens = v[tuple(idx.T)]
        check_measure(float(np.sum(vol)), "volume", f"lo={lo.tolist()}, hi={hi.tolist()}")
        e = dec.exponent2(dens)  # the mass summed at unit scale: only its exponent can overflow
        with np.errstate(over="ignore", under="ignore"):
            mass = np.ldexp(float(np.sum(np.ldexp(dens, -e) * vol)), e)
        check_measure(mass, "total mass sum(values * pixel volume)", "values")
        return cls(values=v, lo=lo, hi=hi, origin=str(origin),
                   pieces=box_pieces(plo, phi, dens), piece_volumes=vol)

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
        return 0.5 * p.lo[i] + 0.5 * p.hi[i], float(0.5 * np.min(p.hi[i] - p.lo[i]))

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
        V = real_points(vertices, "vertices", 2)
        if len(V) < 3:
            raise ValueError(f"vertices must have at least 3 row(s), got {len(V)}")
        try:
            Tr = np.array(triangles, copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"triangles must be a (T, 3) integer array: {exc}") from None
        if Tr.dtype.kind == "c" or Tr.dtype == object:
            as_real_array(Tr, "triangles", "a (T, 3) integer array")  # TypeError for complex
        if Tr.ndim != 2 or Tr.shape[1] != 3 or Tr.shape[0] < 1:
            raise ValueError(f"triangles must be a (T, 3) integer array, got shape {Tr.shape}")
        if Tr.dtype == np.bool_:
            raise TypeError("triangles must be integer vertex indices, got booleans")
        if not np.issubdtype(Tr.dtype, np.integer):
            try:
                F = Tr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("triangles must contain integer vertex indices") from None
            if not np.all(np.isfinite(F)) or np.any(F != np.round(F)):
                raise ValueError("triangles must contain integer vertex indices")
            if np.any(np.abs(F) >= 2.0 ** 62):
                raise ValueError(f"triangles has indices outside [0, {len(V)})")
        Tr = Tr.astype(np.int64)
        if Tr.min() < 0 or Tr.max() >= len(V):
            raise ValueError(f"triangles has indices outside [0, {len(V)})")
        T = Tr.shape[0]
        dens = np.ones(T) if density is None else as_vector(density, "density", n=T, nonnegative=True)
        if len(dens) != T:
            raise ValueError(f"density must have length {T}")
        if not np.any(dens > 0):
            raise ValueError("density is zero on every triangle")
        tri, _ = dec.orient_ccw(V[Tr])
        degenerate = dec.degenerate_triangles(V[Tr], V)
        if np.any(degenerate):
            raise ValueError(f"triangles has a degenerate (zero-area) triangle at index "
                             f"{int(np.argmax(degenerate))}")
        keep = dens > 0
        tri = np.ascontiguousarray(tri[keep])
        area = dec.triangles_area(tri)
        check_measure(float(np.sum(area)), "area", "vertices")
        ed = dec.exponent2(dens)
        with np.errstate(over="ignore", under="ignore"):
            mass = np.ldexp(float(np.sum(np.ldexp(dens[keep], -ed) * area)), ed)
        check_measure(mass, "total mass", "density")
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
