"""Tolerances in one place, scaled to the problem.

Every geometric tolerance in geomot is relative: it is multiplied by the size of the
problem (the bounding-box diagonal of the domain and targets) before use.  Change them
here, never inline.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["tol", "Tolerances", "scale_of"]


@dataclass(frozen=True)
class Tolerances:
    #: relative size below which a facet (edge / face) of a clipped cell is treated as empty
    facet: float = 1e-12
    #: relative size below which a clipped cell volume is treated as empty
    volume: float = 1e-14
    #: relative tolerance for "a point satisfies a half-space" inside the clipping kernels
    clip: float = 1e-13
    #: relative size below which two targets are duplicates
    duplicate: float = 1e-12
    #: relative distance (of the bounding-box diagonal) within which a point set lying near a
    #: k-dimensional affine subspace has affine dimension k (:func:`geomot.lifting.affine_frame`)
    rank: float = 1e-10
    #: ... or within this many roundings of its coordinates (eps * sqrt(d) * max |y|): a thinner
    #: set is one that rounding alone moved off the subspace (e.g. collinear, then translated)
    rounding: float = 4.0
    #: relative volume (|det| over the product of the edge lengths) below which a simplex or a
    #: ridge is flat
    flat: float = 1e-10
    #: the singular set's support criterion: a segment [y_i, y_j] is singular when it leaves the
    #: target support by more than this many local target spacings (max distance to the support)
    support_depth: float = 1.0
    #: ... probed at points this many local spacings apart (the depth is found to within half)
    support_probe: float = 0.25
    #: largest world score |<x, y>| (and inverse of the smallest cell scale |x| |y|) of a problem
    #: geomot accepts: beyond it world heights, values and volumes leave float64
    #: (:class:`geomot.frame.Frame`; a scale, not a relative tolerance)
    score_range: float = 1e250
    #: relative power excess (of the squared distances it is made of) below which a point ties
    #: with the orthosphere of a simplex (:mod:`geomot._tiles`): far above qhull's roundoff, so
    #: that every tile sees the same ties
    tie: float = 1e-9
    #: interior power cells integrated from the triangulation (:mod:`geomot._dual`): the least
    #: shape |det| / l_max^d of the simplices around the cell (slivers are clipped instead) ...
    dual_shape: float = 1e-3
    #: ... the largest rounding estimate of their power centres, relative to the cell's diameter
    #: (measured: the integrals then agree with the clipping's to ~1e-13, tiny cells excluded) ...
    dual_error: float = 1e-12
    #: ... and the least distance (relative to the problem's size) of the power centres to the
    #: boundary of their box piece (cells nearer to it are clipped: the box may cut them)
    dual_margin: float = 1e-10


tol = Tolerances()


def scale_of(*arrays):
    """Largest extent (bounding-box diagonal) of the given point arrays, at least 1e-300."""
    lo = None
    hi = None
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        a = a.reshape(-1, a.shape[-1])
        alo, ahi = a.min(axis=0), a.max(axis=0)
        lo = alo if lo is None else np.minimum(lo, alo)
        hi = ahi if hi is None else np.maximum(hi, ahi)
    if lo is None:
        return 1.0
    return max(float(np.linalg.norm(hi - lo)), 1e-300)
