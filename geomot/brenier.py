"""The Brenier potential of a semi-discrete transport: an upper envelope of planes.

.. math::

    u(x) = \\max_{1 \\le i \\le n} \\; \\langle x, y_i \\rangle + h_i ,
    \\qquad T(x) = \\nabla u(x) = y_{\\sigma(x)},
    \\qquad \\sigma(x) = \\operatorname{argmax}_i \\langle x, y_i \\rangle + h_i .

The argmax is a power-diagram point location.  Since

.. math::

    |x - y_i|^2 - w_i = |x|^2 - 2 (\\langle x, y_i \\rangle + h_i),
    \\qquad w_i = |y_i|^2 + 2 h_i ,

it is the nearest neighbour of :math:`(x, 0)` among the lifted points
:math:`(y_i, \\sqrt{C - w_i}) \\in \\mathbb{R}^{d+1}`, :math:`C = \\max_i w_i`, which a k-d
tree answers (``method="kdtree"``).  The k-d tree only proposes candidates: the exact scores
of the ``k`` nearest decide, and a point whose answer is not certified by the ``k``-th
distance (rounding in the lifted coordinates) falls back to brute force.  The k-d tree is
fast when the power weights vary little at the scale of the cells (near-Voronoi
diagrams); when they vary smoothly by more (a transport with a large displacement) the
query point lies far below the lifted surface and the tree visits many leaves.

Hence the default in dimension 1 to 3 (``method="walk"``): the regular triangulation
(:mod:`geomot.lifting`: the lower convex hull of the lifted points :math:`(y_i, -2 h_i)`, one
qhull call, or the one a power diagram already holds) gives each visible target its
neighbours, and the cell of ``y_i`` is cut out by them alone, so a steepest-ascent walk in the
triangulation ends at the argmax.  Walks start from exact answers on a hierarchy of grids over
the queries and take a few steps.  Every answer is certified by a margin over the neighbours;
ties and near-ties go to the brute force.  All methods return the same index as the brute
force, ties going to the smallest index.  The same triangulation gives the hidden targets and
the Legendre dual (the lower convex envelope of the points :math:`(y_i, -h_i)`).

Every argmax is computed in a frame (:mod:`geomot.frame`): :math:`\\langle x, y_i\\rangle + h_i =
\\langle x, b\\rangle + s t (\\langle x', y'_i\\rangle + h'_i)`, so the scores compared are O(1)
wherever the targets lie.  A potential built from a solve (:attr:`geomot.OTResult.potential`)
uses the solve's frame and frame heights, so it locates points in the cells the solver
converged to; one built from world ``(y, h)`` uses the frame of its targets (``a = 0``,
``s = t``: :meth:`geomot.frame.Frame.of_targets`) and is as precise as the world heights allow.  Values, maps and the Legendre dual
are in world units (values :math:`\\langle x, y_i\\rangle + h_i` at the argmax, in the loop
kernels' fixed order).

References
----------
Y. Brenier, *Polar factorization and monotone rearrangement of vector-valued functions*,
Comm. Pure Appl. Math. 44 (1991).
N. Lei, Y. Guo, D. An, X. Qi, Z. Luo, S.-T. Yau, X. Gu, *Mode Collapse and Regularity of
Optimal Transportation Maps*, arXiv:1902.02934.
F. Aurenhammer, *Power diagrams: properties, algorithms and applications*, SIAM J. Comput.
16 (1987).
"""

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from . import _backend
from ._point_location import _LiftedTree, _LowerEnvelope, _score_rows, _Walker
# the point location's tuning constants, importable from here as before
from ._point_location import KDTREE_CANDIDATES, WALK_CERTIFY_RTOL  # noqa: F401
from ._validate import as_points, as_positive_int, as_real_array, as_vector, readonly
from .frame import Frame
from .lifting import RegularTriangulation, _affine_frame, _check_triangulation, _regular_triangulation

__all__ = ["BrenierPotential"]

#: largest dimension for which the k-d tree point location is used by default
KDTREE_MAX_DIM = 4
#: largest dimension for which the triangulation walk is used by default
WALK_MAX_DIM = 3
#: with method="auto", below this many point-target pairs the brute force beats building
#: the triangulation (unless it is built already)
AUTO_BRUTE_PAIRS = 2 * 10**7
_METHODS = ("auto", "walk", "kdtree", "brute")


@dataclass(frozen=True, eq=False)
class _Framed:
    """A potential's frame quantities: the frame, the frame targets ``yf`` and heights ``hf``,
    and the world ``y``, ``h`` they stand for (a potential whose world arrays differ, e.g.
    after ``dataclasses.replace``, recomputes them)."""

    frame: Frame
    yf: np.ndarray
    hf: np.ndarray
    y: np.ndarray
    h: np.ndarray

    @classmethod
    def of_world(cls, y, h):
        frame = Frame.of_targets(y)
        yf = frame.to_targets(y)
        return cls(frame, readonly(yf), readonly(frame.heights_to_frame(yf, h)), y, h)

    def fits(self, y, h):
        return (self.y.shape == y.shape and self.h.shape == h.shape and np.array_equal(self.y, y)
                and np.array_equal(self.h, h))


def _fit_triangulation(tri, y, yf, name="triangulation"):
    """``tri`` for the frame targets ``yf``: as given when it was built on them (a power
    diagram's), else a triangulation of the world targets ``y`` with its affine frame moved
    to ``yf`` (a positive scaling and a translation change no lower hull); ValueError (the
    world check's) when it fits neither."""
    try:
        _check_triangulation(tri, yf, name)
        return tri
    except ValueError:
        _check_triangulation(tri, y, name)  # raises, naming the problem in the user's coordinates
    frame = _affine_frame(yf)[0]
    if frame.dim != tri.affine_dim:
        return None  # rounding decides the rank differently there: build one in the frame
    return dataclasses.replace(tri, frame=frame)


# one triangulation of polygons for the package: the domain's (ccw, slivers dropped)
from ._decompose import polygon_triangles as _triangulate_polygon  # noqa: E402


# --------------------------------------------------------------------------------------
# public class
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BrenierPotential:
    """The convex piecewise-linear potential :math:`u(x) = \\max_i \\langle x, y_i\\rangle + h_i`.

    Parameters
    ----------
    y : (n, d) array_like
        Targets (finite).
    h : (n,) array_like
        Heights of the planes (finite); the potential of a transport is defined up to an
        additive constant, which changes no argmax.
    backend : {"numpy", "numba", "cupy"}, optional
        Backend of the brute-force argmax (used for ``d > 4`` or ``method="brute"``).
    memory_budget : int, optional
        Bytes allowed for one block of scores (default 64 MiB): no ``N x n`` score matrix
        larger than this is ever allocated.
    triangulation : geomot.lifting.RegularTriangulation, optional, keyword-only
        The regular triangulation of these targets for these heights, e.g.
        :attr:`geomot.power.PowerDiagram.triangulation` of the diagram at the same ``h``: the
        walk, :attr:`hidden` and :meth:`legendre` then build no hull of their own.  Default:
        built on first use (:func:`geomot.lifting.regular_triangulation`, one qhull call).
        A triangulation of other targets (count, dimension, affine frame) is a ValueError;
        the heights are not checked.

    Attributes
    ----------
    y : (n, d) float64, read-only
    h : (n,) float64, read-only
    triangulation : RegularTriangulation or None
        As given.
    n, dim : int

    Notes
    -----
    Calls accept ``x`` of shape ``(N, d)`` (or one point ``(d,)``, then the result is a
    scalar / one row) and ``method``:

    ``"auto"`` (default)
        the brute force for small problems (``N * n <= 2e7``, unless a structure is built
        already), else ``"walk"`` for ``d <= 3``, ``"kdtree"`` for ``d = 4``, ``"brute"``
        above.
    ``"walk"``
        steepest ascent in the regular triangulation, certified (see the module notes);
        targets in a lower-dimensional affine subspace fall back to the k-d tree.
    ``"kdtree"``
        k nearest lifted targets, rescored exactly, certified.
    ``"brute"``
        all scores, in blocks within ``memory_budget``, on ``backend``.

    All return the same index, ties going to the smallest target index.

    .. math::

        u(x) = \\max_i \\langle x, y_i \\rangle + h_i, \\qquad
        u^*(z) = \\sup_{x \\in \\mathbb{R}^d} \\langle x, z \\rangle - u(x).

    References
    ----------
    N. Lei et al., *Mode Collapse and Regularity of Optimal Transportation Maps*,
    arXiv:1902.02934, section 3.

    Example
    -------
    >>> import numpy as np
    >>> from geomot.brenier import BrenierPotential
    >>> u = BrenierPotential([[0.0, 0.0], [1.0, 0.0]], [0.0, -0.5])
    >>> float(u([2.0, 0.0])), int(u.index([2.0, 0.0])), u.map([0.0, 0.0]).tolist()
    (1.5, 1, [0.0, 0.0])

    Reusing the triangulation of a power diagram (no second hull):

    >>> import geomot
    >>> y = np.array([[0.2, 0.3], [0.7, 0.4], [0.5, 0.8]])
    >>> h = -0.5 * (y**2).sum(axis=1)
    >>> pd = geomot.power_diagram(y, h, geomot.Domain.box([0, 0], [1, 1]))
    >>> v = BrenierPotential(y, h, triangulation=pd.triangulation)
    >>> v.hidden.tolist(), int(v.index([0.9, 0.1]))
    ([False, False, False], 1)
    """

    y: np.ndarray
    h: np.ndarray
    backend: str = "numpy"
    memory_budget: int = None
    triangulation: RegularTriangulation = field(default=None, kw_only=True, repr=False)
    #: private: the frame quantities (:class:`_Framed`); a result passes its own
    _framed: _Framed = field(default=None, kw_only=True, repr=False)

    def __post_init__(self):
        y = as_points(self.y, "y")
        h = as_vector(self.h, "h", n=y.shape[0])
        be = _backend.get_backend(name=self.backend)
        budget = _backend._as_budget(self.memory_budget)
        framed = self._framed
        if not (isinstance(framed, _Framed) and framed.fits(y, h)):
            framed = _Framed.of_world(y, h)
        lifted = None
        if self.triangulation is not None:
            lifted = _fit_triangulation(self.triangulation, y, framed.yf, "triangulation")
        object.__setattr__(self, "y", readonly(y))
        object.__setattr__(self, "h", readonly(h))
        object.__setattr__(self, "backend", be.name)
        object.__setattr__(self, "memory_budget", budget)
        object.__setattr__(self, "_framed", framed)
        if lifted is not None:
            self.__dict__["_lifted"] = lifted  # (the cached property's slot)

    @classmethod
    def _in_frame(cls, y, h, frame, hf, triangulation=None):
        """The potential of world ``y``, ``h`` computed in ``frame`` from the frame heights ``hf``
        (exact ones, e.g. a solve's), not from ``h``."""
        y = readonly(y, dtype=np.float64, copy=True)
        h = readonly(h, dtype=np.float64, copy=True)
        framed = _Framed(frame, readonly(frame.to_targets(y)), readonly(hf, dtype=np.float64, copy=True), y, h)
        return cls(y, h, triangulation=triangulation, _framed=framed)

    @property
    def frame(self):
        """The :class:`~geomot.frame.Frame` of the argmax."""
        return self._framed.frame

    # ------------------------------------------------------------------ basic facts
    @property
    def n(self):
        """Number of targets."""
        return self.y.shape[0]

    @property
    def dim(self):
        """Dimension ``d`` of the source / target space."""
        return self.y.shape[1]

    def __reduce__(self):
        # rebuild through the constructor: read-only arrays, caches rebuilt lazily; the frame
        # quantities travel along (a solve's frame heights are not recomputable from h)
        f = self._framed
        make = functools.partial(type(self), triangulation=self.triangulation,
                                 _framed=_Framed(f.frame, np.array(f.yf), np.array(f.hf), np.array(f.y),
                                                 np.array(f.h)))
        return (make, (np.array(self.y), np.array(self.h), self.backend, self.memory_budget))

    def __repr__(self):
        return (
            f"BrenierPotential(n={self.n}, dim={self.dim}, h in [{self.h.min():.6g}, {self.h.max():.6g}], "
            f"backend={self.backend!r})"
        )

    # ------------------------------------------------------------------ argmax
    @functools.cached_property
    def _tree(self):
        return _LiftedTree(self._framed.yf, self._framed.hf)

    def _brute(self, x):
        """Brute-force argmax and (frame) scores of frame points ``x``."""
        be = _backend.get_backend(name=self.backend)
        xd, yd, hd = be.asarray(x), be.asarray(self._framed.yf), be.asarray(self._framed.hf)
        i, v = be.argmax_scores(xd, yd, hd, memory_budget=self.memory_budget)
        return np.asarray(be.to_numpy(i), dtype=np.int64), np.asarray(be.to_numpy(v), dtype=np.float64)

    @functools.cached_property
    def _lifted(self):
        """The regular triangulation of the frame targets: as given, or built (one hull) on first use."""
        hf = self._framed.hf
        # h' centred as power_diagram does: the same hull as the diagram at these heights
        return _regular_triangulation(self._framed.yf, hf - hf.mean())

    @functools.cached_property
    def _walker(self):
        tri = self._lifted
        if tri.affine_dim != self.dim:
            return None  # a flat target set: no full-dimensional triangulation to walk in
        return _Walker(self._framed.yf, self._framed.hf, tri)

    def _argmax(self, x, method):
        """``(index, value)`` of world points ``x``: the argmax in the frame, the value in world units."""
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        xf = np.ascontiguousarray(self._framed.frame.to_source(x))
        ok = np.all(np.isfinite(xf), axis=1)
        if ok.all():
            i = self._frame_argmax(xf, method)
            return i, _score_rows(x, self.y, self.h, i)
        # points beyond float64 in the frame: no target can be told apart there (the value is
        # reported as overflowing, see _locate)
        i = np.zeros(x.shape[0], dtype=np.int64)
        if ok.any():
            i[ok] = self._frame_argmax(np.ascontiguousarray(xf[ok]), method)
        v = _score_rows(x, self.y, self.h, i)
        v[~ok] = np.inf
        return i, v

    def _frame_argmax(self, x, method):
        """The argmax index of frame points ``x``."""
        if method == "auto":
            cheap = x.shape[0] * self.n <= AUTO_BRUTE_PAIRS
            if cheap and "_walker" not in self.__dict__ and "_tree" not in self.__dict__:
                method = "brute"
            elif self.dim <= WALK_MAX_DIM and self._walker is not None:
                method = "walk"
            elif self.dim <= KDTREE_MAX_DIM:
                method = "kdtree"
            else:
                method = "brute"
        if method == "brute":
            return self._brute(x)[0]
        if method == "walk":
            if self._walker is None:
                return self._tree.query(x, self.memory_budget, self._brute)[0]
            return self._walker.query(x, self.memory_budget, self._brute)[0]
        return self._tree.query(x, self.memory_budget, self._brute)[0]

    def _locate(self, X, method):
        """``_argmax`` of validated points, with a ValueError where the scores overflow."""
        with np.errstate(over="ignore", invalid="ignore"):
            i, v = self._argmax(X, method)
        if not np.all(np.isfinite(v)):
            r = int(np.argmax(~np.isfinite(v)))
            raise ValueError(
                f"x is too large: u(x) = max_i <x, y_i> + h_i overflows float64 at row {r} "
                f"(max |x| = {float(np.abs(X[r]).max()):.3g}, max |y| = {float(np.abs(self.y).max()):.3g}); "
                f"no target can be told apart there")
        return i, v

    def _points(self, x):
        a = as_real_array(x, "x", f"an (N, {self.dim}) array of float")
        single = a.ndim == 1
        if a.ndim == 2 and a.shape[0] == 0:
            if a.shape[1] != self.dim:
                raise ValueError(f"x must have {self.dim} columns (the targets' dimension), got shape {a.shape}")
            return np.zeros((0, self.dim)), False
        if single and a.shape[0] != self.dim:
            raise ValueError(f"x must be a point of dimension {self.dim} or an (N, {self.dim}) array, got shape {a.shape}")
        return as_points(a, "x", dim=self.dim, dim_of="the targets"), single

    def index(self, x, method="auto"):
        """The argmax :math:`\\sigma(x) = \\operatorname{argmax}_i \\langle x, y_i\\rangle + h_i`.

        Parameters
        ----------
        x : (N, d) or (d,) array_like
        method : {"auto", "walk", "kdtree", "brute"}
            Point-location algorithm (see the class notes); all give the same answer.

        Returns
        -------
        (N,) int64 array (an int for one point); ties go to the smallest index.
        """
        X, single = self._points(x)
        i, _ = self._locate(X, method)
        return int(i[0]) if single else i

    def __call__(self, x, method="auto"):
        """Values :math:`u(x) = \\max_i \\langle x, y_i\\rangle + h_i`, shape ``(N,)`` (a float for one point)."""
        X, single = self._points(x)
        _, v = self._locate(X, method)
        return float(v[0]) if single else v

    def map(self, x, method="auto"):
        """The transport map :math:`T(x) = \\nabla u(x) = y_{\\sigma(x)}`, shape ``(N, d)`` (``(d,)`` for one point)."""
        X, single = self._points(x)
        i, _ = self._locate(X, method)
        out = self.y[i]
        return out[0] if single else out

    def gradient(self, x, method="auto"):
        """Alias of :meth:`map`: the gradient of ``u`` (defined off the cell boundaries)."""
        return self.map(x, method=method)

    # ------------------------------------------------------------------ Legendre dual
    @functools.cached_property
    def _envelope(self):
        # the envelope of the points (y'_j, -h_j): frame coordinates, world values
        return _LowerEnvelope(self._framed.yf, np.asarray(self.h), self._lifted)

    @functools.cached_property
    def hidden(self):
        """(n,) bool, read-only: targets whose lifted point is not a vertex of the lower hull.

        Their cell ``{x in R^d : <x, y_i> + h_i >= <x, y_j> + h_j for all j}`` has empty
        interior: they receive no mass whatever the source.
        """
        return readonly(self._lifted.hidden, copy=True)

    def legendre(self, z=None):
        """The Legendre dual :math:`u^*(z) = \\sup_{x \\in \\mathbb{R}^d} \\langle x, z\\rangle - u(x)`.

        Parameters
        ----------
        z : (m, d) or (d,) array_like, optional
            Where to evaluate; default: the targets ``y`` (then ``(n,)`` values).

        Returns
        -------
        (m,) float64 array (a float for one point)
            :math:`u^*` is the lower convex envelope of the points :math:`(y_j, -h_j)`,
            evaluated at ``z``: ``-h_i`` at a visible target ``y_i`` (its cell is non-empty
            in :math:`\\mathbb{R}^d`), a value ``< -h_i`` at a hidden one, and ``+inf``
            outside the convex hull of the targets.

        Notes
        -----
        The supremum is over all of :math:`\\mathbb{R}^d`, not over the source domain: the
        dual potential of the transport restricted to a domain Ω (``sup over x in Ω``)
        is smaller in general and is not what this returns.

        .. math::

            u^*(y_i) = -h_i \\;\\text{(visible)}, \\qquad
            u(x) + u^*(z) \\ge \\langle x, z \\rangle \\;\\text{(Fenchel--Young)}.

        Example
        -------
        >>> u = BrenierPotential([[0.0], [1.0], [2.0]], [1.0, -1.0, 1.0])
        >>> u.legendre().tolist()   # the middle plane is hidden: envelope value -1, not 1
        [-1.0, -1.0, -1.0]
        >>> u.hidden.tolist()
        [False, True, False]
        """
        if z is None:
            return self._legendre_targets.copy()
        a = as_real_array(z, "z", f"an (m, {self.dim}) array of float")
        single = a.ndim == 1
        if single and a.shape[0] != self.dim:
            raise ValueError(f"z must be a point of dimension {self.dim} or an (m, {self.dim}) array, got shape {a.shape}")
        Z = as_points(a, "z", dim=self.dim, min_rows=0, dim_of="the targets")
        if Z.shape[0] == 0:
            return np.zeros(0)
        g = self._envelope(self._framed.frame.to_targets(Z))
        # rows that are targets get the exact target values (-h_i when visible)
        lookup = self._target_rows
        hit = [lookup.get(row.tobytes(), -1) for row in Z]
        hit = np.asarray(hit, dtype=np.int64)
        on = hit >= 0
        g[on] = self._legendre_targets[hit[on]]
        return float(g[0]) if single else g

    @functools.cached_property
    def _legendre_targets(self):
        t = -np.asarray(self.h)
        out = t.copy()
        hid = np.flatnonzero(self._lifted.hidden)
        if hid.size:  # a hidden target: the envelope below it (at most -h_i)
            g = self._envelope(self._framed.yf[hid])
            out[hid] = np.minimum(np.where(np.isfinite(g), g, t[hid]), t[hid])
        return readonly(out)

    @functools.cached_property
    def _target_rows(self):
        y = np.asarray(self.y) + 0.0  # -0.0 -> 0.0 so that equal rows have equal bytes
        out = {}
        for i in range(self.n - 1, -1, -1):
            out[y[i].tobytes()] = i
        return out

    # ------------------------------------------------------------------ graph surface
    def graph(self, domain, resolution=64, exact=True):
        """The graph :math:`z = u(x)` over a 2D domain as a ``pyvista.PolyData`` surface.

        Parameters
        ----------
        domain : geomot.Domain (2D)
        resolution : int
            Grid points per side of the bounding box for the sampled fallback (used when
            the exact power diagram is not available or ``exact=False``).
        exact : bool
            Build the surface from the power diagram (``geomot.power.power_diagram``):
            each cell polygon is triangulated and lifted to the plane
            :math:`z = \\langle x, y_i\\rangle + h_i`, so the facets are the cells and the
            ridges are exactly the cell boundaries.

        Returns
        -------
        pyvista.PolyData
            Triangles with ``cell_data["target"]`` (the target index of each facet).
            Exact mode: vertices are not shared between cells (sharp ridges).  Sampled
            fallback: a grid triangulation of the bounding box (triangles whose centroid is
            in the domain) with the exact values ``u`` at its vertices; ``target`` is the
            argmax at each triangle's centroid.

        Example
        -------
        >>> import numpy as np, geomot
        >>> y = np.random.default_rng(0).random((20, 2))
        >>> u = geomot.BrenierPotential(y, -0.5 * (y**2).sum(axis=1))
        >>> surf = u.graph(geomot.Domain.box([0, 0], [1, 1]))
        >>> sorted(set(surf.cell_data["target"])) == list(range(20))
        True
        """
        import pyvista as pv

        if self.dim != 2:
            raise ValueError(f"graph needs 2D targets (a surface over a planar domain), got dimension {self.dim}")
        ddim = getattr(domain, "dim", None)
        if ddim != 2:
            raise ValueError(f"domain must be a 2D geomot Domain, got dim={ddim!r}")
        resolution = as_positive_int(resolution, "resolution", minimum=2)
        tris = None
        owner = None
        if exact:
            try:
                from .power import power_diagram
            except ImportError:
                power_diagram = None
            if power_diagram is not None:
                pd = power_diagram(np.asarray(self.y), np.asarray(self.h), domain)
                parts, owners = [], []
                for i in range(self.n):
                    cell = pd.cell(i)
                    if cell is None or cell.is_empty:
                        continue
                    t = _triangulate_polygon(cell)
                    if t.shape[0]:
                        parts.append(t)
                        owners.append(np.full(t.shape[0], i, dtype=np.int64))
                if parts:
                    tris = np.concatenate(parts)
                    owner = np.concatenate(owners)
        if tris is None:
            tris, owner = self._sampled_triangles(domain, resolution)
            pts2 = tris.reshape(-1, 2)
            zval = self(pts2) if pts2.shape[0] else np.zeros(0)
        else:
            pts2 = tris.reshape(-1, 2)
            own = np.repeat(owner, 3)
            zval = np.einsum("ij,ij->i", pts2, self.y[own]) + self.h[own]
        pts = np.column_stack([pts2, zval])
        k = tris.shape[0]
        faces = np.column_stack([np.full(k, 3), np.arange(3 * k).reshape(k, 3)]).ravel()
        surf = pv.PolyData(pts, faces=faces)
        surf.cell_data["target"] = owner
        return surf

    def _sampled_triangles(self, domain, resolution):
        """Grid triangles over the domain's bounding box (centroid inside), owner = argmax at centroid."""
        b = np.asarray(domain.bounds, dtype=np.float64)
        if b.shape == (2, 2):
            lo, hi = b[0], b[1]
        else:
            b = b.ravel()
            lo, hi = b[:2], b[2:4]
        gx = np.linspace(lo[0], hi[0], resolution)
        gy = np.linspace(lo[1], hi[1], resolution)
        X, Y = np.meshgrid(gx, gy, indexing="xy")
        P = np.column_stack([X.ravel(), Y.ravel()])
        r = resolution
        ii, jj = np.meshgrid(np.arange(r - 1), np.arange(r - 1), indexing="xy")
        v00 = (jj * r + ii).ravel()
        v10 = v00 + 1
        v01 = v00 + r
        v11 = v01 + 1
        tri = np.concatenate([np.column_stack([v00, v10, v11]), np.column_stack([v00, v11, v01])])
        tris = P[tri]
        cent = tris.mean(axis=1)
        keep = np.asarray(domain.contains(cent), dtype=bool)
        tris = tris[keep]
        owner = self.index(tris.mean(axis=1)) if tris.shape[0] else np.zeros(0, dtype=np.int64)
        return tris, np.asarray(owner, dtype=np.int64)
