"""Monte-Carlo semi-discrete optimal transport in any dimension (AE-OT).

The cell masses :math:`\\mu(W_i(h))` are estimated from samples of the source measure,

.. math::

    \\hat m_i(h) = \\frac{1}{N} \\#\\{ k : \\operatorname{argmax}_j \\langle x_k, y_j\\rangle + h_j = i \\},
    \\qquad x_k \\sim \\mu,

an unbiased estimate of the gradient of the convex energy
:math:`E(h) = \\int u_h\\,d\\mu - \\sum_i \\nu_i h_i`, :math:`\\nabla E = m(h) - \\nu`.  The
solver (:func:`solve_montecarlo`) is four parts, one module each:

* the sampling streams (:mod:`geomot._mc_sampling`): every batch is cut into chunks with
  their own spawned seeds, drawn by whoever counts them (i.i.d. from the domain, scrambled
  Sobol', or on the GPU);
* the batch statistics (:mod:`geomot._mc_batch`): counts per cell, the near-facet pairs of the
  Monte-Carlo Hessian, O(n) per worker;
* the optimiser (:mod:`geomot._mc_optim`): damped Newton with the Monte-Carlo Hessian by
  default, or Adam, or averaged SGD;
* the sample schedule and the stopping rule (here): the batch grows when the error reaches
  its noise level, up to the size whose noise the tolerance allows.

The argmax runs in the frame of the problem (:mod:`geomot.frame`, any dimension): samples
:math:`x' = (x - a)/s`, targets :math:`y' = (y - b)/t` and heights :math:`h'`, all O(1)
wherever the problem lies; the run reports the world heights and its frame heights.

References
----------
D. An, Y. Guo, N. Lei, Z. Luo, S.-T. Yau, X. Gu, *AE-OT: a new generative model based on
extended semi-discrete optimal transport*, ICLR 2020.
N. Lei et al., *Mode Collapse and Regularity of Optimal Transportation Maps*,
arXiv:1902.02934.
J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
optimal transport*, J. Eur. Math. Soc. 21 (2019).
"""

import math
import time
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import _backend
from ._mc_batch import BatchSpec, Evaluator
from ._mc_optim import OPTIMIZERS, _Point, make_optimizer, near_target
from ._mc_sampling import SAMPLERS, SampleStreams, _DomainSampler, make_sampler
from ._validate import (as_points, as_positive_float, as_positive_int, as_probabilities, as_rng, as_vector, readonly,
                        require_distributed)
from ._warnings import ConvergenceWarning, _external_stacklevel
from .frame import Frame

__all__ = ["MonteCarloRun", "estimate_masses", "count_cells", "solve_montecarlo", "noise_level", "noise_band",
           "OPTIMIZERS", "SAMPLERS"]

#: the first batch of the default schedule: this many samples per cell (at least MIN_SAMPLES)
INITIAL_SAMPLES_PER_CELL = 64
MIN_SAMPLES = 2**14
#: the batch grows by this factor ...
GROWTH = 4
#: ... when the error of the accepted point is within this many noise bands of zero (the batch
#: cannot see further progress), or after this many batches of one size
GROW_AT_BANDS = 2.0
MAX_BATCHES_PER_SIZE = 6
#: the final batch size has a noise band of at most this fraction of tol
FINAL_BAND_FRACTION = 0.5
#: default largest batch
MAX_SAMPLES = 2**27
#: samples of the domain that set the default start (and the first near-facet gap)
START_SAMPLES = 10_000
#: a warm start whose batch leaves a cell empty that should hold this many samples is replaced
#: by the default start (Newton; the exact solver does the same)
EMPTY_START_MIN_EXPECTED = 30


def _readonly(a, dtype=np.float64):
    return readonly(a, dtype=dtype, copy=True)


@dataclass(frozen=True)
class MonteCarloRun:
    """Outcome of :func:`solve_montecarlo`.

    Attributes
    ----------
    h : (n,) float64
        Heights (sum 0) of the returned point.
    masses : (n,) float64
        Monte-Carlo cell masses at ``h`` (fractions of the batch drawn at ``h``).
    converged : bool
        The stopping rule of :func:`solve_montecarlo` was met.
    iterations : int
        Number of batches drawn (one mass estimate each).
    history : (iterations,) float64
        ``max_i |masses_i - nu_i| / nu_i`` of each batch.
    frame : geomot.frame.Frame or None
        The frame the argmax ran in (None for a run made by hand).
    frame_heights : (n,) float64 or None
        The heights :math:`h'` in that frame (``h`` is rounded from them).
    n_samples : (iterations,) int64 or None
        The size of each batch.
    noise : (iterations,) float64 or None
        The noise band of each batch, :func:`noise_band` ``(nu, n_samples)``.
    timings : mapping of str -> (iterations,) float64
        Seconds per batch: ``"batch"`` (sampling and counting) and ``"step"`` (the optimiser).
    message : str
        Why the run stopped (the stopping rule it met, or what it lacked).

    Example
    -------
    >>> import geomot
    >>> run = solve_montecarlo(geomot.Domain.box([0, 0], [1, 1]), [[0.0, 0.5], [1.0, 0.5]], seed=0)
    >>> run.converged, run.h.shape, len(run.history) == run.iterations == len(run.n_samples)
    (True, (2,), True)
    """

    h: np.ndarray
    masses: np.ndarray
    converged: bool
    iterations: int
    history: np.ndarray
    frame: Frame = None
    frame_heights: np.ndarray = None
    n_samples: np.ndarray = None
    noise: np.ndarray = None
    timings: dict = field(default_factory=dict)
    message: str = ""

    def __post_init__(self):
        object.__setattr__(self, "h", _readonly(self.h))
        object.__setattr__(self, "masses", _readonly(self.masses))
        object.__setattr__(self, "history", _readonly(self.history))
        object.__setattr__(self, "converged", bool(self.converged))
        object.__setattr__(self, "iterations", int(self.iterations))
        if (self.frame is None) != (self.frame_heights is None):
            raise ValueError("frame and frame_heights go together (both or neither)")
        if self.frame_heights is not None:
            object.__setattr__(self, "frame_heights", _readonly(self.frame_heights))
        if self.n_samples is not None:
            object.__setattr__(self, "n_samples", _readonly(self.n_samples, dtype=np.int64))
        if self.noise is not None:
            object.__setattr__(self, "noise", _readonly(self.noise))
        object.__setattr__(self, "timings", MappingProxyType({str(k): _readonly(v) for k, v in dict(self.timings).items()}))
        object.__setattr__(self, "message", str(self.message))

    def __reduce__(self):
        def plain(a):
            return None if a is None else np.array(a)

        return (type(self), (np.array(self.h), np.array(self.masses), self.converged, self.iterations,
                             np.array(self.history), self.frame, plain(self.frame_heights), plain(self.n_samples),
                             plain(self.noise), {k: np.array(v) for k, v in self.timings.items()}, self.message))


# --------------------------------------------------------------------------------------
# counting (private computations: validated float64 numpy inputs)
# --------------------------------------------------------------------------------------


def _count_chunk(x, y, h, backend="numpy", memory_budget=None):
    """Counts ``(n,)`` float64 of the argmax cells of the rows of ``x`` (runs on a worker)."""
    be = _backend.get_backend(name=backend)
    i, _ = be.argmax_scores(be.asarray(x), be.asarray(y), be.asarray(h), memory_budget=memory_budget)
    c = be.cell_masses(i, y.shape[0])
    return np.asarray(be.to_numpy(c), dtype=np.float64)


def _default_chunks(client):
    try:
        workers = client.ncores()
        k = sum(int(v) for v in workers.values())
    except Exception:  # not a dask client, or no scheduler information
        k = 4
    return max(1, 2 * k)


def _count(x, y, h, backend, memory_budget, client, n_chunks):
    if client is None:
        return _count_chunk(x, y, h, backend, memory_budget)
    if n_chunks is None:
        n_chunks = _default_chunks(client)
    chunks = [c for c in np.array_split(x, min(n_chunks, max(1, x.shape[0]))) if c.shape[0]]
    futures = client.map(_count_chunk, chunks, y=y, h=h, backend=backend, memory_budget=memory_budget)
    parts = client.gather(futures)
    total = np.zeros(y.shape[0])
    for p in parts:
        total += np.asarray(p, dtype=np.float64)
    return total


def _check_backend(backend):
    """The concrete backend name (``"auto"`` resolved here, once, so every worker runs the same one)."""
    be = _backend.get_backend(name=backend)
    return be.name


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def count_cells(x, y, h, backend="auto", *, client=None, n_chunks=None, memory_budget=None):
    """Number of samples in each cell: ``#{k : argmax_j <x_k, y_j> + h_j = i}``.

    Parameters
    ----------
    x : (N, d) array_like
        Samples.
    y : (n, d) array_like
        Targets.
    h : (n,) array_like
        Heights.
    backend : {"auto", "numpy", "numba", "cupy"}
        Where the argmax runs; an unavailable backend raises an error naming it.  ``"auto"``
        (default): the fastest CPU backend that runs here, numba, else numpy
        (:func:`geomot.get_backend`); numpy and numba give bitwise the same result.
    client : dask.distributed.Client, optional
        Split the samples into ``n_chunks`` chunks and count them on the cluster
        (``client.map`` then ``client.gather``); the sums are identical to the local count.
    n_chunks : int, optional
        Number of chunks with a client (default: twice the number of worker cores).
    memory_budget : int, optional
        Bytes allowed for one block of scores (default 64 MiB).

    Returns
    -------
    (n,) float64
        Integer-valued counts; they sum to ``N``.

    Example
    -------
    >>> count_cells([[0.9, 0.0], [-1.0, 0.2]], [[1.0, 0.0], [-1.0, 0.0]], [0.0, 0.0]).tolist()
    [1.0, 1.0]
    """
    y = as_points(y, "y")
    x = as_points(x, "x", dim=y.shape[1], min_rows=0) if np.size(x) else np.zeros((0, y.shape[1]))
    h = as_vector(h, "h", n=y.shape[0])
    name = _check_backend(backend)
    budget = _backend._as_budget(memory_budget)
    if client is not None:
        require_distributed(client)
    if n_chunks is not None:
        n_chunks = as_positive_int(n_chunks, "n_chunks")
    if x.shape[0] == 0:
        return np.zeros(y.shape[0])
    return _count(x, y, h, name, budget, client, n_chunks)


def estimate_masses(x, y, h, backend="auto", *, client=None, n_chunks=None, memory_budget=None):
    """Monte-Carlo cell masses: the fraction of the samples ``x`` in each cell.

    Parameters
    ----------
    x : (N, d) array_like
        Samples of the source measure (N >= 1).
    y : (n, d) array_like
    h : (n,) array_like
    backend, client, n_chunks, memory_budget
        As in :func:`count_cells`.

    Returns
    -------
    (n,) float64
        :math:`\\hat m_i = \\#\\{k : \\sigma(x_k) = i\\} / N`; sums to 1.

    Example
    -------
    >>> estimate_masses([[0.9, 0.0], [-1.0, 0.2], [2.0, 1.0]], [[1.0, 0.0], [-1.0, 0.0]], [0.0, 0.0]).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    y = as_points(y, "y")
    x = as_points(x, "x", dim=y.shape[1])
    counts = count_cells(x, y, h, backend, client=client, n_chunks=n_chunks, memory_budget=memory_budget)
    return counts / x.shape[0]


def noise_level(nu, n_samples):
    """Relative Monte-Carlo noise :math:`\\max_i \\sqrt{\\nu_i (1 - \\nu_i) / N} / \\nu_i`.

    A stopping tolerance below this cannot be reached reliably with ``N = n_samples``;
    since the stopping test takes the maximum over the n cells, a tolerance of about
    :math:`\\sqrt{2 \\ln n}` times this level is needed in practice.

    Example
    -------
    >>> round(noise_level([0.5, 0.5], 10000), 6)
    0.01
    """
    nu = as_probabilities(nu, "nu")
    n_samples = as_positive_int(n_samples, "n_samples")
    return float(np.max(np.sqrt(nu * (1.0 - nu) / n_samples) / nu))


def _matched_sites(x, y):
    """Sites ``z = mean(x) + s (y - mean(y))`` (and ``s``) matching the targets to a source sample.

    ``s`` is 0.9 times the smallest per-axis ratio of standard deviations, so the cloud of
    sites fits the source's narrowest direction (a site inside a convex source owns a non-empty
    Voronoi cell).  ``s = 0`` when the targets are all equal.
    """
    sx = x.std(axis=0)
    sy = y.std(axis=0)
    ok = sy > 0
    if not np.any(ok) or not np.any(sx[ok] > 0):
        return None, 0.0
    s = 0.9 * float(np.min(sx[ok] / sy[ok]))  # 0.9: keep the extreme sites inside
    if not s > 0:
        return None, 0.0
    return x.mean(axis=0) + s * (y - y.mean(axis=0)), s


def _default_h0(domain, y, rng, m):
    """Heights whose cells are the Voronoi cells of the targets moved onto the source.

    With the sites :math:`z_i = \\bar x + s (y_i - \\bar y)` of :func:`_matched_sites`,
    :math:`-|x - z_i|^2/2 = s \\langle x, y_i\\rangle - |z_i|^2/2 +` (terms independent of
    i), so :math:`h_i = -|z_i|^2 / (2 s)` makes the cells of the :math:`y_i` the Voronoi
    cells of the :math:`z_i`: no cell starts far from a share of the mass.
    """
    x = np.asarray(domain.sample(m, seed=rng), dtype=np.float64)
    return _matched_heights(x, y)


def _matched_heights(x, y):
    """The heights of :func:`_default_h0` from the source sample ``x`` (world or frame, with
    ``y`` in the same coordinates)."""
    z, s = _matched_sites(x, y)
    if z is None:
        return np.zeros(y.shape[0])
    return -np.sum(z**2, axis=1) / (2.0 * s)


def _default_lr(domain, y):
    b = np.asarray(domain.bounds, dtype=np.float64).reshape(2, -1)
    diam = float(np.linalg.norm(b[1] - b[0]))
    spread = float(np.sqrt(np.mean(np.sum((y - y.mean(axis=0)) ** 2, axis=1))))
    if spread <= 0:
        spread = max(float(np.abs(y).max()), 1.0)
    n, d = y.shape
    return 0.1 * max(diam, 1e-300) * spread / n ** (1.0 / d)


def noise_band(nu, n_samples):
    """The noise band of a batch: :math:`z_n \\cdot` :func:`noise_level`, :math:`z_n = \\sqrt{2 \\ln 2n}`.

    The largest of ``n`` standard normal deviations rarely exceeds :math:`z_n` (with
    probability about :math:`1 - 1/(z_n\\sqrt{2\\pi})`, 0.9 for n = 2000), so a batch of
    ``n_samples`` samples measures :math:`\\max_i |\\hat m_i - \\nu_i| / \\nu_i` to within about
    this band: an error below it cannot be seen.

    Example
    -------
    >>> round(noise_band([0.5, 0.5], 10000), 4)
    0.0167
    """
    nu = as_probabilities(nu, "nu")
    return math.sqrt(2.0 * math.log(2.0 * nu.shape[0])) * noise_level(nu, n_samples)


def _samples_for_band(nu, band):
    """Smallest batch whose :func:`noise_band` is at most ``band``."""
    z2 = 2.0 * math.log(2.0 * nu.shape[0])
    return int(math.ceil(z2 * float(np.max((1.0 - nu) / nu)) / band**2))


class _Schedule:
    """Batch sizes: fixed (``n_samples`` given) or growing to the size the tolerance needs.

    Growing: the first batch has ``max(MIN_SAMPLES, INITIAL_SAMPLES_PER_CELL * n)`` samples;
    after a batch, the size is multiplied by ``GROWTH`` when the optimiser's accepted error is
    at most ``GROW_AT_BANDS`` noise bands (or ``MAX_BATCHES_PER_SIZE`` batches were drawn at
    this size), up to the final size: the smallest whose band is ``FINAL_BAND_FRACTION *
    tol``, capped at ``max_samples``.
    """

    def __init__(self, nu, tol, n_samples, max_samples, round_size):
        self.nu = nu
        self.round = round_size
        self.fixed = n_samples is not None
        self.needed = _samples_for_band(nu, FINAL_BAND_FRACTION * tol)
        if self.fixed:
            self.size = self.final = round_size(n_samples)
        else:
            self.final = round_size(min(self.needed, max_samples))
            n0 = max(MIN_SAMPLES, INITIAL_SAMPLES_PER_CELL * nu.shape[0])
            self.size = min(round_size(n0), self.final)
        self.at_size = 0

    @property
    def capped(self):
        return not self.fixed and self.final < self.needed

    def band(self, n_samples):
        return noise_band(self.nu, n_samples)

    def is_final(self):
        return self.size >= self.final

    def update(self, accepted_err):
        """After a batch: grow when the accepted error is at the noise level.  True if grown."""
        self.at_size += 1
        if self.fixed or self.is_final():
            return False
        if accepted_err <= GROW_AT_BANDS * self.band(self.size) or self.at_size >= MAX_BATCHES_PER_SIZE:
            self.size = min(self.round(GROWTH * self.size), self.final)
            self.at_size = 0
            return True
        return False


def _near_density(x, yf, h):
    """Near-facet samples per unit gap, from the 5 % quantile of the top-two gaps of ``x``."""
    if yf.shape[0] < 2:
        return 1.0
    _, _, _, gap = _backend.top2_scores_xp(np, x, yf, h)
    q = 0.05
    d = float(np.quantile(gap, q))
    if not d > 0:
        d = float(np.min(gap[gap > 0])) if np.any(gap > 0) else 1.0
    return q / d


def solve_montecarlo(
    domain,
    y,
    nu=None,
    *,
    tol=2e-2,
    max_iter=1000,
    h0=None,
    seed=None,
    backend="auto",
    n_samples=None,
    lr=None,
    progress=False,
    client=None,
    memory_budget=None,
    optimizer="newton",
    sampler="auto",
    max_samples=MAX_SAMPLES,
):
    """Semi-discrete optimal transport by Monte Carlo, in any dimension.

    Parameters
    ----------
    domain : geomot.Domain
        The source measure (``.dim``, ``.sample(n, seed)``, ``.bounds``).
    y : (n, d) array_like
        Targets, ``d = domain.dim``.
    nu : (n,) array_like, optional
        Target masses, > 0 (normalised to sum 1; default uniform).
    tol : float
        Target accuracy of :math:`\\max_i |m_i - \\nu_i| / \\nu_i` (see the stopping rule below).
    max_iter : int
        Largest number of batches; if reached, ``converged=False`` and a
        :class:`~geomot.ConvergenceWarning` (also a ``RuntimeWarning``).
    h0 : (n,) array_like, optional
        Starting heights.  Default: the Voronoi diagram of the targets moved onto the
        source by a similarity (matching the mean and, in the narrowest direction, the
        spread of a sample of the domain), so that no cell starts far from its share.  With
        ``optimizer="newton"`` an ``h0`` whose first batch leaves empty a cell that should
        hold 30 samples or more is replaced by that default (with a ``UserWarning``).
    seed : None, int or numpy.random.Generator
        Seeds the samples: same seed, same run -- in process or on any cluster.
    backend : {"auto", "numpy", "numba", "cupy"}
        Where the argmax runs; an unavailable backend raises an error naming it.  ``"auto"``
        (default): the fastest CPU backend that runs here, numba, else numpy
        (:func:`geomot.get_backend`); numpy and numba give bitwise the same result.
    n_samples : int, optional
        A fixed batch size (every batch fresh).  Default: the growing schedule below.
    lr : float, optional
        Step size on ``h`` (units of ``h``).  Adam and SGD: their step (default
        ``0.1 * diam(bounds) * rms_spread(y) / n**(1/d)``, a fraction of a cell).  Newton:
        the largest change of a height in one step (default: none; the damping decides).
    progress : bool
        Show a tqdm progress bar.
    client : dask.distributed.Client, optional
        Count the batches on a cluster: each task draws its own chunks' samples from the
        seeds sent to it and returns O(n) statistics (dask is an optional dependency: an
        ``ImportError`` says how to install it).
    memory_budget : int, optional
        Bytes allowed for one block of scores (default 64 MiB).
    optimizer : {"newton", "adam", "sgd"}
        Damped Newton with the Monte-Carlo Hessian (default; the fastest, see Notes), Adam,
        or averaged SGD (:mod:`geomot._mc_optim`).
    sampler : {"auto", "random", "sobol", "device"}
        i.i.d. samples of the domain (``"random"``), scrambled Sobol' points (``"sobol"``,
        boxes; batch sizes rounded up to powers of two, or multiples of 65536), or uniform
        points of a box drawn by the backend (``"device"``: on the GPU with CuPy).
        ``"auto"``: ``"device"`` for CuPy on a box, else ``"random"``.
    max_samples : int
        Largest batch of the growing schedule (default 2**27).

    Returns
    -------
    MonteCarloRun
        ``h`` (sum 0), ``masses``, ``converged``, ``iterations``, ``history``,
        ``n_samples``, ``noise``, ``timings``, ``message``.

    Raises
    ------
    ValueError
        Naming the argument: a bad domain, targets, masses, tolerance, iteration count,
        batch size (``n_samples`` or ``max_samples`` below the number of targets ``n``, which
        cannot estimate ``n`` masses), backend, optimiser or sampler (``"sobol"`` and
        ``"device"`` need a box).

    Notes
    -----
    **Batches.**  Every iteration draws a fresh batch at the current heights, independent of
    how they were found, and estimates the masses there.  Its noise band is
    :func:`noise_band` ``(nu, N)`` (:math:`z_n` relative standard deviations, the largest
    noise of n cells).

    **Schedule.**  Without ``n_samples`` the first batch has ``max(2**14, 64 n)`` samples and
    the size grows 4-fold whenever the optimiser's accepted error is within two noise bands
    (a smaller batch could not see further progress; also after 6 batches of one size), up to
    the *final size*: the smallest with a band of at most ``tol / 2``, about
    :math:`8 \\ln(2n) \\max_i \\frac{1 - \\nu_i}{\\nu_i} / \\text{tol}^2` samples (capped at
    ``max_samples``, with a ``RuntimeWarning`` when the cap is below it).

    **Stopping rule.**  The run stops, ``converged=True``, at the first batch of the final
    size whose estimate :math:`\\max_i |\\hat m_i - \\nu_i| / \\nu_i \\le` ``tol``; then the true
    error is below ``tol`` plus the band, i.e. below ``1.5 * tol``, with probability about
    0.9 (the band's).  With a fixed ``n_samples`` every batch is final (a ``RuntimeWarning``
    when ``tol`` is below its :func:`noise_level`).  After ``max_iter`` batches without it:
    ``converged=False``, a :class:`~geomot.ConvergenceWarning`, and the last accepted point.

    **Optimisers** (measured in ``benchmarks/bench_montecarlo.py``, docs/benchmarks.md): the
    16-D mixture with 200 targets at ``tol=0.1``: Newton 11 batches (0.9 s on 2 cores),
    Adam and averaged SGD not converged after 150 batches (about 80 s); Newton is the default.

    **Clusters.**  Point ``client=`` at any dask scheduler, e.g.
    ``Client("tcp://scheduler:8786")`` (workers need geomot installed).  Only seeds, ``h``
    and O(n) statistics travel: a cluster of any size gives bitwise the in-process run of
    the same seed.

    References
    ----------
    D. An et al., *AE-OT*, ICLR 2020; Kitagawa, Mérigot & Thibert, JEMS 2019; Kingma & Ba,
    *Adam*, ICLR 2015; Genevay et al., NeurIPS 2016 (averaged SGD for semi-discrete OT).

    Example
    -------
    >>> import geomot
    >>> box = geomot.Domain.box([0, 0], [1, 1])
    >>> run = solve_montecarlo(box, [[0.0, 0.5], [1.0, 0.5]], [0.3, 0.7], seed=0)
    >>> run.converged, round(float(run.h[0] - run.h[1]), 1)   # boundary x = 0.3
    (True, 0.3)
    """
    if not (hasattr(domain, "sample") and hasattr(domain, "dim")):
        raise ValueError(f"domain must be a geomot.Domain (with .dim and .sample), got {type(domain).__name__}")
    y = as_points(y, "y", dim=int(domain.dim))
    n = y.shape[0]
    if nu is None:
        nu = np.full(n, 1.0 / n)
    else:
        nu = as_probabilities(nu, "nu", n=n)
    tol = as_positive_float(tol, "tol")
    max_iter = as_positive_int(max_iter, "max_iter")
    if n_samples is not None:
        n_samples = as_positive_int(n_samples, "n_samples")
        if n_samples < n:
            raise ValueError(f"n_samples must be at least the number of targets n = {n} (a batch of "
                             f"{n_samples} samples cannot estimate {n} cell masses), got {n_samples}")
    max_samples = as_positive_int(max_samples, "max_samples")
    if max_samples < max(n, MIN_SAMPLES):
        raise ValueError(f"max_samples must be at least max(n, {MIN_SAMPLES}) = {max(n, MIN_SAMPLES)}, got {max_samples}")
    h0 = None if h0 is None else as_vector(h0, "h0", n=n)
    if lr is not None:
        lr = as_positive_float(lr, "lr")
    rng = as_rng(seed)
    name = _check_backend(backend)
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    budget = _backend._as_budget(memory_budget)
    if client is not None:
        require_distributed(client)
    # the frame of the problem: the argmax and the steps run on O(1) coordinates and heights h'
    frame = Frame.of(np.asarray(domain.bounds, dtype=np.float64).reshape(2, -1), y)
    yf = frame.to_targets(y)
    the_sampler = make_sampler(sampler, domain, frame, name)
    streams = SampleStreams(rng)
    schedule = _Schedule(nu, tol, n_samples, max_samples, the_sampler.round_size)

    m0 = START_SAMPLES if n_samples is None else min(n_samples, START_SAMPLES)
    x0 = _DomainSampler(domain, frame).draw(_backend.get_backend(name="numpy"), streams.start, m0)
    matched = _matched_heights(x0, yf)  # the default start: the matched Voronoi diagram, in the frame
    h = matched if h0 is None else frame.heights_to_frame(yf, h0)
    h = h - h.mean()
    warm = h0 is not None
    if lr is None and optimizer != "newton":
        lr = _default_lr(domain, y)
    step = None if lr is None else lr / frame.scale  # a step on h is a step / (s t) on h'
    opt = make_optimizer(optimizer, nu, step)
    density = _near_density(x0, yf, h) if opt.needs_pairs else None

    floor = noise_level(nu, schedule.final)
    if schedule.fixed and tol < floor:
        warnings.warn(
            f"tol={tol:g} is below the Monte-Carlo noise level {floor:.3g} of n_samples={n_samples}: "
            f"it cannot be reached reliably; use n_samples >= {math.ceil(n_samples * (floor / tol) ** 2)}",
            RuntimeWarning,
            stacklevel=_external_stacklevel(),
        )
    if schedule.capped:
        warnings.warn(
            f"tol={tol:g} needs batches of about {schedule.needed:.3g} samples for n={n} targets (noise band "
            f"tol/2), above max_samples={max_samples}: the last batches have a noise band of "
            f"{schedule.band(schedule.final):.3g}; raise max_samples or tol",
            RuntimeWarning,
            stacklevel=_external_stacklevel(),
        )

    from tqdm.auto import tqdm

    evaluate = Evaluator(BatchSpec(the_sampler, yf, name, budget), client)
    history, sizes, bands, t_batch, t_step = [], [], [], [], []
    probe = None
    point = None
    converged = False
    with tqdm(total=max_iter, disable=not progress, desc="Monte-Carlo OT", unit="batch") as bar:
        for _ in range(max_iter):
            N = schedule.size
            delta = None
            if density is not None:
                delta = near_target(n, N) / (N * density)
            t0 = time.perf_counter()
            stats = evaluate(streams.batch(N), h, delta, probe)
            t1 = time.perf_counter()
            masses = stats.counts / N
            err = float(np.max(np.abs(masses - nu) / nu))
            band = schedule.band(N)
            point = _Point(h, stats, masses, err, band)
            history.append(err)
            sizes.append(N)
            bands.append(band)
            bar.update(1)
            bar.set_postfix(err=f"{err:.3g}", N=N)
            if err <= tol and schedule.is_final():
                converged = True
                t_batch.append(t1 - t0)
                t_step.append(0.0)
                break
            empty_start = np.flatnonzero((stats.counts == 0) & (nu * N >= EMPTY_START_MIN_EXPECTED))
            if warm and len(history) == 1 and opt.needs_full_start and empty_start.size:
                warnings.warn(f"solve_montecarlo: h0 leaves {empty_start.size} empty cell(s) (first: "
                              f"{int(empty_start[0])}); falling back to the default start", UserWarning,
                              stacklevel=_external_stacklevel())
                opt.restart()
                h = matched - matched.mean()
            else:
                h = opt.next_point(point, delta)
            if schedule.update(opt.base.err if opt.base is not None else err):
                opt.level_changed()
            if density is not None and stats.near > 0:
                density = stats.near / (N * delta)
            empty = np.flatnonzero(stats.counts == 0)
            probe = empty if empty.size else None
            t_batch.append(t1 - t0)
            t_step.append(time.perf_counter() - t1)
    final = point if converged else (opt.base or point)
    total = int(np.sum(sizes))
    if converged:
        message = (f"converged: max relative mass error {final.err:.3g} <= tol={tol:g} on a fresh batch of "
                   f"{sizes[-1]} samples (noise band {final.band:.3g}); {len(history)} batches, {total} samples")
    else:
        message = (f"not converged in max_iter={max_iter} batches ({total} samples): max relative mass error "
                   f"{final.err:.3g} > tol={tol:g} at the last accepted point (noise band {final.band:.3g})")
        warnings.warn(
            f"solve_montecarlo did not converge in max_iter={max_iter} iterations: "
            f"max relative mass error {final.err:.3g} > tol={tol:g} (noise level {floor:.3g})",
            ConvergenceWarning,
            stacklevel=_external_stacklevel(),
        )
    hw = frame.heights_from_frame(yf, final.h)
    return MonteCarloRun(h=hw - hw.mean(), masses=final.masses, converged=converged, iterations=len(history),
                         history=np.asarray(history), frame=frame, frame_heights=final.h,
                         n_samples=np.asarray(sizes), noise=np.asarray(bands),
                         timings={"batch": t_batch, "step": t_step}, message=message)
