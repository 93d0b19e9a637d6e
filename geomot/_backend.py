"""Array backends: the same argmax / cell-count kernels on numpy, numba and CuPy.

The Monte-Carlo solver and the brute-force Brenier argmax need, for many points ``x`` and
targets ``y_i`` with heights ``h_i``,

.. math::

    \\sigma(x) = \\operatorname{argmax}_i \\; \\langle x, y_i \\rangle + h_i ,

followed by a count of the points per target (a ``bincount``).  This module runs that
computation on one of three backends, chosen by name or by the type of the input arrays
(the idea of POT's ``ot.backend``):

``"numpy"``
    chunked matrix product + ``argmax``; no ``N x n`` block larger than the memory budget.
``"numba"``
    a parallel loop over the points (``prange``) with an inner loop over the targets; it
    allocates nothing of size ``N x n``.  Compiled lazily on first use (``cache=True``), so
    ``import geomot`` stays fast.
``"cupy"``
    the numpy algorithm run on the GPU; the code is array-module generic (``xp``) and is
    tested on the CPU with ``xp = numpy``.  Setting the environment variable
    ``GEOMOT_DISABLE_CUPY=1`` disables it.

Ties are resolved identically everywhere: the smallest target index among the maxima
(``numpy.argmax`` convention).

References
----------
R. Flamary et al., *POT: Python Optimal Transport*, JMLR 22 (2021) -- the backend idea.
D. An et al., *AE-OT: a new generative model based on extended semi-discrete optimal
transport*, ICLR 2020 -- the Monte-Carlo argmax this serves.

Example
-------
>>> import numpy as np
>>> from geomot._backend import get_backend
>>> be = get_backend(name="numpy")
>>> idx, val = be.argmax_scores(np.array([[1.0, 0.0]]), np.eye(2), np.zeros(2))
>>> int(idx[0]), float(val[0])
(0, 1.0)
"""

import os
import threading

import numpy as np

__all__ = [
    "BACKENDS",
    "DEFAULT_MEMORY_BUDGET",
    "Backend",
    "BackendUnavailableError",
    "get_backend",
    "available_backends",
    "block_shape",
    "argmax_scores",
    "cell_masses",
    "argmax_scores_xp",
    "argmax_scores_loop",
]

#: names of the backends, in order of preference for CPU work
BACKENDS = ("numpy", "numba", "cupy")

#: default largest score block (bytes) that a chunked kernel may allocate: 64 MiB
DEFAULT_MEMORY_BUDGET = 64 * 2**20


class BackendUnavailableError(ImportError, ValueError):
    """A backend was asked for but cannot run here (its library is missing or disabled).

    It is both an ``ImportError`` and a ``ValueError``: catch either.
    """


# --------------------------------------------------------------------------------------
# chunking
# --------------------------------------------------------------------------------------


def _as_budget(memory_budget):
    if memory_budget is None:
        return DEFAULT_MEMORY_BUDGET
    if isinstance(memory_budget, bool):
        raise ValueError(f"memory_budget must be a number of bytes > 0, got {memory_budget!r}")
    try:
        b = int(memory_budget)
    except (TypeError, ValueError):
        raise ValueError(f"memory_budget must be a number of bytes > 0, got {memory_budget!r}") from None
    if b <= 0:
        raise ValueError(f"memory_budget must be a number of bytes > 0, got {memory_budget!r}")
    return b


def block_shape(n_points, n_targets, memory_budget=None, itemsize=8):
    """Rows and columns of the largest score block that fits the memory budget.

    Parameters
    ----------
    n_points, n_targets : int
        ``N`` and ``n``: the full score matrix would be ``(N, n)``.
    memory_budget : int, optional
        Bytes allowed for one block (default :data:`DEFAULT_MEMORY_BUDGET`).
    itemsize : int
        Bytes per score (8 for float64).

    Returns
    -------
    rows, cols : int
        ``rows * cols * itemsize <= memory_budget`` (at least one score per block), with
        ``cols = n`` whenever one full row fits.

    Example
    -------
    >>> block_shape(10**6, 1000, memory_budget=8 * 10**5)
    (100, 1000)
    """
    budget = _as_budget(memory_budget)
    per_block = max(1, budget // itemsize)
    cols = int(max(1, min(n_targets, per_block)))
    rows = int(max(1, min(max(n_points, 1), per_block // cols)))
    return rows, cols


# --------------------------------------------------------------------------------------
# array-module generic kernel (numpy on the CPU, CuPy on the GPU)
# --------------------------------------------------------------------------------------


def argmax_scores_xp(xp, x, y, h, memory_budget=None):
    """Chunked ``argmax_i <x, y_i> + h_i`` with any array module ``xp`` (numpy or CuPy).

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; ``x``, ``y``, ``h`` must be arrays of that module.
    x : (N, d) float64 array
    y : (n, d) float64 array
    h : (n,) float64 array
    memory_budget : int, optional
        Bytes allowed for one score block (rows x columns of the score matrix).

    Returns
    -------
    index : (N,) int64 array of ``xp``
        The first maximiser.
    value : (N,) float64 array of ``xp``
        The maximum score, recomputed for the chosen target in the fixed order of the loop
        kernels (bitwise independent of the block shape).

    Notes
    -----
    Blocks of rows are processed independently; if a single row does not fit, the targets
    are processed in column blocks and the running maximum is only replaced by a strictly
    larger score, so ties keep the smallest index, as ``argmax`` does.
    """
    N = x.shape[0]
    n = y.shape[0]
    rows, cols = block_shape(N, n, memory_budget)
    index = xp.empty(N, dtype=xp.int64)
    value = xp.empty(N, dtype=xp.float64)
    for r0 in range(0, N, rows):
        r1 = min(N, r0 + rows)
        xb = x[r0:r1]
        best_i = None
        best_v = None
        for c0 in range(0, n, cols):
            c1 = min(n, c0 + cols)
            s = xb @ y[c0:c1].T
            s += h[c0:c1]
            j = xp.argmax(s, axis=1)
            v = xp.take_along_axis(s, j[:, None], axis=1)[:, 0]
            j = j.astype(xp.int64) + c0
            if best_i is None:
                best_i, best_v = j, v
            else:
                better = v > best_v
                best_i = xp.where(better, j, best_i)
                best_v = xp.where(better, v, best_v)
            del s
        index[r0:r1] = best_i
        value[r0:r1] = _rescore(xp, xb, y, h, best_i)
    return index, value


def _rescore(xp, x, y, h, index):
    """Score of the chosen target, ``((x_0 y_0 + x_1 y_1) + ...) + h``, as the loop kernels do.

    The matrix product's rounding depends on the block shape; recomputing the maximum in a
    fixed order makes the values bitwise independent of the memory budget and equal to the
    numba kernel's.
    """
    yi = y[index]
    v = xp.zeros(x.shape[0], dtype=xp.float64)
    for k in range(x.shape[1]):
        v += x[:, k] * yi[:, k]
    v += h[index]
    return v


def cell_counts_xp(xp, index, n, weights=None):
    """Per-target sums ``(n,)`` of ``weights`` (or counts) over ``index`` with module ``xp``."""
    if weights is None:
        out = xp.bincount(index, minlength=n)
    else:
        out = xp.bincount(index, weights=weights, minlength=n)
    return out[:n].astype(xp.float64)


# --------------------------------------------------------------------------------------
# loop kernel: pure-numpy twin of the numba kernel, and the numba kernel itself
# --------------------------------------------------------------------------------------


def argmax_scores_loop(x, y, h):
    """Reference loop over the targets (pure numpy twin of the numba kernel).

    Same arithmetic as the numba kernel: for each point, the scores are accumulated
    coordinate by coordinate, ``s = ((x_0 y_0 + x_1 y_1) + ...) + h``, and the running
    maximum is replaced only by a strictly larger score.  Vectorised over the points.

    Parameters
    ----------
    x : (N, d) float64 array
    y : (n, d) float64 array
    h : (n,) float64 array

    Returns
    -------
    index : (N,) int64 array
    value : (N,) float64 array
    """
    N, d = x.shape
    n = y.shape[0]
    best_v = np.full(N, -np.inf)
    best_i = np.zeros(N, dtype=np.int64)
    for i in range(n):
        s = np.zeros(N)
        for k in range(d):
            s += x[:, k] * y[i, k]
        s += h[i]
        better = s > best_v
        best_v[better] = s[better]
        best_i[better] = i
    return best_i, best_v


_NUMBA_LOCK = threading.Lock()
_NUMBA_CALL_LOCK = threading.Lock()
_NUMBA_KERNEL = None


def _numba_kernel():
    """Compile (once, lazily, cached on disk) and return the numba argmax kernel."""
    global _NUMBA_KERNEL
    if _NUMBA_KERNEL is not None:
        return _NUMBA_KERNEL
    with _NUMBA_LOCK:
        if _NUMBA_KERNEL is not None:
            return _NUMBA_KERNEL
        import numba

        @numba.njit(parallel=True, cache=True, fastmath=False, nogil=True)
        def _argmax_scores_numba(x, y, h, index, value):  # pragma: no cover - compiled
            N, d = x.shape
            n = y.shape[0]
            for p in numba.prange(N):
                bv = -np.inf
                bi = 0
                for i in range(n):
                    s = 0.0
                    for k in range(d):
                        s += x[p, k] * y[i, k]
                    s += h[i]
                    if s > bv:
                        bv = s
                        bi = i
                index[p] = bi
                value[p] = bv

        _NUMBA_KERNEL = _argmax_scores_numba
    return _NUMBA_KERNEL


# --------------------------------------------------------------------------------------
# backends
# --------------------------------------------------------------------------------------


class Backend:
    """One way of running the kernels.  Obtain instances with :func:`get_backend`.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"numba"`` or ``"cupy"``.
    xp : module
        The array module the kernels take and return (numpy for the CPU backends).
    """

    name = "numpy"

    def __init__(self, xp):
        self.xp = xp

    def __repr__(self):
        return f"<geomot backend {self.name!r}>"

    # conversions ------------------------------------------------------------------
    def asarray(self, a, dtype=np.float64):
        """``a`` as a C-contiguous array of this backend's module (a device copy for CuPy)."""
        return self.xp.ascontiguousarray(self.xp.asarray(a, dtype=dtype))

    def to_numpy(self, a):
        """``a`` as a numpy array (copied from the device for CuPy)."""
        return np.asarray(a)

    # kernels ------------------------------------------------------------------------
    def argmax_scores(self, x, y, h, memory_budget=None):
        """Index ``(N,)`` int64 and value ``(N,)`` float64 of ``max_i <x, y_i> + h_i``.

        ``x (N, d)``, ``y (n, d)``, ``h (n,)``: validated float64 arrays of this backend's
        module.  No score block larger than ``memory_budget`` bytes is allocated.
        """
        return argmax_scores_xp(self.xp, x, y, h, memory_budget)

    def cell_masses(self, index, n, weights=None):
        """Per-target sums ``(n,)`` float64: counts of ``index`` (or sums of ``weights``)."""
        return cell_counts_xp(self.xp, index, n, weights)


class NumbaBackend(Backend):
    name = "numba"

    def argmax_scores(self, x, y, h, memory_budget=None):
        # the loop kernel never allocates an N x n block: the budget is trivially met
        _as_budget(memory_budget)
        kernel = _numba_kernel()
        N = x.shape[0]
        index = np.empty(N, dtype=np.int64)
        value = np.empty(N, dtype=np.float64)
        # the kernel is parallel over all cores already; serialising launches from several
        # threads (a threaded dask worker) avoids concurrent launches, which numba's
        # default "workqueue" threading layer does not support
        with _NUMBA_CALL_LOCK:
            kernel(x, y, h, index, value)
        return index, value


class CupyBackend(Backend):
    name = "cupy"

    def to_numpy(self, a):
        if isinstance(a, np.ndarray):
            return a
        return self.xp.asnumpy(a)


_INSTANCES = {}
_INSTANCES_LOCK = threading.Lock()


def _cupy_disabled():
    return os.environ.get("GEOMOT_DISABLE_CUPY", "").strip().lower() not in ("", "0", "false", "no")


def _load(name):
    if name == "numpy":
        return Backend(np)
    if name == "numba":
        try:
            import numba  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailableError(
                f"backend 'numba' is not available: numba is not installed ({exc})"
            ) from None
        return NumbaBackend(np)
    if name == "cupy":
        if _cupy_disabled():
            raise BackendUnavailableError(
                "backend 'cupy' is not available: disabled by the environment variable GEOMOT_DISABLE_CUPY"
            )
        try:
            import cupy
        except ImportError:
            raise BackendUnavailableError("backend 'cupy' is not available: CuPy is not installed") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver / runtime errors have no common base class
            raise BackendUnavailableError(f"backend 'cupy' is not available: no usable CUDA device ({exc})") from None
        if count < 1:
            raise BackendUnavailableError("backend 'cupy' is not available: no CUDA device found")
        return CupyBackend(cupy)
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")


def _is_cupy_array(a):
    return type(a).__module__.split(".")[0] == "cupy"


def get_backend(*arrays, name=None):
    """The backend to run kernels on: by ``name``, else CuPy if any array is a CuPy array.

    Parameters
    ----------
    *arrays : array_like
        Inputs of the computation; if any is a ``cupy.ndarray`` the CuPy backend is chosen.
    name : {"numpy", "numba", "cupy"} or Backend, optional
        Ask for a backend explicitly (overrides the array types).

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        Unknown name.
    BackendUnavailableError
        (an ``ImportError`` and a ``ValueError``) the backend cannot run here; the message
        names it, e.g. ``backend 'cupy' is not available: CuPy is not installed``.

    Example
    -------
    >>> get_backend(name="numpy").name
    'numpy'
    """
    if isinstance(name, Backend):
        return name
    if name is None:
        name = "cupy" if any(_is_cupy_array(a) for a in arrays) else "numpy"
    if not isinstance(name, str):
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    key = name.strip().lower()
    if key not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if key == "cupy" and _cupy_disabled():
        # the environment variable may be set after a first successful load
        return _load("cupy")
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = _load(key)
        return _INSTANCES[key]


def available_backends():
    """Names of the backends that can run here, e.g. ``("numpy", "numba")``."""
    out = []
    for name in BACKENDS:
        try:
            get_backend(name=name)
        except (ImportError, ValueError):
            continue
        out.append(name)
    return tuple(out)


# --------------------------------------------------------------------------------------
# public conveniences: validate, pick the backend, run
# --------------------------------------------------------------------------------------


def _validated_device_inputs(be, x, y, h):
    """Shape checks for arrays that stay on the device (no host round trip)."""
    xp = be.xp
    x = be.asarray(x)
    y = be.asarray(y)
    h = be.asarray(h)
    if y.ndim != 2 or y.shape[0] < 1:
        raise ValueError(f"y must be a 2-D (n, d) array with n >= 1, got shape {y.shape}")
    if x.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x must be an (N, {y.shape[1]}) array, got shape {x.shape}")
    if h.shape != (y.shape[0],):
        raise ValueError(f"h must have length {y.shape[0]} (one per target), got shape {h.shape}")
    for name, a in (("x", x), ("y", y), ("h", h)):
        if not bool(xp.all(xp.isfinite(a))):
            raise ValueError(f"{name} contains NaN or inf")
    return x, y, h


def argmax_scores(x, y, h, *, backend=None, memory_budget=None):
    """Index and value of :math:`\\max_i \\langle x, y_i \\rangle + h_i` for every row of ``x``.

    Parameters
    ----------
    x : (N, d) array_like
        Points (a CuPy array selects the CuPy backend).
    y : (n, d) array_like
        Targets.
    h : (n,) array_like
        Heights.
    backend : {"numpy", "numba", "cupy"}, optional
        Default: CuPy for CuPy inputs, else numpy.
    memory_budget : int, optional
        Bytes allowed for one block of scores (default 64 MiB).

    Returns
    -------
    index : (N,) int64
        The first maximiser (smallest index among ties).
    value : (N,) float64
        The maximum, computed as ``((x_0 y_0 + x_1 y_1) + ...) + h`` on every backend.
        Arrays of the backend's module (CuPy arrays for ``"cupy"``).

    .. math::

        \\sigma(x) = \\operatorname{argmax}_i \\langle x, y_i \\rangle + h_i

    Example
    -------
    >>> idx, val = argmax_scores([[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.5])
    >>> idx.tolist(), val.tolist()
    ([0, 1], [2.0, 1.5])
    """
    be = get_backend(x, y, h, name=backend)
    budget = _as_budget(memory_budget)
    if be.name == "cupy":
        x, y, h = _validated_device_inputs(be, x, y, h)
    else:
        from ._validate import as_points, as_vector

        y = as_points(y, "y")
        x = as_points(x, "x", dim=y.shape[1], min_rows=0) if np.size(x) else np.zeros((0, y.shape[1]))
        h = as_vector(h, "h", n=y.shape[0])
    return be.argmax_scores(x, y, h, memory_budget=budget)


def cell_masses(index, n, weights=None, *, backend=None):
    """Per-target sums ``(n,)`` float64: how many ``index`` entries (or how much weight) fall in each.

    Parameters
    ----------
    index : (N,) integer array_like
        Values in ``[0, n)``.
    n : int
        Number of targets.
    weights : (N,) array_like, optional
        Weight of each entry (default 1).
    backend : {"numpy", "numba", "cupy"}, optional
        Default: CuPy for CuPy inputs, else numpy.

    Returns
    -------
    (n,) float64
        :math:`c_i = \\sum_{k : \\mathrm{index}_k = i} w_k`.

    Example
    -------
    >>> cell_masses([0, 2, 2], 4).tolist()
    [1.0, 0.0, 2.0, 0.0]
    """
    from ._validate import as_positive_int

    be = get_backend(index, weights, name=backend)
    n = as_positive_int(n, "n")
    xp = be.xp
    idx = xp.asarray(index)
    if idx.ndim != 1:
        raise ValueError(f"index must be 1-D, got shape {idx.shape}")
    if idx.size and not xp.issubdtype(idx.dtype, xp.integer):
        raise ValueError(f"index must hold integers, got dtype {idx.dtype}")
    idx = idx.astype(xp.int64)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"index must lie in [0, {n}), got values in [{int(idx.min())}, {int(idx.max())}]")
    w = None
    if weights is not None:
        w = be.asarray(weights)
        if w.shape != idx.shape:
            raise ValueError(f"weights must have the shape of index {idx.shape}, got {w.shape}")
        if not bool(xp.all(xp.isfinite(w))):
            raise ValueError("weights contains NaN or inf")
    return be.cell_masses(idx, n, w)
