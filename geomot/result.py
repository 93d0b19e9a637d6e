"""The result of :func:`geomot.solve_ot` and its file format.

:class:`OTResult` is a frozen record of a solve (read-only arrays); :meth:`OTResult.save` writes
it to one ``.npz`` file (``numpy.savez``, no pickle) and :func:`load` reads it back, equal field
by field.

A result keeps the solver's own state besides the world heights ``h``: the frame of the problem
(:class:`geomot.frame.Frame`) and the frame weights :math:`\\varphi' = h' + |y'|^2/2` it
converged to.  ``h`` is rounded from them to world values (of the size of
:math:`|x|\\,|y - b|`); :attr:`OTResult.diagram`, :attr:`OTResult.potential` and a saved and
loaded result are built from the frame quantities, so they are what the solver measured.

File layout (format 2): the arrays ``y, nu, h, masses, history, frame_weights``, the scalars
``format, method, message, converged, iterations``, the domain's
:meth:`~geomot.Domain.to_arrays` under ``domain__<key>``, the frame's
:meth:`~geomot.frame.Frame.to_arrays` under ``frame__<key>`` and the timings under
``timings__<key>``.  Format 1 (geomot before the frames: no ``frame__`` entries, no
``frame_weights``) still loads: its frame weights are computed from ``h``.  :func:`load` never
runs code (``allow_pickle=False``) and checks every field as the constructors would; a damaged
or foreign file is one ``ValueError`` naming the file and the field.
"""

import os
import zipfile
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType

import numpy as np

from ._validate import as_points, as_vector, readonly
from .domain import Domain
from .frame import Frame

__all__ = ["OTResult", "load"]

#: the methods of :func:`geomot.solve_ot` (the values of ``OTResult.method``)
METHODS = ("newton", "montecarlo")
#: file format version written by OTResult.save (1: before the frames; 2: with frame and frame_weights)
_FORMAT = 2
#: fields that do not take part in ``==`` (the internal state h was rounded from)
_STATE = ("frame", "frame_weights")


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
        Defined up to an additive constant.  World values, rounded from the solver's frame
        state (``frame``, ``frame_weights``), precise to the rounding of values of their size.
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
    frame : geomot.frame.Frame
        The frame the solver worked in (source centre and scale, target centre and scale).
        Default: the frame of ``domain`` and ``y`` (:meth:`geomot.frame.Frame.of`).
    frame_weights : (n,) ndarray
        The frame weights :math:`\\varphi' = h' + |y'|^2/2` the solver converged to, with
        :math:`h = s t\\, h' - t \\langle a, y'\\rangle` (up to a constant).  Default: computed
        from ``h`` (for a result made by hand, or read from a format-1 file).

    Notes
    -----
    Arrays are read-only copies.  Two results compare equal when every field but ``frame`` and
    ``frame_weights`` is equal (arrays with ``numpy.array_equal``): those are the state ``h`` was
    rounded from, and a result made by hand from another's world fields has its own.

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
    frame: Frame = None
    frame_weights: np.ndarray = None

    def __post_init__(self):
        if not isinstance(self.domain, Domain):
            raise ValueError(f"domain must be a geomot.Domain, got {type(self.domain).__name__}")
        y = as_points(self.y, "y", dim=self.domain.dim)
        n = y.shape[0]
        set_ = object.__setattr__
        set_(self, "y", _readonly(y))
        set_(self, "nu", _readonly(_probabilities(self.nu, n)))
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
        frame = self.frame
        if frame is None:
            if self.frame_weights is not None:
                raise ValueError("frame_weights needs the frame they are in (frame=None)")
            frame = Frame.of(self.domain.bounds, self.y)
        elif not isinstance(frame, Frame):
            raise ValueError(f"frame must be a geomot.frame.Frame, got {type(frame).__name__}")
        elif frame.dim != self.domain.dim:
            raise ValueError(f"frame must have the dimension of the domain ({self.domain.dim}), got {frame.dim}")
        set_(self, "frame", frame)
        if self.frame_weights is None:
            yf = frame.to_targets(self.y)
            weights = frame.heights_to_frame(yf, self.h) + 0.5 * np.einsum("ij,ij->i", yf, yf)
        else:
            weights = as_vector(self.frame_weights, "frame_weights", n=n)
        set_(self, "frame_weights", _readonly(weights))

    # ------------------------------------------------------------------ derived
    @cached_property
    def _frame_targets(self):
        return readonly(self.frame.to_targets(self.y))

    @cached_property
    def diagram(self):
        """The :class:`~geomot.power.PowerDiagram` at :attr:`h` (2D and 3D domains only).

        Built in the result's frame from :attr:`frame_weights`: the diagram the solver measured
        (an exact solve attaches it), whatever the rounding of the world ``h``.
        """
        if self.domain.dim not in (2, 3):
            raise ValueError(f"the exact power diagram needs a 2D or 3D domain, this result is in "
                             f"dimension {self.domain.dim}")
        from .frame import FramedDomain
        from .power import _framed_diagram

        return _framed_diagram(FramedDomain.of(self.domain, self.frame), self._frame_targets,
                               self.frame_weights, y=self.y, h=self.h)

    @cached_property
    def potential(self):
        """The :class:`~geomot.brenier.BrenierPotential` :math:`\\max_i \\langle x, y_i\\rangle + h_i`.

        Its argmax runs in the result's frame on the frame heights (the cells of
        :attr:`diagram`); it reuses the regular triangulation of :attr:`diagram` when the
        diagram is already there (an exact solve attaches it), so no second lifted hull is built.
        """
        from .brenier import BrenierPotential

        diagram = self.__dict__.get("diagram")  # cached_property: present once computed
        yf = self._frame_targets
        hf = self.frame_weights - 0.5 * np.einsum("ij,ij->i", yf, yf)
        return BrenierPotential._in_frame(self.y, self.h, self.frame, hf,
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
            if f.name in _STATE:
                continue
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
        for k, v in self.frame.to_arrays().items():
            arrays["frame__" + k] = v
        arrays["frame_weights"] = self.frame_weights
        for k, v in self.timings.items():
            arrays["timings__" + k] = v
        np.savez(path, **arrays)
        return path


def load(path):
    """Read an :class:`OTResult` written by :meth:`OTResult.save`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file from :meth:`OTResult.save` (format 2, or format 1 from geomot before
        the frames).

    Returns
    -------
    OTResult
        Equal (field by field, arrays bit for bit, frame quantities included) to the saved one.

    Raises
    ------
    ValueError
        Naming the file and the field, for a missing, unreadable, truncated or foreign file
        (not a zip, a plain ``.npy``, a damaged member), a missing or mistyped field, or values
        the constructors refuse (``nu`` not positive or not summing to 1, shapes, NaN, a
        damaged domain, a newer format).  Nothing in the file is ever executed
        (``allow_pickle=False``).

    Example
    -------
    >>> import tempfile, os, geomot
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), [[0.2, 0.5], [0.8, 0.5]])
    >>> geomot.load(res.save(os.path.join(tempfile.mkdtemp(), "r.npz"))) == res
    True
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValueError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"path {path!r}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"path {path!r} is not a readable .npz file: {_why(exc)}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"path {path!r} is not a geomot OTResult file: it holds one array (a .npy file), "
                         "not the .npz archive OTResult.save writes")
    with npz:
        reader = _Reader(npz, path)
        return reader.result()


def _why(exc):
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Reader:
    """The fields of an OTResult file, each read and checked with its name in every error."""

    #: the entries every format has
    NEED = ("format", "method", "y", "nu", "h", "masses", "converged", "iterations", "history")

    def __init__(self, npz, path):
        self.npz, self.path = npz, path
        self.keys = set(npz.files)

    def fail(self, field, why):
        return ValueError(f"path {self.path!r}: field {field!r} {why}")

    def raw(self, key):
        """The array stored under ``key`` (a damaged member is a ValueError naming it)."""
        try:
            return self.npz[key]
        except Exception as exc:  # zipfile/zlib/npy-header errors of a damaged member
            raise self.fail(key, f"cannot be read (damaged file?): {_why(exc)}") from None

    def scalar(self, key, kinds, what):
        a = self.raw(key)
        if a.shape != () or a.dtype.kind not in kinds:
            raise self.fail(key, f"must be {what}, got an array of shape {a.shape} and dtype {a.dtype}")
        return a[()]

    def checked(self, key, check):
        """``check(array)`` with any ValueError it raises re-raised naming the file and field."""
        a = self.raw(key)
        if a.dtype.kind not in "fiub":
            raise self.fail(key, f"must hold numbers, got dtype {a.dtype}")
        try:
            return check(a)
        except ValueError as exc:
            raise self.fail(key, f"is invalid: {exc}") from None

    def result(self):
        missing = sorted(set(self.NEED) - self.keys)
        if missing:
            raise ValueError(f"path {self.path!r} is not a geomot OTResult file (missing {missing})")
        fmt = int(self.scalar("format", "iu", "an integer"))
        if fmt > _FORMAT:
            raise ValueError(f"path {self.path!r} has format {fmt}, newer than this geomot ({_FORMAT})")
        if fmt < 1:
            raise self.fail("format", f"must be 1 or 2, got {fmt}")
        method = str(self.scalar("method", "U", "a string"))
        if method not in METHODS:
            raise self.fail("method", f"must be one of {METHODS}, got {method!r}")
        message = str(self.scalar("message", "U", "a string")) if "message" in self.keys else ""
        converged = self.scalar("converged", "b", "a bool")
        iterations = int(self.scalar("iterations", "iu", "an integer"))
        if iterations < 0:
            raise self.fail("iterations", f"must be >= 0, got {iterations}")
        domain = self.domain()
        y = self.checked("y", lambda a: as_points(a, "y", dim=domain.dim))
        n = y.shape[0]
        nu = self.checked("nu", lambda a: _probabilities(a, n))
        h = self.checked("h", lambda a: as_vector(a, "h", n=n))
        masses = self.checked("masses", lambda a: _masses(a, n))
        history = self.checked("history", lambda a: _history(a))
        timings = {}
        for key in sorted(k for k in self.keys if k.startswith("timings__")):
            timings[key[len("timings__"):]] = self.checked(key, lambda a: as_vector(a.ravel(), "timings"))
        frame, weights = self.frame_state(fmt, domain, y, n)
        try:
            return OTResult(domain=domain, y=y, nu=nu, h=h, masses=masses, converged=bool(converged),
                            iterations=iterations, history=history, method=method, timings=timings,
                            message=message, frame=frame, frame_weights=weights)
        except ValueError as exc:  # (every field was checked: this is an inconsistency between them)
            raise ValueError(f"path {self.path!r}: inconsistent fields: {exc}") from None

    def domain(self):
        keys = sorted(k for k in self.keys if k.startswith("domain__"))
        if not keys:
            raise ValueError(f"path {self.path!r} is not a geomot OTResult file (missing its domain__ entries)")
        arrays = {k[len("domain__"):]: self.raw(k) for k in keys}
        try:
            return Domain.from_arrays(arrays)
        except Exception as exc:  # ValueError, but also geometry libraries' own (shapely's GEOSException, ...)
            raise self.fail("domain", f"is invalid: {_why(exc)}") from None

    def frame_state(self, fmt, domain, y, n):
        """``(frame, frame_weights)``: stored (format 2), or None to derive them from h (format 1)."""
        if fmt == 1:
            return None, None
        keys = [k for k in self.keys if k.startswith("frame__")]
        if not keys or "frame_weights" not in self.keys:
            raise ValueError(f"path {self.path!r}: format {fmt} needs the frame__ entries and frame_weights "
                             "(missing)")
        arrays = {k[len("frame__"):]: self.raw(k) for k in keys}
        for k, v in arrays.items():
            if v.dtype.kind not in "fiu":
                raise self.fail("frame__" + k, f"must hold numbers, got dtype {v.dtype}")
        try:
            frame = Frame.from_arrays(arrays)
        except ValueError as exc:
            raise self.fail("frame", f"is invalid: {exc}") from None
        if frame.dim != domain.dim:
            raise self.fail("frame", f"has dimension {frame.dim}, the domain {domain.dim}")
        weights = self.checked("frame_weights", lambda a: as_vector(a, "frame_weights", n=n))
        return frame, weights


def _probabilities(a, n):
    """``nu`` as the constructors make it: n positive finite masses summing to 1."""
    nu = as_vector(a, "nu", n=n, positive=True)
    total = float(nu.sum())
    if not abs(total - 1.0) <= 1e-9:
        raise ValueError(f"nu must sum to 1 (solve_ot normalises it), sums to {total!r}")
    return nu


def _masses(a, n):
    m = as_vector(a, "masses", n=n, nonnegative=True)
    if np.any(m > 1.0 + 1e-9):
        raise ValueError(f"masses are fractions of the source mass, at most 1, got {float(m.max())!r}")
    return m


def _history(a):
    if a.ndim != 1:
        raise ValueError(f"history must be 1-D, got shape {a.shape}")
    h = np.asarray(a, dtype=np.float64)
    if np.any(np.isnan(h)) or np.any(h < 0):
        raise ValueError("history holds relative errors: >= 0 (inf allowed), no NaN")
    return h
