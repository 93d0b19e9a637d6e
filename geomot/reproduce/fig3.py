"""Figure 3: uniform rectangle ``[0,2] x [0,1]`` → uniform on two half-disks.

The target is :func:`geomot.shapes.two_half_disks` (radius 0.6, gap 0.4, symmetric about
``x = 1``), sampled with ``n/2`` points in each half.  The map sends the left half of the
rectangle to the left half-disk and the right half to the right one: the singular set is the
midline ``x = 1``, and its subdifferential covers the gap between the flat sides.

Checked by :func:`compute`: converged; singular segments within a cell's width
(``max(0.05, 1.5 sqrt(2/n))``) of ``x = 1``; their total length covers at least 80% of the midline.

Example
-------
>>> from geomot.reproduce import fig3
>>> r = fig3.compute(quick=True, n=200)
>>> r.deviation < r.tolerance, r.length >= 0.8
(True, True)
"""

from dataclasses import dataclass, field

import numpy as np

from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig3Result", "compute", "render", "make"]

NAME = "fig3"
DESCRIPTION = "rectangle -> two half-disks: map, power diagram, singular set on the midline"
SIZES = _common.Sizes(quick=400, publication=4000, minimum=200)
DIM = 2


@dataclass(frozen=True)
class Fig3Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
    target : shapely.MultiPolygon
        The two half-disks.
    n : int
    quick : bool
    deviation : float
        ``max |x - 1|`` over the singular segments.
    tolerance : float
        A cell's width, ``max(0.05, 1.5 sqrt(2/n))``: the bound ``deviation`` is checked against.
    length : float
        Total length of the singular set (the midline is 1 long).
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    target: object = field(repr=False)
    n: int
    quick: bool
    deviation: float
    tolerance: float
    length: float


def compute(quick=False, n=None, seed=0, progress=False):
    """Solve, find the singular set and check it.

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
    Fig3Result

    Raises
    ------
    ValueError
        ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    import geomot
    from .. import shapes

    n = _common.size(NAME, SIZES, n, quick)
    rng = as_rng(seed)
    target = shapes.two_half_disks(radius=0.6, gap=0.4, center=(1.0, 0.5))
    y = _common.sample_equal(list(target.geoms), n, rng)
    res = _common.solve(geomot.Domain.box([0.0, 0.0], [2.0, 1.0]), y, progress, quick)
    s = geomot.singular_set(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _common.check(len(seg) > 0, "the singular set is empty")
    dev = float(np.abs(seg[..., 0] - 1.0).max())
    tol = float(max(0.05, 1.5 * np.sqrt(2.0 / n)))  # a cell's width
    _common.check(dev < tol, f"singular set not on the midline x = 1: max |x - 1| = {dev:.3f} > {tol:.3f}")
    length = _common.singular_length(s)
    _common.check(length >= 0.8, f"singular set covers only {length:.2f} of the midline")
    return Fig3Result(res, s, target, n, bool(quick), dev, tol, length)


def render(result, out_dir, show=False, progress=False):
    """Draw the map, the power diagram and the targets with what the subdifferentials cover.

    Parameters
    ----------
    result : Fig3Result
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
        ``[fig3_two_half_disks.png]``.
    """
    out = _common.out_dir(out_dir)
    fig = _common.two_panel_map(result.res, result.singular, result.target,
                                f"Fig. 3 — rectangle → two half-disks (n = {result.n}): "
                                f"singular set on x = 1 (max |x − 1| = {result.deviation:.3f})",
                                _common.pad((0, 0, 2, 1)), _common.pad(result.target.bounds))
    return [_common.save(fig, out / "fig3_two_half_disks.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig3_two_half_disks.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
