"""Input validation shared by the public functions (scipy.spatial style).

The public function converts to float64 and calls these; the private one only computes.
Every check raises ``ValueError`` naming the argument -- ``TypeError`` for complex input, which a
cast to float64 would silently truncate to its real part.  Never ``assert``.
"""

import numbers

import numpy as np

from ._tol import tol

__all__ = ["as_points", "as_vector", "as_real_array", "as_rng", "as_positive_int", "as_positive_float", "readonly",
           "check_distinct", "as_probabilities"]


def _is_complex(x):
    return isinstance(x, (complex, np.complexfloating)) or getattr(getattr(x, "dtype", None), "kind", "") == "c"


def as_real_array(x, name, what):
    """``x`` as a float64 array copy; TypeError for complex input (a cast would drop the imaginary part)."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be {what}: {exc}") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex values; pass its real part (.real) "
                        f"if the imaginary part is meant to be dropped")
    try:
        return np.array(a, dtype=np.float64, copy=True)
    except TypeError as exc:
        if a.dtype == object and any(_is_complex(v) for v in a.ravel()):
            raise TypeError(f"{name} must be real, got complex values") from None
        raise ValueError(f"{name} must be {what}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name} must be {what}: {exc}") from None


def as_points(x, name, dim=None, min_rows=1, dim_of="the domain"):
    """Return ``x`` as a C-contiguous float64 ``(n, d)`` array, a copy (never a view of user data).

    Raises ``TypeError`` for complex input, ``ValueError`` (naming ``name``) for anything else
    that is not a finite ``(n, d)`` table; ``dim_of`` says whose dimension ``dim`` is.
    """
    a = as_real_array(x, name, "an (n, d) array of float")
    if a.ndim == 1 and dim is not None and a.shape[0] == dim:
        a = a.reshape(1, dim)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) array, got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns (the dimension of {dim_of}), got shape {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s), got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return np.ascontiguousarray(a)


def as_source_points(x, dim):
    """``x`` as validated ``(N, dim)`` points (:func:`as_points`, named ``x``, zero rows
    allowed); an empty sequence is ``(0, dim)`` (the input of a map of source points)."""
    if np.size(x) == 0 and np.ndim(x) < 2:
        return np.zeros((0, dim))
    return as_points(x, "x", dim=dim, min_rows=0)


def as_vector(x, name, n=None, positive=False, nonnegative=False):
    """Return ``x`` as a float64 ``(n,)`` array copy, checked finite (and positive if asked).

    ``TypeError`` for complex input, ``ValueError`` naming ``name`` otherwise.
    """
    a = as_real_array(x, name, "a 1-D array of float")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have length {n} (one per target), got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf (first at index {int(np.argmax(~np.isfinite(a)))})")
    if positive and np.any(a <= 0):
        raise ValueError(f"{name} must be > 0 everywhere (index {int(np.argmax(a <= 0))} is {a[a <= 0][0]})")
    if nonnegative and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0 everywhere (index {int(np.argmax(a < 0))} is {a[a < 0][0]})")
    return np.ascontiguousarray(a)


def as_rng(seed, name="seed"):
    """``None``, an int or a ``numpy.random.Generator`` -> a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative integer (numpy seeds are >= 0), got {seed}")
        return np.random.default_rng(int(seed))
    raise ValueError(f"{name} must be None, an int or a numpy.random.Generator, got {type(seed).__name__}")


def as_positive_int(x, name, minimum=1):
    """``x`` as an int ``>= minimum`` (bools and non-integral numbers refused)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def as_positive_float(x, name, allow_zero=False):
    """``x`` as a finite float ``> 0`` (``>= 0`` with ``allow_zero``); TypeError for complex."""
    if _is_complex(x):
        raise TypeError(f"{name} must be real, got the complex number {x!r}")
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {x!r}")
    return v


def readonly(a, dtype=None, copy=False):
    """``a`` as a C-contiguous array marked read-only (a copy when ``copy`` or a cast needs one)."""
    a = np.array(a, dtype=dtype, copy=True) if copy else np.ascontiguousarray(a, dtype=dtype)
    a.flags.writeable = False
    return a


def _distance(a, b):
    """``|a - b|`` without underflow (subnormal differences squared would round to 0)."""
    d = np.abs(a - b)
    m = float(d.max()) if d.size else 0.0
    return m * float(np.linalg.norm(d / m)) if m > 0 else 0.0


def check_distinct(y, name="y"):
    """ValueError naming the first pair of coinciding targets of ``y`` (n, d) (relative tolerance).

    Two targets coincide when they are closer than ``tol.duplicate`` times the targets' extent,
    or when their distance is below the smallest normal float (a subnormal difference: its square,
    which every power-diagram computation forms, rounds to zero).
    """
    n = y.shape[0]
    if n < 2:
        return
    tiny = float(np.finfo(np.float64).tiny)
    lo = y.min(axis=0)
    extent = _distance(y.max(axis=0), lo)
    if extent < tiny:  # all the targets coincide (to within rounding)
        pairs = np.array([[0, 1]])
        r = tiny
    else:
        # in units of the extent: the tree's squared distances neither underflow nor overflow
        ys = (y - lo) / extent
        r_rel = max(tol.duplicate, tiny / extent)
        r = r_rel * extent
        if y.shape[1] <= 8:
            from scipy.spatial import cKDTree

            pairs = cKDTree(ys).query_pairs(r_rel, output_type="ndarray")
        else:  # k-d trees are slow in high dimension: exact duplicates after rounding to r
            key = np.round(ys / r_rel)
            _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
            dup = np.flatnonzero(counts[inv.ravel()] > 1)
            pairs = np.zeros((0, 2), dtype=np.int64)
            if dup.size:
                first = dup[0]
                other = dup[(inv.ravel()[dup] == inv.ravel()[first]) & (dup != first)][0]
                pairs = np.array([[first, other]])
    if len(pairs):
        i, j = sorted(int(v) for v in pairs[0])
        dist = _distance(y[i], y[j])
        if dist == 0.0:
            how = "are equal"
        elif dist < tiny:
            how = (f"coincide to within rounding (their distance {dist:.3g} is subnormal, below the "
                   f"smallest normal float {tiny:.3g}: squared it rounds to 0)")
        else:
            how = (f"coincide (distance {dist:.3g} <= {r:.3g}, i.e. {r / extent:.3g} x the "
                   f"targets' extent {extent:.3g})")
        raise ValueError(f"{name} contains duplicate targets: rows {i} and {j} {how}; "
                         f"merge them and add their masses in nu")


def as_probabilities(x, name, n=None):
    """``x`` (n,) positive finite masses normalised to sum 1, without overflow.

    Divided by their maximum first: masses like ``1e308`` (whose sum overflows) or subnormal
    ones normalise as well as ``1``; ValueError naming ``name`` if the total is still not a
    positive finite number.
    """
    a = as_vector(x, name, n=n, positive=True)
    a = a / a.max()  # in (0, 1]: the sum is at most n
    total = float(a.sum())
    if not (np.isfinite(total) and total > 0):  # pragma: no cover - cannot happen after the division
        raise ValueError(f"{name} must have a positive finite total, got {total!r}")
    return a / total


def require_distributed(client):
    """``client`` must be usable: dask.distributed importable and a map/gather interface.

    ``ImportError`` (naming the install) without dask.distributed, ``ValueError`` naming
    ``client`` for an object without ``map`` and ``gather``.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError("client= needs dask.distributed, which is not installed; install it with "
                          "`pip install 'dask[distributed]'` (or `pip install geomot[dask]`), or pass client=None"
                          ) from None
    if not (callable(getattr(client, "map", None)) and callable(getattr(client, "gather", None))):
        raise ValueError(f"client must be a dask.distributed.Client (with .map and .gather), got {type(client).__name__}")
