"""The continuous baselines of mode collapse: :func:`continuous_map` and :class:`ContinuousMap`.

Smooth maps fitted to the same transport as :class:`geomot.PiecewiseLinearMap` (an RBF or a
polynomial on the (centroid, target) pairs, or an MLP regressing the optimal map itself); being
continuous, they fill the gaps between modes.  Re-exported by :mod:`geomot.generate`.
"""

import numpy as np

from ._pl_delaunay import _cells_and_targets
from ._pl_top_cells import _TopCellsConstruction, _top_cells
from ._validate import as_points, as_positive_float, as_positive_int, as_rng, as_source_points


class ContinuousMap:
    """A smooth map fitted to (centroid, target) pairs: the continuous baseline.

    Like a neural network generator it is continuous, so on a target with several modes it
    either drops a mode or fills the gap between them (mode collapse, THEORY.md).

    Call it on source points, or :meth:`sample` it.  Built by :func:`continuous_map`.

    Example
    -------
    >>> import geomot
    >>> from geomot import shapes
    >>> from geomot.generate import continuous_map
    >>> y = shapes.sample(shapes.two_half_disks(), 300, seed=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y)
    >>> f = continuous_map(res)
    >>> f.sample(1000, seed=0).shape
    (1000, 2)
    """

    def __init__(self, fn, domain, dim, kind, model=None):
        self.model = model  # the fitted estimator (the MLP of kind="mlp"), or None
        self._fn = fn
        self._domain = domain
        self._dim = dim
        self.kind = kind

    def __call__(self, x):
        """(N, d) source points -> (N, d) images.

        Raises ``ValueError`` naming ``x`` where the fitted map is not finite (points so far from
        the centroids that the fit overflows).
        """
        x = as_source_points(x, self._dim)
        if x.shape[0] == 0:
            return np.zeros((0, self._dim))
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(self._fn(x), dtype=np.float64)
        bad = ~np.all(np.isfinite(out), axis=1)
        if np.any(bad):
            r = int(np.argmax(bad))
            raise ValueError(f"x row {r} ({x[r].tolist()}) is too far from the data: the fitted "
                             f"{self.kind} map overflows there")
        return out

    def sample(self, n, seed=None):
        """``n`` images of source samples drawn from the domain."""
        n = as_positive_int(n, "n", minimum=0)
        x = np.asarray(self._domain.sample(n, seed=as_rng(seed)), dtype=np.float64)
        if n == 0:
            return np.zeros((0, self._dim))
        return np.asarray(self._fn(x), dtype=np.float64)


def continuous_map(res, kind="rbf", *, smoothing=None, degree=3, neighbors=None, hidden=None,
                   n_samples=None, seed=None):
    """Fit a continuous map to a transport result: the continuous baseline of mode collapse.

    Parameters
    ----------
    res : OTResult
        An exact solve, or a Monte-Carlo result in any dimension (its cell centroids are then
        the means of ``n_samples`` source samples).
    kind : {"rbf", "poly", "mlp"}
        ``"rbf"``: a thin-plate-spline :class:`scipy.interpolate.RBFInterpolator` with smoothing
        on the (centroid, target) pairs; ``"poly"``: a least-squares polynomial of total degree
        ``degree`` on them (a tiny regressor); ``"mlp"``: a neural network
        (:class:`sklearn.neural_network.MLPRegressor`, ``pip install geomot[ml]``) trained to
        regress the optimal map itself, ``x -> T(x)``, on ``n_samples`` source samples: a
        continuous generator given the best possible target.
    smoothing : float, optional
        RBF smoothing (default ``1e-3 * m``, ``m`` the number of cells: a mild regularisation,
        like a network that cannot represent the jump).
    degree : int
        Polynomial degree for ``kind="poly"``.
    neighbors : int, optional
        RBF: use only this many nearest centroids per evaluation (default: all for up to 4000
        cells, else 64).
    hidden : tuple of int, optional
        MLP hidden layer sizes (default ``(64, 64)``).
    n_samples : int, optional
        Source samples: the MLP's training set (default ``min(max(10 n, 5000), 20000)``), or the
        centroid estimate of a Monte-Carlo result (default ``max(100 n, 10^5)``).
    seed : None, int or numpy.random.Generator
        Seeds those samples and the MLP's initialisation.

    Returns
    -------
    ContinuousMap

    Notes
    -----
    The RBF and polynomial fits minimise

    .. math:: \\sum_i m_i |f(c_i) - y_i|^2 + \\text{regularisation}

    (the cell masses ``m_i`` are equal for uniform targets and are ignored by the RBF); the MLP
    minimises :math:`\\frac1M \\sum_k |f(x_k) - T(x_k)|^2` over source samples ``x_k`` (Adam,
    scikit-learn's defaults, ``tanh`` units, in the result's frame coordinates).  Any such
    ``f`` is continuous, so where the true map jumps across the singular set it passes through
    the gap: :func:`off_support_fraction` of its samples is positive.

    Example
    -------
    >>> import geomot
    >>> from geomot.generate import continuous_map, off_support_fraction
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(geomot.shapes.two_half_disks(), 800, seed=0),
    ...                       tol=1e-6)
    >>> f = continuous_map(res)
    >>> off_support_fraction(f.sample(5000, seed=2), geomot.shapes.two_half_disks()) > 0.02
    True
    """
    if not isinstance(kind, str) or kind not in _FITS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _FITS))}, got {kind!r}")
    degree = as_positive_int(degree, "degree")
    fit = _FITS[kind]
    given = {"smoothing": smoothing, "neighbors": neighbors, "hidden": hidden}
    for key, val in given.items():
        if val is not None and key not in fit.keywords:
            owner = next(k for k, f in _FITS.items() if key in f.keywords)
            raise ValueError(f"{key} applies to kind={owner!r} only, not kind={kind!r}")
    exact = getattr(res, "method", "newton") != "montecarlo"
    if exact and kind != "mlp":
        for key, val in (("n_samples", n_samples), ("seed", seed)):
            if val is not None:
                raise ValueError(f"{key} applies to kind='mlp' and to Monte-Carlo results only "
                                 f"(an exact result has exact centroids)")
    return fit.fit(res, exact=exact, smoothing=smoothing, degree=degree, neighbors=neighbors,
                   hidden=hidden, n_samples=n_samples, seed=seed)


def _centroid_pairs(res, exact, n_samples, seed):
    """``(domain, centroids (m, d), targets (m, d), masses (m,))`` of the non-empty cells: exact
    from the diagram, or the means of source samples for a Monte-Carlo result."""
    if exact:
        diagram, cells, cen, tgt = _cells_and_targets(res)
        domain = getattr(res, "domain", None) or getattr(diagram, "domain", None)
        return domain, cen, tgt, np.asarray(diagram.masses, dtype=np.float64)[cells]
    pl = _TopCellsConstruction(res, False, None, n_samples, seed)
    counts = np.asarray(res.masses, dtype=np.float64)[pl.cells]
    return res.domain, pl.centroids, pl.targets, counts


class _RBFFit:
    keywords = ("smoothing", "neighbors")

    @staticmethod
    def fit(res, exact, smoothing, neighbors, n_samples, seed, **_):
        from scipy.interpolate import RBFInterpolator

        domain, cen, tgt, _ = _centroid_pairs(res, exact, n_samples, seed)
        m, d = cen.shape
        if m < d + 2:
            raise ValueError(f"res has {m} non-empty cells: too few to fit an RBF")
        sm = 1e-3 * m if smoothing is None else as_positive_float(smoothing, "smoothing", allow_zero=True)
        if neighbors is None:
            neighbors = None if m <= 4000 else 64
        else:
            neighbors = as_positive_int(neighbors, "neighbors", minimum=d + 2)
        fn = RBFInterpolator(cen, tgt, kernel="thin_plate_spline", smoothing=sm, neighbors=neighbors)
        return ContinuousMap(fn, domain, d, "rbf")


class _PolyFit:
    keywords = ()

    @staticmethod
    def fit(res, exact, degree, n_samples, seed, **_):
        domain, cen, tgt, masses = _centroid_pairs(res, exact, n_samples, seed)
        m, d = cen.shape
        exps = _monomials(d, degree)
        if m < len(exps):
            raise ValueError(f"res has {m} non-empty cells: too few for a degree-{degree} polynomial")
        lo = cen.min(axis=0)
        span = np.maximum(cen.max(axis=0) - lo, 1e-300)

        def design(x):
            z = 2.0 * (x - lo) / span - 1.0
            return np.stack([np.prod(z ** e, axis=1) for e in exps], axis=1)

        w = np.sqrt(masses / masses.sum())
        coef, *_ = np.linalg.lstsq(design(cen) * w[:, None], tgt * w[:, None], rcond=None)
        return ContinuousMap(lambda x: design(x) @ coef, domain, d, "poly")


#: the MLP's defaults: hidden layers, and the training set's size per target, floor and cap
MLP_HIDDEN = (64, 64)
MLP_SAMPLES_PER_TARGET = 10
MLP_SAMPLES_RANGE = (5000, 20000)


class _MLPFit:
    keywords = ("hidden",)

    @staticmethod
    def fit(res, exact, hidden, n_samples, seed, **_):
        from ._ml import require_sklearn, single_threaded

        require_sklearn("continuous_map(kind='mlp')")
        from sklearn.neural_network import MLPRegressor

        hidden = MLP_HIDDEN if hidden is None else _as_layers(hidden)
        y = as_points(res.y, "res.y")
        n, d = y.shape
        if n_samples is None:
            lo, hi = MLP_SAMPLES_RANGE
            n_samples = int(min(max(MLP_SAMPLES_PER_TARGET * n, lo), hi))
        n_samples = as_positive_int(n_samples, "n_samples", minimum=10)
        rng = as_rng(seed)
        domain = res.domain
        frame = res.frame
        yf = frame.to_targets(y)
        hf = np.asarray(res.frame_weights, dtype=np.float64) - 0.5 * np.einsum("ij,ij->i", yf, yf)
        xf = np.ascontiguousarray(frame.to_source(np.asarray(domain.sample(n_samples, seed=rng), dtype=np.float64)))
        target = yf[_top_cells(xf, yf, hf, 1)[:, 0]]  # T(x) = y_{argmax}, in the frame
        net = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh", max_iter=300,
                           random_state=int(rng.integers(2**31 - 1)))
        with single_threaded():
            net.fit(xf, target)

        def fn(x):
            with single_threaded():
                return frame.from_targets(net.predict(frame.to_source(x)).reshape(-1, d))

        return ContinuousMap(fn, domain, d, "mlp", model=net)


def _as_layers(hidden):
    try:
        layers = tuple(int(v) for v in np.atleast_1d(hidden))
        ok = len(layers) >= 1 and all(v >= 1 for v in layers) and all(
            float(v) == float(w) for v, w in zip(layers, np.atleast_1d(hidden)))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"hidden must be a tuple of layer sizes >= 1, got {hidden!r}")
    return layers


#: the fits of continuous_map, by kind
_FITS = {"rbf": _RBFFit, "poly": _PolyFit, "mlp": _MLPFit}


def _monomials(d, degree):
    from itertools import product

    return [np.array(e) for e in product(range(degree + 1), repeat=d) if sum(e) <= degree]
