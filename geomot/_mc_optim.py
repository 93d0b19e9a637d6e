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

    .. math:: \\big(\\hat L + \\operatorname{diag}(p) + \\lambda \\kappa \\operatorname{diag}(\\nu)\\big)
              \\Delta = -(\\hat m - \\nu)

    (Jacobi-preconditioned CG).  :math:`\\kappa` is the median stiffness per unit mass,
    :math:`\\hat L_{ii} / \\nu_i`, of the cells seen by at least 10 near-facet samples, and
    :math:`p_i = \\kappa \\nu_i\\, 10 / (c_i + 10)` shrinks the row of a cell seen by only
    :math:`c_i` of them towards a typical cell's of its mass (a row estimated from two samples
    can be ten times too small, and its cell's step ten times too large); an empty cell
    (:math:`c_i = 0`) is lifted as a typical cell would be.  :math:`\\lambda` is the
    Levenberg-Marquardt damping: the trial :math:`h + \\Delta` is accepted when its error falls
    by at least half what the linear model :math:`\\hat m - \\nu + \\hat L \\Delta` predicts, up to
    twice the noise band of its batch, and it empties no cell that held samples (with at least
    30 expected); then :math:`\\lambda \\leftarrow \\lambda / 4` (down to 1e-3), else
    :math:`\\lambda \\leftarrow 4 \\lambda` and a new trial from the same base (beyond 1e3 the base
    is evaluated afresh: its own error may have been a lucky draw).  A large :math:`\\lambda`
    turns the step towards diagonally scaled gradient descent, which a line search on a wrong
    Newton direction cannot do.  ``lr`` caps the largest change of a height.  A cell that
    stays empty is lifted at least by its measured margin (the height it lacks to win one
    sample) plus :math:`\\delta`; a warm start ``h0`` with cells that should hold 30 samples or
    more and hold none is replaced by the default start (with a warning), as the exact Newton
    solver does.
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
J. Nocedal, S. J. Wright, *Numerical Optimization*, 2nd ed., Springer (2006), ch. 10
(Levenberg-Marquardt).
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
#: a trial must give half the decrease the linear model predicts, up to this many noise bands
ACCEPT_NOISE = 2.0
#: a cell's Hessian diagonal is shrunk towards a typical cell's of its mass with the weight of
#: this many near-facet samples (a cell seen by few of them has an unreliable row)
PRIOR_COUNTS = 10.0
#: Levenberg-Marquardt damping lambda * kappa * diag(nu): its least value, its factor on a
#: rejection (divided on an acceptance), and the value beyond which the base is drawn afresh
LM_MIN = 1e-3
LM_FACTOR = 4.0
LM_MAX = 1e3
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
        self.lam = LM_MIN
        self.direction = None
        self.predicted = None  # the error the linear model predicts at base + direction
        self._system = None  # (L, stiffness prior, delta) of the base

    def _accept(self, point):
        b = self.base
        if b is None:
            return True
        expected = self.nu * point.stats.n_samples
        emptied = (point.stats.counts == 0) & (b.stats.counts > 0) & (expected >= EMPTY_MIN_EXPECTED)
        if np.any(emptied):
            return False
        # at least half the decrease the model predicts, up to the noise of the batch
        return point.err <= b.err - 0.5 * (b.err - self.predicted) + ACCEPT_NOISE * point.band

    def _system_of(self, point, delta):
        """The Monte-Carlo Laplacian of ``point`` and the prior stiffness of every cell."""
        n = self.nu.shape[0]
        L = mc_laplacian(point.stats, n, delta)
        if L is None:
            import scipy.sparse as sps

            L = sps.csr_matrix((n, n))
        near = np.zeros(n)  # near-facet samples of each cell
        i = point.stats.pair_keys // n
        j = point.stats.pair_keys % n
        np.add.at(near, i, point.stats.pair_counts)
        np.add.at(near, j, point.stats.pair_counts)
        diag = L.diagonal()
        ok = near >= PRIOR_COUNTS
        per_mass = diag[ok] / self.nu[ok] if np.any(ok) else diag[diag > 0] / self.nu[diag > 0]
        kappa = float(np.median(per_mass)) if per_mass.size else 1.0 / max(delta, 1e-300)
        # each cell's stiffness shrunk towards a typical cell's of its mass (PRIOR_COUNTS samples)
        prior = kappa * self.nu * PRIOR_COUNTS / (near + PRIOR_COUNTS)
        return L, prior, kappa

    def _direction(self, point, delta):
        n = self.nu.shape[0]
        L, prior, kappa = self._system
        g = point.masses - self.nu
        A = (L + _diags(prior + self.lam * kappa * self.nu)).tocsr()
        d = _spd_solve(A, -g)
        empty = point.stats.counts == 0
        if np.any(empty) and point.stats.probe.size:
            # a cell without samples: lifted at least by the height it lacks to win one
            margin = np.full(n, -np.inf)
            margin[point.stats.probe] = point.stats.probe_margin
            lift = empty & np.isfinite(margin)
            d[lift] = np.maximum(d[lift], -margin[lift] + delta)
        if self.lr is not None:
            big = float(np.max(np.abs(d)))
            if big > self.lr:
                d = d * (self.lr / big)
        d = d - d.mean()
        self.predicted = float(np.max(np.abs(g + L @ d) / self.nu))
        return d

    def next_point(self, point, delta):
        if self._accept(point):
            if self.base is not None:
                self.lam = max(LM_MIN, self.lam / LM_FACTOR)
            self.base = point
            self._system = self._system_of(point, delta)
            self._delta = delta
        else:
            self.lam *= LM_FACTOR
            if self.lam > LM_MAX:  # evaluate the base again: a fresh measure of its error
                self.lam = LM_MIN
                h, self.base = self.base.h, None
                return h
        self.direction = self._direction(self.base, self._delta)
        h = self.base.h + self.direction
        return h - h.mean()


def _diags(v):
    import scipy.sparse as sps

    return sps.diags(v)


def _spd_solve(A, b):
    """Jacobi-preconditioned CG for the SPD system ``A x = b``."""
    from scipy.sparse.linalg import LinearOperator, cg

    dA = A.diagonal()
    M = 1.0 / np.where(dA > 0, dA, 1.0)
    prec = LinearOperator(A.shape, matvec=lambda v: M * v, dtype=np.float64)
    x, _ = cg(A, b, rtol=CG_RTOL, maxiter=max(200, 4 * int(math.sqrt(b.size)) + 200), M=prec)
    return x if np.all(np.isfinite(x)) else np.zeros_like(b)


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
