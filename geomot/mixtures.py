"""The mode-collapse benchmarks of the GAN literature: Gaussian mixtures and their metrics.

* :func:`ring` -- 8 Gaussians on a circle of radius 2, sigma 0.02 (Metz et al., *Unrolled
  GANs*, 2017);
* :func:`grid` -- 25 Gaussians on the grid ``{-4, -2, 0, 2, 4}^2``, sigma 0.05 (Srivastava et al.,
  *VEEGAN*, 2017; Lin et al., *PacGAN*, 2018);
* :func:`high_dim` -- 10 Gaussians in ``d = 16`` (sigma 1, centres ``R e_k`` on ten axes, mode
  distance ``R sqrt 2`` with ``R = 20``: far apart in units of a mode's own radius
  ``sigma sqrt(d) = 4``).

:func:`mode_metrics` scores generated points as those papers do: a sample is *high quality* when
it lies within 3 sigma of the nearest mode centre (in ``d`` dimensions: within the radius that
holds the same share of a mode's mass, :math:`1 - e^{-9/2} = 98.9\\%`, as 3 sigma does in 2D,
:math:`\\sigma \\sqrt{\\chi^2_{d}{}^{-1}(0.989)}`); a mode is *covered* when at least
``min_count`` (20, VEEGAN's rule for 2,500 samples) high-quality samples fall in it; and the KL
divergence of the histogram of the high-quality samples over the modes from the uniform one,
:math:`\\sum_k p_k \\log(K p_k)` (0 for perfectly balanced modes, :math:`\\log K` when all fall in
one).
"""

from dataclasses import dataclass

import numpy as np

from ._validate import as_points, as_positive_float, as_positive_int, as_rng, readonly

__all__ = ["Mixture", "ModeMetrics", "ring", "grid", "high_dim", "mode_metrics", "MIXTURES"]

#: the share of a 2D Gaussian's mass within 3 sigma: the "high quality" level in any dimension
HIGH_QUALITY_MASS = 1.0 - np.exp(-4.5)
#: high-quality samples a mode needs to count as covered (VEEGAN: 20 of 2,500)
MIN_COUNT = 20


@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight isotropic Gaussian mixture.

    Attributes
    ----------
    name : str
    centers : (K, d) float64
    sigma : float

    Example
    -------
    >>> m = Mixture("two", np.array([[0.0, 0.0], [1.0, 0.0]]), 0.1)
    >>> m.n_modes, m.labels([[0.9, 0.1], [0.2, 0.0]]).tolist()
    (2, [1, 0])
    """

    name: str
    centers: np.ndarray
    sigma: float

    @property
    def dim(self):
        """The dimension ``d`` of the points."""
        return int(self.centers.shape[1])

    @property
    def n_modes(self):
        """The number of modes ``K``."""
        return int(self.centers.shape[0])

    @property
    def radius(self):
        """The high-quality radius: ``3 sigma`` in 2D, the same mass share in ``d`` dimensions.

        Example
        -------
        >>> round(ring().radius, 6), round(high_dim().radius / high_dim().sigma, 2)
        (0.06, 5.63)
        """
        from scipy.stats import chi2

        return float(self.sigma * np.sqrt(chi2.ppf(HIGH_QUALITY_MASS, self.dim)))

    def sample(self, n, seed=None):
        """(n, d) points, an equal share (up to one) from each mode, in mode order.

        Example
        -------
        >>> ring().sample(16, seed=0).shape
        (16, 2)
        """
        n = as_positive_int(n, "n", minimum=self.n_modes)
        rng = as_rng(seed)
        k = self.n_modes
        counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
        return np.vstack([c + self.sigma * rng.standard_normal((m, self.dim))
                          for c, m in zip(self.centers, counts)])

    def labels(self, points):
        """(N,) index of the nearest mode centre.

        Example
        -------
        >>> ring().labels([[2.0, 0.1], [0.0, -1.9]]).tolist()
        [0, 6]
        """
        x = as_points(points, "points", dim=self.dim, min_rows=0)
        d2 = (x * x).sum(1)[:, None] - 2.0 * x @ self.centers.T + (self.centers ** 2).sum(1)[None]
        return np.argmin(d2, axis=1)


def ring(k=8, radius=2.0, sigma=0.02):
    """``k`` Gaussians evenly on a circle (default: the 8-mode ring of the GAN literature).

    Example
    -------
    >>> m = ring()
    >>> m.n_modes, m.dim, round(m.radius / m.sigma, 6)
    (8, 2, 3.0)
    """
    k = as_positive_int(k, "k", minimum=2)
    radius = as_positive_float(radius, "radius")
    a = 2.0 * np.pi * np.arange(k) / k
    return Mixture(f"ring of {k}", readonly(radius * np.column_stack([np.cos(a), np.sin(a)])),
                   as_positive_float(sigma, "sigma"))


def grid(side=5, spacing=2.0, sigma=0.05):
    """``side x side`` Gaussians on a grid centred at 0 (default: the 25-mode grid).

    Example
    -------
    >>> grid().centers[[0, -1]].tolist()
    [[-4.0, -4.0], [4.0, 4.0]]
    """
    side = as_positive_int(side, "side", minimum=2)
    spacing = as_positive_float(spacing, "spacing")
    v = (np.arange(side) - (side - 1) / 2.0) * spacing
    c = np.stack(np.meshgrid(v, v, indexing="ij"), -1).reshape(-1, 2)
    return Mixture(f"grid of {side * side}", readonly(c), as_positive_float(sigma, "sigma"))


def high_dim(k=10, d=16, distance=20.0, sigma=1.0):
    """``k`` Gaussians at ``distance * e_i`` (``i < k``) in ``R^d``.

    Example
    -------
    >>> m = high_dim()
    >>> m.n_modes, m.dim, round(m.radius, 2)
    (10, 16, 5.63)
    """
    d = as_positive_int(d, "d", minimum=2)
    k = as_positive_int(k, "k", minimum=2)
    if k > d:
        raise ValueError(f"k must be at most d={d} (one mode per axis), got {k}")
    c = np.zeros((k, d))
    c[np.arange(k), np.arange(k)] = as_positive_float(distance, "distance")
    return Mixture(f"{k} Gaussians in {d}D", readonly(c), as_positive_float(sigma, "sigma"))


#: the three benchmarks, by name
MIXTURES = {"ring8": ring, "grid25": grid, "gauss10-16d": high_dim}


@dataclass(frozen=True)
class ModeMetrics:
    """Mode-collapse metrics of generated points (see :func:`mode_metrics`).

    Attributes
    ----------
    modes_covered : int
        Modes with at least ``min_count`` high-quality samples.
    n_modes : int
    high_quality : float
        Share of samples within the high-quality radius of their nearest mode.
    kl : float
        KL divergence of the high-quality samples' mode histogram from the uniform one
        (``inf`` when no sample is of high quality).
    counts : (K,) int64
        High-quality samples per mode.

    Example
    -------
    >>> r = mode_metrics(grid().sample(2500, seed=0), grid())
    >>> r.modes_covered, r.n_modes, int(r.counts.sum()) > 2400
    (25, 25, True)
    """

    modes_covered: int
    n_modes: int
    high_quality: float
    kl: float
    counts: np.ndarray


def mode_metrics(points, mixture, min_count=MIN_COUNT):
    """Modes covered, share of high-quality samples and KL of the mode histogram.

    Parameters
    ----------
    points : (N, d) array_like
        Generated points.
    mixture : Mixture
    min_count : int
        High-quality samples a mode needs to count as covered.

    Returns
    -------
    ModeMetrics

    Example
    -------
    >>> m = ring()
    >>> r = mode_metrics(m.sample(2500, seed=0), m)
    >>> r.modes_covered, r.high_quality > 0.98, r.kl < 1e-3
    (8, True, True)
    >>> mode_metrics(m.centers[[0] * 100], m).modes_covered   # collapsed onto one mode
    1
    """
    if not isinstance(mixture, Mixture):
        raise ValueError(f"mixture must be a geomot.mixtures.Mixture, got {type(mixture).__name__}")
    x = as_points(points, "points", dim=mixture.dim)
    min_count = as_positive_int(min_count, "min_count")
    lab = mixture.labels(x)
    dist = np.linalg.norm(x - mixture.centers[lab], axis=1)
    good = dist <= mixture.radius
    counts = np.bincount(lab[good], minlength=mixture.n_modes)
    total = int(counts.sum())
    if total:
        p = counts / total
        nz = p > 0
        kl = float(np.sum(p[nz] * np.log(mixture.n_modes * p[nz])))
    else:
        kl = float("inf")
    return ModeMetrics(int(np.count_nonzero(counts >= min_count)), mixture.n_modes, float(good.mean()), kl,
                       readonly(counts.astype(np.int64)))
