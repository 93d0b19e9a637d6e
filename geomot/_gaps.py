"""Empty target space between two targets, in any dimension: the singular-set criterion of target
pairs for results without a power diagram (Monte Carlo, ``d >= 2``).

:func:`geomot.singular_set` decides, for the adjacent cells of an exact 2D/3D diagram, whether
the segment ``[y_i, y_j]`` crosses empty target space (its *emptiness* criterion).  Generation
and segment walks in a latent space of any dimension ask the same question about any target
pairs (the top cells of a sample, two cells a segment passes between).  :class:`TargetGaps`
answers it with the same score, :func:`geomot.singular.emptiness_scores`, over the same local
spacing and threshold, written for any dimension ``d``:

.. math::

    \\ell_i = c_d \\frac1K \\sum_{j \\in N_K(i)} \\min_{m \\ne j} |y_j - y_m|, \\qquad
    c_d = \\frac{\\omega_d^{1/d}}{\\Gamma(1 + 1/d)}, \\qquad
    \\tau(n, d) = 1.7 \\cdot 2 \\Big(\\frac{\\ln n}{\\omega_d}\\Big)^{1/d},

with :math:`\\omega_d = \\pi^{d/2} / \\Gamma(d/2 + 1)` the volume of the unit ball: ``c_d`` makes
``ell = lambda^{-1/d}`` for a Poisson sample of intensity ``lambda`` (the expected
nearest-neighbour distance is :math:`\\Gamma(1 + 1/d) (\\lambda \\omega_d)^{-1/d}`) and ``tau`` is
1.7 times the diameter, in spacings, of a ball that holds ``ln n`` points on average.  In 2D and
3D these are :func:`geomot.singular.local_spacing` and :func:`geomot.singular.default_threshold`
themselves (``c_2 = 2``, ``c_3 = 1.81``), which are used there.
"""

import math

import numpy as np
from scipy.spatial import cKDTree

from ._validate import as_points, as_positive_float, readonly

__all__ = ["TargetGaps", "spacing_constant", "threshold_nd", "criterion_of"]

#: the neighbourhood size of the local spacing and the number of probes of a segment, as in
#: :func:`geomot.singular_set` (``DEFAULT_NEIGHBORS``, ``DEFAULT_PROBES``)
K_NEIGHBORS = 16
N_PROBE = 9


def _ball_volume(d):
    return math.pi ** (d / 2.0) / math.gamma(d / 2.0 + 1.0)


def spacing_constant(d):
    """:math:`c_d = \\omega_d^{1/d} / \\Gamma(1 + 1/d)`: Poisson spacing over mean nearest-neighbour
    distance in dimension ``d``.

    Example
    -------
    >>> round(spacing_constant(2), 12), round(spacing_constant(3), 3), round(spacing_constant(16), 3)
    (2.0, 1.805, 0.944)
    """
    return float(_ball_volume(d) ** (1.0 / d) / math.gamma(1.0 + 1.0 / d))


def threshold_nd(n, d):
    """The emptiness threshold :math:`\\tau(n, d)` of :func:`geomot.singular.default_threshold`,
    written for any dimension.

    Example
    -------
    >>> from geomot.singular import default_threshold
    >>> threshold_nd(3000, 2) == default_threshold(3000, 2), round(threshold_nd(500, 16), 2)
    (True, 4.17)
    """
    return float(1.7 * 2.0 * (math.log(max(n, 3)) / _ball_volume(d)) ** (1.0 / d))


class TargetGaps:
    """Which target pairs are separated by empty target space (the emptiness criterion, any d).

    Parameters
    ----------
    y : (n, d) array_like
        Targets, ``n >= 2 * K_NEIGHBORS`` (32), no duplicates.
    threshold : float, optional
        :math:`\\tau`; default :func:`threshold_nd` ``(n, d)``.

    Attributes
    ----------
    y : (n, d) float64
    local_scale : (n,) float64
        The local spacing :math:`\\ell_i`.
    threshold : float
    criterion : str
        ``"emptiness"``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.vstack([rng.normal(0, 1, (60, 8)), rng.normal(30, 1, (60, 8))])   # two modes in 8D
    >>> gaps = TargetGaps(y)
    >>> gaps.classify([[0, 1], [0, 60], [61, 62]]).tolist()
    [False, True, False]
    """

    criterion = "emptiness"

    def __init__(self, y, threshold=None):
        from .singular import default_threshold, local_spacing

        y = as_points(y, "y")
        n, d = y.shape
        if n < 2 * K_NEIGHBORS:
            raise ValueError(f"y has {n} targets: the scale-aware criterion needs at least "
                             f"{2 * K_NEIGHBORS} to estimate a local target spacing")
        tree = cKDTree(y)
        if d in (2, 3):  # singular_set's own spacing and threshold
            ell = local_spacing(y, K_NEIGHBORS, tree=tree)
            tau = default_threshold(n, d)
        else:
            dist, nb = tree.query(y, k=K_NEIGHBORS)
            ell = spacing_constant(d) * dist[:, 1][nb].mean(axis=1)
            tau = threshold_nd(n, d)
        if not np.all(ell > 0):
            raise ValueError("y contains duplicate targets (zero local spacing)")
        if threshold is not None:
            tau = as_positive_float(threshold, "threshold")
        self.y = readonly(y, copy=True)
        self.local_scale = readonly(ell)
        self.threshold = float(tau)
        self._tree = tree

    def scores(self, pairs):
        """(m,) empty-ball scores of the segments ``[y_i, y_j]`` (0 for pairs that cannot pass:
        the score is at most the jump ratio ``|y_i - y_j| / max(ell_i, ell_j)``)."""
        from .singular import emptiness_scores

        pairs = _as_pairs(pairs, self.y.shape[0])
        lmax = np.maximum(self.local_scale[pairs[:, 0]], self.local_scale[pairs[:, 1]])
        jumps = np.linalg.norm(self.y[pairs[:, 0]] - self.y[pairs[:, 1]], axis=1)
        cand = np.flatnonzero(jumps > self.threshold * lmax)
        out = np.zeros(pairs.shape[0])
        if cand.size:
            out[cand] = emptiness_scores(self.y, pairs[cand], self.local_scale, N_PROBE, tree=self._tree)
        return out

    def classify(self, pairs):
        """(m,) bool: the segment of each target pair crosses an empty ball wider than
        ``threshold`` local spacings."""
        return self.scores(pairs) > self.threshold


def _as_pairs(pairs, n):
    """``pairs`` as (m, 2) int64 target indices in ``[0, n)``."""
    try:
        p = np.asarray(pairs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pairs must be an (m, 2) array of target indices: {exc}") from None
    if p.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if p.ndim != 2 or p.shape[1] != 2 or p.dtype.kind not in "iu":
        raise ValueError(f"pairs must be an (m, 2) array of integer target indices, got {p.dtype} {p.shape}")
    if p.min() < 0 or p.max() >= n:
        raise ValueError(f"pairs must hold target indices in [0, {n}), got values in [{p.min()}, {p.max()}]")
    return p.astype(np.int64)


def criterion_of(res, singular=None):
    """The singular-set criterion for target pairs of a result: an object with ``classify(pairs)``.

    ``singular`` if given (a :class:`geomot.SingularSet`, a :class:`TargetGaps`, or anything with
    ``classify`` and ``local_scale``); else :func:`geomot.singular_set` for exact 2D/3D results
    (its criterion extends to any pair through :meth:`~geomot.SingularSet.classify`), and
    :class:`TargetGaps` on the targets for Monte-Carlo results (any dimension).
    """
    n = np.asarray(res.y).shape[0]
    if singular is not None:
        if not (callable(getattr(singular, "classify", None)) and hasattr(singular, "local_scale")):
            raise ValueError(f"singular must be a SingularSet (or TargetGaps), got {type(singular).__name__}")
        if np.asarray(singular.local_scale).shape[0] != n:
            raise ValueError(f"singular was computed for {np.asarray(singular.local_scale).shape[0]} "
                             f"targets, res has {n}")
        return singular
    if getattr(res, "method", "newton") == "montecarlo":
        return TargetGaps(res.y)
    from .singular import singular_set

    return singular_set(res)
