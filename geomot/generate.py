"""Generation that respects the singular set (AE-OT), and the continuous baseline that does not.

:class:`PiecewiseLinearMap` extends the discrete optimal map piecewise linearly over the Delaunay
triangulation of the cell centroids and refuses to interpolate across the singular set;
:func:`continuous_map` fits a smooth map to the same data and shows mode collapse (samples in the
gap between modes).  :func:`off_support_fraction` and :func:`mode_balance` measure the two.

The constructions live in :mod:`geomot._pl_delaunay` and :mod:`geomot._pl_top_cells`, the
continuous baselines in :mod:`geomot._baselines` (re-exported here).
"""

import numpy as np

from ._baselines import ContinuousMap, continuous_map  # noqa: F401 (re-exported)
from ._pl_delaunay import _DelaunayConstruction
from ._pl_top_cells import _TopCellsConstruction
from ._validate import as_points, as_positive_float, as_positive_int, as_rng, as_source_points

__all__ = ["PiecewiseLinearMap", "ContinuousMap", "continuous_map", "off_support_fraction",
           "mode_balance"]


#: the constructions of PiecewiseLinearMap, by name
CONSTRUCTIONS = {c.name: c for c in (_DelaunayConstruction, _TopCellsConstruction)}


class PiecewiseLinearMap:
    """Piecewise-linear extension of a semi-discrete optimal map (AE-OT generation), in any dimension.

    Two constructions (``construction=``), one interface.

    **Delaunay** (exact 2D/3D results, the default for ``method="newton"``).  The centroids ``c_i`` of the non-empty power cells are triangulated (Delaunay, the dual of
    the power diagram up to a few boundary edges); on each simplex ``conv(c_{i_0}, ..., c_{i_d})``
    the map is the affine map onto ``conv(y_{i_0}, ..., y_{i_d})``:

    .. math::

        g(x) = \\sum_{k=0}^{d} \\lambda_k(x)\\, y_{i_k}, \\qquad
        x = \\sum_k \\lambda_k(x)\\, c_{i_k},\\ \\sum_k \\lambda_k = 1 .

    With ``avoid_singular=True`` a simplex is *rejected* when one of its edges ``(i, j)`` is a
    singular pair (:func:`geomot.singular_set`), or is not a pair of adjacent cells and is
    singular by the same criterion (:meth:`geomot.SingularSet.classify`: its targets' segment
    crosses empty target space, or leaves the support when the singular set was found with
    ``support=``): such a simplex straddles the singular set and would interpolate across the
    gap / hole.  ``g`` gives NaN rows there and :meth:`sample` redraws.

    Outside the convex hull of the centroids (a thin band along the domain boundary) ``g`` is the
    discrete map itself, ``T(x) = y_{argmax_i <x, y_i> + h_i}``, which always lands on a target
    (hill climbing on the cell adjacency from the nearest centroid, exact on convex domains; the
    potential's certified argmax on other domains).  Points outside the domain are mapped by
    the same rules.

    Built and evaluated in the frame of the diagram (:mod:`geomot.frame`): centroids, targets,
    heights and source points on O(1) coordinates, the images moved back to world units, so
    the map of a translated or scaled problem is the translated or scaled map.

    Point location is a visibility walk (numba) from the start simplex of a bucket grid, with
    the points counting-sorted by bucket and closed-form barycentric transforms; no ``n x m``
    array is formed.  Measured on rectangle -> two half-disks with ``10^5`` cells, as ratios to
    one ``power_diagram`` call in the same run (``benchmarks/bench_singular.py``, 2 shared
    cores): construction (dominated by the Delaunay triangulation) 0.6 x, ``sample(10^6)``
    0.15 x, ``PiecewiseLinearMap(res).sample(10^6)`` with its own ``singular_set`` 0.9 x (under
    heavy load from other processes: 1.1 x, 0.3 x and 1.9 x).

    **Top cells** (Monte-Carlo results in any dimension ``d >= 2``, the default for
    ``method="montecarlo"``; exact results too).  No triangulation exists in a latent space of
    dimension 8 or 100, so the simplex of a point is the one of its own cells (AE-OT, An et al.
    2020): the ``d + 1`` cells ``i_0, ..., i_d`` of largest score ``<x, y_i> + h_i`` at ``x``
    (``i_0`` its cell).  The centroids ``c_i`` are the means of ``n_samples`` source samples per
    cell (default ``max(100 n, 10^5)`` samples in all); ``x`` is written in barycentric
    coordinates of the kept centroids (least squares on their affine hull, negative
    coordinates set to 0 and the rest renormalised: a convex combination of their targets),

    .. math::

        g(x) = \\sum_{k \\in K(x)} \\lambda_k(x)\\, y_{i_k}, \\qquad
        \\lambda = \\operatorname{clip}_{\\ge 0}\\Big(\\operatorname{argmin}_{\\sum \\lambda = 1}
        \\big|x - \\textstyle\\sum_{k \\in K} \\lambda_k c_{i_k}\\big|\\Big) \\text{ renormalised}.

    With ``avoid_singular=True`` the same scale-aware criterion decides which pairs of targets are
    separated by empty target space (``singular_set(res).classify`` for exact results, the
    emptiness criterion written for ``d`` dimensions, :class:`geomot._gaps.TargetGaps`, for
    Monte-Carlo results): ``x`` is *rejected* when its top two cells ``(i_0, i_1)`` are singular
    (AE-OT's rule: the two highest facets of the potential meet on the singular set), and the
    interpolation set ``K(x)`` keeps, best score first, only the cells that are non-singular with
    every cell kept before; ``avoid_singular=False`` interpolates over all ``d + 1``.  Cost: the
    construction one ``O(M n d)`` product for ``M`` samples; each point ``O(n d)`` (one BLAS
    row and an ``argpartition``) plus ``O(d^3)`` (the least squares), in blocks of bounded
    memory; each pair of cells is classified once (memoised).  In 2D on an exact solve it is
    close to the Delaunay construction (the top three cells of a point are mostly the vertices
    of its Delaunay triangle; tested).

    Parameters
    ----------
    res : OTResult
        An exact solve (``res.diagram``, ``res.h``, ``res.domain`` are used) or a Monte-Carlo
        result (``res.domain``, ``res.frame``, ``res.frame_weights``).
    avoid_singular : bool
        Reject points that straddle the singular set (default).  ``False``: the naive
        extension, which interpolates across it.
    singular : SingularSet or geomot._gaps.TargetGaps, optional
        The criterion to avoid (default: ``singular_set(res)`` with its default threshold for
        exact results, ``TargetGaps(res.y)`` for Monte-Carlo results).
    construction : {"delaunay", "top-cells"}, optional
        Default: ``"top-cells"`` for Monte-Carlo results, else ``"delaunay"``.
    n_samples : int, optional
        ``"top-cells"`` only: source samples for the centroids (default ``max(100 n, 10^5)``).
    seed : None, int or numpy.random.Generator
        ``"top-cells"`` only: seeds those samples.

    Attributes
    ----------
    construction : str
    cells : (m,) int64
        Target indices of the non-empty cells: vertex ``v`` of the triangulation is cell
        ``cells[v]`` (Delaunay: in a spatial order, not sorted; top cells: the cells that
        received samples, sorted).
    centroids, targets : (m, d) float64
    triangulation : scipy.spatial.Delaunay or None
        Of the centroids in the diagram's frame coordinates (:mod:`geomot.frame`: O(1)
        wherever the problem lies); its simplices index :attr:`centroids`.  None for top cells.
    rejected : (S,) bool or None
        Rejected simplices (all False when ``avoid_singular=False``).  None for top cells.
    singular : SingularSet, TargetGaps or None

    References
    ----------
    D. An, Y. Guo, N. Lei, Z. Luo, S.-T. Yau, X. Gu, *AE-OT: a new generative model based on
    extended semi-discrete optimal transport*, ICLR 2020.
    N. Lei et al., *Mode Collapse and Regularity of Optimal Transportation Maps*,
    arXiv:1902.02934.

    Example
    -------
    >>> import geomot
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(geomot.shapes.two_half_disks(), 800, seed=0),
    ...                       tol=1e-6)
    >>> g = geomot.PiecewiseLinearMap(res)
    >>> g.sample(1000, seed=1).shape
    (1000, 2)

    In any dimension, from a Monte-Carlo result (two modes in 4D):

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.vstack([rng.normal(0.2, 0.03, (40, 4)), rng.normal(0.8, 0.03, (40, 4))])
    >>> mc = geomot.solve_ot(geomot.Domain.box([0] * 4, [1] * 4), y, method="montecarlo",
    ...                      seed=0, n_samples=10000, max_iter=300, tol=0.3)
    >>> x = geomot.PiecewiseLinearMap(mc, seed=0).sample(500, seed=1)
    >>> x.shape, bool(np.all(np.minimum(np.abs(x - 0.2), np.abs(x - 0.8)).max(axis=1) < 0.15))
    ((500, 4), True)
    """

    def __init__(self, res, avoid_singular=True, *, singular=None, construction=None, n_samples=None,
                 seed=None):
        if not isinstance(avoid_singular, (bool, np.bool_)):
            raise ValueError(f"avoid_singular must be True or False, got {avoid_singular!r}")
        if construction is None:
            construction = "top-cells" if getattr(res, "method", None) == "montecarlo" else "delaunay"
        if construction not in CONSTRUCTIONS:
            raise ValueError(f"construction must be one of {sorted(CONSTRUCTIONS)}, got {construction!r}")
        if singular is not None and not avoid_singular:
            raise ValueError("singular= is only used with avoid_singular=True")
        self._impl = CONSTRUCTIONS[construction].create(res, bool(avoid_singular), singular, n_samples, seed)
        self._dim = int(self._impl._dim)

    # ------------------------------------------------------------------ properties
    @property
    def construction(self):
        """``"delaunay"`` or ``"top-cells"``."""
        return self._impl.name

    @property
    def dim(self):
        return self._dim

    @property
    def avoid_singular(self):
        return self._impl._avoid

    @property
    def cells(self):
        return self._impl.cells

    @property
    def centroids(self):
        return self._impl.centroids

    @property
    def targets(self):
        return self._impl.targets

    @property
    def triangulation(self):
        return self._impl.triangulation

    @property
    def rejected(self):
        return self._impl.rejected

    @property
    def singular(self):
        return self._impl.singular

    def __call__(self, x):
        """Map source points.

        Parameters
        ----------
        x : (N, d) array_like
            Source points (anywhere; outside the centroids' hull the discrete map is used).

        Returns
        -------
        (N, d) float64
            ``g(x)``; NaN rows for points in rejected simplices.
        """
        x = as_source_points(x, self._dim)
        out, rej = self._impl._evaluate(x)
        out[rej] = np.nan
        return out

    def sample(self, n, seed=None, *, max_rounds=50):
        """Exactly ``n`` generated points: source samples mapped by ``g``, rejected ones redrawn.

        Parameters
        ----------
        n : int >= 0
        seed : None, int or numpy.random.Generator
        max_rounds : int
            Rounds of drawing before giving up.

        Returns
        -------
        (n, d) float64

        Raises
        ------
        RuntimeError
            If fewer than ``n`` points were accepted after ``max_rounds`` rounds (the rejected
            simplices cover almost all of the domain).
        """
        n = as_positive_int(n, "n", minimum=0)
        max_rounds = as_positive_int(max_rounds, "max_rounds")
        rng = as_rng(seed)
        domain = self._impl.domain
        if domain is None:
            raise ValueError("res has no domain to sample the source from")
        chunks = []
        have = 0
        rate = max(self._impl.acceptance, 0.05)
        drawn = accepted = 0
        for _ in range(max_rounds):
            if have >= n:
                break
            need = n - have
            m = int(min(np.ceil(need / rate * 1.05) + 16, max(4 * need, 1_000_000)))
            x = np.asarray(domain.sample(m, seed=rng), dtype=np.float64)
            out, rej = self._impl._evaluate(x)
            good = out[~rej]
            chunks.append(good[:need])
            have += min(good.shape[0], need)
            drawn += m
            accepted += good.shape[0]
            rate = max(accepted / drawn, 1e-3)
        if have < n:
            raise RuntimeError(
                f"PiecewiseLinearMap.sample: only {have} of {n} points accepted after "
                f"{max_rounds} rounds ({drawn} source samples, acceptance {accepted / max(drawn, 1):.2%}); "
                f"the rejected (singular) points cover almost all of the domain")
        if not chunks:
            return np.zeros((0, self._dim))
        return np.concatenate(chunks, axis=0)


def off_support_fraction(points, shape, tol=0.0):
    """Fraction of points that lie off a support, beyond a tolerance band.

    Parameters
    ----------
    points : (N, d) array_like
        Finite points.
    shape : shapely geometry (2D), trimesh.Trimesh (3D) or geomot.Domain
        The support (a ``Domain`` is converted with ``.geometry``).
    tol : float >= 0
        Width of the band around the support counted as "on" it (absolute distance).

    Returns
    -------
    float
        .. math:: \\frac{1}{N} \\#\\{k : \\operatorname{dist}(p_k, S) > \\mathrm{tol}\\}

    Example
    -------
    >>> import shapely
    >>> off_support_fraction([[0.5, 0.5], [2.0, 0.5], [1.05, 0.5]], shapely.box(0, 0, 1, 1),
    ...                      tol=0.1)
    0.3333333333333333
    """
    tol = as_positive_float(tol, "tol", allow_zero=True)
    geom = shape
    if hasattr(shape, "geometry") and hasattr(shape, "sample") and hasattr(shape, "dim"):
        geom = shape.geometry
        if geom is None:
            if tol > 0:
                raise ValueError("shape: this Domain has no geometry; use tol=0")
            x = as_points(points, "points", dim=shape.dim)
            return float(np.mean(~np.asarray(shape.contains(x), dtype=bool))) if len(x) else 0.0
    import shapely

    if isinstance(geom, shapely.Geometry):
        x = as_points(points, "points", dim=2, dim_of="shape")
        if x.shape[0] == 0:
            return 0.0
        g = geom.buffer(tol) if tol > 0 else geom
        shapely.prepare(g)
        on = shapely.intersects_xy(g, x[:, 0], x[:, 1])
        return float(np.mean(~on))
    import trimesh

    if isinstance(geom, trimesh.Trimesh):
        x = as_points(points, "points", dim=3, dim_of="shape")
        if x.shape[0] == 0:
            return 0.0
        if tol == 0:
            on = geom.contains(x)
        else:
            on = trimesh.proximity.signed_distance(geom, x) >= -tol
        return float(np.mean(~np.asarray(on, dtype=bool)))
    raise ValueError(
        f"shape must be a shapely geometry, a trimesh.Trimesh or a geomot.Domain, "
        f"got {type(shape).__name__}")


def mode_balance(points, labels_fn, modes=None):
    """Fraction of points in each mode.

    Parameters
    ----------
    points : (N, d) array_like
        Generated points.
    labels_fn : callable
        ``labels_fn(points) -> (N,)`` mode label of each point (ints, bools or strings).
    modes : sequence, optional
        The expected labels: reported even when absent (fraction 0, a collapsed mode).

    Returns
    -------
    dict
        ``{label: fraction}``, fractions summing to 1 (over the labels that occur).

    Example
    -------
    >>> mode_balance([[0.2, 0], [1.5, 0], [1.7, 0], [0.1, 0]], lambda p: p[:, 0] > 1)
    {False: 0.5, True: 0.5}
    """
    if not callable(labels_fn):
        raise ValueError(f"labels_fn must be callable, got {type(labels_fn).__name__}")
    if modes is not None and (isinstance(modes, (str, bytes)) or not np.iterable(modes)):
        raise ValueError(f"modes must be a sequence of labels, got {type(modes).__name__}")
    x = as_points(points, "points", min_rows=1)
    lab = np.asarray(labels_fn(x))
    if lab.shape != (x.shape[0],):
        raise ValueError(
            f"labels_fn must return one label per point, shape ({x.shape[0]},), got {lab.shape}")
    try:
        vals, counts = np.unique(lab, return_counts=True)
        out = {_py(v): c / x.shape[0] for v, c in zip(vals, counts)}
        if modes is not None:
            for mlab in modes:
                out.setdefault(_py(mlab), 0.0)
        return {k: float(out[k]) for k in sorted(out, key=lambda v: (str(type(v)), v))}
    except TypeError as exc:  # labels of kinds that cannot be compared (or unhashable ones)
        raise ValueError(f"labels_fn returned labels (and modes) that cannot be sorted and "
                         f"counted: {exc}") from None


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v

