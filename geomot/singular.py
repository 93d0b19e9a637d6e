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
import warnings

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from ._singular_components import _group_facets
from ._singular_criteria import (CRITERIA, DEFAULT_NEIGHBORS, DEFAULT_PROBES, _Emptiness, _local_spacing,
                                 default_threshold, emptiness_scores, local_spacing, support_depths)
from ._validate import as_positive_float, as_positive_int, readonly

__all__ = ["singular_set", "SingularSet", "local_spacing", "emptiness_scores", "support_depths",
           "default_threshold", "CRITERIA"]


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
    """The :class:`SingularSet` of the pairs ``pairs[sel]``: the cells' adjacency, and the facets
    grouped into components and ordered (:mod:`geomot._singular_components`)."""
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
    g = _group_facets(diagram, pairs, measures, sel, sc, merge_distance, d)
    sel = sel[g.order]
    return SingularSet(
        pairs=readonly(pairs[sel]), jumps=readonly(jumps_all[sel]), scores=readonly(sc[g.order]),
        threshold=float(tau), segments=readonly(g.segments), segment_pair=readonly(g.segment_pair),
        polygons=g.polygons, polygon_pair=readonly(g.polygon_pair), components=g.components,
        component_measures=readonly(g.component_measures), facet_measures=readonly(g.facet_measures),
        y=readonly(y.copy()), local_scale=readonly(ell), criterion=rule.name, _adjacency=adjacency,
        _rule=rule)
