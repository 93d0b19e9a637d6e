"""Figure 4: uniform rectangle ``[0,2] x [0,1]`` → uniform on a dumbbell.

Target: :func:`geomot.shapes.dumbbell` (two disks joined by a bar), symmetric about ``x = 1``.
The singular set is two segments on the midline, above and below the preimage of the bar;
between them the map stays continuous (the bar's cells are neighbours with nearby targets).

Checked by :func:`compute`: converged; every singular segment within a cell's width of
``x = 1``; the singular set has points both above and below ``y = 0.5`` and none in a band
around the bar's preimage (a gap of more than 0.02 between the two segments).

Example
-------
>>> from geomot.reproduce import fig4
>>> r = fig4.compute(quick=True, n=300)
>>> r.deviation < r.tolerance, r.gap > 0.02
(True, True)
"""

from dataclasses import dataclass, field

import numpy as np

from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig4Result", "compute", "render", "make"]

NAME = "fig4"
DESCRIPTION = "rectangle -> dumbbell: two singular segments on the midline, continuous across the bar"
SIZES = _common.Sizes(quick=500, publication=4000, minimum=300)
DIM = 2


@dataclass(frozen=True)
class Fig4Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
    target : shapely.Polygon
        The dumbbell.
    n : int
    quick : bool
    deviation : float
        ``max |x - 1|`` over the singular segments.
    tolerance : float
        A cell's width, ``max(0.05, 1.5 sqrt(2/n))``.
    gap : float
        Height of the band around ``y = 0.5`` with no singular point: where the map is continuous.
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    target: object = field(repr=False)
    n: int
    quick: bool
    deviation: float
    tolerance: float
    gap: float


def compute(quick=False, n=None, seed=0, progress=False):
    """Solve, find the two singular segments and check them.

    Parameters
    ----------
    quick : bool
        ``SIZES.quick`` targets and solver tolerance 1e-6 (else ``SIZES.publication`` and 1e-9).
    n : int, optional
        Number of targets instead of the default; at least ``SIZES.minimum``.
    seed : None, int or numpy.random.Generator
        Seeds the targets.
    progress : bool
        Show the solver's progress bar.

    Returns
    -------
    Fig4Result

    Raises
    ------
    ValueError
        ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    import geomot
    import shapely
    from .. import shapes

    n = _common.size(NAME, SIZES, n, quick)
    rng = as_rng(seed)
    target = shapes.dumbbell(radius=0.45, separation=1.5, bar_width=0.12, center=(1.0, 0.5))
    left = target.intersection(shapely.box(-10, -10, 1.0, 10))
    right = target.intersection(shapely.box(1.0, -10, 10, 10))
    y = _common.sample_equal([left, right], n, rng)
    res = _common.solve(geomot.Domain.box([0.0, 0.0], [2.0, 1.0]), y, progress, quick)
    s = geomot.singular_set(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _common.check(len(seg) > 0, "the singular set is empty")
    dev = float(np.abs(seg[..., 0] - 1.0).max())
    tol = float(max(0.05, 1.5 * np.sqrt(2.0 / n)))  # a cell's width
    _common.check(dev < tol, f"singular set not on the midline x = 1: max |x - 1| = {dev:.3f} > {tol:.3f}")
    ys = seg[..., 1]
    _common.check(bool(np.any(ys.max(axis=1) > 0.6)) and bool(np.any(ys.min(axis=1) < 0.4)),
                  "singular set is not on both sides of the bar")
    # the continuous part: a gap in the singular set around the bar's preimage
    lo_top = float(ys.min(axis=1)[ys.min(axis=1) >= 0.5 - 1e-9].min(initial=np.inf))
    hi_bot = float(ys.max(axis=1)[ys.max(axis=1) <= 0.5 + 1e-9].max(initial=-np.inf))
    crossing = np.any((ys.min(axis=1) < 0.5) & (ys.max(axis=1) > 0.5))
    gap = lo_top - hi_bot
    _common.check(not crossing and gap > 0.02, f"the map is not continuous across the bar (gap {gap:.3f})")
    return Fig4Result(res, s, target, n, bool(quick), dev, tol, gap)


def render(result, out_dir, show=False, progress=False):
    """Draw the map, the power diagram and the dumbbell with what the subdifferentials cover.

    Parameters
    ----------
    result : Fig4Result
        What :func:`compute` returned.
    out_dir : str or pathlib.Path
        Created if missing.
    show : bool
        Unused (no 3D scene); every recipe's ``render`` takes it.
    progress : bool
        Unused (nothing long to render); every recipe's ``render`` takes it.

    Returns
    -------
    list of pathlib.Path
        ``[fig4_dumbbell.png]``.
    """
    out = _common.out_dir(out_dir)
    fig = _common.two_panel_map(result.res, result.singular, result.target,
                                f"Fig. 4 — rectangle → dumbbell (n = {result.n}): two singular segments "
                                f"on x = 1, continuous across the bar (gap {result.gap:.2f})",
                                _common.pad((0, 0, 2, 1)), _common.pad(result.target.bounds))
    return [_common.save(fig, out / "fig4_dumbbell.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig4_dumbbell.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
