"""The warning classes of geomot, and where their reports point.

One class per kind of report, shared by every method: :class:`ConvergenceWarning` for a solver
that stopped without meeting its stopping test.  :func:`_external_stacklevel` makes a warning
point at the caller's code rather than at geomot's own frames (as pandas' ``find_stack_level``
does), however deep inside the package it is raised.
"""

import os
import sys

__all__ = ["ConvergenceWarning"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ConvergenceWarning(UserWarning, RuntimeWarning):
    """A solver stopped without meeting its stopping test.

    Warned (never raised) by every method of :func:`geomot.solve_ot` -- damped Newton and
    Monte Carlo alike -- and by :func:`geomot.montecarlo.solve_montecarlo`; the result then
    has ``converged=False`` and the last good iterate.

    It derives from both :class:`UserWarning` (what the Newton solver warned with) and
    :class:`RuntimeWarning` (what the Monte-Carlo solver warned with), so that filters
    written for either keep working.

    Example
    -------
    >>> import warnings, geomot
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = geomot.solve_ot(dom, [[0.1, 0.1], [0.2, 0.9], [0.9, 0.4]], max_iter=1, tol=1e-12)
    >>> res.converged, [w.category.__name__ for w in caught]
    (False, ['ConvergenceWarning'])
    """


def _external_stacklevel():
    """``stacklevel`` for :func:`warnings.warn`, called from geomot, naming the first frame
    outside the package (the user's call); 1 names the function that calls ``warnings.warn``."""
    frame = sys._getframe(1)  # the function about to warn
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        frame = frame.f_back
        level += 1
    return level
