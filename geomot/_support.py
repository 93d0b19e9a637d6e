"""The target support Λ, when the user knows it: containment and distance of points to it.

The singular set's *support* criterion (:func:`geomot.singular_set` with ``support=...``) asks,
for a segment ``[y_i, y_j]`` between the targets of two adjacent cells, how far it leaves the
support.  This module turns what the user passes (a shapely polygon in 2D, a watertight
``trimesh.Trimesh`` in 3D, or a :class:`geomot.Domain` of either dimension) into one object
with three operations:

* :meth:`TargetSupport.contains` -- whether points lie in the closed support,
* :meth:`TargetSupport.distance` -- their distance to the support (0 inside),
* :meth:`TargetSupport.domain` -- the support as a :class:`geomot.Domain` (for the restricted
  Delaunay triangulation of the targets, the combinatorial criterion).

2D uses shapely 2.x's vectorised, prepared predicates (``intersects_xy``, ``distance``); 3D uses
the domain code's ray-parity point-in-solid test (:meth:`geomot.Domain.contains`) and an exact
point-triangle distance to the nearest faces (found with a k-d tree of the face centroids).
Each kind is a small class; :func:`as_support` validates the input and picks one.
"""

from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["TargetSupport", "as_support"]

#: faces whose centroids are nearest to a point, among which its closest face is searched (3D)
_NEAREST_FACES = 16


class TargetSupport:
    """A validated target support in dimension :attr:`dim` (2 or 3)."""

    dim = 0
    #: what the user passed, in words (for messages)
    kind = ""

    def contains(self, p):
        """(m,) bool: the points ``p`` (m, d) lie in the closed support."""
        raise NotImplementedError

    def distance(self, p):
        """(m,) float64: ``dist(p, support)``, 0 for points inside."""
        out = np.zeros(len(p))
        outside = ~self.contains(p)
        if np.any(outside):
            out[outside] = self._outside_distance(p[outside])
        return out

    def _outside_distance(self, p):
        raise NotImplementedError

    def domain(self):
        """The support as a :class:`geomot.Domain` (built on first use)."""
        return self._domain


class _Polygon(TargetSupport):
    """A 2D support: a valid shapely (multi)polygon of positive area."""

    dim = 2

    def __init__(self, geom, kind, domain=None):
        import shapely

        self.geom = geom
        shapely.prepare(self.geom)
        self.kind = kind
        if domain is not None:
            self._domain = domain

    def contains(self, p):
        import shapely

        return shapely.intersects_xy(self.geom, p[:, 0], p[:, 1])  # closed: the boundary is in

    def _outside_distance(self, p):
        import shapely

        return shapely.distance(self.geom, shapely.points(p))

    @cached_property
    def _domain(self):
        from .domain import Domain

        return Domain.polygon(self.geom)


class _Solid(TargetSupport):
    """A 3D support: the solid bounded by a watertight, outward-oriented triangle mesh."""

    dim = 3

    def __init__(self, domain, mesh, kind):
        self._domain = domain
        self.kind = kind
        self._tri = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces, dtype=np.int64)]
        self._centroids = self._tri.mean(axis=1)

    def contains(self, p):
        return self._domain.contains(p)

    @cached_property
    def _tree(self):
        return cKDTree(self._centroids)

    def _outside_distance(self, p):
        """Distance to the surface: exact point-triangle distance over the nearest faces.

        The closest face of a point is searched among the ``_NEAREST_FACES`` faces whose
        centroids are nearest to it.  That is exact unless a face much larger than its
        neighbours is closest (then the value is an upper bound); meshes that sample a shape
        (the bunny, icospheres) have faces of comparable size.
        """
        from trimesh.triangles import closest_point

        k = min(_NEAREST_FACES, len(self._centroids))
        _, idx = self._tree.query(p, k=k)
        idx = np.asarray(idx).reshape(len(p), k)
        q = np.repeat(p, k, axis=0)
        c = closest_point(self._tri[idx.ravel()], q)
        return np.sqrt(((c - q) ** 2).sum(axis=1)).reshape(len(p), k).min(axis=1)


def as_support(support, dim, name="support"):
    """Validate ``support`` for targets of dimension ``dim`` and return a :class:`TargetSupport`.

    Parameters
    ----------
    support : shapely.Polygon, shapely.MultiPolygon, trimesh.Trimesh or geomot.Domain
    dim : int
        The targets' dimension (2 or 3).
    name : str
        The argument's name, for messages.

    Raises
    ------
    ValueError
        Wrong dimension for the targets; an empty, invalid or zero-area polygon; a mesh that is
        empty, open (not watertight), inconsistently wound or of zero volume; a Domain without
        a geometry; any other type.
    """
    import shapely
    import trimesh

    from .domain import Domain

    if isinstance(support, Domain):
        if support.dim != dim:
            raise ValueError(f"{name} is a {support.dim}-D Domain but the targets are {dim}-D")
        geom = support.geometry
        if geom is None:
            raise ValueError(f"{name} is a Domain of kind {support.kind!r} without a geometry; "
                             f"pass its shape (a shapely polygon or a watertight trimesh) instead")
        if dim == 2:
            return _Polygon(_check_polygon(geom, name), f"a 2-D Domain ({support.kind})", support)
        return _Solid(support, geom, f"a 3-D Domain ({support.kind})")
    if isinstance(support, shapely.Geometry):
        if dim != 2:
            raise ValueError(f"{name} is a 2-D shapely geometry but the targets are {dim}-D "
                             f"(pass a watertight trimesh.Trimesh or a 3-D Domain)")
        return _Polygon(_check_polygon(support, name), "a shapely geometry")
    if isinstance(support, trimesh.Trimesh):
        if dim != 3:
            raise ValueError(f"{name} is a 3-D trimesh but the targets are {dim}-D "
                             f"(pass a shapely polygon or a 2-D Domain)")
        if len(support.faces) == 0:
            raise ValueError(f"{name} is empty (a mesh without faces)")
        if not support.is_watertight:
            raise ValueError(f"{name} mesh is open (not watertight: it has holes or non-manifold "
                             f"edges), so it bounds no solid; repair it first (e.g. "
                             f"trimesh.repair.fill_holes)")
        try:
            dom = Domain.mesh(support)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        return _Solid(dom, support, "a watertight trimesh")
    raise ValueError(f"{name} must be a shapely Polygon/MultiPolygon (2-D), a watertight "
                     f"trimesh.Trimesh (3-D) or a geomot.Domain, got {type(support).__name__}")


def _check_polygon(geom, name):
    import shapely
    from shapely.validation import explain_validity

    if geom.is_empty:
        raise ValueError(f"{name} is empty")
    if shapely.get_coordinate_dimension(geom) != 2:
        raise ValueError(f"{name} must be a 2-D geometry (no z coordinate)")
    if not np.all(np.isfinite(shapely.get_coordinates(geom))):
        raise ValueError(f"{name} has NaN or inf coordinates")
    if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        raise ValueError(f"{name} must be a Polygon or MultiPolygon (an area), got a "
                         f"{geom.geom_type} (zero area)")
    if not geom.is_valid:
        zero = "has zero area and " if not geom.area > 0 else ""
        raise ValueError(f"{name} {zero}is not a valid polygon: {explain_validity(geom)}")
    if not geom.area > 0:
        raise ValueError(f"{name} has zero area")
    return geom
