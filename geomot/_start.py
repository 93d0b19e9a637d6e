"""Start heuristics of the Newton solver: heights whose cells are all (or likely) non-empty.

Each returns heights ``h`` (n,) from the targets ``y`` (n, d) (and the domain); the solver
takes the first whose power diagram has no empty cell, in the order :func:`_voronoi_start`,
:func:`_bbox_start`, :func:`_shrunk_start` (the last always works).  The heights of a
similarity image of the targets are :func:`_similarity_heights`.

The domain may be a :class:`~geomot.Domain` (world coordinates and heights) or a
:class:`~geomot.frame.FramedDomain` with ``y`` the frame targets (frame heights :math:`h'`):
the frame problem is a transport problem of its own (cells
:math:`\\arg\\max_i \\langle x', y'_i\\rangle + h'_i`), and the solver builds its starts there.
Only ``bounds`` and ``inscribed_ball()`` are used.
"""

import numpy as np


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
    """The Voronoi diagram of the targets: :math:`h_i = -|y_i|^2/2`."""
    return -0.5 * np.einsum("ij,ij->i", y, y)
