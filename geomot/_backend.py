"""Array backends: the same assignment kernels on numpy, numba and CuPy.

The Monte-Carlo solver and the brute-force Brenier argmax need, for many points ``x`` and
targets ``y_i`` with heights ``h_i``,

.. math::

    \\sigma(x) = \\operatorname{argmax}_i \\; \\langle x, y_i \\rangle + h_i ,

(and, for the Monte-Carlo Hessian, the runner-up and the gap between the two best scores),
followed by a count of the points per target (a ``bincount``).  This module runs that
computation on one of three backends, chosen by name or by the type of the input arrays
(the idea of POT's ``ot.backend``).  All three compute the scores the same way: a matrix
product ``x_b @ y.T`` (BLAS, or cuBLAS) on blocks of rows of ``x`` small enough to stay in
cache and within the memory budget; no ``N x n`` matrix is ever formed.

``"numpy"``
    per block: the product, ``+ h``, ``argmax`` (and for the runner-up a second ``argmax``
    with the winner masked).
``"numba"``
    per block: the same product, then one compiled pass over the block that adds ``h`` and
    keeps the best two scores (no second pass, no mask), and rescores the winners.  Compiled
    lazily on first use (``cache=True``), so ``import geomot`` stays fast.
``"cupy"``
    the numpy algorithm run on the GPU; the code is array-module generic (``xp``) and is
    tested on the CPU with ``xp = numpy``.  It can also draw uniform samples of a box on the
    device (:meth:`Backend.uniform`), so that only counts come back to the host.  Setting the
    environment variable ``GEOMOT_DISABLE_CUPY=1`` disables it.

``"auto"``
    not a backend of its own: CuPy for CuPy inputs, else the fastest CPU backend that runs
    here, in the order :data:`CPU_PREFERENCE` (numba, then numpy).  It is the Monte-Carlo
    solver's default: its Newton step needs the best two scores, where numba's one pass is
    1.8 times numpy's two (``benchmarks/bench_montecarlo.py``, docs/benchmarks.md), and the
    two give bitwise the same answers (below), so the choice changes only the time.

Ties are resolved identically everywhere: the smallest target index among the maxima
(``numpy.argmax`` convention); the runner-up is the smallest index among the maxima of the
other targets.  The returned score values are recomputed for the chosen targets in one fixed
order, ``((x_0 y_0 + x_1 y_1) + ...) + h``, so they are bitwise the same on every backend
and for every block shape (a matrix product's rounding depends on both).

References
----------
R. Flamary et al., *POT: Python Optimal Transport*, JMLR 22 (2021) -- the backend idea.
D. An et al., *AE-OT: a new generative model based on extended semi-discrete optimal
transport*, ICLR 2020 -- the Monte-Carlo argmax this serves.
K. Goto, R. van de Geijn, *Anatomy of high-performance matrix multiplication*, ACM TOMS 34
(2008) -- why a blocked BLAS product beats a loop over targets at every dimension.

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
    "BACKEND_CHOICES",
    "CPU_PREFERENCE",
    "DEFAULT_MEMORY_BUDGET",
    "Backend",
    "BackendUnavailableError",
    "get_backend",
    "available_backends",
    "block_shape",
    "argmax_scores",
    "cell_masses",
    "argmax_scores_xp",
    "top2_scores_xp",
    "argmax_scores_loop",
    "top2_scores_loop",
]

#: names of the backends
BACKENDS = ("numpy", "numba", "cupy")
#: ``"auto"`` takes the first of these that runs here (numba's best-two kernel is the fastest
#: on the CPU: docs/benchmarks.md, Monte-Carlo section)
CPU_PREFERENCE = ("numba", "numpy")
#: what a ``backend=`` argument accepts: a backend's name or ``"auto"``
BACKEND_CHOICES = ("auto",) + BACKENDS

#: default largest score block (bytes) that a chunked kernel may allocate: 64 MiB
DEFAULT_MEMORY_BUDGET = 64 * 2**20

#: the kernels work on row blocks of at most this many bytes of scores (within the memory
#: budget): a block that stays in the L2/L3 cache is read back by the argmax pass at cache
#: speed (measured in benchmarks/bench_montecarlo.py: 256-1024 rows of 2000 scores are
#: fastest; the whole 64 MiB budget is slower)
CACHE_BLOCK = 4 * 2**20
#: ... but never fewer rows than this (one BLAS call per row would be slow)
MIN_BLOCK_ROWS = 64


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


def _work_shape(n_points, n_targets, memory_budget):
    """The block the kernels use: :func:`block_shape` capped at :data:`CACHE_BLOCK` bytes."""
    rows, cols = block_shape(n_points, n_targets, memory_budget)
    cache_rows = max(MIN_BLOCK_ROWS, CACHE_BLOCK // (8 * cols))
    return max(1, min(rows, cache_rows)), cols


# --------------------------------------------------------------------------------------
# array-module generic kernels (numpy on the CPU, CuPy on the GPU)
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
    rows, cols = _work_shape(N, n, memory_budget)
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


def _block_top2(xp, s):
    """Best and runner-up ``(j1, v1, j2, v2)`` of each row of the score block ``s`` (modified).

    A block of one column has no runner-up: ``j2 = j1``, ``v2 = -inf``.
    """
    j1 = xp.argmax(s, axis=1)
    v1 = xp.take_along_axis(s, j1[:, None], axis=1)[:, 0]
    if s.shape[1] == 1:
        return j1, v1, j1, xp.full(s.shape[0], -xp.inf)
    s[xp.arange(s.shape[0]), j1] = -xp.inf
    j2 = xp.argmax(s, axis=1)
    v2 = xp.take_along_axis(s, j2[:, None], axis=1)[:, 0]
    return j1, v1, j2, v2


def top2_scores_xp(xp, x, y, h, memory_budget=None):
    """Best target, runner-up and the gap between their scores, with any array module ``xp``.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; ``x``, ``y``, ``h`` arrays of that module.
    x : (N, d) float64 array
    y : (n, d) float64 array
    h : (n,) float64 array
    memory_budget : int, optional
        Bytes allowed for one score block.

    Returns
    -------
    first : (N,) int64
        :math:`\\sigma_1(x) = \\operatorname{argmax}_i s_i(x)`, :math:`s_i = \\langle x, y_i\\rangle + h_i`.
    second : (N,) int64
        :math:`\\sigma_2(x) = \\operatorname{argmax}_{i \\ne \\sigma_1} s_i(x)` (``first`` when ``n = 1``).
    value : (N,) float64
        :math:`s_{\\sigma_1}(x)`, in the fixed order of the loop kernels.
    gap : (N,) float64
        :math:`s_{\\sigma_1}(x) - s_{\\sigma_2}(x) \\ge 0` from the two fixed-order scores
        (``inf`` when ``n = 1``): the distance to the nearest facet times :math:`|y_{\\sigma_1} - y_{\\sigma_2}|`.

    Notes
    -----
    Ties go to the smallest index, for the runner-up too.  With column blocks (a row that
    does not fit the budget) the running best two are merged with each block's best two; a
    later block's candidate replaces an earlier one only when strictly larger.
    """
    N = x.shape[0]
    n = y.shape[0]
    rows, cols = _work_shape(N, n, memory_budget)
    first = xp.empty(N, dtype=xp.int64)
    second = xp.empty(N, dtype=xp.int64)
    value = xp.empty(N, dtype=xp.float64)
    gap = xp.empty(N, dtype=xp.float64)
    for r0 in range(0, N, rows):
        r1 = min(N, r0 + rows)
        xb = x[r0:r1]
        b1 = v1 = b2 = v2 = None
        for c0 in range(0, n, cols):
            c1 = min(n, c0 + cols)
            s = xb @ y[c0:c1].T
            s += h[c0:c1]
            j1, w1, j2, w2 = _block_top2(xp, s)
            j1 = j1.astype(xp.int64) + c0
            j2 = j2.astype(xp.int64) + c0
            if b1 is None:
                b1, v1, b2, v2 = j1, w1, j2, w2
            else:
                # candidates of this block have larger indices: they win only when strictly larger
                new_best = w1 > v1
                keep_old1 = v1 >= w2  # runner-up when the block's best wins: old best or block's second
                keep_old2 = v2 >= w1  # runner-up when the old best stays: old second or block's best
                nb2 = xp.where(new_best, xp.where(keep_old1, b1, j2), xp.where(keep_old2, b2, j1))
                nv2 = xp.where(new_best, xp.where(keep_old1, v1, w2), xp.where(keep_old2, v2, w1))
                b1 = xp.where(new_best, j1, b1)
                v1 = xp.where(new_best, w1, v1)
                b2, v2 = nb2, nv2
            del s
        if n == 1:
            b2 = b1
        r_first = _rescore(xp, xb, y, h, b1)
        first[r0:r1] = b1
        second[r0:r1] = b2
        value[r0:r1] = r_first
        gap[r0:r1] = xp.inf if n == 1 else r_first - _rescore(xp, xb, y, h, b2)
    return first, second, value, gap


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
# reference loops (pure numpy, vectorised over the points): the definition of the kernels
# --------------------------------------------------------------------------------------


def argmax_scores_loop(x, y, h):
    """Reference loop over the targets (the definition the blocked kernels are tested against).

    For each point, the scores are accumulated coordinate by coordinate,
    ``s = ((x_0 y_0 + x_1 y_1) + ...) + h``, and the running maximum is replaced only by a
    strictly larger score.  Vectorised over the points.

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


def top2_scores_loop(x, y, h):
    """Reference loop for :func:`top2_scores_xp`: ``(first, second, value, gap)``.

    The best two are kept while looping over the targets in order; a score replaces a kept
    one only when strictly larger (ties keep the smaller index).
    """
    N, d = x.shape
    n = y.shape[0]
    v1 = np.full(N, -np.inf)
    v2 = np.full(N, -np.inf)
    b1 = np.zeros(N, dtype=np.int64)
    b2 = np.zeros(N, dtype=np.int64)
    for i in range(n):
        s = np.zeros(N)
        for k in range(d):
            s += x[:, k] * y[i, k]
        s += h[i]
        top = s > v1
        mid = ~top & (s > v2)
        v2 = np.where(top, v1, np.where(mid, s, v2))
        b2 = np.where(top, b1, np.where(mid, i, b2))
        v1 = np.where(top, s, v1)
        b1 = np.where(top, i, b1)
    if n == 1:
        return b1, b1.copy(), v1, np.full(N, np.inf)
    return b1, b2, v1, v1 - v2


# --------------------------------------------------------------------------------------
# numba: one compiled pass over each BLAS score block
# --------------------------------------------------------------------------------------

_NUMBA_LOCK = threading.Lock()
_NUMBA_KERNELS = None


def _numba_kernels():
    """Compile (once, lazily, cached on disk) and return the numba block passes ``(top1, top2)``.

    Each takes a score block ``s`` (rows x n, the BLAS product without ``h``), ``h``, the rows
    ``x`` of the block and ``y``, and fills the outputs.  They are serial (``nogil``): the
    product before them is BLAS-threaded, and a parallel pass would compete with BLAS's
    threads for the same cores (measured: slower on 2 cores).
    """
    global _NUMBA_KERNELS
    if _NUMBA_KERNELS is not None:
        return _NUMBA_KERNELS
    with _NUMBA_LOCK:
        if _NUMBA_KERNELS is not None:
            return _NUMBA_KERNELS
        import numba

        @numba.njit(cache=True, fastmath=False, nogil=True)
        def _rescore1(x, y, h, p, i):  # pragma: no cover - compiled
            acc = 0.0
            for k in range(x.shape[1]):
                acc += x[p, k] * y[i, k]
            return acc + h[i]

        @numba.njit(cache=True, fastmath=False, nogil=True)
        def _top1_pass(s, h, x, y, index, value):  # pragma: no cover - compiled
            r, n = s.shape
            for p in range(r):
                bv = -np.inf
                bi = 0
                for i in range(n):
                    v = s[p, i] + h[i]
                    if v > bv:
                        bv = v
                        bi = i
                index[p] = bi
                value[p] = _rescore1(x, y, h, p, bi)

        @numba.njit(cache=True, fastmath=False, nogil=True)
        def _top2_pass(s, h, x, y, first, second, value, gap):  # pragma: no cover - compiled
            r, n = s.shape
            for p in range(r):
                bv = -np.inf
                bi = 0
                sv = -np.inf
                si = 0
                for i in range(n):
                    v = s[p, i] + h[i]
                    if v > sv:
                        if v > bv:
                            sv = bv
                            si = bi
                            bv = v
                            bi = i
                        else:
                            sv = v
                            si = i
                first[p] = bi
                v1 = _rescore1(x, y, h, p, bi)
                value[p] = v1
                if n == 1:
                    second[p] = bi
                    gap[p] = np.inf
                else:
                    second[p] = si
                    gap[p] = v1 - _rescore1(x, y, h, p, si)

        _NUMBA_KERNELS = (_top1_pass, _top2_pass)
    return _NUMBA_KERNELS


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

    # sampling -----------------------------------------------------------------------
    def uniform(self, seed, m, lo, hi):
        """``(m, d)`` uniform points of the box ``[lo, hi]``, drawn by this backend's module.

        ``seed`` is an int; the generator is ``xp.random.default_rng(seed)`` (PCG64 in numpy,
        XORWOW in CuPy: the two modules give different points for the same seed).  For CuPy
        the points are drawn and stay on the device.
        """
        xp = self.xp
        lo = self.asarray(lo)
        hi = self.asarray(hi)
        u = xp.random.default_rng(int(seed)).random((int(m), lo.shape[0]))
        return lo + u * (hi - lo)

    # kernels ------------------------------------------------------------------------
    def argmax_scores(self, x, y, h, memory_budget=None):
        """Index ``(N,)`` int64 and value ``(N,)`` float64 of ``max_i <x, y_i> + h_i``.

        ``x (N, d)``, ``y (n, d)``, ``h (n,)``: validated float64 arrays of this backend's
        module.  No score block larger than ``memory_budget`` bytes is allocated.
        """
        return argmax_scores_xp(self.xp, x, y, h, memory_budget)

    def top2_scores(self, x, y, h, memory_budget=None):
        """``(first, second, value, gap)`` of :func:`top2_scores_xp`, on this backend."""
        return top2_scores_xp(self.xp, x, y, h, memory_budget)

    def cell_masses(self, index, n, weights=None):
        """Per-target sums ``(n,)`` float64: counts of ``index`` (or sums of ``weights``)."""
        return cell_counts_xp(self.xp, index, n, weights)


class NumbaBackend(Backend):
    name = "numba"

    def _blocks(self, x, y, h, memory_budget, outputs, kernel):
        """Run ``kernel`` on every row block of BLAS scores; None when a row does not fit."""
        N = x.shape[0]
        n = y.shape[0]
        rows, cols = _work_shape(N, n, _as_budget(memory_budget))
        if cols < n:
            return None
        buf = np.empty((min(rows, max(N, 1)), n))
        yt = y.T
        for r0 in range(0, N, rows):
            r1 = min(N, r0 + rows)
            s = buf[: r1 - r0]
            np.matmul(x[r0:r1], yt, out=s)
            kernel(s, h, x[r0:r1], y, *(o[r0:r1] for o in outputs))
        return outputs

    def argmax_scores(self, x, y, h, memory_budget=None):
        top1, _ = _numba_kernels()
        N = x.shape[0]
        out = (np.empty(N, dtype=np.int64), np.empty(N, dtype=np.float64))
        if self._blocks(x, y, h, memory_budget, out, top1) is None:
            # a single row of scores exceeds the budget: the column-blocked generic kernel
            return argmax_scores_xp(np, x, y, h, memory_budget)
        return out

    def top2_scores(self, x, y, h, memory_budget=None):
        _, top2 = _numba_kernels()
        N = x.shape[0]
        out = (np.empty(N, dtype=np.int64), np.empty(N, dtype=np.int64), np.empty(N), np.empty(N))
        if self._blocks(x, y, h, memory_budget, out, top2) is None:
            return top2_scores_xp(np, x, y, h, memory_budget)
        return out


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
    raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {name!r}")


def _is_cupy_array(a):
    return type(a).__module__.split(".")[0] == "cupy"


def get_backend(*arrays, name=None):
    """The backend to run kernels on: by ``name``, else CuPy if any array is a CuPy array.

    Parameters
    ----------
    *arrays : array_like
        Inputs of the computation; if any is a ``cupy.ndarray`` the CuPy backend is chosen
        (for ``name`` None or ``"auto"``).
    name : {"numpy", "numba", "cupy", "auto"} or Backend, optional
        Ask for a backend explicitly (overrides the array types).  ``"auto"``: CuPy for CuPy
        inputs, else the first of :data:`CPU_PREFERENCE` that runs here (numba, else numpy).
        None: CuPy for CuPy inputs, else numpy.

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
    >>> get_backend(name="auto").name in CPU_PREFERENCE
    True
    """
    if isinstance(name, Backend):
        return name
    if name is None:
        name = "cupy" if any(_is_cupy_array(a) for a in arrays) else "numpy"
    if not isinstance(name, str):
        raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {name!r}")
    key = name.strip().lower()
    if key == "auto":
        return _auto_backend(arrays)
    if key not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {name!r}")
    if key == "cupy" and _cupy_disabled():
        # the environment variable may be set after a first successful load
        return _load("cupy")
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = _load(key)
        return _INSTANCES[key]


def _auto_backend(arrays):
    """``name="auto"``: CuPy for CuPy inputs, else the first of :data:`CPU_PREFERENCE` that loads."""
    if any(_is_cupy_array(a) for a in arrays):
        return get_backend(name="cupy")
    for key in CPU_PREFERENCE[:-1]:
        try:
            return get_backend(name=key)
        except BackendUnavailableError:
            continue
    return get_backend(name=CPU_PREFERENCE[-1])


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
    backend : {"numpy", "numba", "cupy", "auto"}, optional
        Default: CuPy for CuPy inputs, else numpy (see :func:`get_backend` for ``"auto"``).
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
    backend : {"numpy", "numba", "cupy", "auto"}, optional
        Default: CuPy for CuPy inputs, else numpy (see :func:`get_backend` for ``"auto"``).

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
