"""The damped Newton method of semi-discrete optimal transport, on the exact power diagram.

The damped Newton method of Kitagawa, Mérigot and Thibert starts from heights whose cells all
have positive mass, sets :math:`\\varepsilon_0 = \\tfrac12 \\min(\\min_i G_i(h^0), \\min_i \\nu_i)`,
solves :math:`DG(h^k)\\, d^k = -(G(h^k) - \\nu)` (with one entry pinned per connected component
of the adjacency graph) and takes :math:`h^{k+1} = h^k + \\alpha d^k` with the first
:math:`\\alpha \\in \\{1, \\tfrac12, \\tfrac14, \\dots\\}` such that

.. math:: \\min_i G_i(h^k + \\alpha d^k) \\ge \\varepsilon_0 \\quad\\text{and}\\quad
          \\|(G(h^k + \\alpha d^k) - \\nu)/\\nu\\| \\le (1 - \\tfrac{\\alpha}{2}) \\|(G(h^k) - \\nu)/\\nu\\| .

The decrease is measured on the error relative to :math:`\\nu` (componentwise division): with
the plain norm a cell far lighter than the others stalls.  A trial step that already meets the
stopping test is accepted.

It stops when :math:`\\max_i |G_i(h) - \\nu_i| / \\nu_i \\le` ``tol``.

The solver works in the frame of the problem (:mod:`geomot.frame`: source and targets moved
and scaled to O(1), built once from the domain's bounds and the targets) and iterates on the
frame weights :math:`\\varphi' = h' + |y'|^2/2` (the weights relative to the Voronoi diagram),
which keeps the differences :math:`h_i - h_j` of close targets exact (see :func:`_diagram`)
and makes the iterates the same, wherever the problem lies and whatever its size.  The result
stores the frame and the final :math:`\\varphi'`: the diagram, potential and files built from
it are the solver's own.  The regular triangulation of a trial step is repaired by flips from
the last accepted one (:func:`geomot.lifting._flipped_triangulation`: Lawson edge flips in 2D,
2-3/3-2 flips in 3D; exact, a new hull only when flips cannot reach the answer, none at all
when a flip proves a target hidden): the hull is built once per solve, not once per step.

Linear solves (:mod:`geomot._linalg`): a sparse LU of the pinned (SPD) Laplacian (a geometric
nested-dissection ordering in 2D) while that is cheap, smoothed-aggregation AMG preconditioned
conjugate gradients (``pyamg``) beyond, as an inexact Newton method: the relative residual
follows the current error (forcing term), CG goes on until the linear model leaves every cell
most of its target mass, and the AMG hierarchy is kept from one step to the next while it
still converges well (its setup costs about as much as a solve).

The loop (:func:`_solve_newton`) is made of three parts: the start (:func:`_choose_start`),
the line search (:func:`_line_search`) and the record of the iterations
(:class:`_IterationLog`: timings, progress bar, verbose lines).

References
----------
J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
optimal transport*, J. Eur. Math. Soc. 21 (2019).
B. Lévy, *A numerical algorithm for L2 semi-discrete optimal transport in 3D*, ESAIM M2AN 49
(2015).
"""

import dataclasses
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ._amg import AMGCache
from ._linalg import _nested_dissection, _resolve_solver, _solve_laplacian, _uses_nested_dissection
from ._start import _bbox_start, _shrunk_start, _voronoi_start
from ._warnings import ConvergenceWarning, _external_stacklevel
from .frame import Frame, FramedDomain
from .lifting import _flipped_triangulation_path, _morton_order
from .result import OTResult

#: defaults of ``solve_ot(method="newton")``
NEWTON_TOL = 1e-9
NEWTON_MAX_ITER = 100
#: from this many targets the solve runs with them sorted along a Z-order curve
_SORTED_MIN_N = 50_000
#: backtracking halvings before the line search gives up
_MAX_HALVINGS = 30
#: per-iteration entries of ``OTResult.timings`` (then ``start``, the start's diagram)
_TIMING_KEYS = ("hull", "integration", "assembly", "linear_solve", "backtracking", "alpha", "trials",
                "cg_iterations", "amg_setups")


def _relative_error(masses, nu):
    return float(np.max(np.abs(masses - nu) / nu))


# ------------------------------------------------------------------------------- diagrams
def _diagram(y, wphi, domain, reject_hidden=False, previous=None, previous_weights=None):
    """Power diagram at the weights ``wphi`` :math:`= h + |y|^2/2`, with (hull seconds,
    integration seconds).

    ``y`` (n, d) and ``wphi`` (n,) are in the frame of ``domain``, a
    :class:`~geomot.frame.FramedDomain` (a plain :class:`~geomot.Domain` is its identity
    frame: world coordinates).  The solver iterates on :math:`\\varphi = h + |y|^2/2` rather
    than on ``h``: the cells of close targets depend on :math:`h_i - h_j`, which ``h`` (of size
    :math:`|y|^2`) holds only to :math:`\\epsilon |y|^2` -- a relative mass error of about
    :math:`5 \\cdot 10^{-14} n` for n uniform targets in 2D, above ``tol = 1e-8`` at a million
    cells -- while :math:`\\varphi` holds it to :math:`\\epsilon |\\varphi|`.

    With ``reject_hidden``, return ``(None, hull seconds, 0)`` without integrating when a
    target is hidden (its cell is empty: a trial step the line search must reject anyway).

    With ``previous`` (the triangulation of the last accepted diagram, regular for the weights
    ``previous_weights``), the triangulation is repaired by flips
    (:func:`geomot.lifting._flipped_triangulation_path`, 2D and 3D: exact, the same
    combinatorics as a new hull) and the hull is built only when flips cannot reach the answer.
    """
    from . import _flip, power

    space = domain if isinstance(domain, FramedDomain) else FramedDomain.of(domain, Frame.identity(y.shape[1]))
    t0 = time.perf_counter()
    tri = None
    if previous is not None:
        tri, status = _flipped_triangulation_path(previous, previous_weights, y, wphi)
        if status == _flip.STATUS_STUCK and reject_hidden:  # a hidden target: an empty cell
            return None, time.perf_counter() - t0, 0.0
    if tri is None:
        h = wphi - 0.5 * np.einsum("ij,ij->i", y, y)
        tri = power._regular_triangulation(y, h - h.mean())
    t1 = time.perf_counter()
    if reject_hidden and np.any(tri.hidden):
        return None, t1 - t0, 0.0
    pd = power._framed_diagram(space, y, wphi, triangulation=tri)
    t2 = time.perf_counter()
    return pd, t1 - t0, t2 - t1


# ---------------------------------------------------------------------------------- start
def _choose_start(domain, y, y_user, half, h0):
    """The first start without an empty cell: ``(diagram, h0, warm)``.

    ``domain`` is the :class:`~geomot.frame.FramedDomain` of the solve (or a plain Domain:
    world coordinates), ``y`` the frame targets, ``y_user`` the targets where the user put
    them, ``half`` :math:`= |y|^2/2` (frame), ``h0`` the user's warm start (world heights) or
    None.  Tried in order: the warm start ``h0`` (a warning when it has an empty cell), the
    Voronoi diagram of the targets where the user put them (world :math:`\\varphi = 0`,
    :meth:`geomot.frame.Frame.voronoi_weights`), the targets fitted to the bounding box, the
    targets shrunk into an inscribed ball (:mod:`geomot._start`, in the frame).  Returns the
    start's world heights ``h0``; the frame weights it was built from are
    ``diagram._weights``; ``warm`` says the warm start was taken.
    """
    space = domain if isinstance(domain, FramedDomain) else FramedDomain.of(domain, Frame.identity(y.shape[1]))
    frame = space.frame
    if h0 is not None:
        pd, _, _ = _diagram(y, frame.heights_to_frame(y, h0) + half, space)
        if not np.any(pd.masses <= 0):
            return pd, h0, True
        k = int(np.count_nonzero(pd.masses <= 0))
        warnings.warn(f"solve_ot: h0 leaves {k} empty cell(s) (first: {int(np.argmax(pd.masses <= 0))}); "
                      "falling back to the default start", UserWarning, stacklevel=_external_stacklevel())
    pd, _, _ = _diagram(y, frame.voronoi_weights(y), space)
    h0 = None
    for fallback in (_bbox_start, _shrunk_start):
        if not np.any(pd.masses <= 0):
            break
        hf = fallback(space, y)  # frame heights of the frame problem
        pd, _, _ = _diagram(y, hf + half, space)
        h0 = frame.heights_from_frame(y, hf)
    return pd, (_voronoi_start(y_user) if h0 is None else h0), False


# ---------------------------------------------------------------------------- line search
@dataclass(frozen=True)
class _Step:
    """An accepted Newton step: the new weights and diagram, the step size, the trial
    diagrams evaluated, and the seconds of the accepted diagram (``hull``, ``integration``)
    and of the rejected ones (``backtracking``)."""

    wphi: np.ndarray
    diagram: object
    alpha: float
    trials: int
    hull: float
    integration: float
    backtracking: float


def _line_search(y, domain, wphi, d, pd, nu, eps0, tol, flips=True):
    """The damped step from ``wphi`` (diagram ``pd``) along ``d``: a :class:`_Step`, or None.

    The first :math:`\\alpha \\in \\{1, \\tfrac12, \\dots, 2^{-30}\\}` whose diagram has no cell
    below ``eps0`` and whose relative error norm decreased by the factor
    :math:`1 - \\alpha/2` (the rule of Kitagawa-Mérigot-Thibert) -- or that already meets the
    stopping test ``tol`` (near the rounding floor the norm of the error is noise and may not
    shrink).  Trial diagrams repair the last triangulation by flips (2D and 3D) unless ``flips`` is
    False (then each builds a new hull: the same iterates, bit for bit).  None when no step
    size is accepted.
    """
    norm0 = float(np.linalg.norm((pd.masses - nu) / nu))
    previous = pd.triangulation if flips else None
    alpha = 1.0
    t_rejected = 0.0
    trials = 0
    for _ in range(_MAX_HALVINGS + 1):
        trials += 1
        wt = wphi + alpha * d
        ta = time.perf_counter()
        try:
            pdt, th, ti = _diagram(y, wt, domain, reject_hidden=True, previous=previous,
                                   previous_weights=wphi if flips else None)
        except (RuntimeError, ValueError):
            pdt = None
        if pdt is not None:
            mt = pdt.masses
            if mt.min() >= eps0 and (np.linalg.norm((mt - nu) / nu) <= (1.0 - 0.5 * alpha) * norm0
                                     or _relative_error(mt, nu) <= tol):
                return _Step(wphi=wt, diagram=pdt, alpha=alpha, trials=trials, hull=th, integration=ti,
                             backtracking=t_rejected)
        t_rejected += time.perf_counter() - ta
        alpha *= 0.5
    return None


# -------------------------------------------------------------------------- iteration log
class _IterationLog:
    """What a Newton solve records as it goes: per-iteration timings, the tqdm progress bar
    (``progress``) and one printed line per iteration (``verbose``).

    Use as a context manager (the bar is closed on exit).  The loop times its phases with
    :meth:`timed` (``"start"``, then ``"assembly"`` and ``"linear_solve"`` of each iteration),
    reports the start with :meth:`begin` and each accepted step with :meth:`step`;
    :meth:`timings` gives the arrays of :attr:`OTResult.timings`.  CG iterations and AMG
    setups are read from ``amg_cache`` (None for direct solves: 0 per step).
    """

    def __init__(self, n, dim, solver, max_iter, amg_cache=None, progress=False, verbose=False):
        self.n, self.dim, self.solver, self.max_iter = n, dim, solver, max_iter
        self.amg_cache = amg_cache
        self.progress, self.verbose = bool(progress), bool(verbose)
        self._timings = {k: [] for k in _TIMING_KEYS}
        self._pending = {}
        self._start = None
        self._amg_mark = self._amg_counts()
        self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        return False

    @property
    def iterations(self):
        """Steps recorded so far."""
        return len(self._timings["alpha"])

    def _amg_counts(self):
        c = self.amg_cache
        return (c.iterations, c.setups) if c is not None else (0, 0)

    @contextmanager
    def timed(self, phase):
        """Time the block as ``phase`` of the current iteration (or ``"start"``)."""
        t0 = time.perf_counter()
        yield
        self._pending[phase] = time.perf_counter() - t0

    def begin(self, error, eps0):
        """The start's diagram is done (timed as ``"start"``) with relative error ``error``."""
        self._start = self._pending.pop("start")
        if self.progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.max_iter, desc="solve_ot (newton)", unit="it")
            self._bar.set_postfix(err=f"{error:.2e}")
        if self.verbose:
            print(f"solve_ot: n={self.n} dim={self.dim} solver={self.solver} start error {error:.3e} "
                  f"(diagram {self._start:.3f}s, eps0 {eps0:.3g})", flush=True)

    def step(self, error, step):
        """An accepted :class:`_Step`, after which the relative error is ``error``."""
        assembly, solve = self._pending.pop("assembly"), self._pending.pop("linear_solve")
        its, setups = self._amg_counts()
        cg, amg = its - self._amg_mark[0], setups - self._amg_mark[1]
        self._amg_mark = (its, setups)
        for key, val in (("hull", step.hull), ("integration", step.integration), ("assembly", assembly),
                         ("linear_solve", solve), ("backtracking", step.backtracking), ("alpha", step.alpha),
                         ("trials", step.trials), ("cg_iterations", cg), ("amg_setups", amg)):
            self._timings[key].append(val)
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(err=f"{error:.2e}", alpha=step.alpha)
        if self.verbose:
            print(f"  it {self.iterations:3d}: error {error:.3e} alpha {step.alpha:g} trials {step.trials} | "
                  f"hull {step.hull:.3f}s integration {step.integration:.3f}s assembly {assembly:.3f}s "
                  f"solve {solve:.3f}s backtracking {step.backtracking:.3f}s"
                  + (f" | CG {cg:g} it, {amg:g} AMG setup" if self.amg_cache is not None else ""), flush=True)

    def timings(self):
        """``{key: (iterations,) float64}`` for the per-iteration keys, then ``start`` (1,)."""
        tim = {k: np.asarray(v, dtype=np.float64) for k, v in self._timings.items()}
        tim["start"] = np.array([self._start])
        return tim


# ---------------------------------------------------------------------------------- loop
def _solve_newton(domain, y, nu, tol=NEWTON_TOL, max_iter=NEWTON_MAX_ITER, h0=None, linear_solver="auto",
                  progress=False, verbose=False, flips=True):
    """Damped Newton from validated inputs: an :class:`~geomot.result.OTResult`.

    ``y`` (n, d) distinct float64 targets (d = 2 or 3), ``nu`` (n,) positive masses summing
    to 1, ``h0`` (n,) or None, ``linear_solver`` in :data:`geomot._linalg.LINEAR_SOLVERS`.
    ``flips=False`` builds a new lifted hull for every trial diagram instead of repairing the
    last triangulation by flips (the same iterates, bit for bit, only slower: for tests
    and benchmarks).  Warns :class:`~geomot.ConvergenceWarning` when ``tol`` is not met.
    """
    n, dim = y.shape
    y_world = y
    # the frame of the problem (geomot.frame): O(1) source and target coordinates, built once
    frame = Frame.of(domain.bounds, y_world)
    space = FramedDomain.of(domain, frame)
    # many targets are solved in a Z-order of their positions (perm: solve index -> user index):
    # neighbouring cells close in memory make the integration, the flips and the linear
    # solves cache-friendly (2D 1e6 uniform targets in random order: 61 s -> 45 s); the final
    # diagram is rebuilt in the user's order below
    perm = _morton_order(y_world) if n >= _SORTED_MIN_N else None
    y_user = y_world if perm is None else y_world[perm]
    if perm is not None:
        nu = nu[perm]
        h0 = None if h0 is None else h0[perm]
    y = frame.to_targets(y_user)
    solver = _resolve_solver(linear_solver, n, dim)
    amg_cache = AMGCache() if solver == "amg" else None
    log = _IterationLog(n, dim, solver, max_iter, amg_cache, progress, verbose)
    with log.timed("start"):
        half = 0.5 * np.einsum("ij,ij->i", y, y)  # wphi = h' + half: the iterate (see _diagram)
        pd, h0, warm = _choose_start(space, y, y_user, half, h0)
        wphi = np.array(pd._weights, dtype=np.float64, copy=True)
        masses = pd.masses

    err = masses - nu
    rel = _relative_error(masses, nu)
    history = [rel]
    converged = rel <= tol
    message = "converged" if converged else ""
    if not converged and np.any(masses <= 0):
        message = (f"{int(np.count_nonzero(masses <= 0))} cell(s) of the start are empty even for targets "
                   "shrunk into an inscribed ball (degenerate or nearly coincident targets)")
    eps0 = 0.5 * min(float(masses.min()), float(nu.min()))

    ncomp = 1
    # the order of the unknowns of the linear solves: for AMG-CG the targets along a Z-order
    # curve (cache-friendly sweeps; already so when perm sorted them), for 2D direct solves a
    # fill-reducing order of each step's graph (below)
    order = _morton_order(y) if solver == "amg" and perm is None else None
    with log:
        log.begin(rel, eps0)
        while not converged and not message:
            if log.iterations >= max_iter:
                message = f"reached max_iter={max_iter} with error {rel:.3e} > tol={tol:.3e}"
                break
            with log.timed("assembly"):
                H = pd._frame_hessian()  # d masses / d h' (the frame heights)
            with log.timed("linear_solve"):
                # inexact Newton (forcing term): a relative residual of about the current error
                # keeps the convergence quadratic, and near the end 0.1 tol / error suffices to
                # land below tol; solving tighter only costs CG iterations
                rtol = min(1e-1, max(rel, 0.1 * tol / max(rel, 1e-300), 1e-14))
                if _uses_nested_dissection(solver, n, dim):
                    # recomputed at each step: an order built for another step's graph fills in badly
                    order = _nested_dissection(y, H)
                # ... and the linear model must leave every cell most of its target mass (else
                # the KMT rule min G >= eps0 shrinks the step), down to 0.1 tol near the end
                max_rel = min(0.25, max(0.1 * tol, rel * rel))
                d, ncomp = _solve_laplacian(H, -err, solver, rtol, order, amg_cache, nu, max_rel)
            if d is None:
                message = "the Newton linear system could not be solved (singular Hessian: degenerate targets?)"
                break
            step = _line_search(y, space, wphi, d, pd, nu, eps0, tol, flips)
            if step is None:
                message = (f"line search failed after {_MAX_HALVINGS} halvings at iteration {log.iterations} "
                           f"(error {rel:.3e}); the targets may be degenerate or tol below rounding level")
                break
            wphi, pd = np.array(step.wphi, copy=True), step.diagram
            masses = pd.masses
            err = masses - nu
            rel = _relative_error(masses, nu)
            history.append(rel)
            log.step(rel, step)
            converged = rel <= tol
    iterations = log.iterations
    if converged:
        message = "converged"
    else:
        if ncomp > 1:
            message += f" [the cells' adjacency graph has {ncomp} connected components]"
        warnings.warn(f"solve_ot did not converge: {message}", ConvergenceWarning,
                      stacklevel=_external_stacklevel())
    if perm is not None:
        # back to the user's order: the same triangulation relabelled, its diagram integrated
        # again (the masses agree with the solve's to rounding)
        from . import power

        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        y, y_user, nu, wphi = y[inv], y_world, nu[inv], wphi[inv]
        h0 = None if h0 is None else h0[inv]
        pd = power._framed_diagram(space, y, wphi, triangulation=pd.triangulation.relabelled(perm))
        masses = pd.masses
    if iterations == 0 and warm:
        h = np.array(h0, dtype=np.float64, copy=True)  # a warm start taken as is comes back as is
    else:
        h = np.array(pd.h, copy=True)  # world heights of the frame weights, centred
    res = OTResult(domain=domain, y=y_user, nu=nu, h=h, masses=masses, converged=converged,
                   iterations=iterations, history=np.asarray(history), method="newton", timings=log.timings(),
                   message=message, frame=frame, frame_weights=wphi)
    # the diagram whose masses were measured: the one res.diagram builds from the frame weights
    res.__dict__["diagram"] = dataclasses.replace(pd, _y=res.y, _h=res.h)
    return res
