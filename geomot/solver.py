"""Semi-discrete optimal transport: the damped Newton method on the exact power diagram.

Given a source measure :math:`\\mu` on a domain :math:`\\Omega` and targets
:math:`\\nu = \\sum_i \\nu_i \\delta_{y_i}`, find the heights :math:`h` such that every cell of

.. math:: W_i(h) = \\{x \\in \\Omega : \\langle x, y_i\\rangle + h_i \\ge
          \\langle x, y_j\\rangle + h_j \\ \\forall j\\}

carries the prescribed mass, :math:`G_i(h) := \\mu(W_i(h)) = \\nu_i`.  :math:`G` is the gradient
of the convex energy :math:`E(h) = \\int u_h\\, d\\mu - \\sum_i \\nu_i h_i` and its Jacobian
:math:`DG` is a weighted graph Laplacian (:meth:`geomot.power.PowerDiagram.hessian`).

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

The solver iterates on :math:`\\varphi = h + |y|^2/2` (the weights relative to the Voronoi
diagram), which keeps the differences :math:`h_i - h_j` of close targets exact (see
``_diagram``).  In 2D the regular triangulation of a trial step is repaired by Lawson edge
flips from the last accepted one (:func:`geomot.power._flipped_triangulation`; exact, a new
hull only when a target would become hidden): the hull is built once per solve, not once per
step.

Linear solves: a sparse LU of the pinned (SPD) Laplacian (a geometric nested-dissection
ordering in 2D) while that is cheap, smoothed-aggregation AMG preconditioned conjugate
gradients (``pyamg``) beyond, as an inexact Newton method: the relative residual follows the
current error (forcing term), CG goes on until the linear model leaves every cell most of its
target mass, and the AMG hierarchy is kept from one step to the next while it still
converges well (its setup costs about as much as a solve).

References
----------
J. Kitagawa, Q. Mérigot, B. Thibert, *Convergence of a Newton algorithm for semi-discrete
optimal transport*, J. Eur. Math. Soc. 21 (2019).
X. Gu, F. Luo, J. Sun, S.-T. Yau, *Variational principles for Minkowski type problems, discrete
optimal transport, and discrete Monge-Ampère equations*, Asian J. Math. 20 (2016).
B. Lévy, *A numerical algorithm for L2 semi-discrete optimal transport in 3D*, ESAIM M2AN 49
(2015).
"""

import os
import time
import warnings
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType

import numpy as np
from numba import njit

from ._tol import scale_of
from ._validate import as_points, as_positive_float, as_positive_int, as_rng, as_vector, check_distinct, readonly
from .domain import Domain

__all__ = ["solve_ot", "OTResult", "load"]

_METHODS = ("newton", "montecarlo")
_BACKENDS = ("numpy", "numba", "cupy")
_LINEAR_SOLVERS = ("auto", "direct", "amg")
#: default iteration caps
_NEWTON_MAX_ITER = 100
#: backtracking halvings before the line search gives up
_MAX_HALVINGS = 30
#: repair 2D triangulations by flips between Newton steps (tests switch it off to compare)
_FLIPS = True
#: "auto" uses the sparse LU up to this many cells (per dimension), AMG-CG beyond
_DIRECT_MAX_N = {2: 10_000, 3: 2_000}
#: 2D direct solves use the geometric nested dissection ordering from this many cells
_ND_MIN_N = 5_000
#: file format version written by OTResult.save
_FORMAT = 1
_TIMING_KEYS = ("hull", "integration", "assembly", "linear_solve", "backtracking", "alpha", "trials",
                "cg_iterations", "amg_setups")


def _readonly(a, dtype=np.float64):
    return readonly(a, dtype=dtype, copy=True)


# ----------------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class OTResult:
    """The result of :func:`solve_ot`.

    Attributes
    ----------
    domain : Domain
        The source domain.
    y : (n, d) ndarray
        The targets (read-only float64).
    nu : (n,) ndarray
        The target masses, normalised to sum 1.
    h : (n,) ndarray
        The heights (dual weights): the potential is :math:`u(x) = \\max_i \\langle x, y_i\\rangle + h_i`.
        Defined up to an additive constant.
    masses : (n,) ndarray
        Source probability of each cell at ``h`` (exact for ``method="newton"``, a Monte-Carlo
        estimate for ``method="montecarlo"``).
    converged : bool
        Whether the stopping test was met.
    iterations : int
        Newton steps (or gradient steps) taken.
    history : (iterations + 1,) ndarray
        For Newton, the error :math:`\\max_i |G_i(h) - \\nu_i|/\\nu_i` at the start and after each
        step; for Monte Carlo, the solver's own error record.
    method : str
        ``"newton"`` or ``"montecarlo"``.
    timings : mapping of str -> ndarray
        Per-iteration seconds (Newton): ``hull`` and ``integration`` (the accepted step's
        diagram: its regular triangulation -- lifted convex hull, or edge flips from the last
        one in 2D -- then clipping and integration), ``assembly`` (Hessian),
        ``linear_solve``, ``backtracking`` (rejected trial diagrams), ``alpha`` (the accepted
        step size), ``trials`` (diagrams evaluated), ``cg_iterations`` and ``amg_setups``
        (AMG solves only, else 0); ``start`` (1,) the start's diagram.
    message : str
        Why the solver stopped.

    Notes
    -----
    Arrays are read-only copies.  Two results compare equal when every field is equal
    (arrays with ``numpy.array_equal``).

    Example
    -------
    >>> import numpy as np, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> res = geomot.solve_ot(dom, [[0.25, 0.5], [0.75, 0.5]], [0.25, 0.75])
    >>> res.converged, np.allclose(res.masses, [0.25, 0.75], rtol=1e-9)
    (True, True)
    """

    domain: Domain
    y: np.ndarray
    nu: np.ndarray
    h: np.ndarray
    masses: np.ndarray
    converged: bool
    iterations: int
    history: np.ndarray
    method: str = "newton"
    timings: dict = field(default_factory=dict)
    message: str = ""

    def __post_init__(self):
        if not isinstance(self.domain, Domain):
            raise ValueError(f"domain must be a geomot.Domain, got {type(self.domain).__name__}")
        y = as_points(self.y, "y", dim=self.domain.dim)
        n = y.shape[0]
        set_ = object.__setattr__
        set_(self, "y", _readonly(y))
        set_(self, "nu", _readonly(as_vector(self.nu, "nu", n=n)))
        set_(self, "h", _readonly(as_vector(self.h, "h", n=n)))
        set_(self, "masses", _readonly(as_vector(self.masses, "masses", n=n)))
        set_(self, "history", _readonly(np.asarray(self.history, dtype=np.float64).ravel()))
        set_(self, "converged", bool(self.converged))
        set_(self, "iterations", int(self.iterations))
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        set_(self, "method", str(self.method))
        set_(self, "message", str(self.message))
        set_(self, "timings", MappingProxyType({str(k): _readonly(v) for k, v in dict(self.timings).items()}))

    # ------------------------------------------------------------------ derived
    @cached_property
    def diagram(self):
        """The :class:`~geomot.power.PowerDiagram` at :attr:`h` (2D and 3D domains only)."""
        if self.domain.dim not in (2, 3):
            raise ValueError(f"the exact power diagram needs a 2D or 3D domain, this result is in "
                             f"dimension {self.domain.dim}")
        from .power import power_diagram

        return power_diagram(self.y, self.h, self.domain)

    @cached_property
    def potential(self):
        """The :class:`~geomot.brenier.BrenierPotential` :math:`\\max_i \\langle x, y_i\\rangle + h_i`."""
        from .brenier import BrenierPotential

        return BrenierPotential(self.y, self.h)

    @property
    def n(self):
        """Number of targets."""
        return self.y.shape[0]

    @property
    def dim(self):
        """Dimension of the domain and the targets."""
        return self.y.shape[1]

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other):
        if not isinstance(other, OTResult):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "timings":
                if a.keys() != b.keys() or not all(np.array_equal(a[k], b[k]) for k in a):
                    return False
            elif isinstance(a, np.ndarray):
                if not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None

    def __repr__(self):
        return (f"OTResult(method={self.method!r}, n={self.n}, dim={self.dim}, converged={self.converged}, "
                f"iterations={self.iterations}, error={self.history[-1] if self.history.size else float('nan'):.3g})")

    # ------------------------------------------------------------------ files
    def save(self, path):
        """Write the result to a ``.npz`` file (``numpy.savez``, no pickle).

        Parameters
        ----------
        path : str or os.PathLike
            Target file; ``numpy`` appends ``.npz`` when missing.

        Returns
        -------
        str
            The path written.

        Example
        -------
        >>> import tempfile, os, geomot
        >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), [[0.2, 0.5], [0.8, 0.5]])
        >>> p = res.save(os.path.join(tempfile.mkdtemp(), "res.npz"))
        >>> geomot.load(p) == res
        True
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path = path + ".npz"
        arrays = {
            "format": np.array(_FORMAT), "method": np.array(self.method), "message": np.array(self.message),
            "y": self.y, "nu": self.nu, "h": self.h, "masses": self.masses,
            "converged": np.array(self.converged), "iterations": np.array(self.iterations),
            "history": self.history,
        }
        for k, v in self.domain.to_arrays().items():
            arrays["domain__" + k] = np.asarray(v)
        for k, v in self.timings.items():
            arrays["timings__" + k] = v
        np.savez(path, **arrays)
        return path


def load(path):
    """Read an :class:`OTResult` written by :meth:`OTResult.save`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file from :meth:`OTResult.save`.

    Returns
    -------
    OTResult
        Equal (field by field, arrays bit for bit) to the saved one.

    Example
    -------
    >>> import tempfile, os, geomot
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), [[0.2, 0.5], [0.8, 0.5]])
    >>> geomot.load(res.save(os.path.join(tempfile.mkdtemp(), "r.npz"))) == res
    True
    """
    path = os.fspath(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"path {path!r} is not a readable .npz file: {exc}") from None
    with npz:
        keys = set(npz.files)
        need = {"format", "method", "y", "nu", "h", "masses", "converged", "iterations", "history"}
        missing = sorted(need - keys)
        if missing:
            raise ValueError(f"path {path!r} is not a geomot OTResult file (missing {missing})")
        if int(npz["format"]) > _FORMAT:
            raise ValueError(f"path {path!r} has format {int(npz['format'])}, newer than this geomot ({_FORMAT})")
        dom = {k[len("domain__"):]: npz[k] for k in keys if k.startswith("domain__")}
        timings = {k[len("timings__"):]: npz[k] for k in keys if k.startswith("timings__")}
        return OTResult(
            domain=Domain.from_arrays(dom), y=npz["y"], nu=npz["nu"], h=npz["h"], masses=npz["masses"],
            converged=bool(npz["converged"]), iterations=int(npz["iterations"]), history=npz["history"],
            method=str(npz["method"]), timings=timings,
            message=str(npz["message"]) if "message" in keys else "")


# ------------------------------------------------------------------------------- validation
def _validate(domain, y, nu, method, tol, max_iter, h0, seed, backend, linear_solver):
    if not isinstance(domain, Domain):
        raise ValueError(f"domain must be a geomot.Domain, got {type(domain).__name__}")
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not isinstance(backend, str) or backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if not isinstance(linear_solver, str) or linear_solver not in _LINEAR_SOLVERS:
        raise ValueError(f"linear_solver must be one of {_LINEAR_SOLVERS}, got {linear_solver!r}")
    if method == "newton" and domain.dim not in (2, 3):
        raise ValueError(f"method='newton' needs a 2D or 3D domain (exact power diagrams), the domain has "
                         f"dimension {domain.dim}; use method='montecarlo'")
    y = as_points(y, "y", dim=domain.dim)
    n = y.shape[0]
    check_distinct(y)
    if nu is None:
        nu = np.full(n, 1.0 / n)
    else:
        nu = as_vector(nu, "nu", n=n, positive=True)
        nu = nu / nu.sum()
    if tol is not None:
        tol = as_positive_float(tol, "tol")
    if max_iter is not None:
        max_iter = as_positive_int(max_iter, "max_iter", minimum=0)
    if h0 is not None:
        h0 = as_vector(h0, "h0", n=n)
    rng = as_rng(seed)
    return y, nu, tol, max_iter, h0, rng


# ----------------------------------------------------------------------------------- public
def solve_ot(domain, y, nu=None, *, method="newton", tol=None, max_iter=None, h0=None, seed=None,
             backend="numpy", progress=False, client=None, n_samples=None, lr=None,
             linear_solver="auto", verbose=False):
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
    seed : None, int or numpy.random.Generator
        Randomness of the Monte-Carlo samples (Newton is deterministic).
    backend : {"numpy", "numba", "cupy"}
        Array backend of the Monte-Carlo argmax (validated, unused by Newton).
    progress : bool
        Show a ``tqdm`` progress bar.
    client : dask.distributed.Client, optional
        Monte Carlo only: spread the mass estimation over a cluster.
    n_samples, lr : optional
        Monte Carlo only: samples per mass estimate and the step size (defaults: that
        solver's).
    linear_solver : {"auto", "direct", "amg"}
        Newton only: sparse LU (nested-dissection ordering in 2D) or AMG-preconditioned
        conjugate gradients (pyamg) for the Laplacian systems; ``"auto"`` takes LU for 2D up
        to 1e4 cells and 3D up to 2e3 cells (measured: 2D n = 1e5 solves in 6.1 s with AMG,
        9.4 s with LU; n = 2e4 in 1.1 s vs 1.3 s).
    verbose : bool
        Print one line per Newton iteration.

    Returns
    -------
    OTResult
        ``h``, ``masses``, ``converged``, ``iterations``, ``history``, ``diagram``,
        ``potential``, ``timings``, ``save``.

    Warns
    -----
    UserWarning
        When the solver stops without meeting ``tol`` (iteration cap, failed line search,
        singular linear system) -- then ``converged`` is False and ``h`` is the last good
        iterate -- and when a warm start ``h0`` has an empty cell.

    Notes
    -----
    The cells are :math:`W_i(h) = \\{x : \\langle x, y_i\\rangle + h_i \\ge \\langle x, y_j\\rangle
    + h_j\\ \\forall j\\}` and Newton solves :math:`\\mu(W_i(h)) = \\nu_i` with the damped steps
    of Kitagawa-Mérigot-Thibert (module docstring).  The start is the first without an empty
    cell among: the warm start ``h0``, the plain Voronoi heights :math:`h_i = -|y_i|^2/2`, the
    targets fitted affinely into the domain's bounding box, and the targets shrunk into a ball
    :math:`B(c, r)` inside the support of the source (which always works):
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
    y, nu, tol, max_iter, h0, rng = _validate(domain, y, nu, method, tol, max_iter, h0, seed, backend,
                                               linear_solver)
    progress = bool(progress)
    verbose = bool(verbose)
    if method == "montecarlo":
        return _solve_montecarlo(domain, y, nu, tol, max_iter, h0, rng, backend, progress, client, n_samples, lr)
    if n_samples is not None or lr is not None:
        raise ValueError("n_samples and lr are Monte-Carlo options; they are not used by method='newton'")
    tol = 1e-9 if tol is None else tol
    max_iter = _NEWTON_MAX_ITER if max_iter is None else max_iter
    return _newton(domain, y, nu, tol, max_iter, h0, linear_solver, progress, verbose)


def _solve_montecarlo(domain, y, nu, tol, max_iter, h0, rng, backend, progress, client, n_samples, lr):
    from .montecarlo import solve_montecarlo

    kwargs = {"h0": h0, "seed": rng, "backend": backend, "progress": progress}
    for name, value in (("tol", tol), ("max_iter", max_iter), ("n_samples", n_samples), ("lr", lr),
                        ("client", client)):
        if value is not None:
            kwargs[name] = value
    run = solve_montecarlo(domain, y, nu, **kwargs)
    return OTResult(domain=domain, y=y, nu=nu, h=run.h, masses=run.masses, converged=run.converged,
                    iterations=run.iterations, history=run.history, method="montecarlo",
                    message="converged" if run.converged else "not converged (see the warning)")


# ------------------------------------------------------------------------------- internals
def _relative_error(masses, nu):
    return float(np.max(np.abs(masses - nu) / nu))


def _diagram(y, wphi, domain, reject_hidden=False, previous=None):
    """Power diagram at the weights ``wphi`` :math:`= h + |y|^2/2`, with (hull seconds,
    integration seconds).

    The solver iterates on :math:`\\varphi = h + |y|^2/2` rather than on ``h``: the cells of
    close targets depend on :math:`h_i - h_j`, which ``h`` (of size :math:`|y|^2`) holds only to
    :math:`\\epsilon |y|^2` -- a relative mass error of about :math:`5 \\cdot 10^{-14} n` for n
    uniform targets in 2D, above ``tol = 1e-8`` at a million cells -- while :math:`\\varphi`
    holds it to :math:`\\epsilon |\\varphi|`.

    With ``reject_hidden``, return ``(None, hull seconds, 0)`` without integrating when a
    target is hidden (its cell is empty: a trial step the line search must reject anyway).

    With ``previous`` (the triangulation of the last accepted diagram), 2D triangulations are
    repaired by edge flips (:func:`geomot.power._flipped_triangulation`: exact, the same
    combinatorics as a new hull) and the hull is built only when flips cannot reach the answer.
    """
    from . import _flip, power

    t0 = time.perf_counter()
    tri = None
    if previous is not None and _FLIPS:
        tri, status = power._flipped_triangulation(previous, y, wphi)
        if status == _flip.STATUS_STUCK and reject_hidden:  # a hidden target: an empty cell
            return None, time.perf_counter() - t0, 0.0
    if tri is None:
        h = wphi - 0.5 * np.einsum("ij,ij->i", y, y)
        tri = power._regular_triangulation(y, h - h.mean())
    t1 = time.perf_counter()
    if reject_hidden and np.any(tri.hidden):
        return None, t1 - t0, 0.0
    pd = power._power_diagram(y, None, domain, triangulation=tri, wphi=wphi)
    t2 = time.perf_counter()
    return pd, t1 - t0, t2 - t1


def _similarity_heights(y, center, s, anchor):
    """Heights whose power diagram is the Voronoi diagram of :math:`z_i = c + s (y_i - a)`.

    The Voronoi cell of :math:`z_i` is :math:`\\arg\\max_i \\langle x - c, z_i - c\\rangle - |z_i - c|^2/2`,
    i.e. (dividing by s > 0 and dropping i-independent terms)
    :math:`\\arg\\max_i \\langle x, y_i\\rangle + h_i` with
    :math:`h_i = -\\langle c, y_i\\rangle - (s/2)|y_i - a|^2`.
    """
    dev = y - anchor
    return -(y @ np.asarray(center, dtype=np.float64)) - 0.5 * s * np.einsum("ij,ij->i", dev, dev)


def _shrunk_start(domain, y):
    """Targets shrunk into 0.9 times a ball inside the support: every cell is non-empty.

    :math:`z_i = c + s (y_i - \\bar y)`, :math:`s = 0.9 r / R`, :math:`R = \\max_i |y_i - \\bar y|`:
    each :math:`z_i` lies inside :math:`B(c, r)`, so a neighbourhood of it lies in its Voronoi
    cell and in the support of the density.
    """
    c, r = domain.inscribed_ball()
    ybar = y.mean(axis=0)
    dev = y - ybar
    R = float(np.sqrt(np.max(np.einsum("ij,ij->i", dev, dev))))
    if R == 0.0:
        return np.zeros(y.shape[0])
    return _similarity_heights(y, c, 0.9 * float(r) / R, ybar)


def _bbox_start(domain, y):
    """Targets mapped by a similarity onto 0.95 times the domain's bounding box (centred).

    Not guaranteed to leave every cell non-empty (holes, non-convex domains): checked by the
    caller, but much closer to the solution than :func:`_shrunk_start` when it does.
    """
    lo, hi = np.asarray(domain.bounds, dtype=np.float64)
    ylo, yhi = y.min(axis=0), y.max(axis=0)
    ext = yhi - ylo
    ok = ext > 0
    if not ok.any():
        return np.zeros(y.shape[0])
    s = 0.95 * float(np.min((hi - lo)[ok] / ext[ok]))
    return _similarity_heights(y, 0.5 * (lo + hi), s, 0.5 * (ylo + yhi))


def _voronoi_start(y):
    return -0.5 * np.einsum("ij,ij->i", y, y)


def _pinned_system(H, stable=False):
    """Connected components of the Laplacian's graph, and one pinned node per component: the
    one with the largest diagonal, or with ``stable`` the first one (the same node from one
    Newton step to the next, so that an AMG hierarchy can be reused)."""
    from scipy.sparse.csgraph import connected_components

    ncomp, labels = connected_components(H, directed=False)
    if stable:
        _, pinned = np.unique(labels, return_index=True)
        return ncomp, labels, pinned
    diag = H.diagonal()
    order = np.lexsort((-diag, labels))
    starts = np.concatenate([[0], np.flatnonzero(np.diff(labels[order])) + 1])
    pinned = order[starts]
    return ncomp, labels, pinned


class _AMGCache:
    """An AMG hierarchy kept from one Newton step to the next.

    Successive Hessians differ little (the same targets, slightly moved facets), so the last
    hierarchy still preconditions CG well and its setup (about as long as the solve) is saved.
    It is rebuilt when the pinned nodes change or when CG with it converges markedly slower
    (per iteration) than with a fresh one.
    """

    def __init__(self):
        self.ml = None
        self.pinned = None
        self.fresh_rate = None
        self.rebuild = True
        self.setups = 0
        self.iterations = 0

    def preconditioner(self, A, pinned):
        import pyamg

        if self.ml is None or self.rebuild or not np.array_equal(pinned, self.pinned):
            self.ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
            self.pinned = pinned
            self.fresh_rate = None
            self.rebuild = False
            self.setups += 1
            return self.ml, True
        return self.ml, False

    def record(self, residuals, fresh):
        """Convergence factor per CG iteration; a stale hierarchy 1.5x slower is dropped."""
        self.iterations += max(len(residuals) - 1, 0)
        if len(residuals) < 3 or residuals[0] <= 0:
            return
        rate = (max(residuals[-1], 1e-300) / residuals[0]) ** (1.0 / (len(residuals) - 1))
        if fresh:
            self.fresh_rate = rate
        elif self.fresh_rate is not None and np.log(rate) > np.log(self.fresh_rate) / 1.5:
            self.rebuild = True


def _nested_dissection(y, H, leaf=64):
    """Fill-reducing order of a graph Laplacian whose nodes have positions ``y`` (n, d).

    Recursive coordinate bisection (median along the widest axis of each box, down to boxes
    of ``leaf`` nodes); the nodes of the left half adjacent to the right half form the
    separator, numbered after both halves (George's nested dissection with geometric
    separators).  Returns a permutation (n,) int64.

    For the planar-like graphs of 2D power diagrams this gives :math:`O(n \\log n)` fill and
    a factorisation several times faster than SuperLU's minimum-degree orderings.
    """
    import scipy.sparse as sps

    H = sps.csr_matrix(H)
    # fresh writable C arrays: one numba specialisation (read-only arrays would compile another)
    return _nd_kernel(np.array(y, dtype=np.float64, order="C", copy=True), H.indptr.astype(np.int64),
                      H.indices.astype(np.int64), int(leaf))


@njit(cache=True)
def _nd_kernel(y, indptr, indices, leaf):  # pragma: no cover - compiled
    """Numba kernel of :func:`_nested_dissection` (in-place partition of a work permutation)."""
    n, d = y.shape
    perm = np.arange(n)
    mark = np.zeros(n, dtype=np.int8)
    buf = np.empty(n, dtype=np.int64)
    stack_s = np.empty(2 * 64 + 2 * n // max(leaf, 1) + 8, dtype=np.int64)
    stack_m = np.empty_like(stack_s)
    top = 0
    stack_s[0] = 0
    stack_m[0] = n
    top = 1
    while top > 0:
        top -= 1
        s = stack_s[top]
        m = stack_m[top]
        if m <= max(leaf, 1):
            continue
        seg = perm[s:s + m]
        best, axis = -1.0, 0
        for a in range(d):
            lo, hi = np.inf, -np.inf
            for k in range(m):
                v = y[seg[k], a]
                lo = min(lo, v)
                hi = max(hi, v)
            if hi - lo > best:
                best, axis = hi - lo, a
        vals = np.empty(m)
        for k in range(m):
            vals[k] = y[seg[k], axis]
        o = np.argsort(vals)
        half = m // 2
        for k in range(m):
            mark[seg[o[k]]] = 1 if k < half else 2
        nl, nr, ns = 0, 0, 0
        # buf[s + ...]: left non-separators first; right ones and separators after
        right = np.empty(m - half, dtype=np.int64)
        sep = np.empty(half, dtype=np.int64)
        for k in range(m):
            v = seg[o[k]]
            if k < half:
                is_sep = False
                for q in range(indptr[v], indptr[v + 1]):
                    if mark[indices[q]] == 2:
                        is_sep = True
                        break
                if is_sep:
                    sep[ns] = v
                    ns += 1
                else:
                    buf[nl] = v
                    nl += 1
            else:
                right[nr] = v
                nr += 1
        for k in range(m):
            mark[seg[k]] = 0
        for k in range(nl):
            perm[s + k] = buf[k]
        for k in range(nr):
            perm[s + nl + k] = right[k]
        for k in range(ns):
            perm[s + nl + nr + k] = sep[k]
        if top + 2 > stack_s.shape[0]:  # cannot happen: depth-first, one pending per level
            grown_s = np.empty(2 * stack_s.shape[0], dtype=np.int64)
            grown_m = np.empty(2 * stack_s.shape[0], dtype=np.int64)
            grown_s[:top] = stack_s[:top]
            grown_m[:top] = stack_m[:top]
            stack_s, stack_m = grown_s, grown_m
        stack_s[top] = s
        stack_m[top] = nl
        stack_s[top + 1] = s + nl
        stack_m[top + 1] = nr
        top += 2
    return perm


def _solve_laplacian(H, rhs, solver, rtol, order=None, amg_cache=None, nu=None, max_rel=None):
    """Solve the Laplacian system ``H d = rhs`` on the complement of the per-component constants.

    The right-hand side is projected onto the range (zero sum per connected component), one
    node per component is pinned to 0 and the remaining SPD system is solved by sparse LU
    (``"direct"``; with the fill-reducing permutation ``order`` (n,) and diagonal pivots when
    given, else SuperLU's minimum-degree ordering of :math:`A + A^T`) or AMG-preconditioned CG
    to relative residual ``rtol`` (``"amg"``; with an :class:`_AMGCache` the hierarchy is
    reused across calls, and with ``nu`` (n,) and ``max_rel`` CG goes on until also
    :math:`\\max_i |(H d - b)_i| / \\nu_i \\le` ``max_rel``: a residual small in norm can still
    be large on a light cell, and the line search would then have to shrink the step until
    that cell keeps its mass).  Returns ``(d, ncomp)``; ``d`` is None when the solve failed.
    """
    import scipy.sparse as sps

    n = H.shape[0]
    H = sps.csr_matrix(H)
    ncomp, labels, pinned = _pinned_system(H, stable=amg_cache is not None)
    sums = np.bincount(labels, weights=rhs, minlength=ncomp)
    sizes = np.bincount(labels, minlength=ncomp)
    b = rhs - (sums / sizes)[labels]
    keep = np.ones(n, dtype=bool)
    keep[pinned] = False
    d = np.zeros(n)
    if not keep.any():
        return d, ncomp
    idx = np.flatnonzero(keep) if order is None else order[keep[order]]
    A = H[idx][:, idx]
    bb = b[idx]
    if solver == "direct":
        from scipy.sparse.linalg import splu

        if order is None:
            spec, opts = "MMD_AT_PLUS_A", {"SymmetricMode": True}
        else:
            spec, opts = "NATURAL", {"SymmetricMode": True, "DiagPivotThresh": 0.0}
        try:
            lu = splu(A.tocsc(), permc_spec=spec, options=opts)
        except RuntimeError:  # exactly singular
            return None, ncomp
        x = lu.solve(bb)
    elif amg_cache is None:
        import pyamg

        ml = pyamg.smoothed_aggregation_solver(A.tocsr(), symmetry="symmetric")
        x = ml.solve(bb, tol=rtol, accel="cg", maxiter=500)
    else:
        from pyamg.krylov import cg

        A = A.tocsr()
        ml, fresh = amg_cache.preconditioner(A, pinned)
        x = None
        for _ in range(6):
            residuals = []
            x, info = cg(A, bb, x0=x, tol=rtol, maxiter=500, M=ml.aspreconditioner(cycle="V"),
                         residuals=residuals)
            amg_cache.record(residuals, fresh)
            if info != 0 and not fresh:  # the stale hierarchy did not make it: a fresh one
                amg_cache.rebuild = True
                ml, fresh = amg_cache.preconditioner(A, pinned)
                continue
            if nu is None or max_rel is None or not np.all(np.isfinite(x)):
                break
            d[idx] = x
            worst = float(np.max(np.abs(H @ d - b) / nu))
            if worst <= max_rel:
                break
            rtol = rtol * max(1e-3, 0.5 * max_rel / worst)
    if not np.all(np.isfinite(x)):
        return None, ncomp
    d[idx] = x
    return d, ncomp


def _newton(domain, y, nu, tol, max_iter, h0, linear_solver, progress, verbose):
    n, dim = y.shape
    y_user = y
    # the cells only depend on h and on the differences y_i - y_j: translating the targets
    # leaves h unchanged (<x, y_i + t> + h_i = <x, y_i> + h_i + <x, t>), and centring them
    # keeps h and <x, y_i> small, which matters for targets far from the origin (only done
    # then, so that the final diagram is the one power_diagram(y, h, domain) builds)
    ybar = y.mean(axis=0)
    if np.linalg.norm(ybar) > 10.0 * max(scale_of(y), scale_of(domain.bounds)):
        y = y - ybar
    solver = linear_solver
    if solver == "auto":
        solver = "direct" if n <= _DIRECT_MAX_N[dim] else "amg"
    t_start = time.perf_counter()
    half = 0.5 * np.einsum("ij,ij->i", y, y)  # wphi = h + half: the iterate (see _diagram)

    # ---- start: warm start, else plain Voronoi, else targets fitted to the bounding box,
    # else targets shrunk into an inscribed ball (the first without an empty cell)
    pd = None
    warm = False
    if h0 is not None:
        pd, th, ti = _diagram(y, h0 + half, domain)
        warm = True
        if np.any(pd.masses <= 0):
            k = int(np.count_nonzero(pd.masses <= 0))
            warnings.warn(f"solve_ot: h0 leaves {k} empty cell(s) (first: {int(np.argmax(pd.masses <= 0))}); "
                          "falling back to the default start", UserWarning, stacklevel=3)
            pd = None
            warm = False
    if pd is None:
        h0 = _voronoi_start(y_user)  # the Voronoi diagram of the targets where the user put them
        # (exactly wphi = 0 unless the targets were centred)
        pd, th, ti = _diagram(y, h0 + half, domain)
        for fallback in (_bbox_start, _shrunk_start):
            if not np.any(pd.masses <= 0):
                break
            h0 = fallback(domain, y)
            pd, th2, ti2 = _diagram(y, h0 + half, domain)
            th, ti = th + th2, ti + ti2
    wphi = np.array(pd._wphi, dtype=np.float64, copy=True)
    masses = pd.masses
    t_first = time.perf_counter() - t_start

    timings = {k: [] for k in _TIMING_KEYS}
    err = masses - nu
    rel = _relative_error(masses, nu)
    history = [rel]
    converged = rel <= tol
    message = "converged" if converged else ""
    iterations = 0

    if not converged and np.any(masses <= 0):
        message = (f"{int(np.count_nonzero(masses <= 0))} cell(s) of the start are empty even for targets "
                   "shrunk into an inscribed ball (degenerate or nearly coincident targets)")
    eps0 = 0.5 * min(float(masses.min()), float(nu.min()))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc="solve_ot (newton)", unit="it")
        bar.set_postfix(err=f"{rel:.2e}")
    if verbose:
        print(f"solve_ot: n={n} dim={dim} solver={solver} start error {rel:.3e} "
              f"(diagram {t_first:.3f}s, eps0 {eps0:.3g})", flush=True)
    ncomp = 1
    order = None  # fill-reducing order of 2D direct solves
    amg_cache = _AMGCache() if solver == "amg" else None
    try:
        while not converged and not message:
            if iterations >= max_iter:
                message = f"reached max_iter={max_iter} with error {rel:.3e} > tol={tol:.3e}"
                break
            t0 = time.perf_counter()
            H = pd.hessian()
            t1 = time.perf_counter()
            # inexact Newton (forcing term): a relative residual of about the current error
            # keeps the convergence quadratic, and near the end 0.1 tol / error suffices to land
            # below tol; solving tighter only costs CG iterations
            rtol = min(1e-1, max(rel, 0.1 * tol / max(rel, 1e-300), 1e-14))
            if solver == "direct" and dim == 2 and n >= _ND_MIN_N:
                # recomputed at each step: an order built for another step's graph fills in badly
                order = _nested_dissection(y, H)
            cg0 = (amg_cache.iterations, amg_cache.setups) if amg_cache is not None else (0, 0)
            # ... and the linear model must leave every cell most of its target mass (else the
            # KMT rule min G >= eps0 shrinks the step), down to 0.1 tol near the end
            max_rel = min(0.25, max(0.1 * tol, rel * rel))
            d, ncomp = _solve_laplacian(H, -err, solver, rtol, order, amg_cache, nu, max_rel)
            t2 = time.perf_counter()
            if d is None:
                message = "the Newton linear system could not be solved (singular Hessian: degenerate targets?)"
                break
            norm0 = float(np.linalg.norm(err / nu))
            alpha = 1.0
            t_rejected = 0.0
            accepted = None
            trials = 0
            for _ in range(_MAX_HALVINGS + 1):
                trials += 1
                wt = wphi + alpha * d
                ta = time.perf_counter()
                try:
                    pdt, th, ti = _diagram(y, wt, domain, reject_hidden=True, previous=pd.triangulation)
                except (RuntimeError, ValueError):
                    pdt = None
                if pdt is not None:
                    mt = pdt.masses
                    # the KMT rule; a trial meeting the stopping test is also taken (near the
                    # rounding floor the norm of the error is noise and may not shrink)
                    if mt.min() >= eps0 and (np.linalg.norm((mt - nu) / nu) <= (1.0 - 0.5 * alpha) * norm0
                                             or _relative_error(mt, nu) <= tol):
                        accepted = (wt, pdt, th, ti)
                        break
                t_rejected += time.perf_counter() - ta
                alpha *= 0.5
            if accepted is None:
                message = (f"line search failed after {_MAX_HALVINGS} halvings at iteration {iterations} "
                           f"(error {rel:.3e}); the targets may be degenerate or tol below rounding level")
                break
            wphi, pd, th, ti = accepted
            wphi = np.array(wphi, copy=True)
            masses = pd.masses
            err = masses - nu
            rel = _relative_error(masses, nu)
            iterations += 1
            history.append(rel)
            for key, val in (("hull", th), ("integration", ti), ("assembly", t1 - t0), ("linear_solve", t2 - t1),
                             ("backtracking", t_rejected), ("alpha", alpha), ("trials", trials),
                             ("cg_iterations", amg_cache.iterations - cg0[0] if amg_cache is not None else 0),
                             ("amg_setups", amg_cache.setups - cg0[1] if amg_cache is not None else 0)):
                timings[key].append(val)
            converged = rel <= tol
            if bar is not None:
                bar.update(1)
                bar.set_postfix(err=f"{rel:.2e}", alpha=alpha)
            if verbose:
                print(f"  it {iterations:3d}: error {rel:.3e} alpha {alpha:g} trials {trials} | hull {th:.3f}s "
                      f"integration {ti:.3f}s assembly {t1 - t0:.3f}s solve {t2 - t1:.3f}s "
                      f"backtracking {t_rejected:.3f}s"
                      + (f" | CG {timings['cg_iterations'][-1]:g} it, {timings['amg_setups'][-1]:g} AMG setup"
                         if amg_cache is not None else ""), flush=True)
    finally:
        if bar is not None:
            bar.close()
    if converged:
        message = "converged"
    else:
        if ncomp > 1:
            message += f" [the cells' adjacency graph has {ncomp} connected components]"
        warnings.warn(f"solve_ot did not converge: {message}", UserWarning, stacklevel=3)
    tim = {k: np.asarray(v, dtype=np.float64) for k, v in timings.items()}
    tim["start"] = np.array([t_first])
    if iterations == 0 and warm:
        h = np.array(h0, dtype=np.float64, copy=True)  # a warm start taken as is comes back as is
    else:
        h = np.array(pd.h, copy=True)  # = wphi - |y|^2/2, centred
    res = OTResult(domain=domain, y=y_user, nu=nu, h=h, masses=masses, converged=converged,
                   iterations=iterations, history=np.asarray(history), method="newton", timings=tim,
                   message=message)
    if np.array_equal(y, y_user):
        # the diagram whose masses were measured (power_diagram(y, h, domain) rebuilds it from
        # h, equal up to the rounding of h discussed in _diagram)
        res.__dict__["diagram"] = pd
    return res
