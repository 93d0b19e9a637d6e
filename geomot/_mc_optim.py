"""The optimisers of the Monte-Carlo solver: Monte-Carlo Newton, Adam and averaged SGD.

Each minimises the convex energy :math:`E(h) = \\int u_h\\,d\\mu - \\sum_i \\nu_i h_i` from
batch statistics (:mod:`geomot._mc_batch`) in the frame heights :math:`h'`.  They share one
interface: :meth:`next_point` takes the statistics of the batch drawn at the last point and
returns the next point to evaluate; :attr:`base` is the last accepted point (its heights,
masses and error).  One batch is one evaluation, whatever the optimiser does with it.

``"newton"`` -- a damped Newton method with a Monte-Carlo Hessian (the default).
    The Jacobian of the masses is the graph Laplacian of the adjacent cells,
    :math:`\\partial m_i / \\partial h_j = -w_{ij}`, :math:`w_{ij} = \\int_{W_i \\cap W_j} \\rho\\,
    d\\sigma / |y_i - y_j|` (docs/theory.md section 4).  The samples whose two best scores
    differ by less than :math:`\\delta` lie in a slab of width :math:`\\delta / |y_i - y_j|`
    on each side of the facet of their two cells, so

    .. math:: \\hat w_{ij} = \\frac{\\#\\{x : \\{\\sigma_1, \\sigma_2\\}(x) = \\{i, j\\},\\
              s_{\\sigma_1}(x) - s_{\\sigma_2}(x) < \\delta\\}}{2 N \\delta}

    estimates :math:`w_{ij}` (exactly the one-sided difference quotient of the masses for a
    change :math:`\\delta` of a height, averaged over both sides).  The near-facet samples are
    an importance sample of the edges by weight, as in spectral sparsification:
    :math:`K = \\max(1000, 8 n \\ln n)` of them give a
    Laplacian close to the true one in the spectral sense, so :math:`\\delta` is set at every
    batch for about ``K`` of them (at most a quarter of the batch).  The step solves
    :math:`\\hat L\\, \\Delta = -(\\hat m - \\nu)` per connected component (rhs projected to
    sum zero, one node pinned; Jacobi-preconditioned CG) and is damped as Kitagawa-Mérigot-
    Thibert do, but on noisy evaluations: the trial :math:`h + \\tau \\Delta` is accepted when
    its error is at most :math:`(1 - \\tau/2)` times the base's plus twice the noise band of its
    batch, and it empties no cell that held samples (with at least 30 expected); otherwise
    :math:`\\tau` is halved (below 1/16 the base is evaluated afresh) and doubled back after an
    acceptance (a step capped by ``lr`` to a fraction :math:`c` of Newton's must give
    :math:`(1 - \\tau c / 2)`).  A cell that stays empty is lifted by its measured margin (the
    height it lacks to win one sample) plus :math:`\\delta`; a warm start ``h0`` with cells that
    should hold 30 samples or more and hold none is replaced by the default start (with a
    warning), as the exact Newton solver does.
``"adam"`` -- Adam on the gradient :math:`\\hat m - \\nu` (the AE-OT choice), step ``lr``,
    halved when the mean error of a window of 20 batches has not fallen by 10 %.
``"sgd"`` -- averaged SGD (Polyak-Ruppert, as POT and ott-jax use for semi-discrete OT): steps
    :math:`\\eta / \\sqrt{k}` on the relative error :math:`(\\hat m_i - \\nu_i)/\\nu_i`, and the
    average of the iterates of a sample size restarts the next size.

Measured (benchmarks/bench_montecarlo.py, docs/benchmarks.md): Newton reaches a given
accuracy in a few batches per sample size, Adam and SGD need tens to hundreds; Newton is the
default.

References
----------
J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
optimal transport*, J. Eur. Math. Soc. 21 (2019).
D. A. Spielman, N. Srivastava, *Graph sparsification by effective resistances*, SIAM J.
Comput. 40 (2011).
D. P. Kingma, J. Ba, *Adam: a method for stochastic optimization*, ICLR 2015.
A. Genevay, M. Cuturi, G. Peyré, F. Bach, *Stochastic optimization for large-scale optimal
transport*, NeurIPS 2016.
B. T. Polyak, A. B. Juditsky, *Acceleration of stochastic approximation by averaging*, SIAM J.
Control Optim. 30 (1992).
"""

import math

import numpy as np

__all__ = ["OPTIMIZERS", "make_optimizer", "near_target", "mc_laplacian"]

#: optimiser names, the default first
OPTIMIZERS = ("newton", "adam", "sgd")

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

#: near-facet samples wanted per batch: max(NEAR_MIN, NEAR_PER_CELL * n * ln(n)) (spectral
#: sparsification needs O(n log n))
NEAR_PER_CELL = 8.0
NEAR_MIN = 1000.0
#: ... and never more than this fraction of the batch (delta would be a coarse difference)
NEAR_MAX_FRACTION = 0.25
#: a trial may exceed (1 - tau/2) times the base's error by this many noise bands
ACCEPT_NOISE = 2.0
#: below this damping the base is evaluated afresh (its own error may have been a lucky draw)
MIN_TAU = 1.0 / 16.0
#: a cell emptied by a step counts only if this many samples were expected in it
EMPTY_MIN_EXPECTED = 30.0
#: relative residual of the conjugate gradients of a Newton step
CG_RTOL = 1e-6


def near_target(n, n_samples):
    """Near-facet samples wanted in a batch of ``n_samples`` with ``n`` cells."""
    return min(max(NEAR_MIN, NEAR_PER_CELL * n * math.log(max(n, 1))), NEAR_MAX_FRACTION * n_samples)


def mc_laplacian(stats, n, delta):
    """The Monte-Carlo Hessian :math:`\\hat L = D - W` (scipy CSR, frame heights), or None."""
    import scipy.sparse as sps

    if stats.pair_keys.size == 0:
        return None
    i = stats.pair_keys // n
    j = stats.pair_keys % n
    w = stats.pair_counts / (2.0 * stats.n_samples * delta)  # a slab on each side
    W = sps.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    return (sps.diags(np.asarray(W.sum(axis=1)).ravel()) - W).tocsr()


def _newton_direction(L, g):
    """Solve ``L d = -g`` per connected component (rhs projected, one node pinned per component)."""
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import cg

    n = g.shape[0]
    ncomp, labels = connected_components(L, directed=False)
    rhs = -g
    sums = np.bincount(labels, weights=rhs, minlength=ncomp)
    sizes = np.bincount(labels, minlength=ncomp)
    rhs = rhs - (sums / sizes)[labels]
    diag = L.diagonal()
    # pin the node of largest diagonal of each component (isolated nodes are their own pin)
    order = np.lexsort((-diag, labels))
    starts = np.concatenate([[0], np.flatnonzero(np.diff(labels[order])) + 1])
    keep = np.ones(n, dtype=bool)
    keep[order[starts]] = False
    d = np.zeros(n)
    if not keep.any():
        return d
    idx = np.flatnonzero(keep)
    A = L[idx][:, idx]
    dA = A.diagonal()
    M = 1.0 / np.where(dA > 0, dA, 1.0)
    from scipy.sparse.linalg import LinearOperator

    prec = LinearOperator(A.shape, matvec=lambda v: M * v, dtype=np.float64)
    x, _ = cg(A, rhs[idx], rtol=CG_RTOL, maxiter=max(200, 4 * int(math.sqrt(idx.size)) + 200), M=prec)
    if np.all(np.isfinite(x)):
        d[idx] = x
    return d - d.mean()


class _Point:
    """An evaluated point: heights, batch statistics, masses and error."""

    __slots__ = ("h", "stats", "masses", "err", "band")

    def __init__(self, h, stats, masses, err, band):
        self.h, self.stats, self.masses, self.err, self.band = h, stats, masses, err, band


class _Optimizer:
    """Common part: the last accepted point (:attr:`base`)."""

    name = ""
    needs_pairs = False
    #: whether a start with empty cells must be replaced (the Newton system has no row for them)
    needs_full_start = False

    def __init__(self, nu, lr):
        self.nu = nu
        self.lr = lr  # frame units (a step on h'), or None
        self.base = None

    def level_changed(self):
        """The sample size grew (called before the next :meth:`next_point`)."""

    def restart(self):
        """Forget the points seen (a new start)."""
        self.base = None

    def next_point(self, point, delta):  # pragma: no cover - abstract
        raise NotImplementedError


class _Newton(_Optimizer):
    name = "newton"
    needs_pairs = True
    needs_full_start = True

    def __init__(self, nu, lr):
        super().__init__(nu, lr)
        self.tau = 1.0
        self.direction = None
        self.shrink = 1.0  # the fraction of the Newton step left by the cap ``lr``

    def _accept(self, point):
        b = self.base
        if b is None:
            return True
        expected = self.nu * point.stats.n_samples
        emptied = (point.stats.counts == 0) & (b.stats.counts > 0) & (expected >= EMPTY_MIN_EXPECTED)
        if np.any(emptied):
            return False
        # the decrease a step of this (damped, capped) fraction of Newton's should give
        return point.err <= (1.0 - 0.5 * self.tau * self.shrink) * b.err + ACCEPT_NOISE * point.band

    def _direction(self, point, delta):
        n = self.nu.shape[0]
        g = point.masses - self.nu
        L = mc_laplacian(point.stats, n, delta)
        d = np.zeros(n) if L is None else _newton_direction(L, g)
        empty = point.stats.counts == 0
        if np.any(empty) and point.stats.probe.size:
            # a cell without samples has no Hessian row: lift it by the height it lacks
            margin = np.full(n, -np.inf)
            margin[point.stats.probe] = point.stats.probe_margin
            lift = empty & np.isfinite(margin)
            d[lift] = -margin[lift] + delta
        self.shrink = 1.0
        if self.lr is not None:
            big = float(np.max(np.abs(d)))
            if big > self.lr:
                self.shrink = self.lr / big
                d = d * self.shrink
        return d

    def next_point(self, point, delta):
        if self._accept(point):
            if self.base is not None:
                self.tau = min(1.0, 2.0 * self.tau)
            self.base = point
            self.direction = self._direction(point, delta)
        else:
            self.tau *= 0.5
            if self.tau < MIN_TAU:  # evaluate the base again: a fresh measure of its error
                self.tau = 1.0
                h, self.base = self.base.h, None
                return h
        h = self.base.h + self.tau * self.direction
        return h - h.mean()


class _Adam(_Optimizer):
    name = "adam"

    def __init__(self, nu, lr):
        super().__init__(nu, lr)
        n = nu.shape[0]
        self.m1 = np.zeros(n)
        self.m2 = np.zeros(n)
        self.k = 0
        self.lr0 = lr
        self.history = []
        self.prev_window = np.inf

    def next_point(self, point, delta):
        self.base = point
        self.k += 1
        k = self.k
        self.history.append(point.err)
        if k % PLATEAU_WINDOW == 0:
            window = float(np.mean(self.history[-PLATEAU_WINDOW:]))
            if window > PLATEAU_DECREASE * self.prev_window:
                self.lr = max(0.5 * self.lr, MIN_LR_FACTOR * self.lr0)
            self.prev_window = window
        g = point.masses - self.nu
        self.m1 = ADAM_BETA1 * self.m1 + (1.0 - ADAM_BETA1) * g
        self.m2 = ADAM_BETA2 * self.m2 + (1.0 - ADAM_BETA2) * g * g
        mhat = self.m1 / (1.0 - ADAM_BETA1**k)
        vhat = self.m2 / (1.0 - ADAM_BETA2**k)
        h = point.h - self.lr * mhat / (np.sqrt(vhat) + ADAM_EPS)
        return h - h.mean()


class _AveragedSGD(_Optimizer):
    name = "sgd"

    def __init__(self, nu, lr):
        super().__init__(nu, lr)
        self.k = 0
        self.avg = None
        self.restart = False

    def level_changed(self):
        self.restart = True

    def next_point(self, point, delta):
        self.base = point
        if self.restart and self.avg is not None:
            self.restart = False
            self.k = 0
            h, self.avg = self.avg, None
            return h
        self.k += 1
        self.avg = point.h.copy() if self.avg is None else self.avg + (point.h - self.avg) / self.k
        h = point.h - (self.lr / math.sqrt(self.k)) * (point.masses - self.nu) / self.nu
        return h - h.mean()


_CLASSES = {c.name: c for c in (_Newton, _Adam, _AveragedSGD)}


def make_optimizer(name, nu, lr):
    """The optimiser called ``name`` (see :data:`OPTIMIZERS`); ``lr`` in frame units or None."""
    if not isinstance(name, str) or name not in _CLASSES:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    return _CLASSES[name](nu, lr)
