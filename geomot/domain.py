"""Source domains: the support of the source measure, and its convex pieces.

A :class:`Domain` is an immutable description of a region of :math:`\\mathbb{R}^d` carrying a
piecewise-constant density (uniform unless said otherwise).  Every exact computation in geomot
sees it through :attr:`Domain.pieces`, a :class:`ConvexPieces` H-representation (see
``docs/architecture.md``):

.. math::

    \\mathbf 1_\\Omega = \\sum_p s_p\\, \\mathbf 1_{K_p} \\quad\\text{a.e.},\\qquad
    \\mu(S) = \\sum_p s_p\\, \\rho_p\\, |S \\cap K_p|,

with convex pieces :math:`K_p`, signs :math:`s_p = \\pm 1` and densities :math:`\\rho_p \\ge 0`.

Sizes: any domain whose volume and total mass are finite normal float64 numbers (at least
``2.2e-308``) works the same at any scale and position (computations run at unit size, by exact
power-of-two rescaling); one whose volume or mass is not representable (a box of side ``1e-200``
or ``1e200``, an image of density ``1e308``) is refused up front with a ``ValueError`` naming the
argument.  Complex input is refused with ``TypeError``.

Decompositions: box -> one box piece; disk / ball -> one polygon / polytope piece; polygon with
holes -> constrained Delaunay triangles, merged into convex polygons; watertight mesh -> signed
cone tetrahedra; image -> one box piece per pixel of positive value; triangulation -> one
triangle per positive triangle.

:class:`Domain` is a facade: each kind is a private class in ``geomot._domain_kinds``,
registered in ``KINDS`` with the interface of ``geomot._domain_kind``; the decompositions are
in ``geomot._decompose`` and :class:`ConvexPieces` is defined in ``geomot._pieces``.

References
----------
.. [1] B. Lévy, "A numerical algorithm for L2 semi-discrete optimal transport in 3D",
   ESAIM: M2AN 49(6), 2015 (clipping power cells against a simplicial domain).
.. [2] N. Lei et al., "Mode collapse and regularity of optimal transportation maps",
   arXiv:1902.02934, 2019.
"""

from __future__ import annotations

import numpy as np

from ._domain_kinds import KINDS
from ._pieces import ConvexPieces
from ._domain_args import real_points
from ._validate import as_positive_int, as_rng

__all__ = ["ConvexPieces", "Domain"]

_MISSING = object()


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

    __slots__ = ("_impl",)

    def __init__(self, *args, **kwargs):
        raise TypeError("use a constructor: Domain.box, Domain.polygon, Domain.disk, Domain.ball, "
                        "Domain.mesh, Domain.image or Domain.triangulation")

    @classmethod
    def _of(cls, impl):
        """Wrap a kind object (a ``geomot._domain_kind.DomainKind``)."""
        self = object.__new__(cls)
        object.__setattr__(self, "_impl", impl)
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

        Raises
        ------
        ValueError
            ``lo >= hi`` somewhere, NaN / inf, or a volume that is not representable in float64
            (below ``2.2e-308``, e.g. side ``1e-200`` in 2D, or overflowing).
        TypeError
            Complex ``lo`` / ``hi``.

        Example
        -------
        >>> Domain.box([0, 0, 0], [1, 2, 3]).volume
        6.0
        """
        return cls._of(KINDS["box"].create(lo, hi))

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
            Not a (multi)polygon, invalid geometry (the reason is given), zero area, an area or
            total mass not representable in float64.
        TypeError
            ``merge`` not a bool, complex ``density``.

        Example
        -------
        >>> import shapely
        >>> D = Domain.polygon(shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1, 0.75)))
        >>> round(D.volume, 12)
        1.75
        """
        return cls._of(KINDS["polygon"].create(geom, density, merge))

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
            With an area representable in float64, and above ``1e-10 * max |center|`` (the
            vertices would be rounded away).
        resolution : int, 3 ... 2**20
            Number of sides.

        Returns
        -------
        Domain
            One convex polygon piece with ``resolution`` half-spaces; ``contains`` and ``sample``
            work at unit size, :math:`(x - c) / r`, so any radius gives the same answers.

        Example
        -------
        >>> D = Domain.disk([0, 0], 1.0, resolution=4)
        >>> round(D.volume, 12)
        2.0
        """
        return cls._of(KINDS["disk"].create(center, radius, resolution))

    @classmethod
    def ball(cls, center, radius, subdivisions=3):
        """A 3D ball, as the convex polytope ``trimesh.creation.icosphere(subdivisions, radius)``.

        Its vertices lie on the sphere; :attr:`volume` is the polytope's exact volume (slightly
        less than :math:`\\frac43\\pi r^3`).

        Parameters
        ----------
        center : (3,) array_like
        radius : float > 0
            With a volume representable in float64 (about ``3e-103 ... 5e102``), and above
            ``1e-10 * max |center|``.
        subdivisions : int, 0 ... 7
            Icosphere subdivisions (``20 * 4**subdivisions`` faces).

        Returns
        -------
        Domain
            One convex polytope piece, one half-space per face (an icosphere has no coplanar
            faces).  ``contains`` and ``sample`` work on the unit polytope, :math:`(x - c) / r`:
            a ball of radius ``1e-6`` or ``1e8`` gives the same answers as the unit ball.

        Example
        -------
        >>> D = Domain.ball([0, 0, 0], 1.0, subdivisions=2)
        >>> 4.0 < D.volume < 4.19
        True
        """
        return cls._of(KINDS["ball"].create(center, radius, subdivisions))

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
            Watertight, consistently wound, outward normals, positive volume, and the boundary
            of a solid: no self-intersection, no two shells overlapping, nested shells
            alternately oriented (an inward-oriented shell inside an outward one is a cavity).

        Returns
        -------
        Domain

        Raises
        ------
        ValueError
            Not a Trimesh, not watertight, not a volume (inconsistent winding or inverted
            normals), zero volume or one not representable in float64, or not the boundary of a
            solid (its winding number is not 0 / 1 everywhere): the surface intersects itself,
            two shells overlap or one is given twice (faces overlapping in a common plane with
            the same orientation), an outward shell lies inside an outward one (winding number
            2), an inward shell outside every outward one (-1).  Such a mesh is refused, not
            repaired: its union is ``trimesh.boolean.union(mesh.split())`` (manifold3d).

        Notes
        -----
        The solid check (``geomot._solid_check``) finds pairs of faces with an R-tree (rtree) and
        tests them vectorised: about 0.3-0.6 s for the 16k-face bunny.

        Example
        -------
        >>> import trimesh
        >>> D = Domain.mesh(trimesh.creation.box(extents=(1, 2, 3)))
        >>> round(D.volume, 12)
        6.0
        """
        return cls._of(KINDS["mesh"].create(mesh))

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
            Densities, finite, ``>= 0``, not all zero, with a total mass (and pixel volumes)
            representable in float64.
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
        return cls._of(KINDS["image"].create(values, lo, hi, origin))

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
        return cls._of(KINDS["triangulation"].create(vertices, triangles, density))

    # ------------------------------------------------------------------ properties
    @property
    def kind(self):
        """str: the constructor used (``"box"``, ``"polygon"``, ``"disk"``, ``"ball"``,
        ``"mesh"``, ``"image"`` or ``"triangulation"``)."""
        return self._impl.name

    @property
    def dim(self):
        """int: dimension ``d``."""
        return self._impl.dim

    @property
    def pieces(self):
        """ConvexPieces: the convex decomposition used by the exact computations."""
        return self._impl.pieces

    @property
    def piece_volumes(self):
        """(P,) float64: unsigned Lebesgue measure of each piece (read-only)."""
        return self._impl.piece_volumes

    @property
    def volume(self):
        """float: Lebesgue measure :math:`\\sum_p s_p |K_p|` (area in 2D)."""
        return self._impl.volume

    @property
    def total_mass(self):
        """float: :math:`\\int \\rho\\,dx = \\sum_p s_p \\rho_p |K_p|`."""
        return self._impl.total_mass

    @property
    def is_uniform(self):
        """bool: the density is the same constant on every piece."""
        d = self._impl.pieces.density
        return bool(np.all(d == d[0]))

    @property
    def is_convex(self):
        """bool: the domain is convex.

        True for box, disk and ball, and for any domain that is a single convex piece of
        positive sign (a convex polygon, one triangle, one pixel); False otherwise.  A
        convex domain split into several pieces (e.g. a convex polygon with ``merge=False``)
        reports False: the property may miss convexity, never claim it falsely.

        Example
        -------
        >>> import shapely
        >>> Domain.disk([0, 0], 1.0).is_convex, Domain.polygon(shapely.box(0, 0, 2, 1)).is_convex
        (True, True)
        >>> Domain.polygon(shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1, 0.75))).is_convex
        False
        """
        return self._impl.is_convex

    @property
    def pieces_disjoint(self):
        """bool: the pieces have disjoint interiors and sign +1 (they partition the domain).

        False for a mesh: its signed cone tetrahedra may overlap (positive and negative ones
        cancel outside the solid), so measures summed over pieces are exact but the pieces'
        own geometry (cells and facets clipped piece by piece) is not the domain's; intersect
        with :attr:`geometry` instead.

        Example
        -------
        >>> import trimesh
        >>> Domain.box([0, 0], [1, 1]).pieces_disjoint, Domain.mesh(trimesh.creation.box()).pieces_disjoint
        (True, False)
        """
        return type(self._impl).pieces_disjoint

    @property
    def bounds(self):
        """(2, d) float64: ``[lo, hi]`` of the domain's bounding box (read-only copy)."""
        b = self._impl.bounds
        b.flags.writeable = False
        return b

    @property
    def geometry(self):
        """The domain as a geometry object: shapely in 2D, ``trimesh.Trimesh`` in 3D for
        box / ball / mesh, ``None`` otherwise (d = 1, d > 3, 3D images)."""
        g = self._impl.geometry
        if g is not None and self.dim == 3:
            return g.copy()  # trimesh objects are mutable: hand out copies
        return g

    # ------------------------------------------------------------------ queries
    def contains(self, x):
        """Whether points lie in the (closed) domain.

        Parameters
        ----------
        x : (n, d) array_like
            Real points (one point may be given as a 1-D array of length ``d``).

        Returns
        -------
        (n,) bool

        Example
        -------
        >>> Domain.disk([0, 0], 1.0).contains([[0.5, 0.5], [1.0, 1.0]]).tolist()
        [True, False]
        """
        return self._impl.contains(real_points(x, "x", self.dim, single=True))

    def sample(self, n, seed=None):
        """Random points distributed as the source measure (uniform for uniform domains).

        Non-uniform domains: a piece is drawn with probability proportional to its mass,
        then a uniform point in it.  Balls: a cone (centre, face) drawn by volume, then a uniform
        point in it.  Meshes: rejection in the bounding box, a bounded loop (``ValueError`` up
        front if the mesh fills so little of its box that more than 1e9 candidates would be
        needed, never a hang).

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
        if n == 0:
            return np.zeros((0, self.dim))
        return self._impl.sample(n, rng)

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
        c, r = self._impl.inscribed
        return np.array(c), r

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
        out = {"kind": np.array(self._impl.name)}
        for key, v in self._impl.to_arrays().items():
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
        impl = KINDS.get(kind)
        if impl is None:
            raise ValueError(f"arrays['kind'] must be one of {tuple(KINDS)}, got {kind!r}")

        def get(key, default=_MISSING):
            if key in arrays:
                return np.asarray(arrays[key])
            if default is _MISSING:
                raise ValueError(f"arrays is missing the entry {key!r} for a {kind} domain")
            return default

        return cls._of(impl.from_arrays(get))

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        if not isinstance(other, Domain):
            return NotImplemented
        a, b = self._impl.to_arrays(), other._impl.to_arrays()
        if self.kind != other.kind or a.keys() != b.keys():
            return False
        return all(np.array_equal(a[k], b[k]) for k in a)

    def __hash__(self):
        h = [self.kind]
        params = self._impl.to_arrays()
        for k in sorted(params):
            v = np.asarray(params[k])
            h.append((k, v.shape, v.tobytes() if v.dtype.kind != "U" else str(v)))
        return hash(tuple(h))

    def __repr__(self):
        args = self._impl.repr_args()
        if args is not None:
            return f"Domain.{self.kind}({args})"
        b = self.bounds
        return (f"<Domain {self.kind}: dim={self.dim}, pieces={self.pieces.num_pieces}, "
                f"volume={self.volume:.6g}, bounds={b[0].tolist()}..{b[1].tolist()}>")

    def __reduce__(self):
        return (Domain.from_arrays, (self.to_arrays(),))
