"""The result of :func:`geomot.solve_ot` and its file format.

:class:`OTResult` is a frozen record of a solve (read-only arrays); :meth:`OTResult.save` writes
it to one ``.npz`` file (``numpy.savez``, no pickle) and :func:`load` reads it back, equal field
by field.  File layout (format 1): the arrays ``y, nu, h, masses, history``, the scalars
``format, method, message, converged, iterations``, the domain's
:meth:`~geomot.Domain.to_arrays` under ``domain__<key>`` and the timings under
``timings__<key>``.
"""

import os
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType

import numpy as np

from ._validate import as_points, as_vector, readonly
from .domain import Domain

__all__ = ["OTResult", "load"]

#: the methods of :func:`geomot.solve_ot` (the values of ``OTResult.method``)
METHODS = ("newton", "montecarlo")
#: file format version written by OTResult.save
_FORMAT = 1


def _readonly(a, dtype=np.float64):
    return readonly(a, dtype=dtype, copy=True)


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
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
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
        """The :class:`~geomot.brenier.BrenierPotential` :math:`\\max_i \\langle x, y_i\\rangle + h_i`.

        It reuses the regular triangulation of :attr:`diagram` when the diagram is already there
        (an exact solve attaches it), so no second lifted hull is built.
        """
        from .brenier import BrenierPotential

        diagram = self.__dict__.get("diagram")  # cached_property: present once computed
        return BrenierPotential(self.y, self.h,
                                triangulation=None if diagram is None else diagram.triangulation)

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
