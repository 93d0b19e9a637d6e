"""Input validation shared by the public functions (scipy.spatial style).

The public function converts to float64 and calls these; the private one only computes.
Every check raises ``ValueError`` naming the argument.  Never ``assert``.
"""

import numbers

import numpy as np

from ._tol import scale_of, tol

__all__ = ["as_points", "as_vector", "as_rng", "as_positive_int", "as_positive_float", "readonly", "check_distinct",
           "as_probabilities"]


def as_points(x, name, dim=None, min_rows=1):
    """Return ``x`` as a C-contiguous float64 ``(n, d)`` array, a copy (never a view of user data)."""
    try:
        a = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an (n, d) array of float: {exc}") from None
    if a.ndim == 1 and dim is not None and a.shape[0] == dim:
        a = a.reshape(1, dim)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) array, got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns (the domain's dimension), got shape {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s), got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return np.ascontiguousarray(a)


def as_vector(x, name, n=None, positive=False, nonnegative=False):
    """Return ``x`` as a float64 ``(n,)`` array copy, checked finite (and positive if asked)."""
    try:
        a = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of float: {exc}") from None
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
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise ValueError(f"{name} must be None, an int or a numpy.random.Generator, got {type(seed).__name__}")


def as_positive_int(x, name, minimum=1):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def as_positive_float(x, name, allow_zero=False):
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


def check_distinct(y):
    """ValueError naming the first pair of coinciding targets of ``y`` (n, d) (relative tolerance)."""
    n = y.shape[0]
    if n < 2:
        return
    r = tol.duplicate * scale_of(y)
    if y.shape[1] <= 8:
        from scipy.spatial import cKDTree

        pairs = cKDTree(y).query_pairs(r, output_type="ndarray")
    else:  # k-d trees are slow in high dimension: exact duplicates after rounding to r
        key = np.round(y / max(r, 1e-300))
        _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        dup = np.flatnonzero(counts[inv.ravel()] > 1)
        pairs = np.zeros((0, 2), dtype=np.int64)
        if dup.size:
            first = dup[0]
            other = dup[(inv.ravel()[dup] == inv.ravel()[first]) & (dup != first)][0]
            pairs = np.array([[first, other]])
    if len(pairs):
        i, j = sorted(int(v) for v in pairs[0])
        raise ValueError(f"y contains duplicate targets: rows {i} and {j} coincide (within {r:.3g}); "
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
