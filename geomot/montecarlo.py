"""Monte-Carlo semi-discrete optimal transport in any dimension (AE-OT).

The cell masses :math:`\\mu(W_i(h))` are estimated from samples of the source measure,

.. math::

    \\hat m_i(h) = \\frac{1}{N} \\#\\{ k : \\operatorname{argmax}_j \\langle x_k, y_j\\rangle + h_j = i \\},
    \\qquad x_k \\sim \\mu \\text{ i.i.d.},

which is an unbiased estimate of the gradient of the convex energy
:math:`E(h) = \\int u_h\\,d\\mu - \\sum_i \\nu_i h_i`, :math:`\\nabla E = m(h) - \\nu`.
The heights are found by Adam on this stochastic gradient with fresh samples at every
iteration.  The argmax is a matrix product plus a row maximum: the work the numpy, numba
and CuPy backends of :mod:`geomot._backend` serve, and it parallelises over samples
(a ``dask.distributed.Client`` spreads the chunks over a cluster).

The argmax runs in the frame of the problem (:mod:`geomot.frame`, any dimension): samples
:math:`x' = (x - a)/s`, targets :math:`y' = (y - b)/t` and heights :math:`h'`, all O(1)
wherever the problem lies; Adam steps on :math:`h'` (a step ``lr`` on ``h`` is ``lr / (s t)`` on
:math:`h'`), and the run reports the world heights and its frame heights.

Convergence is judged on the noisy estimate, ``max_i |m_i - nu_i| / nu_i <= tol``.  With
``N`` samples the relative noise of cell ``i`` is about
:math:`\\sqrt{\\nu_i (1 - \\nu_i) / N} / \\nu_i`: a ``tol`` below that level cannot be reached
(a ``RuntimeWarning`` says so), and reaching ``max_iter`` is reported (``converged=False`` and a
:class:`~geomot.ConvergenceWarning`), never hidden.

References
----------
D. An, Y. Guo, N. Lei, Z. Luo, S.-T. Yau, X. Gu, *AE-OT: a new generative model based on
extended semi-discrete optimal transport*, ICLR 2020.
N. Lei et al., *Mode Collapse and Regularity of Optimal Transportation Maps*,
arXiv:1902.02934.
D. P. Kingma, J. Ba, *Adam: a method for stochastic optimization*, ICLR 2015.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import _backend
from ._validate import as_points, as_positive_float, as_positive_int, as_probabilities, as_rng, as_vector, readonly
from ._warnings import ConvergenceWarning, _external_stacklevel
from .frame import Frame

__all__ = ["MonteCarloRun", "estimate_masses", "count_cells", "solve_montecarlo", "noise_level"]

#: Adam moment decay rates and the plateau rule of the step size
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-12
#: the step size is halved when the mean error over a window of this many iterations is
#: not at least ``PLATEAU_DECREASE`` times smaller than over the previous window
PLATEAU_WINDOW = 20
PLATEAU_DECREASE = 0.9
#: the step size never decays below this fraction of its initial value
MIN_LR_FACTOR = 1e-3


def _readonly(a, dtype=np.float64):
    return readonly(a, dtype=dtype, copy=True)


@dataclass(frozen=True)
class MonteCarloRun:
    """Outcome of :func:`solve_montecarlo`.

    Attributes
    ----------
    h : (n,) float64
        Heights (sum 0) at the last mass estimate.
    masses : (n,) float64
        Monte-Carlo cell masses at ``h`` (fractions of the last batch of samples).
    converged : bool
        ``max_i |masses_i - nu_i| / nu_i <= tol`` was reached.
    iterations : int
        Number of mass estimates (batches of samples) used.
    history : (iterations,) float64
        ``max_i |masses_i - nu_i| / nu_i`` at each iteration.
    frame : geomot.frame.Frame or None
        The frame the argmax ran in (None for a run made by hand).
    frame_heights : (n,) float64 or None
        The heights :math:`h'` in that frame (``h`` is rounded from them).

    Example
    -------
    >>> import geomot
    >>> run = solve_montecarlo(geomot.Domain.box([0, 0], [1, 1]), [[0.0, 0.5], [1.0, 0.5]], seed=0)
    >>> run.converged, run.h.shape, len(run.history) == run.iterations
    (True, (2,), True)
    """

    h: np.ndarray
    masses: np.ndarray
    converged: bool
    iterations: int
    history: np.ndarray
    frame: Frame = None
    frame_heights: np.ndarray = None

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

    def __reduce__(self):
        fh = None if self.frame_heights is None else np.array(self.frame_heights)
        return (type(self), (np.array(self.h), np.array(self.masses), self.converged, self.iterations,
                             np.array(self.history), self.frame, fh))


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


def _require_distributed(client):
    """``client`` must be usable: dask.distributed importable and a map/gather interface."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(
            "client= needs dask.distributed, which is not installed; install it with "
            "`pip install 'dask[distributed]'` (or `pip install geomot[dask]`), or pass client=None"
        ) from None
    if not (callable(getattr(client, "map", None)) and callable(getattr(client, "gather", None))):
        raise ValueError(f"client must be a dask.distributed.Client (with .map and .gather), got {type(client).__name__}")


def _check_backend(backend):
    be = _backend.get_backend(name=backend)
    return be.name


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def count_cells(x, y, h, backend="numpy", *, client=None, n_chunks=None, memory_budget=None):
    """Number of samples in each cell: ``#{k : argmax_j <x_k, y_j> + h_j = i}``.

    Parameters
    ----------
    x : (N, d) array_like
        Samples.
    y : (n, d) array_like
        Targets.
    h : (n,) array_like
        Heights.
    backend : {"numpy", "numba", "cupy"}
        Where the argmax runs; an unavailable backend raises an error naming it.
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
        _require_distributed(client)
    if n_chunks is not None:
        n_chunks = as_positive_int(n_chunks, "n_chunks")
    if x.shape[0] == 0:
        return np.zeros(y.shape[0])
    return _count(x, y, h, name, budget, client, n_chunks)


def estimate_masses(x, y, h, backend="numpy", *, client=None, n_chunks=None, memory_budget=None):
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


def solve_montecarlo(
    domain,
    y,
    nu=None,
    *,
    tol=2e-2,
    max_iter=1000,
    h0=None,
    seed=None,
    backend="numpy",
    n_samples=100_000,
    lr=None,
    progress=False,
    client=None,
    memory_budget=None,
):
    """Semi-discrete optimal transport by Monte Carlo and Adam, in any dimension.

    Parameters
    ----------
    domain : geomot.Domain
        The source measure (``.dim``, ``.sample(n, seed)``, ``.bounds``).
    y : (n, d) array_like
        Targets, ``d = domain.dim``.
    nu : (n,) array_like, optional
        Target masses, > 0 (normalised to sum 1; default uniform).
    tol : float
        Stop when :math:`\\max_i |\\hat m_i - \\nu_i| / \\nu_i \\le` ``tol`` on a batch.  It is
        measured on noisy estimates: it must be above the noise level
        :func:`noise_level` ``(nu, n_samples)`` (a ``RuntimeWarning`` says when it is not).
    max_iter : int
        Largest number of batches; if reached, ``converged=False`` and a
        :class:`~geomot.ConvergenceWarning` (also a ``RuntimeWarning``).
    h0 : (n,) array_like, optional
        Starting heights.  Default: the Voronoi diagram of the targets moved onto the
        source by a similarity (matching the mean and, in the narrowest direction, the
        spread of a sample of the domain), so that no cell starts far from its share.
    seed : None, int or numpy.random.Generator
        Seeds the samples: same seed, same run.
    backend : {"numpy", "numba", "cupy"}
        Where the argmax runs; an unavailable backend raises an error naming it.
    n_samples : int
        Samples per iteration (fresh at each iteration).
    lr : float, optional
        Initial Adam step on ``h`` (units of ``h``).  Default
        ``0.1 * diam(bounds) * rms_spread(y) / n**(1/d)``: boundaries move by a fraction of
        a cell.  Halved whenever the mean error over ``PLATEAU_WINDOW`` (20) iterations
        has not decreased by 10 % from the previous window (Adam then jitters at the
        noise level: a smaller step averages the noise out).
    progress : bool
        Show a tqdm progress bar.
    client : dask.distributed.Client, optional
        Spread the mass estimation over a cluster (dask is an optional dependency: an
        ``ImportError`` says how to install it).
    memory_budget : int, optional
        Bytes allowed for one block of scores (default 64 MiB).

    Returns
    -------
    MonteCarloRun
        ``h`` (sum 0), ``masses``, ``converged``, ``iterations``, ``history``.

    Notes
    -----
    Adam on the stochastic gradient :math:`g = \\hat m(h) - \\nu` of the convex energy
    :math:`E(h) = \\int u_h d\\mu - \\sum_i \\nu_i h_i`:

    .. math::

        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\quad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2, \\quad
        h \\leftarrow h - \\eta \\, \\frac{m / (1 - \\beta_1^k)}{\\sqrt{v / (1 - \\beta_2^k)} + \\epsilon},

    followed by :math:`h \\leftarrow h - \\bar h` (h is defined up to a constant).

    References
    ----------
    D. An et al., *AE-OT*, ICLR 2020; Kingma & Ba, *Adam*, ICLR 2015.

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
    n_samples = as_positive_int(n_samples, "n_samples")
    h0 = None if h0 is None else as_vector(h0, "h0", n=n)
    lr = _default_lr(domain, y) if lr is None else as_positive_float(lr, "lr")
    rng = as_rng(seed)
    name = _check_backend(backend)
    budget = _backend._as_budget(memory_budget)
    if client is not None:
        _require_distributed(client)
    # the frame of the problem: the argmax and Adam run on O(1) coordinates and heights h'
    frame = Frame.of(np.asarray(domain.bounds, dtype=np.float64).reshape(2, -1), y)
    yf = frame.to_targets(y)
    if h0 is None:  # the matched Voronoi start, computed in the frame (same samples as in world)
        x0 = np.asarray(domain.sample(min(n_samples, 10_000), seed=rng), dtype=np.float64)
        h = _matched_heights(frame.to_source(x0), yf)
    else:
        h = frame.heights_to_frame(yf, h0)
    h = h - h.mean()
    lr = lr / frame.scale  # a step on h is a step / (s t) on h'

    floor = noise_level(nu, n_samples)
    if tol < floor:
        warnings.warn(
            f"tol={tol:g} is below the Monte-Carlo noise level {floor:.3g} of n_samples={n_samples}: "
            f"it cannot be reached reliably; use n_samples >= {math.ceil(n_samples * (floor / tol) ** 2)}",
            RuntimeWarning,
            stacklevel=_external_stacklevel(),
        )

    from tqdm.auto import tqdm

    m1 = np.zeros(n)
    m2 = np.zeros(n)
    lr0 = lr
    prev_window = np.inf
    history = []
    masses = None
    converged = False
    with tqdm(total=max_iter, disable=not progress, desc="Monte-Carlo OT", unit="it") as bar:
        for k in range(1, max_iter + 1):
            x = frame.to_source(np.asarray(domain.sample(n_samples, seed=rng), dtype=np.float64))
            masses = _count(np.ascontiguousarray(x), yf, h, name, budget, client, None) / n_samples
            g = masses - nu
            err = float(np.max(np.abs(g) / nu))
            history.append(err)
            bar.update(1)
            bar.set_postfix(err=f"{err:.3g}", lr=f"{lr:.2g}")
            if err <= tol:
                converged = True
                break
            if k == max_iter:
                break
            if k % PLATEAU_WINDOW == 0:
                window = float(np.mean(history[-PLATEAU_WINDOW:]))
                if window > PLATEAU_DECREASE * prev_window:
                    lr = max(0.5 * lr, MIN_LR_FACTOR * lr0)
                prev_window = window
            m1 = ADAM_BETA1 * m1 + (1.0 - ADAM_BETA1) * g
            m2 = ADAM_BETA2 * m2 + (1.0 - ADAM_BETA2) * g * g
            mhat = m1 / (1.0 - ADAM_BETA1**k)
            vhat = m2 / (1.0 - ADAM_BETA2**k)
            h = h - lr * mhat / (np.sqrt(vhat) + ADAM_EPS)
            h = h - h.mean()
    if not converged:
        warnings.warn(
            f"solve_montecarlo did not converge in max_iter={max_iter} iterations: "
            f"max relative mass error {history[-1]:.3g} > tol={tol:g} (noise level {floor:.3g})",
            ConvergenceWarning,
            stacklevel=_external_stacklevel(),
        )
    hw = frame.heights_from_frame(yf, h)
    return MonteCarloRun(h=hw - hw.mean(), masses=masses, converged=converged, iterations=len(history),
                         history=np.asarray(history), frame=frame, frame_heights=h)
