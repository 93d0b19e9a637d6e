"""The criteria of :func:`geomot.singular.singular_set`: local target spacing, scores, rule classes.

A pair of adjacent cells is singular when the segment ``[y_i, y_j]`` is not in the target
support; each criterion decides it on the scale of the targets themselves, the local spacing
``ell`` (:func:`local_spacing`):

* the measures, public for experiments (re-exported by :mod:`geomot.singular`):
  :func:`local_spacing`, :func:`default_threshold`, :func:`emptiness_scores`,
  :func:`support_depths`;
* one small class per criterion (``_Emptiness``, ``_SupportDepth``, ``_RestrictedDelaunay``),
  registered in :data:`CRITERIA`, each built from the keywords that apply to it and answering
  ``evaluate(pairs) -> (singular, scores)`` for any target pairs;
* the warning of the emptiness criterion when it finds nothing in a non-convex target.

The detector and its result type are in :mod:`geomot.singular`.
"""

from dataclasses import dataclass
from typing import ClassVar
import warnings

import numpy as np
from scipy.spatial import cKDTree

from ._tol import tol
from ._validate import as_points, as_positive_float, as_positive_int, as_vector

__all__ = ["local_spacing", "emptiness_scores", "support_depths", "default_threshold", "CRITERIA"]

#: default neighbourhood size for the local target spacing
DEFAULT_NEIGHBORS = 16
#: default number of probe points on each segment [y_i, y_j] (emptiness criterion)
DEFAULT_PROBES = 9

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
    the support (the combinatorial test; see :func:`geomot.singular.singular_set`)."""

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


#: the criteria of :func:`geomot.singular.singular_set`, by name
CRITERIA = {c.name: c for c in (_Emptiness, _SupportDepth, _RestrictedDelaunay)}


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
