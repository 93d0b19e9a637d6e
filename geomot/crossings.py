"""Where a straight segment of the source crosses from one cell to another (latent interpolation).

A generator that interpolates two latent points ``a`` and ``b`` walks the segment
``x(t) = a + t (b - a)``; the transport map sends it to ``T(x(t)) = y_{sigma(t)}``, and where the
segment crosses the singular set the image jumps across empty target space: the decoded image
there is one that no data point resembles (the article's figure 10, a face with one brown and one
blue eye).  :func:`segment_crossings` finds every cell change along the segment, exactly, in any
dimension, and says which of them are singular.
"""

from dataclasses import dataclass

import numba as nb
import numpy as np

from ._validate import as_vector, readonly

__all__ = ["segment_crossings", "SegmentCrossings"]


@dataclass(frozen=True, eq=False)
class SegmentCrossings:
    """The cell changes along a source segment ``x(t) = a + t (b - a)``, ``0 < t < 1``.

    Attributes
    ----------
    a, b : (d,) float64
        The end points.
    t : (k,) float64
        Increasing parameters in (0, 1) where the segment leaves one cell for the next.
    pairs : (k, 2) int64
        ``(i, j)``: the segment leaves cell ``i`` for cell ``j`` at ``t[m]`` (walk order, not sorted).
    cells : (k + 1,) int64
        The cells visited, in order: ``cells[0]`` at ``t = 0``, ``cells[m + 1] = pairs[m, 1]``.
    jumps : (k,) float64
        ``|y_i - y_j|``: how far the map jumps there.
    singular : (k,) bool
        The pair is singular by the singular-set criterion (its segment ``[y_i, y_j]`` crosses
        empty target space, see :func:`geomot.singular_set` and its ``support=`` criterion).
    points : (k, d) float64
        The crossing points ``a + t (b - a)``.

    Example
    -------
    >>> import numpy as np, geomot
    >>> rng = np.random.default_rng(0)
    >>> y = np.vstack([rng.uniform(0, 0.3, (30, 2)), rng.uniform(0.7, 1.0, (30, 2))])   # two squares
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), y)
    >>> c = geomot.segment_crossings(res, [0.05, 0.05], [0.95, 0.95])
    >>> c.cells.shape == (len(c) + 1,), int(c.singular.sum()), bool(c.jumps[c.singular][0] > 0.4)
    (True, 1, True)
    """

    a: np.ndarray
    b: np.ndarray
    t: np.ndarray
    pairs: np.ndarray
    cells: np.ndarray
    jumps: np.ndarray
    singular: np.ndarray
    points: np.ndarray

    def __len__(self):
        return int(self.t.shape[0])

    def __repr__(self):
        return f"SegmentCrossings(crossings={len(self)}, singular={int(self.singular.sum())})"


@nb.njit(cache=True)
def _upper_envelope(alpha, beta, order):  # pragma: no cover (numba)
    """Indices (into ``alpha``) of the lines ``alpha + beta t`` on the upper envelope, by slope.

    ``order`` sorts the lines by slope, then intercept.  The convex-hull trick: a line is dropped
    when the lines before and after it meet at or above it, i.e. where
    ``(a1 - a3)(b2 - b1) <= (a1 - a2)(b3 - b1)`` (both denominators positive); of lines with
    equal slopes only the highest is kept.
    """
    n = order.shape[0]
    stack = np.empty(n, np.int64)
    top = 0
    for kk in range(n):
        c = order[kk]
        if top > 0 and beta[stack[top - 1]] == beta[c]:
            top -= 1  # same slope, lower or equal intercept (sorted): replaced
        while top >= 2:
            p1 = stack[top - 2]
            p2 = stack[top - 1]
            if (alpha[p1] - alpha[c]) * (beta[p2] - beta[p1]) <= (alpha[p1] - alpha[p2]) * (beta[c] - beta[p1]):
                top -= 1
            else:
                break
        stack[top] = c
        top += 1
    return stack[:top]


def _walk(alpha, beta):
    """The cells along ``t in (0, 1)`` and the parameters where they change.

    Returns ``(cells (k+1,), t (k,))`` for the upper envelope of the lines ``alpha_i + beta_i t``.
    """
    order = np.lexsort((alpha, beta))
    env = _upper_envelope(alpha, beta, order)
    a, b = alpha[env], beta[env]
    # breakpoints between consecutive envelope lines (increasing)
    bp = (a[:-1] - a[1:]) / (b[1:] - b[:-1])
    # the envelope line just after t = 0 and just before t = 1
    first = int(np.searchsorted(bp, 0.0, side="right"))
    last = int(np.searchsorted(bp, 1.0, side="left"))
    return env[first:last + 1], bp[first:last]


def segment_crossings(res, a, b, *, singular=None):
    """Walk the source segment from ``a`` to ``b`` and report where it changes cells.

    Parameters
    ----------
    res : OTResult
        An exact 2D/3D solve or a Monte-Carlo result in any dimension.
    a, b : (d,) array_like
        The end points (source points; distinct).  Points outside the domain belong to the
        cells of the potential :math:`\\max_i \\langle x, y_i\\rangle + h_i` extended beyond it.
    singular : SingularSet or geomot._gaps.TargetGaps, optional
        The criterion for :attr:`SegmentCrossings.singular` (default: :func:`geomot.singular_set`
        ``(res)`` for exact results, the emptiness criterion in ``d`` dimensions for Monte-Carlo
        results; pass ``singular_set(res, support=shape)`` to use a known target support).

    Returns
    -------
    SegmentCrossings

    Notes
    -----
    Along the segment the potential is the upper envelope of ``n`` lines in ``t``,

    .. math::

        u(a + t (b - a)) = \\max_i\\ \\alpha_i + \\beta_i t, \\qquad
        \\alpha_i = \\langle a, y_i\\rangle + h_i, \\quad \\beta_i = \\langle b - a, y_i\\rangle ,

    so the cells met are the lines of the envelope over ``[0, 1]`` and the crossings its
    breakpoints, exactly, in any dimension: sort the lines by slope (``O(n log n)``) and keep the
    envelope with one stack pass (``O(n)``, the convex-hull trick), after one ``O(n d)`` product.
    Computed in the result's frame (:mod:`geomot.frame`): ``alpha`` and ``beta`` are the frame
    scores of the frame end points, O(1) wherever the problem lies.

    Example
    -------
    >>> import geomot
    >>> two = geomot.shapes.two_half_disks()
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]),
    ...                       geomot.shapes.sample(two, 600, seed=0), tol=1e-6)
    >>> c = geomot.segment_crossings(res, [0.5, 0.5], [1.5, 0.5])
    >>> int(c.singular.sum()), bool(abs(c.points[c.singular][0, 0] - 1.0) < 0.1)   # near the midline
    (1, True)
    """
    from ._gaps import criterion_of

    y = np.asarray(res.y, dtype=np.float64)
    n, d = y.shape
    a = as_vector(a, "a", n=d)
    b = as_vector(b, "b", n=d)
    if np.array_equal(a, b):
        raise ValueError(f"a and b must be distinct points, both are {a.tolist()}")
    frame = res.frame
    yf = frame.to_targets(y)
    hf = np.asarray(res.frame_weights, dtype=np.float64) - 0.5 * np.einsum("ij,ij->i", yf, yf)
    af, bf = frame.to_source(a[None])[0], frame.to_source(b[None])[0]
    alpha = yf @ af + hf
    beta = yf @ (bf - af)
    cells, t = _walk(alpha, beta)
    pairs = np.column_stack([cells[:-1], cells[1:]]).astype(np.int64)
    jumps = np.linalg.norm(y[pairs[:, 0]] - y[pairs[:, 1]], axis=1) if len(t) else np.zeros(0)
    if len(t):
        flag = np.asarray(criterion_of(res, singular).classify(pairs), dtype=bool)
    else:
        flag = np.zeros(0, dtype=bool)
    points = a + t[:, None] * (b - a)
    return SegmentCrossings(a=readonly(a), b=readonly(b), t=readonly(t), pairs=readonly(pairs),
                            cells=readonly(cells.astype(np.int64)), jumps=readonly(jumps),
                            singular=readonly(flag), points=readonly(points.reshape(-1, d)))
