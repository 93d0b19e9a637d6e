"""The singular set of a semi-discrete Brenier potential: where the optimal map jumps.

The discrete map ``T = grad u_h`` is constant (``y_i``) on each power cell, so it "jumps" across
every facet.  Where the continuous map is continuous these jumps are of the order of the local
target spacing and shrink like ``n^{-1/d}``; across the singular set ``Sigma`` they stay of the
order of the hole / gap / notch of the target support.  :func:`singular_set` finds the facets of
the second kind and groups them into connected pieces ``Gamma_0, Gamma_1, ...``.  A pair of
adjacent cells is singular when the segment ``[y_i, y_j]`` (the subdifferential of ``u_h`` on
their shared facet) is not in the target support ``Lambda``; the criteria (see its Notes, one
small class each, listed in :data:`CRITERIA`):

* ``"support"`` -- ``Lambda`` is known (``support=shape``): the segment leaves it by more than
  one local target spacing.  No threshold.
* ``"emptiness"`` -- ``Lambda`` is not known: the segment crosses an empty ball of the targets
  wider than a scale-aware threshold.
* ``"restricted_delaunay"`` -- the combinatorial test (``(i, j)`` is not an edge of the Delaunay
  triangulation of the targets restricted to ``Lambda``), for comparison.
"""

from dataclasses import dataclass, field
from functools import cached_property
import numbers
from typing import ClassVar
import warnings

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._tol import scale_of, tol
from ._validate import as_points, as_positive_float, as_positive_int, as_vector, readonly

__all__ = ["singular_set", "SingularSet", "local_spacing", "emptiness_scores", "support_depths",
           "default_threshold", "CRITERIA"]

#: default neighbourhood size for the local target spacing
DEFAULT_NEIGHBORS = 16
#: default number of probe points on each segment [y_i, y_j] (emptiness criterion)
DEFAULT_PROBES = 9


@dataclass(frozen=True, eq=False)
class SingularSet:
    """The detected singular set of a semi-discrete transport map.

    Attributes
    ----------
    pairs : (k, 2) int64
        Target indices ``i < j`` of adjacent cells across which the map jumps (sorted by
        component, then by score, descending).
    jumps : (k,) float64
        ``|y_i - y_j|`` for each pair.
    scores : (k,) float64
        The score of each pair under :attr:`criterion` (see :func:`singular_set`):
        ``"emptiness"``: the empty-ball score (> ``threshold``); ``"support"``: how far the
        segment ``[y_i, y_j]`` leaves the support, in local spacings (> ``threshold``);
        ``"restricted_delaunay"``: the jump ratio ``|y_i - y_j| / max(ell_i, ell_j)`` (for
        ordering only).
    threshold : float
        What the scores were compared with: the emptiness threshold ``tau``, the support
        criterion's fixed depth tolerance (``geomot._tol.tol.support_depth``, 1 local
        spacing), or NaN (restricted Delaunay: no threshold).
    criterion : str
        Which criterion selected the pairs: ``"emptiness"`` (no support given),
        ``"support"`` or ``"restricted_delaunay"``.
    segments : (k', 2, d) float64
        2D: the pieces of the shared facets of ``pairs`` in source space (a facet cut by a
        hole of the domain can have several pieces).  Empty ``(0, 2, d)`` in 3D.
    segment_pair : (k',) int64
        Index into ``pairs`` of each segment.
    polygons : list of (p, 3) float64 arrays
        3D: the shared facets (convex polygons) of ``pairs``.  Empty list in 2D.
    polygon_pair : (len(polygons),) int64
        Index into ``pairs`` of each polygon.
    components : list of (k_c,) int64 arrays
        Connected pieces ``Gamma_0, Gamma_1, ...`` as index arrays into ``pairs``: two pairs are
        connected when their facets touch in source space (or come closer than
        ``merge_distance``, see :func:`singular_set`).  Sorted by ``component_measures``
        (descending).
    component_measures : (len(components),) float64
        Total facet length (2D) / area (3D) of each component.
    facet_measures : (k,) float64
        Length (2D) / area (3D) of the shared facet of each pair inside the domain.
    y : (n, d) float64
        The targets (read-only copy).
    local_scale : (n,) float64
        The local target spacing ``ell_i`` used by the criterion.

    Examples
    --------
    >>> import geomot
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(geomot.shapes.two_half_disks(), 500, seed=0))
    >>> s = geomot.singular_set(res)
    >>> s.pairs.shape[1], len(s.components) >= 1
    (2, True)
    """

    pairs: np.ndarray
    jumps: np.ndarray
    scores: np.ndarray
    threshold: float
    segments: np.ndarray
    segment_pair: np.ndarray
    polygons: list
    polygon_pair: np.ndarray
    components: list
    component_measures: np.ndarray
    facet_measures: np.ndarray
    y: np.ndarray
    local_scale: np.ndarray
    criterion: str = "emptiness"
    _adjacency: object = field(default=None, repr=False, compare=False)
    _rule: object = field(default=None, repr=False, compare=False)

    def __len__(self):
        return int(self.pairs.shape[0])

    def __repr__(self):
        return (f"SingularSet(dim={self.dim}, pairs={len(self)}, components={len(self.components)}, "
                f"criterion={self.criterion!r}, threshold={self.threshold:.3g})")

    def classify(self, pairs):
        """Whether target pairs are singular by the criterion that built this set.

        Parameters
        ----------
        pairs : (m, 2) array_like of int
            Any pairs of target indices (adjacent cells or not, e.g. the edges of a
            triangulation of the cell centroids, as :class:`geomot.PiecewiseLinearMap` asks).

        Returns
        -------
        (m,) bool
            For the adjacent pairs of the diagram, ``True`` exactly for :attr:`pairs`.
        """
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n = self.y.shape[0]
        if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
            raise ValueError(f"pairs must be target indices in [0, {n}), got values in "
                             f"[{pairs.min()}, {pairs.max()}]")
        rule = self._rule
        if rule is None:  # a set built by hand: the emptiness test at its threshold
            rule = _Emptiness(self.y, self.local_scale, cKDTree(self.y), self.threshold, DEFAULT_PROBES)
        return rule.evaluate(pairs)[0]

    @property
    def dim(self):
        """Dimension of the source / target space."""
        return int(self.y.shape[1])

    @property
    def is_empty(self):
        """``True`` when no singular pair was found (the map is continuous at this resolution)."""
        return self.pairs.shape[0] == 0

    @cached_property
    def dihedral_angles(self):
        """(k,) angle (radians) between the facets of the graph of ``u`` over the two cells.

        .. math::

            \\cos\\theta_{ij} = \\frac{1 + \\langle y_i, y_j\\rangle}
                                   {\\sqrt{(1 + |y_i|^2)(1 + |y_j|^2)}}

        (normals ``(y_i, -1)`` and ``(y_j, -1)``): the ridges of the potential.  Reported for
        reference; it is not used by the criterion because it depends on the origin and units of
        the targets (see :func:`singular_set`).
        """
        yi = self.y[self.pairs[:, 0]]
        yj = self.y[self.pairs[:, 1]]
        num = 1.0 + np.einsum("ij,ij->i", yi, yj)
        den = np.sqrt((1.0 + np.einsum("ij,ij->i", yi, yi)) * (1.0 + np.einsum("ij,ij->i", yj, yj)))
        return readonly(np.arccos(np.clip(num / den, -1.0, 1.0)))

    def component_targets(self, k, around=True):
        """(t,) sorted unique target indices around component ``k``.

        Parameters
        ----------
        k : int
            Component index.
        around : bool
            ``False``: the targets of the component's pairs only.  ``True`` (default): also the
            cells that meet the component's facets at their ends (in 2D the third cell at each
            vertex of a singular segment, in 3D the cells around its edges), i.e. the common
            neighbours of ``i`` and ``j`` for every singular pair ``(i, j)``.
        """
        k = self._check_component(k)
        pr = self.pairs[self.components[k]]
        idx = np.unique(pr.ravel())
        if around and self._adjacency is not None:
            a = self._adjacency
            common = a[pr[:, 0]].multiply(a[pr[:, 1]])
            idx = np.union1d(idx, np.unique(common.indices))
        return idx

    def subdifferential(self, k=0, around=True):
        """The convex hull of the targets around component ``k``, in target space.

        At a singular point ``x`` the subdifferential of ``u`` is the convex hull of the limits of
        ``grad u`` at nearby regular points.  Discretely, ``partial u`` at a point of the facet
        ``W_i | W_j`` is ``[y_i, y_j]`` and at a vertex of the diagram it is the convex hull of
        the targets of the cells meeting there; so the subdifferential of ``Gamma_k`` is the
        convex hull of the targets of its pairs and of the cells meeting its facets at their
        ends (:meth:`component_targets`).  It covers what that piece of the singular set is
        responsible for: a hole, the gap between two modes, a notch.

        Parameters
        ----------
        k : int
            Component index (0 is the largest).
        around : bool
            Include the cells meeting the facets' ends (default); ``False``: the pairs' targets.

        Returns
        -------
        shapely.Polygon (2D) or trimesh.Trimesh (3D)
            The convex hull (2D: a ``LineString`` if the targets are collinear).

        Raises
        ------
        ValueError
            If ``k`` is not a component index, or (3D) the targets are coplanar.
        """
        idx = self.component_targets(k, around=around)
        pts = self.y[idx]
        if self.dim == 2:
            import shapely

            return shapely.MultiPoint(pts).convex_hull
        import trimesh

        try:
            return trimesh.convex.convex_hull(pts)
        except Exception as exc:  # qhull: coplanar / too few points
            raise ValueError(
                f"component {k} has {len(idx)} targets that do not span 3D; no convex hull ({exc})"
            ) from None

    def _check_component(self, k):
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise ValueError(f"k must be an integer component index, got {k!r}")
        if not -len(self.components) <= k < len(self.components):
            raise ValueError(
                f"k={k} is out of range: the singular set has {len(self.components)} component(s)"
            )
        return int(k) % len(self.components)


#: ``c_d`` such that ``c_d * E[nearest-neighbour distance] = lambda^{-1/d}`` for a Poisson sample
#: of intensity ``lambda``: 1/(Gamma(3/2)/sqrt(pi)) in 2D, 1/(Gamma(4/3) (3/(4 pi))^{1/3}) in 3D
_NN_TO_SPACING = {2: 2.0, 3: 1.0 / (0.8929795115692492 * (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0))}


def local_spacing(y, k_neighbors=16, tree=None):
    r"""Local spacing of a point cloud: the smoothed nearest-neighbour distance around each point.

    Parameters
    ----------
    y : (n, d) array_like
        Points, ``n >= k_neighbors``, ``d`` in {2, 3}.
    k_neighbors : int
        Size ``K`` of the neighbourhood (the point itself included) over which nearest-neighbour
        distances are averaged.
    tree : scipy.spatial.cKDTree, optional
        A tree over ``y``.

    Returns
    -------
    (n,) float64
        .. math::

            \ell_i = c_d \, \frac1K \sum_{j \in N_K(i)} \min_{m \ne j} |y_j - y_m|

        with ``N_K(i)`` the ``K`` nearest points of ``y_i`` and ``c_d`` (2 in 2D, 1.81 in 3D)
        chosen so that ``ell = lambda^{-1/d}`` for a Poisson sample of intensity ``lambda``.
        Averaging the nearest-neighbour distances of the neighbours (rather than the distances
        from ``y_i`` itself) keeps ``ell`` from inflating at the boundary of the support (a point
        on a flat edge has half its neighbourhood empty, but its neighbours' nearest neighbours
        are still close) and from collapsing inside an iid cluster.  It follows a non-uniform
        density and does not depend on the transport.

    Raises
    ------
    ValueError
        If ``y`` is not a finite ``(n, d)`` array, ``k_neighbors`` is not an integer ``>= 1``,
        ``n < max(k_neighbors, 2)``, or ``tree`` is not a ``cKDTree`` built on ``y``.
    TypeError
        If ``y`` is complex.

    Example
    -------
    >>> import numpy as np
    >>> g = np.stack(np.meshgrid(np.arange(9.0), np.arange(9.0)), -1).reshape(-1, 2)
    >>> float(local_spacing(g, 9)[40]) / 2.0   # grid spacing 1: nearest-neighbour distance 1
    1.0
    """
    y = as_points(y, "y")
    k_neighbors = as_positive_int(k_neighbors, "k_neighbors")
    n = y.shape[0]
    if n < max(k_neighbors, 2):
        raise ValueError(
            f"y has {n} point(s): local_spacing needs at least k_neighbors={k_neighbors} "
            f"(and at least 2, for a nearest neighbour); lower k_neighbors or pass more points")
    return _local_spacing(y, k_neighbors, _check_tree(tree, y))


def _check_tree(tree, y, name="tree"):
    """``tree`` if it is a k-d tree over exactly the points ``y``; a new one when None."""
    if tree is None:
        return cKDTree(y)
    if not isinstance(tree, cKDTree):
        raise ValueError(f"{name} must be a scipy.spatial.cKDTree over y, got {type(tree).__name__}")
    if tree.data.shape != y.shape or not np.array_equal(tree.data, y):
        raise ValueError(f"{name} must be built on y itself: it holds {tree.data.shape[0]} point(s) "
                         f"in {tree.data.shape[1]}D that are not y's {y.shape[0]} in {y.shape[1]}D")
    return tree


def _local_spacing(y, k_neighbors, tree):
    """:func:`local_spacing` on validated input (``2 <= n``, ``1 <= k_neighbors <= n``)."""
    dist, nb = tree.query(y, k=max(k_neighbors, 2))
    d1 = dist[:, 1]  # nearest other point (column 0 is the point itself)
    nb = nb[:, :k_neighbors]
    c = _NN_TO_SPACING.get(y.shape[1], 2.0)
    return c * d1[nb].mean(axis=1)


def default_threshold(n, d=2):
    r"""Default score threshold for ``n`` targets in dimension ``d``.

    .. math::

        \tau(n, d) = 1.7\, D_d(n), \qquad
        D_d(n) = 2 \Big(\frac{\ln n}{\omega_d}\Big)^{1/d}

    (``omega_2 = pi``, ``omega_3 = 4 pi / 3``): ``D_d(n)`` is the diameter, in units of the
    spacing ``lambda^{-1/d}``, of a ball that holds ``ln n`` Poisson points on average -- the
    scale of the largest empty ball among ``n`` iid points (extreme values).  A gap of fixed width
    grows like ``n^{1/d}`` spacings, so the slowly growing threshold keeps false positives away
    at large ``n`` without losing the gaps.  2D: 4.58 at ``n = 300``, 5.04 at 1000, 5.43 at
    3000, 6.51 at ``10^5``; 3D: 3.88 at 500, 4.09 at 1500.  The factor 1.7 was calibrated on iid
    uniform targets in a square, a disk and an ellipse (2D) and a ball (3D): the largest regular
    score stays below ``0.9 tau`` in every case measured.

    Raises
    ------
    ValueError
        If ``n`` is not an integer ``>= 1`` or ``d`` is not 2 or 3.

    Example
    -------
    >>> round(default_threshold(3000, 2), 2)
    5.43
    """
    n = as_positive_int(n, "n")
    if isinstance(d, bool) or d not in (2, 3):
        raise ValueError(f"d must be 2 or 3 (the threshold is calibrated in 2D and 3D), got {d!r}")
    omega = np.pi if d == 2 else 4.0 * np.pi / 3.0
    return float(1.7 * 2.0 * (np.log(max(n, 3)) / omega) ** (1.0 / d))


def emptiness_scores(y, pairs, ell, n_probe=DEFAULT_PROBES, tree=None):
    """Diameter of the largest empty ball centred on each segment ``[y_i, y_j]``, over ``ell``.

    Parameters
    ----------
    y : (n, d) float64
        Targets.
    pairs : (m, 2) int
        Index pairs.
    ell : (n,) float64
        Local spacing of the targets (:func:`local_spacing`).
    n_probe : int
        Number of probe points ``t = 1/(n_probe+1), ..., n_probe/(n_probe+1)``.
    tree : scipy.spatial.cKDTree, optional
        A tree over ``y`` (built if not given).

    Returns
    -------
    (m,) float64
        .. math::

            s_{ij} = \\frac{2 \\max_t \\operatorname{dist}\\big(y_i + t(y_j - y_i), Y\\big)}
                          {\\max(\\ell_i, \\ell_j)}

        Since ``dist(y_i + t(y_j - y_i), Y) <= min(t, 1 - t) |y_j - y_i|``, ``s_ij`` never exceeds
        the jump ratio ``|y_i - y_j| / max(ell_i, ell_j)``.

    Raises
    ------
    ValueError
        If ``pairs`` is not an ``(m, 2)`` array of integer indices in ``[0, n)``, ``ell`` is not
        ``(n,)`` finite and positive, ``n_probe < 1``, ``y`` is not a finite ``(n, d)`` array, or
        ``tree`` is not a ``cKDTree`` built on ``y``.

    Example
    -------
    >>> import numpy as np
    >>> y = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 1.0], [4.0, 1.0]])
    >>> emptiness_scores(y, [[0, 1]], np.ones(4), n_probe=1).tolist()   # empty ball of radius 2
    [4.0]
    """
    y = as_points(y, "y")
    n = y.shape[0]
    pairs = _as_pairs(pairs, n)
    ell = as_vector(ell, "ell", n=n, positive=True)
    n_probe = as_positive_int(n_probe, "n_probe")
    if pairs.shape[0] == 0:
        return np.zeros(0)
    return _emptiness_scores(y, pairs, ell, n_probe, _check_tree(tree, y))


def _as_pairs(pairs, n, name="pairs"):
    """``pairs`` as an ``(m, 2)`` int64 array of indices in ``[0, n)`` (a copy)."""
    try:
        p = np.asarray(pairs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an (m, 2) array of target indices: {exc}") from None
    if p.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if p.ndim == 1 and p.shape[0] == 2:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{name} must be an (m, 2) array of target indices, got shape {p.shape}")
    if p.dtype.kind not in "iu":
        if p.dtype.kind == "b":
            raise ValueError(f"{name} must hold integer target indices, got booleans")
        try:
            f = np.array(p, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold integer target indices, got dtype {p.dtype}") from None
        if not np.all(np.isfinite(f)) or np.any(f != np.round(f)):
            row = int(np.argmax(~(np.isfinite(f) & (f == np.round(f))).all(axis=1)))
            raise ValueError(f"{name} must hold integer target indices, row {row} is {f[row].tolist()}")
        p = f
    bad = (p < 0) | (p >= n)
    if np.any(bad):
        row = int(np.argmax(bad.any(axis=1)))
        raise ValueError(f"{name} must hold target indices in [0, {n}) (y has {n} targets), "
                         f"row {row} is {p[row].tolist()}")
    return np.array(p, dtype=np.int64)


def _emptiness_scores(y, pairs, ell, n_probe, tree):
    """:func:`emptiness_scores` on validated input (``pairs`` non-empty, in range)."""
    t = np.arange(1, n_probe + 1, dtype=np.float64) / (n_probe + 1)
    yi = y[pairs[:, 0]]
    dy = y[pairs[:, 1]] - yi
    probes = yi[:, None, :] + t[None, :, None] * dy[:, None, :]
    dist, _ = tree.query(probes.reshape(-1, y.shape[1]), k=1)
    depth = dist.reshape(pairs.shape[0], n_probe).max(axis=1)
    return 2.0 * depth / np.maximum(ell[pairs[:, 0]], ell[pairs[:, 1]])


def support_depths(y, pairs, ell, support):
    r"""How far each segment ``[y_i, y_j]`` leaves the target support, in local spacings.

    Parameters
    ----------
    y : (n, d) float64
        Targets (``d`` = 2 or 3).
    pairs : (m, 2) int
        Index pairs.
    ell : (n,) float64
        Local spacing of the targets (:func:`local_spacing`).
    support : shapely.Polygon, shapely.MultiPolygon, trimesh.Trimesh or geomot.Domain
        The target support ``Lambda`` (a watertight mesh in 3D).

    Returns
    -------
    (m,) float64
        .. math::

            \delta_{ij} = \frac{\max_{t \in [0, 1]} \operatorname{dist}\big(y_i + t (y_j - y_i),
                          \Lambda\big)}{\max(\ell_i, \ell_j)} ,

        probed at points at most ``tol.support_probe * max(ell_i, ell_j)`` apart (a quarter
        spacing), so it is exact at the end points and at most an eighth of a spacing too low
        elsewhere.  0 for a segment inside the support.

    Example
    -------
    >>> import numpy as np, shapely
    >>> two = shapely.box(0, 0, 1, 1).union(shapely.box(3, 0, 4, 1))   # a gap of width 2
    >>> y = np.array([[0.5, 0.5], [3.5, 0.5], [0.2, 0.5]])
    >>> support_depths(y, np.array([[0, 1], [0, 2]]), np.full(3, 0.5), two).round(6).tolist()
    [2.0, 0.0]
    """
    from ._support import as_support

    y = np.asarray(y, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    ell = np.asarray(ell, dtype=np.float64)
    sup = as_support(support, y.shape[1])
    return _SupportDepth(y, ell, sup, sup.distance(y), tol.support_depth).scores(pairs, everything=True)


# ----------------------------------------------------------------------------- criteria
# One small class per criterion behind singular_set; each answers, for any target pairs,
# ``evaluate(pairs) -> (singular (m,) bool, scores (m,))`` and builds itself from the keywords
# that apply to it (``create``), rejecting the others.
class _Criterion:
    name: ClassVar[str] = ""
    needs_support: ClassVar[bool] = False

    def evaluate(self, pairs):
        raise NotImplementedError

    def warn_if_empty(self, frame=None):
        """Called when nothing was selected (a hook for the emptiness criterion's warning);
        ``frame`` is the diagram's :class:`geomot.frame.Frame` (or None)."""


@dataclass(frozen=True, eq=False)
class _Emptiness(_Criterion):
    """Segments that cross an empty ball of the targets wider than ``tau`` local spacings."""

    name: ClassVar[str] = "emptiness"
    y: np.ndarray
    ell: np.ndarray
    tree: object
    threshold: float
    n_probe: int

    @classmethod
    def create(cls, y, ell, tree, support, threshold, n_probe):
        if support is not None:
            raise ValueError("support is not used by criterion='emptiness' (it ignores the "
                             "target shape); use criterion='support' or leave criterion unset")
        n, d = y.shape
        tau = default_threshold(n, d) if threshold is None else as_positive_float(threshold, "threshold")
        n_probe = DEFAULT_PROBES if n_probe is None else as_positive_int(n_probe, "n_probe")
        return cls(y, ell, tree, tau, n_probe)

    def evaluate(self, pairs):
        tau = self.threshold
        lmax = np.maximum(self.ell[pairs[:, 0]], self.ell[pairs[:, 1]])
        jumps = np.linalg.norm(self.y[pairs[:, 0]] - self.y[pairs[:, 1]], axis=1)
        # the score is at most the jump ratio: probe only the pairs that pass the jump test
        cand = np.flatnonzero(jumps > tau * lmax)
        sc = np.zeros(pairs.shape[0])
        if cand.size:  # validated input: the private kernel (the public one re-checks everything)
            sc[cand] = _emptiness_scores(self.y, pairs[cand], self.ell, self.n_probe, self.tree)
        return sc > tau, sc

    def warn_if_empty(self, frame=None):
        # in the targets' frame (geomot.frame): the Delaunay test lifts |y|^2, which targets far
        # from the origin would hold only to eps |y|^2
        if frame is None:
            _warn_if_nonconvex(self.y, self.ell, self.threshold)
        else:
            _warn_if_nonconvex(frame.to_targets(self.y), self.ell / frame.target_scale, self.threshold)


def _no_emptiness_keywords(name, threshold, n_probe):
    for key, val in (("threshold", threshold), ("n_probe", n_probe)):
        if val is not None:
            raise ValueError(f"{key} applies to criterion='emptiness' only; criterion={name!r} "
                             f"has no {key} to tune")


def _check_targets_in_support(sup, y, ell):
    """Target distances to the support; ValueError when most targets lie outside it."""
    dist = sup.distance(y)
    out = dist > tol.support_depth * ell
    k = int(np.count_nonzero(out))
    if 2 * k > y.shape[0]:
        raise ValueError(
            f"support: {k} of {y.shape[0]} targets lie outside it (farther than one local spacing): "
            f"support must be the shape the targets were drawn from, in the same units and place "
            f"(it is {sup.kind} with bounds {_bounds_text(sup)}; the targets span {_bounds_text(y)})")
    if k:
        warnings.warn(
            f"singular_set: {k} of {y.shape[0]} targets lie outside the support (farther than one "
            f"local spacing); the segments from them count as leaving the support", RuntimeWarning,
            stacklevel=4)
    return dist


def _bounds_text(obj):
    if isinstance(obj, np.ndarray):
        lo, hi = obj.min(axis=0), obj.max(axis=0)
    else:
        b = obj.domain().bounds if obj.dim == 3 else np.asarray(obj.geom.bounds).reshape(2, 2)
        lo, hi = b[0], b[1]
    return "[" + ", ".join(f"{a:.3g}..{b:.3g}" for a, b in zip(lo, hi)) + "]"


@dataclass(frozen=True, eq=False)
class _SupportDepth(_Criterion):
    """Segments that leave the known support by more than ``threshold`` local spacings."""

    name: ClassVar[str] = "support"
    needs_support: ClassVar[bool] = True
    y: np.ndarray
    ell: np.ndarray
    support: object  # geomot._support.TargetSupport
    target_depth: np.ndarray  # (n,) dist(y_i, support)
    threshold: float

    @classmethod
    def create(cls, y, ell, tree, support, threshold, n_probe):
        _no_emptiness_keywords(cls.name, threshold, n_probe)
        return cls(y, ell, support, _check_targets_in_support(support, y, ell), tol.support_depth)

    def scores(self, pairs, everything=False):
        """Depth / spacing of each pair (see :func:`support_depths`).

        ``everything``: every segment probed a quarter spacing apart.  Else two passes, which
        decide ``depth > kappa`` as the quarter-spacing probes would (up to an eighth of a
        spacing): probes ``S = max(ell, L / 8)`` apart bound the depth within ``S / 2``, which
        settles most pairs (deeper than ``kappa`` for sure, or not); only the others are probed
        again a quarter spacing apart.  Probes are placed only where the end-point bound
        ``min(t L + d_i, (1 - t) L + d_j)`` lets the depth reach the tolerance, and pairs that
        cannot reach it at all, or whose end points already do, are not probed (their score is
        the end points' depth).
        """
        i, j = pairs[:, 0], pairs[:, 1]
        lmax = np.maximum(self.ell[i], self.ell[j])
        depth = np.maximum(self.target_depth[i], self.target_depth[j])  # the end points
        fine = tol.support_probe * lmax
        length = np.linalg.norm(self.y[j] - self.y[i], axis=1)
        if everything:
            cand = np.flatnonzero(length > 0)
            depth[cand] = np.maximum(depth[cand], self._probe(pairs[cand], length[cand], fine[cand],
                                                              np.full(cand.size, -np.inf)))
            return depth / lmax
        level = self.threshold * lmax
        # the depth is at most min(t L + d_i, (1 - t) L + d_j) <= L / 2 + max(d_i, d_j)
        cand = np.flatnonzero((0.5 * length + depth > level) & (depth <= level) & (length > 0))
        coarse = np.maximum(4.0 * fine[cand], length[cand] / 8.0)
        # a probe within S/2 of the deepest point has a bound above level - S/2 when depth > level
        lower = np.maximum(depth[cand], self._probe(pairs[cand], length[cand], coarse,
                                                    level[cand] - 0.5 * coarse))
        depth[cand] = lower
        # between probes S apart the depth exceeds theirs by at most S / 2
        cand = cand[(lower <= level[cand]) & (lower + 0.5 * coarse > level[cand])]
        if cand.size:
            depth[cand] = np.maximum(depth[cand], self._probe(pairs[cand], length[cand], fine[cand],
                                                              level[cand] - 0.5 * fine[cand]))
        return depth / lmax

    def _probe(self, pairs, length, step, bar):
        """Max distance to the support over points ``step`` apart on each segment, where the
        end-point bound exceeds ``bar`` (elsewhere the segment cannot be that deep)."""
        y = self.y
        i, j = pairs[:, 0], pairs[:, 1]
        di, dj = self.target_depth[i], self.target_depth[j]
        m = np.maximum(np.ceil(length / step).astype(np.int64), 1)
        owner = np.repeat(np.arange(pairs.shape[0]), m + 1)
        first = np.repeat(np.cumsum(m + 1) - (m + 1), m + 1)
        t = (np.arange(owner.size) - first) / m[owner]
        bound = np.minimum(t * length[owner] + di[owner], (1.0 - t) * length[owner] + dj[owner])
        keep = bound > bar[owner]
        owner, t = owner[keep], t[keep]
        probes = y[i[owner]] + t[:, None] * (y[j[owner]] - y[i[owner]])
        out = np.zeros(pairs.shape[0])
        np.maximum.at(out, owner, self.support.distance(probes))
        return out

    def evaluate(self, pairs):
        sc = self.scores(pairs)
        return sc > self.threshold, sc


@dataclass(frozen=True, eq=False)
class _RestrictedDelaunay(_Criterion):
    """Pairs that are not edges of the Delaunay triangulation of the targets restricted to
    the support (the combinatorial test; see :func:`singular_set`)."""

    name: ClassVar[str] = "restricted_delaunay"
    needs_support: ClassVar[bool] = True
    y: np.ndarray
    ell: np.ndarray
    edge_keys: np.ndarray  # sorted i * n + j (i < j) of the restricted Delaunay edges
    threshold: float = float("nan")

    @classmethod
    def create(cls, y, ell, tree, support, threshold, n_probe):
        from .power import power_diagram

        _no_emptiness_keywords(cls.name, threshold, n_probe)
        _check_targets_in_support(support, y, ell)
        # the restricted Voronoi diagram: Voronoi heights h = -|y|^2 / 2, clipped to the
        # support; its adjacent pairs are the restricted Delaunay edges
        rvd = power_diagram(y, -0.5 * np.einsum("ij,ij->i", y, y), support.domain())
        e = np.asarray(rvd.pairs, dtype=np.int64).reshape(-1, 2)
        return cls(y, ell, np.unique(np.minimum(e[:, 0], e[:, 1]) * y.shape[0] + np.maximum(e[:, 0], e[:, 1])))

    def evaluate(self, pairs):
        n = self.y.shape[0]
        key = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])
        lmax = np.maximum(self.ell[pairs[:, 0]], self.ell[pairs[:, 1]])
        jumps = np.linalg.norm(self.y[pairs[:, 0]] - self.y[pairs[:, 1]], axis=1)
        return ~np.isin(key, self.edge_keys), jumps / lmax


#: the criteria of :func:`singular_set`, by name
CRITERIA = {c.name: c for c in (_Emptiness, _SupportDepth, _RestrictedDelaunay)}


def singular_set(res, *, support=None, criterion=None, threshold=None, k_neighbors=None,
                 n_probe=None, merge_distance=None):
    """Detect the singular set of a semi-discrete optimal transport map.

    Parameters
    ----------
    res : OTResult or PowerDiagram
        An exact solve (``res.diagram`` is used; a ``PowerDiagram`` is accepted directly).
        A result with ``converged == False`` gives a ``RuntimeWarning``.
    support : shapely.Polygon, shapely.MultiPolygon, trimesh.Trimesh or geomot.Domain, optional
        The target support ``Lambda``, when it is known (the shape the targets were drawn
        from, e.g. :func:`geomot.shapes.two_half_disks` or :func:`geomot.shapes.bunny`): a
        polygon in 2D, a watertight mesh in 3D.  Selects ``criterion="support"``: no threshold.
    criterion : {"emptiness", "support", "restricted_delaunay"}, optional
        Default ``"support"`` when ``support`` is given, else ``"emptiness"``.
        ``"restricted_delaunay"`` (needs ``support``) is the combinatorial test, for comparison.
    threshold : float, optional
        ``criterion="emptiness"`` only: threshold ``tau`` on the score: a pair is singular
        when the segment between its targets crosses an empty ball of diameter
        ``> tau * ell``.  Default :func:`default_threshold` ``(n, d)`` (2D: 4.58 at
        ``n = 300``, 6.51 at ``10^5``).
    k_neighbors : int, optional
        Neighbourhood size for the local spacing ``ell`` (:func:`local_spacing`, default 16).
    n_probe : int, optional
        ``criterion="emptiness"`` only: probe points per segment (default 9).
    merge_distance : float, optional
        Two singular facets belong to the same component when they touch, or when vertices of
        theirs are closer than ``merge_distance`` (source units).  Default ``1.5 (|Omega| /
        m)^{1/d}`` (``m`` non-empty cells: 1.5 cell diameters), which bridges a single pair
        missed by the threshold; 0 gives strict touching (up to rounding).

    Returns
    -------
    SingularSet
        With :attr:`SingularSet.criterion` naming the criterion used.

    Raises
    ------
    ValueError
        If ``res`` has no exact power diagram, has fewer than ``2 k_neighbors`` targets, or a
        keyword is invalid or does not apply to the criterion (``threshold``, ``n_probe``
        with a support criterion; ``support`` with ``"emptiness"``); if ``support`` has the
        wrong dimension, is empty, invalid (a self-intersecting polygon, zero area), open (a
        mesh that is not watertight) or of another type; if most targets lie outside it.

    Warns
    -----
    RuntimeWarning
        If the solve did not converge; if some targets lie outside ``support``; with the
        emptiness criterion, if no singular pair was found although the targets leave an
        empty region inside their convex hull much larger than their spacing (a non-convex
        target: lower ``threshold``, or pass ``support``, if a singular set is expected).

    Notes
    -----
    For adjacent cells ``W_i, W_j`` the subdifferential of ``u_h`` at a point of their shared
    facet is the segment ``[y_i, y_j]``.  At a regular point of the continuous map this segment
    shrinks to a point as ``n -> infinity``; at a singular point it converges to a set that is
    not contained in the target support ``Lambda`` (it crosses the part of ``conv(Lambda)``
    missing from ``Lambda``, THEORY.md): ``x`` is singular exactly when
    ``partial u(x) ⊄ Lambda``.  The criteria below are discrete versions of that statement.

    **Support criterion** (``support`` given; ``criterion="support"``).  With ``Lambda`` known
    the statement can be tested directly: a pair is singular when its segment leaves the
    support by more than one local target spacing,

    .. math::

        \\delta_{ij} = \\frac{\\max_{t \\in [0,1]} \\operatorname{dist}\\big(y_i + t (y_j - y_i),
                       \\Lambda\\big)}{\\max(\\ell_i, \\ell_j)} > \\kappa = 1

    (:func:`support_depths`; ``kappa`` is ``geomot._tol.tol.support_depth``, not a keyword).
    The tolerance is tied to the sampling, not tuned: the targets sample ``Lambda`` at spacing
    ``ell`` and the discrete map places ``T(x)`` only to within about one ``ell``, so a
    departure from ``Lambda`` smaller than one spacing is not resolved.  A *regular* pair
    (two targets of ``Lambda`` a few ``ell`` apart) leaves ``Lambda`` only where it cuts a
    concave part of the boundary: by ``L^2 / (8 R)`` at a smooth boundary of curvature radius
    ``R`` (a vanishing fraction of ``ell`` as ``n`` grows) and by at most ``L / 2`` at a
    reflex corner.  Across a gap of width ``w`` the depth is about ``w / 2``, i.e. ``w / (2
    ell)`` spacings, which grows like ``n^{1/d}``: gaps wider than about 3 spacings are found
    entirely (the emptiness threshold needs about 4 in 3D, 6 in 2D at ``n = 10^5``).

    Measured (``benchmarks/bench_singular_convergence.py``, iid targets, table in
    ``docs/singular_convergence.md``): on rectangle -> two half-disks (``n = 10^3 ... 10^5``)
    and cube -> two balls (``10^3 ... 3 * 10^4``) the support and emptiness criteria select
    the same pairs, every adjacent pair joining the two components and nothing else (across the
    half-disks' gap ``delta >= 2.7`` at ``n = 10^3``, ``>= 15`` at ``3 * 10^4``); on disk ->
    annulus the support criterion keeps a few more pairs around the centre (11 against 8 at
    ``10^3``, 54 against 48 at ``10^5``: chords of the hole deeper than a spacing), both
    shrinking to the centre like ``n^{-1/4}``; on rectangle -> dumbbell it finds, from ``n =
    3000`` (the emptiness threshold from ``3 * 10^4``), four branches leaving the inner ends
    of the two midline segments (0.15 long at ``3 * 10^4`` and ``10^5``: a Y at each end, whose
    subdifferentials cover the wedges between the bar and the disks).  On ball -> bunny it
    finds the creases between the ears and the back, at the neck, under the chin and the belly
    (from ``n = 1500``) and at the tail (``n = 3 * 10^4``; :mod:`geomot.reproduce.fig6`).

    The depth is measured on probe points (2D: shapely's prepared ``intersects_xy`` and
    ``distance``; 3D: the ray-parity test of :meth:`geomot.Domain.contains` and exact
    point-triangle distances to the nearest faces), only where the end-point bound ``depth <=
    min(t L + d_i, (1-t) L + d_j)`` (``d`` the targets' own distances to ``Lambda``) lets it
    reach the tolerance: first ``max(ell, L / 8)`` apart, which bounds the depth within half a
    step and settles most pairs, then a quarter spacing apart for the undecided ones (a pair is
    classified as with quarter-spacing probes, up to an eighth of a spacing; the scores of the
    selected pairs are lower bounds).  Cost: at ``n = 10^5`` in 2D a fraction of one power
    diagram (``benchmarks/bench_singular.py``); 3D, ball -> bunny at ``n = 3 * 10^4``: 1.6 s.

    **Emptiness criterion** (no support; ``criterion="emptiness"``).  Without ``Lambda``, a pair
    is singular when its segment crosses *empty target space*:

    .. math::

        s_{ij} = \\frac{2 \\max_{t \\in (0,1)} \\operatorname{dist}\\big(y_i + t (y_j - y_i),
                 \\{y_1, \\dots, y_n\\}\\big)}{\\max(\\ell_i, \\ell_j)} > \\tau ,

    with ``ell`` the local target spacing (:func:`local_spacing`: the nearest-neighbour distances
    of the ``K`` targets nearest to ``y_i``, averaged and scaled so that ``ell = lambda^{-1/d}``
    for a Poisson sample of intensity ``lambda``) and ``tau = threshold``.  The numerator is the
    diameter of the largest empty ball centred on the segment (probed at ``n_probe`` points,
    accurate to ``|y_i - y_j| / (n_probe + 1)``); as it is at most ``|y_i - y_j|``, the score
    implies the jump test ``|y_i - y_j| > tau * ell``, and only pairs passing that test are probed
    (the cost is two k-NN queries on the targets plus a few probes per candidate pair).

    Both ``ell`` and the empty-ball diameter are measured on the targets themselves, near
    ``y_i`` and ``y_j``: the score is invariant under translation, rotation and scaling of the
    targets, follows a non-uniform target density, and does not depend on the transport.  With
    iid samples the *jumps* of regular pairs have a heavy tail (several ``ell``), but a segment
    inside the support only crosses the empty balls of the sample, whose largest diameter grows
    like ``sqrt(log n)`` spacings (extreme values); across a gap of width ``w`` the score is
    about ``w / ell``, which grows like ``n^{1/d}``.  Hence the default ``tau(n, d) = 1.7
    D_d(n)``, a multiple of the expected largest empty-ball diameter (:func:`default_threshold`).
    Measured in 2D with iid targets (convex supports: square, disk, ellipse; about 40 samples):
    the largest regular score was 2.5-3.3 at ``n = 300`` (``tau = 4.58``), 2.9-4.05 for ``n =
    500 ... 1000`` (``tau = 4.78 ... 5.04``), 3.6-4.3 at ``n = 5000`` (``tau = 5.5``), 4.4 at
    ``n = 10^4`` and ``3 * 10^4`` (``tau = 5.8, 6.2``); 3D (ball): 2.5-2.8 for ``n = 500 ...
    1500`` (``tau = 3.9 ... 4.1``).  Across the gap of :func:`geomot.shapes.two_half_disks`
    (width 0.5) the scores are 6-18 for ``n >= 1000`` (the threshold may miss the ends of the
    gap at ``n ~ 300``, where the gap is only ~4 spacings wide).  For grid samples regular
    scores are at most ``sqrt(2)``.  A gap narrower than about ``tau`` spacings (4 in 3D at
    ``n ~ 10^4``) is missed: the support criterion resolves gaps of about 3 spacings.

    **Restricted Delaunay (combinatorial) criterion** (``criterion="restricted_delaunay"``).
    The test used with geogram's semi-discrete transport: a facet ``W_i | W_j`` is singular
    when ``(i, j)`` is not an edge of the Delaunay triangulation of the targets restricted to
    ``Lambda`` (the dual of their Voronoi diagram clipped to ``Lambda``, computed here as the
    adjacent pairs of :func:`geomot.power_diagram` at Voronoi heights on ``Lambda``).  It has
    no tolerance, but the transport's pairs are those of a *regular* triangulation (weights
    ``|y|^2 + 2 h``), which differs from the Delaunay one by many local flips, so every
    flipped regular pair is reported.  Measured at ``n = 10^4`` (same solves): 4955 pairs in
    340 pieces on two half-disks (the support criterion: 154 in 1), 4729 on the annulus, 4126
    on the dumbbell, 16892 on cube -> two balls; 93-96 % of the detected facets (2D) lie
    farther than 3 cells from ``Sigma``.  It finds ``Sigma`` too (every pair joining the two
    half-disks is in it) but buries it, and costs one more power diagram, on ``Lambda`` (17-25 s
    in 3D at ``10^4``, against 0.45-1.2 s for the support criterion; 2.2 power diagrams in 2D
    at ``10^5``).

    **Dihedral angle (AE-OT).**  The graph of ``u_h`` has facets with normals ``(y_i, -1)``;
    across the facet ``W_i | W_j`` they meet at the angle of :attr:`SingularSet.dihedral_angles`,
    which is ``~ |y_i - y_j|`` for targets near the origin.  AE-OT thresholds that angle on
    the top two facets.  A fixed angle is not scale-aware: it changes with the units and the
    origin of the targets (and the local density).  Measured: calibrated on two half-disks at
    ``n = 10^3`` (largest regular angle 0.192 rad, smallest singular 0.371: threshold 0.282),
    it selects at ``n = 10^4`` the same pairs as the support criterion on the four cases --
    and none at all for the same transport with the targets scaled by 0.5 or moved by
    ``(10, 0)`` (the cells do not change; the support and emptiness criteria give the same
    154 pairs).  (``benchmarks/bench_singular_convergence.py --compare`` measures the four
    criteria on the same solves; the table is in ``docs/singular_convergence.md``.)

    References
    ----------
    N. Lei, Y. Guo, D. An, X. Qi, Z. Luo, S.-T. Yau, X. Gu, *Mode Collapse and Regularity of
    Optimal Transportation Maps*, arXiv:1902.02934 (2019).
    L. A. Caffarelli, *The regularity of mappings with a convex potential*, JAMS 5 (1992).
    D. An, Y. Guo, N. Lei, Z. Luo, S.-T. Yau, X. Gu, *AE-OT: a new generative model based on
    extended semi-discrete optimal transport*, ICLR 2020.
    B. Lévy, *A numerical algorithm for L2 semi-discrete optimal transport in 3D*, ESAIM M2AN
    49 (2015) (geogram).

    Examples
    --------
    >>> import geomot
    >>> dom = geomot.Domain.box([0, 0], [2, 1])
    >>> two = geomot.shapes.two_half_disks()
    >>> res = geomot.solve_ot(dom, geomot.shapes.sample(two, 1000, seed=1), tol=1e-6)
    >>> s = geomot.singular_set(res)
    >>> bool(abs(s.segments[..., 0] - 1.0).max() < 0.1)   # the midline x = 1
    True
    >>> t = geomot.singular_set(res, support=two)          # the target shape is known
    >>> t.criterion, bool(abs(t.segments[..., 0] - 1.0).max() < 0.1)
    ('support', True)
    """
    diagram = _diagram_of(res)
    if getattr(res, "converged", True) is False:
        warnings.warn(
            "singular_set: the transport solve did not converge; cells (and the detected "
            "singular set) may be wrong", RuntimeWarning, stacklevel=2)
    y = np.asarray(diagram.y, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] not in (2, 3):
        raise ValueError(f"res targets must be (n, 2) or (n, 3), got shape {y.shape}")
    n, d = y.shape
    if criterion is None:
        criterion = "emptiness" if support is None else "support"
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {sorted(CRITERIA)}, got {criterion!r}")
    kind = CRITERIA[criterion]
    if kind.needs_support and support is None:
        raise ValueError(f"criterion={criterion!r} needs support= (the target shape)")
    if k_neighbors is None:
        k_neighbors = DEFAULT_NEIGHBORS
    k_neighbors = as_positive_int(k_neighbors, "k_neighbors", minimum=2)
    if merge_distance is not None:
        merge_distance = as_positive_float(merge_distance, "merge_distance", allow_zero=True)
    if support is not None:
        from ._support import as_support

        support = as_support(support, d)
    n_min = 2 * k_neighbors
    if n < n_min:
        raise ValueError(
            f"res has {n} targets: the scale-aware criterion needs at least {n_min} "
            f"(2 * k_neighbors) to estimate a local target spacing")

    tree = cKDTree(y)
    ell = _local_spacing(y, k_neighbors, tree)
    if not np.all(ell > 0):
        raise ValueError("res targets contain duplicates (zero local spacing)")
    rule = kind.create(y, ell, tree, support, threshold, n_probe)
    pairs = np.asarray(diagram.pairs, dtype=np.int64).reshape(-1, 2)
    measures = np.asarray(diagram.facet_measures, dtype=np.float64).reshape(-1)
    jumps_all = np.linalg.norm(y[pairs[:, 0]] - y[pairs[:, 1]], axis=1)
    flag, sc_all = rule.evaluate(pairs)
    sel = np.flatnonzero(flag)
    sc = sc_all[sel]

    if merge_distance is None:
        nonempty = max(int(np.count_nonzero(~np.asarray(diagram.empty, dtype=bool))), 1)
        vol = float(np.sum(diagram.volumes))
        merge_distance = 1.5 * (vol / nonempty) ** (1.0 / d)
    out = _assemble(diagram, y, pairs, measures, jumps_all, sel, sc, rule, ell, merge_distance)
    if out.is_empty:
        rule.warn_if_empty(getattr(diagram, "frame", None))
    return out


def _diagram_of(res):
    if hasattr(res, "pairs") and hasattr(res, "facets"):
        return res
    diagram = getattr(res, "diagram", None)
    if diagram is None:
        raise ValueError(
            "res must be an exact OTResult (with .diagram) or a PowerDiagram; "
            f"got {type(res).__name__} without a power diagram (Monte Carlo results have none)")
    return diagram


def _assemble(diagram, y, pairs, measures, jumps_all, sel, sc, rule, ell, merge_distance):
    """Facet geometry, connected components and ordering of the selected pairs."""
    d = y.shape[1]
    k = sel.size
    tau = rule.threshold
    empty2 = np.zeros((0, 2, d))
    if k == 0:
        return SingularSet(
            pairs=readonly(np.zeros((0, 2), np.int64)), jumps=readonly(np.zeros(0)),
            scores=readonly(np.zeros(0)), threshold=float(tau), segments=readonly(empty2),
            segment_pair=readonly(np.zeros(0, np.int64)), polygons=[],
            polygon_pair=readonly(np.zeros(0, np.int64)), components=[],
            component_measures=readonly(np.zeros(0)), facet_measures=readonly(np.zeros(0)),
            y=readonly(y.copy()), local_scale=readonly(ell), criterion=rule.name, _rule=rule)

    n = y.shape[0]
    ones = np.ones(2 * pairs.shape[0], dtype=np.int8)
    adjacency = csr_matrix((ones, (np.concatenate([pairs[:, 0], pairs[:, 1]]),
                                   np.concatenate([pairs[:, 1], pairs[:, 0]]))), shape=(n, n))
    piece_pair, indptr, pts = _selected_facets(diagram, pairs, sel)
    pieces = np.arange(piece_pair.size)
    counts = indptr[1:] - indptr[:-1]
    vert = pts
    vert_owner = np.repeat(piece_pair, counts)

    # connected components: pairs whose facets share a vertex (or come within merge_distance)
    labels = np.arange(k)
    if vert.shape[0]:
        tol = max(merge_distance, 1e-8 * scale_of(vert))
        close = cKDTree(vert).query_pairs(tol, output_type="ndarray")
        a = vert_owner[close[:, 0]] if close.size else np.zeros(0, np.int64)
        b = vert_owner[close[:, 1]] if close.size else np.zeros(0, np.int64)
        g = coo_matrix((np.ones(a.size), (a, b)), shape=(k, k))
        _, labels = connected_components(g, directed=False)
    fmeas = measures[sel]
    ncomp = int(labels.max()) + 1
    cmeas = np.bincount(labels, weights=fmeas, minlength=ncomp)
    csize = np.bincount(labels, minlength=ncomp)
    corder = np.lexsort((-csize, -cmeas))  # measure desc, then size desc
    rank = np.empty(ncomp, np.int64)
    rank[corder] = np.arange(ncomp)
    lab = rank[labels]
    order = np.lexsort((-sc, lab))  # by component, then score desc
    new_pos = np.empty(k, np.int64)
    new_pos[order] = np.arange(k)
    lab_sorted = lab[order]
    bounds = np.searchsorted(lab_sorted, np.arange(ncomp + 1))
    components = [readonly(np.arange(bounds[c], bounds[c + 1], dtype=np.int64))
                  for c in range(ncomp)]

    owner_sorted = new_pos[piece_pair[pieces]]
    porder = np.argsort(owner_sorted, kind="stable")
    pieces = pieces[porder]
    owner_sorted = owner_sorted[porder]
    if d == 2:
        segs = pts[indptr[pieces][:, None] + np.arange(2)[None, :]]
        polygons = []
        polygon_pair = np.zeros(0, np.int64)
        segment_pair = owner_sorted
    else:
        segs = np.zeros((0, 2, d))
        segment_pair = np.zeros(0, np.int64)
        polygons = [readonly(pts[indptr[p]:indptr[p + 1]].copy()) for p in pieces]
        polygon_pair = owner_sorted
    sel = sel[order]
    return SingularSet(
        pairs=readonly(pairs[sel]), jumps=readonly(jumps_all[sel]), scores=readonly(sc[order]),
        threshold=float(tau), segments=readonly(segs), segment_pair=readonly(segment_pair),
        polygons=polygons, polygon_pair=readonly(polygon_pair), components=components,
        component_measures=readonly(cmeas[corder]), facet_measures=readonly(fmeas[order]),
        y=readonly(y.copy()), local_scale=readonly(ell), criterion=rule.name, _adjacency=adjacency,
        _rule=rule)


def _selected_facets(diagram, pairs, sel):
    """Facet pieces of the pairs ``pairs[sel]`` only: ``(owner (s,), indptr (s+1,), points)``.

    ``owner`` indexes ``sel``.  ``diagram.facets(sel)`` clips only the cells of the selected
    pairs, so this costs a fraction of a full ``diagram.facets()``.
    """
    sel = np.asarray(sel, dtype=np.int64)
    fg = diagram.facets(sel)
    pos = np.full(pairs.shape[0], -1, dtype=np.int64)
    pos[sel] = np.arange(sel.size)
    return (pos[np.asarray(fg.pair_index, dtype=np.int64)], np.asarray(fg.indptr, dtype=np.int64),
            np.asarray(fg.points, dtype=np.float64))


def _warn_if_nonconvex(y, ell, tau):
    """Warn when the targets leave a large empty region inside their convex hull.

    The empty circumballs of the Delaunay simplices of the targets bound the empty regions.  One
    whose diameter exceeds ``1.5 * default_threshold(n, d)`` local spacings and whose centre lies
    inside the targets' convex hull at depth ``>= r / 2`` (so that it is not a sliver along the
    hull) signals a non-convex support, where a singular set is expected.  Independent of the
    user's ``threshold`` on purpose: it catches a threshold set too high.
    """
    from .lifting import _hull_halfspaces, _regular_triangulation

    n, d = y.shape
    # the Delaunay triangulation: the regular one at the Voronoi heights -|y|^2/2
    tri = _regular_triangulation(y, -0.5 * np.einsum("ij,ij->i", y, y))
    if tri.affine_dim < d:
        return
    nrm, off = _hull_halfspaces(y, tri.simplices)
    # circumcentres: solve 2 (p_k - p_0) . c = |p_k|^2 - |p_0|^2
    p = y[tri.simplices]
    a = 2.0 * (p[:, 1:] - p[:, :1])
    b = (p[:, 1:] ** 2).sum(-1) - (p[:, :1] ** 2).sum(-1)
    ok = np.abs(np.linalg.det(a)) > 1e-300
    c = np.zeros((p.shape[0], d))
    c[ok] = np.linalg.solve(a[ok], b[ok][..., None])[..., 0]
    r = np.linalg.norm(c - p[:, 0], axis=1)
    lmax = ell[tri.simplices].max(axis=1)
    limit = 1.5 * default_threshold(n, d)
    big = ok & (2.0 * r > limit * lmax)
    if np.any(big):
        depth = -(c[big] @ nrm.T - off).max(axis=1)
        big[np.flatnonzero(big)[depth < 0.5 * r[big]]] = False
    if np.any(big):
        warnings.warn(
            f"singular_set found no singular pair, but the targets leave an empty ball of "
            f"diameter {float((2 * r[big] / lmax[big]).max()):.1f} x (local spacing) inside their "
            f"convex hull: the target support is not convex and the map may be discontinuous; "
            f"lower threshold (now {tau:.3g}), or pass support= (the target shape), if a singular "
            f"set is expected", RuntimeWarning,
            stacklevel=4)  # user -> singular_set -> warn_if_empty -> here
