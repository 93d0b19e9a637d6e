"""Mode collapse: a continuous map vs the singular-aware piecewise-linear map.

Source: uniform on the unit square; target: six small disks (modes, radius 0.1) on a ring of
radius 0.36.  A smooth map fitted to the transport (:func:`geomot.generate.continuous_map`,
like a neural network) must be continuous, so it generates samples in the gaps between modes;
the piecewise-linear extension that refuses to interpolate across the singular set
(:class:`geomot.PiecewiseLinearMap`) generates none there.  The fractions of generated samples
farther than 0.01 from the support are printed in the titles.

Checked by :func:`compute`: converged; the singular-aware fraction off the support is below 2%
and below the continuous map's fraction.

Example
-------
>>> from geomot.reproduce import mode_collapse
>>> r = mode_collapse.compute(quick=True, n=240)
>>> r.off_aware < 0.02, r.off_aware < r.off_continuous
(True, True)
"""

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from .. import plot as gplot
from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "MODES", "ModeCollapseResult", "compute", "render", "make"]

NAME = "mode-collapse"
DESCRIPTION = "continuous map vs singular-aware map on six modes: samples in the gaps vs none"
SIZES = _common.Sizes(quick=360, publication=3000, minimum=240)
DIM = 2
#: number of modes of the target
MODES = 6
#: distance beyond which a generated sample counts as off the support
_OFF_TOL = 0.01


@dataclass(frozen=True)
class ModeCollapseResult:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
    support : shapely.MultiPolygon
        The union of the modes.
    continuous, aware : (m, 2) float64
        Samples of the continuous map and of the singular-aware piecewise-linear map.
    off_continuous, off_aware : float
        Their fractions farther than 0.01 from the support.
    n : int
    quick : bool
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    support: object = field(repr=False)
    continuous: np.ndarray = field(repr=False)
    aware: np.ndarray = field(repr=False)
    off_continuous: float
    off_aware: float
    n: int
    quick: bool


def compute(quick=False, n=None, seed=0, progress=False):
    """Solve, sample both generators and check that the singular-aware one stays on the modes.

    Parameters
    ----------
    quick : bool
        ``SIZES.quick`` targets and solver tolerance 1e-6 (else ``SIZES.publication`` and 1e-9).
    n : int, optional
        Number of targets instead of the default; at least ``SIZES.minimum``.
    seed : None, int or numpy.random.Generator
        Seeds the targets and both generators' samples.
    progress : bool
        Show the solver's progress bar.

    Returns
    -------
    ModeCollapseResult

    Raises
    ------
    ValueError
        ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    import geomot
    import shapely
    from ..generate import continuous_map, off_support_fraction

    n = _common.size(NAME, SIZES, n, quick)
    rng = as_rng(seed)
    ang = 2 * np.pi * np.arange(MODES) / MODES
    modes = [shapely.Point(0.5 + 0.36 * np.cos(a), 0.5 + 0.36 * np.sin(a)).buffer(0.1, 48) for a in ang]
    support = shapely.union_all(modes)
    y = _common.sample_equal(modes, n, rng)
    res = _common.solve(geomot.Domain.box([0.0, 0.0], [1.0, 1.0]), y, progress, quick)
    s = geomot.singular_set(res)
    m = 2000 if quick else 20000
    cont = continuous_map(res).sample(m, seed=rng)
    pl = geomot.PiecewiseLinearMap(res, avoid_singular=True, singular=s).sample(m, seed=rng)
    f_cont = float(off_support_fraction(cont, support, tol=_OFF_TOL))
    f_pl = float(off_support_fraction(pl, support, tol=_OFF_TOL))
    _common.check(f_pl < 0.02, f"singular-aware generation put {100 * f_pl:.1f}% of samples off the support")
    _common.check(f_pl < f_cont, f"continuous map is not worse ({100 * f_cont:.1f}% vs {100 * f_pl:.1f}%)")
    return ModeCollapseResult(res, s, support, cont, pl, f_cont, f_pl, n, bool(quick))


def render(result, out_dir, show=False, progress=False):
    """Draw the map and both generators' samples (off the modes in red).

    Parameters
    ----------
    result : ModeCollapseResult
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
        ``[mode_collapse.png]``.
    """
    import shapely

    out = _common.out_dir(out_dir)
    res, s, support = result.res, result.singular, result.support

    def off(pts):
        return ~shapely.contains_xy(support.buffer(_OFF_TOL), pts[:, 0], pts[:, 1])

    fig = Figure(figsize=(12.6, 4.6), layout="constrained")
    a0, a1, a2 = fig.subplots(1, 3)
    gplot.plot_map(res, ax=a0, kind="color")
    gplot.plot_singular_set(s, ax=a0, color="red", linewidth=2.0, label=False)
    _common.style(a0, "source: cells by target colour,\nsingular set (red)", _common.pad((0, 0, 1, 1)))
    lim = _common.pad(support.bounds, 0.12)
    for ax, pts, f, name in ((a1, result.continuous, result.off_continuous, "continuous map (smooth fit)"),
                             (a2, result.aware, result.off_aware, "singular-aware PL map (AE-OT)")):
        gplot.plot_geometry(support, ax=ax, facecolor="0.92", edgecolor="0.4", linewidth=0.8)
        bad = off(pts)
        gplot.plot_samples(pts[~bad], ax=ax, color="tab:blue", size=1.5, alpha=0.6)
        gplot.plot_samples(pts[bad], ax=ax, color="tab:red", size=3.0, alpha=0.9)
        _common.style(ax, f"{name}\n{100 * f:.1f}% of {len(pts)} samples off the modes (red)", lim)
    fig.suptitle(f"Mode collapse — {MODES} modes (n = {result.n}): a continuous generator fills the gaps, "
                 f"the singular-aware one does not", fontsize=11)
    return [_common.save(fig, out / "mode_collapse.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[mode_collapse.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
