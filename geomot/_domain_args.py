"""Argument checks of the domain constructors and queries, on top of ``geomot._validate``.

What the shared helpers of ``geomot._validate`` (which refuse complex input with a
``TypeError``) do not say: points have exactly the domain's dimension, and the measures a
domain is built from are representable: its volume and total mass must be finite normal
float64 numbers, at least the smallest normal ``2.2e-308``

.. math:: \\texttt{tiny} \\le |\\Omega|,\\ \\mu(\\Omega) < \\infty,

so a box of side ``1e-200`` (volume ``1e-400`` = 0.0) or ``1e200`` (``inf``) is refused up front
with the argument named, while any size whose measures are representable works (the kinds
compute at unit size; see ``geomot._decompose``).  Every check raises ``ValueError`` naming the
argument, ``TypeError`` for a value of the wrong type.
"""

from __future__ import annotations

import numpy as np

from ._tol import tol
from ._validate import as_points

__all__ = ["real_points", "check_measure", "check_resolved", "TINY"]

#: the smallest positive normal float64: measures below it have lost their precision
TINY = float(np.finfo(np.float64).tiny)


def real_points(x, name, dim, single=False):
    """``x`` as a float64 (n, dim) array copy, real and finite.

    ``single=True`` also takes one point given as a 1-D array of length ``dim`` (as
    :meth:`geomot.Domain.contains` does); otherwise ``x`` must be 2-D.
    """
    if not single:
        shape = np.shape(x) if not isinstance(x, np.ndarray) else x.shape
        if len(shape) != 2:
            raise ValueError(f"{name} must be a 2-D (n, {dim}) array of points, got shape {shape}")
    return as_points(x, name, dim=dim, min_rows=0)


def check_measure(value, what, culprit):
    """``ValueError`` unless ``value`` (a volume, a mass) is finite and at least :data:`TINY`.

    ``what`` names the measure ("volume", "total mass"), ``culprit`` the arguments it comes from.
    """
    value = float(value)
    if np.isfinite(value) and value >= TINY:
        return value
    size = "small" if np.isfinite(value) else "large"
    raise ValueError(f"{culprit}: the domain's {what} is {value:.3g} in float64, too {size} to "
                     f"represent (it must lie in [{TINY:.3g}, {np.finfo(np.float64).max:.3g}]); "
                     f"rescale the problem (e.g. to unit size)")


def check_resolved(size, position, culprit):
    """``ValueError`` if a shape of size ``size`` generated at ``position`` would be rounded away.

    The vertices of a generated shape (a disk's polygon, a ball's polytope) are
    :math:`c + r u`; when :math:`r \\le` ``tol.rank`` :math:`|c|` their rounding is more than
    ``eps / tol.rank`` (2e-6) of the size.
    """
    if not size > tol.rank * position:
        raise ValueError(f"{culprit}: the size {size:.3g} is below {tol.rank:g} of the distance "
                         f"{position:.3g} from the origin: its vertices cannot be represented in "
                         f"float64; move the origin closer (translate the problem)")
