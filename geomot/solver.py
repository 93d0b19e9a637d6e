"""Semi-discrete optimal transport: :func:`solve_ot`, one facade over the solution methods.

Given a source measure :math:`\\mu` on a domain :math:`\\Omega` and targets
:math:`\\nu = \\sum_i \\nu_i \\delta_{y_i}`, find the heights :math:`h` such that every cell of

.. math:: W_i(h) = \\{x \\in \\Omega : \\langle x, y_i\\rangle + h_i \\ge
          \\langle x, y_j\\rangle + h_j \\ \\forall j\\}

carries the prescribed mass, :math:`G_i(h) := \\mu(W_i(h)) = \\nu_i`.  :math:`G` is the gradient
of the convex energy :math:`E(h) = \\int u_h\\, d\\mu - \\sum_i \\nu_i h_i` and its Jacobian
:math:`DG` is a weighted graph Laplacian (:meth:`geomot.power.PowerDiagram.hessian`).

Two methods, one small class each behind :func:`solve_ot` (which validates the inputs, checks
that every keyword given applies to the chosen method, and dispatches):

* ``"newton"`` -- the damped Newton method of Kitagawa, Mérigot and Thibert on the exact power
  diagram, 2D and 3D (:mod:`geomot._newton`; its start heuristics in :mod:`geomot._start`, its
  sparse linear algebra in :mod:`geomot._linalg`);
* ``"montecarlo"`` -- masses estimated from samples (batches that grow until ``tol`` is
  certified) and damped Newton steps with a Monte-Carlo Hessian, any dimension
  (:mod:`geomot.montecarlo`).

Both return an :class:`~geomot.result.OTResult` and warn :class:`~geomot.ConvergenceWarning`
when they stop without meeting ``tol``.

References
----------
J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
optimal transport*, J. Eur. Math. Soc. 21 (2019).
X. Gu, F. Luo, J. Sun, S.-T. Yau, *Variational principles for Minkowski type problems, discrete
optimal transport, and discrete Monge-Ampère equations*, Asian J. Math. 20 (2016).
B. Lévy, *A numerical algorithm for L2 semi-discrete optimal transport in 3D*, ESAIM M2AN 49
(2015).
"""

import numpy as np

from ._backend import BACKEND_CHOICES
from ._linalg import LINEAR_SOLVERS
from ._newton import NEWTON_MAX_ITER, NEWTON_TOL, _solve_newton
from ._linalg import _nested_dissection  # noqa: F401  (benchmarks/bench_solver.py imports it from here)
from ._validate import (as_points, as_positive_float, as_positive_int, as_probabilities, as_rng, as_vector,
                        check_distinct)
from .domain import Domain
from .frame import Frame
from .result import OTResult, load

__all__ = ["solve_ot", "OTResult", "load"]

#: keywords of solve_ot that every method takes (besides domain, y, nu and method)
_COMMON = ("tol", "max_iter", "h0", "progress")


# -------------------------------------------------------------------------------- methods
class _Method:
    """One method of :func:`solve_ot`: its name, the keywords only it takes, and how it runs.

    ``options`` names the method-specific keywords, in the order of :func:`solve_ot`'s
    signature; :meth:`check_options` takes the given ones (never None) and returns them all,
    validated, with the method's defaults; :meth:`solve` runs on validated inputs (``tol`` and
    ``max_iter`` None for the method's defaults).
    """

    name = ""
    options = ()

    def check_domain(self, domain):
        """Raise ValueError when the method cannot solve on ``domain``."""

    def check_options(self, **given):  # pragma: no cover - abstract
        raise NotImplementedError

    def solve(self, domain, y, nu, tol, max_iter, h0, progress, **options):  # pragma: no cover - abstract
        raise NotImplementedError


class _Newton(_Method):
    """Damped Newton on the exact power diagram (:func:`geomot._newton._solve_newton`)."""

    name = "newton"
    options = ("linear_solver", "verbose")

    def check_domain(self, domain):
        if domain.dim not in (2, 3):
            raise ValueError(f"method='newton' needs a 2D or 3D domain (exact power diagrams), the domain has "
                             f"dimension {domain.dim}; use method='montecarlo'")

    def check_options(self, linear_solver="auto", verbose=False):
        if not isinstance(linear_solver, str) or linear_solver not in LINEAR_SOLVERS:
            raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, got {linear_solver!r}")
        return {"linear_solver": linear_solver, "verbose": bool(verbose)}

    def solve(self, domain, y, nu, tol, max_iter, h0, progress, linear_solver, verbose):
        return _solve_newton(domain, y, nu, tol=NEWTON_TOL if tol is None else tol,
                             max_iter=NEWTON_MAX_ITER if max_iter is None else max_iter, h0=h0,
                             linear_solver=linear_solver, progress=progress, verbose=verbose)


class _MonteCarlo(_Method):
    """Monte-Carlo masses, a sample schedule and Monte-Carlo Newton steps
    (:func:`geomot.montecarlo.solve_montecarlo`)."""

    name = "montecarlo"
    options = ("seed", "backend", "client", "n_samples", "lr", "optimizer", "sampler", "max_samples")

    def check_options(self, seed=None, backend="auto", client=None, n_samples=None, lr=None, optimizer=None,
                      sampler=None, max_samples=None):
        from ._mc_optim import OPTIMIZERS
        from ._mc_sampling import SAMPLERS

        if not isinstance(backend, str) or backend not in BACKEND_CHOICES:
            raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {backend!r}")
        if optimizer is not None and (not isinstance(optimizer, str) or optimizer not in OPTIMIZERS):
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if sampler is not None and (not isinstance(sampler, str) or sampler not in SAMPLERS):
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        if max_samples is not None:
            max_samples = as_positive_int(max_samples, "max_samples")
        return {"seed": as_rng(seed), "backend": backend, "client": client, "n_samples": n_samples, "lr": lr,
                "optimizer": optimizer, "sampler": sampler, "max_samples": max_samples}

    def solve(self, domain, y, nu, tol, max_iter, h0, progress, seed, backend, client, n_samples, lr, optimizer,
              sampler, max_samples):
        from .montecarlo import solve_montecarlo

        kwargs = {"h0": h0, "seed": seed, "backend": backend, "progress": progress}
        for name, value in (("tol", tol), ("max_iter", max_iter), ("n_samples", n_samples), ("lr", lr),
                            ("client", client), ("optimizer", optimizer), ("sampler", sampler),
                            ("max_samples", max_samples)):
            if value is not None:
                kwargs[name] = value
        run = solve_montecarlo(domain, y, nu, **kwargs)
        # the frame state of the run: its argmax ran on the frame heights (geomot.frame)
        yf = run.frame.to_targets(y)
        weights = run.frame_heights + 0.5 * np.einsum("ij,ij->i", yf, yf)
        return OTResult(domain=domain, y=y, nu=nu, h=run.h, masses=run.masses, converged=run.converged,
                        iterations=run.iterations, history=run.history, method="montecarlo",
                        timings=dict(run.timings, n_samples=run.n_samples), message=run.message,
                        frame=run.frame, frame_weights=weights)


#: the methods by name (the same names, in the same order, as geomot.result.METHODS)
_METHODS = {m.name: m for m in (_Newton(), _MonteCarlo())}
#: every method-specific keyword of solve_ot
_OPTIONS = tuple(dict.fromkeys(k for m in _METHODS.values() for k in m.options))


# ----------------------------------------------------------------------------- validation
def _method(method):
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {tuple(_METHODS)}, got {method!r}")
    return _METHODS[method]


def _check_applicable(runner, given):
    """ValueError naming every keyword given (not None) that ``runner`` does not take."""
    bad = [k for k, v in given.items() if v is not None and k not in runner.options]
    if not bad:
        return
    parts = []
    for k in bad:
        owners = " or ".join(f"method={m.name!r}" for m in _METHODS.values() if k in m.options)
        parts.append(f"{k}= (an option of {owners})")
    verb = "does" if len(bad) == 1 else "do"
    raise ValueError(f"solve_ot: {', '.join(parts)} {verb} not apply to method={runner.name!r}, which takes "
                     f"{', '.join(_COMMON + runner.options)}")


def _validate(domain, y, nu, tol, max_iter, h0):
    y = as_points(y, "y", dim=domain.dim)
    n = y.shape[0]
    # distinct relative to the targets' extent (check_distinct works in those units, so
    # targets at 1e-160 do not underflow), with the user's coordinates in the message;
    # Frame.of refuses a problem beyond float64
    check_distinct(y)
    Frame.of(domain.bounds, y)
    if nu is None:
        nu = np.full(n, 1.0 / n)
    else:
        nu = as_probabilities(nu, "nu", n=n)
    if tol is not None:
        tol = as_positive_float(tol, "tol")
    if max_iter is not None:
        max_iter = as_positive_int(max_iter, "max_iter", minimum=0)
    if h0 is not None:
        h0 = as_vector(h0, "h0", n=n)
    return y, nu, tol, max_iter, h0


# --------------------------------------------------------------------------------- public
def solve_ot(domain, y, nu=None, *, method="newton", tol=None, max_iter=None, h0=None, seed=None,
             backend=None, progress=False, client=None, n_samples=None, lr=None,
             linear_solver=None, verbose=None, optimizer=None, sampler=None, max_samples=None):
    """Semi-discrete optimal transport from a domain to weighted points (quadratic cost).

    Parameters
    ----------
    domain : Domain
        The source: uniform (or piecewise-constant) density on a 2D/3D domain, any dimension
        for ``method="montecarlo"``.
    y : (n, d) array_like of float
        Distinct targets, ``d = domain.dim``.
    nu : (n,) array_like of float, optional
        Positive target masses, normalised to sum 1 (default uniform).
    method : {"newton", "montecarlo"}
        ``"newton"``: damped Newton on the exact power diagram (2D and 3D).
        ``"montecarlo"``: masses estimated from samples of the domain and gradient steps
        (:func:`geomot.montecarlo.solve_montecarlo`), any dimension.
    tol : float, optional
        Newton stops when :math:`\\max_i |\\mu(W_i) - \\nu_i| / \\nu_i \\le` ``tol`` (default
        1e-9).  For Monte Carlo it is passed on (default: that solver's own).
    max_iter : int, optional
        Iteration cap (Newton default 100; Monte Carlo: that solver's default).
    h0 : (n,) array_like of float, optional
        Warm start.  Newton falls back (with a warning) to its default start if a cell of
        ``h0`` is empty.
    seed : None, int or numpy.random.Generator, optional
        Monte Carlo only: randomness of the samples (Newton is deterministic).
    backend : {"auto", "numpy", "numba", "cupy"}, optional
        Monte Carlo only: array backend of the argmax (default ``"auto"``: numba if it runs
        here, else numpy; the two give bitwise the same result).
    progress : bool
        Show a ``tqdm`` progress bar (both methods).
    client : dask.distributed.Client, optional
        Monte Carlo only: spread the mass estimation over a cluster.
    n_samples, lr : optional
        Monte Carlo only: a fixed batch size (default: a schedule that grows the batches
        until ``tol`` is certified) and the step size (defaults: that solver's).
    optimizer, sampler, max_samples : optional
        Monte Carlo only: ``"newton"`` (default; Monte-Carlo Hessian), ``"adam"`` or ``"sgd"``;
        ``"auto"`` (default), ``"random"``, ``"sobol"`` or ``"device"``; the largest batch
        (default 2**27).  See :func:`geomot.montecarlo.solve_montecarlo`.
    linear_solver : {"auto", "direct", "amg"}, optional
        Newton only: sparse LU (nested-dissection ordering in 2D) or AMG-preconditioned
        conjugate gradients (pyamg) for the Laplacian systems; ``"auto"`` (the default) takes
        LU for 2D up to 1e4 cells and 3D up to 2e3 cells (measured: 2D n = 1e5 solves in
        6.1 s with AMG, 9.4 s with LU; n = 2e4 in 1.1 s vs 1.3 s).
    verbose : bool, optional
        Newton only: print one line per iteration (default False).

    Returns
    -------
    OTResult
        ``h``, ``masses``, ``converged``, ``iterations``, ``history``, ``diagram``,
        ``potential``, ``timings``, ``save``.  Monte Carlo: ``timings`` holds ``"batch"`` and ``"step"``
        (seconds per batch) and ``"n_samples"`` (each batch's size); ``message`` states the
        stopping rule met.

    Raises
    ------
    ValueError
        For invalid input, naming the argument; and for a keyword given (not None) that does
        not apply to ``method``, naming it and the method.  ``tol``, ``max_iter``, ``h0`` and
        ``progress`` apply to both methods; ``linear_solver`` and ``verbose`` to Newton only;
        ``seed``, ``backend``, ``client``, ``n_samples``, ``lr``, ``optimizer``, ``sampler`` and
        ``max_samples`` to Monte Carlo only.

    Warns
    -----
    ConvergenceWarning
        When the solver stops without meeting ``tol`` (iteration cap, failed line search,
        singular linear system) -- then ``converged`` is False and ``h`` is the last good
        iterate.  It is a :class:`UserWarning` (and a :class:`RuntimeWarning`).
    UserWarning
        When a warm start ``h0`` has an empty cell (Newton).

    Notes
    -----
    The cells are :math:`W_i(h) = \\{x : \\langle x, y_i\\rangle + h_i \\ge \\langle x, y_j\\rangle
    + h_j\\ \\forall j\\}` and Newton solves :math:`\\mu(W_i(h)) = \\nu_i` with the damped steps
    of Kitagawa-Mérigot-Thibert (:mod:`geomot._newton`).  The start is the first without an
    empty cell among: the warm start ``h0``, the plain Voronoi heights :math:`h_i = -|y_i|^2/2`,
    the targets fitted affinely into the domain's bounding box, and the targets shrunk into a
    ball :math:`B(c, r)` inside the support of the source (which always works):
    :math:`z_i = c + s (y_i - \\bar y)`, :math:`s = 0.9\\, r / R`, :math:`R = \\max_i |y_i - \\bar y|`,
    whose Voronoi cells are all non-empty; the heights

    .. math:: h^0_i = -\\langle c, y_i\\rangle - \\tfrac{s}{2} |y_i - \\bar y|^2

    give exactly that diagram.

    References
    ----------
    J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
    optimal transport*, J. Eur. Math. Soc. 21 (2019).

    Example
    -------
    >>> import numpy as np, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> y = np.random.default_rng(0).random((50, 2))
    >>> res = geomot.solve_ot(dom, y, tol=1e-10)
    >>> res.converged, bool(np.max(np.abs(res.masses * 50 - 1)) <= 1e-10)
    (True, True)
    """
    if not isinstance(domain, Domain):
        raise ValueError(f"domain must be a geomot.Domain, got {type(domain).__name__}")
    runner = _method(method)
    given = {"seed": seed, "backend": backend, "client": client, "n_samples": n_samples, "lr": lr,
             "linear_solver": linear_solver, "verbose": verbose, "optimizer": optimizer, "sampler": sampler,
             "max_samples": max_samples}
    _check_applicable(runner, given)
    options = runner.check_options(**{k: v for k, v in given.items() if v is not None})
    runner.check_domain(domain)
    y, nu, tol, max_iter, h0 = _validate(domain, y, nu, tol, max_iter, h0)
    return runner.solve(domain, y, nu, tol, max_iter, h0, bool(progress), **options)
