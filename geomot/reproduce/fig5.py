"""Figure 5: unit disk → a region with a hole and notches; Γ0 covers the hole, Γk the notches.

Target: :func:`geomot.shapes.notched_disk` (a disk with three V-notches) with an off-centre
hole (radius 0.3 at ``(0.2, 0.1)``, so that Γ0 is a curve, not a point).  The singular set
splits into components; the subdifferential of one (Γ0) covers the hole, and each notch is
covered by the subdifferential of another (Γk).  Left: the source disk coloured by the map,
with the components; right: the target with the regions their subdifferentials cover.

Checked by :func:`compute`: converged; several components; one component's subdifferential
covers more than half of the hole; every notch is met (over 5% of its area) by the
subdifferential of another component.

Example
-------
>>> from geomot.reproduce import fig5
>>> fig5.SIZES.minimum    # fewer targets do not resolve the three notches
1500
"""

from dataclasses import dataclass, field

import numpy as np

from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "NOTCHES", "Fig5Result", "compute", "render", "make"]

NAME = "fig5"
DESCRIPTION = "disk -> notched disk with a hole: Gamma_0 covers the hole, Gamma_k the notches"
SIZES = _common.Sizes(quick=1500, publication=8000, minimum=1500)
DIM = 2
#: number of notches of the target
NOTCHES = 3


@dataclass(frozen=True)
class Fig5Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
    target : shapely.Polygon
        The notched disk with its hole.
    n : int
    quick : bool
    hole_cover : float
        Fraction of the hole's area covered by the subdifferential of Γ0 (the best component).
    notches_met : tuple of bool
        For each notch, whether another component's subdifferential meets it.
    order : tuple of int
        Components in the article's order: Γ0 (the hole's) first, then the notches'.
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    target: object = field(repr=False)
    n: int
    quick: bool
    hole_cover: float
    notches_met: tuple
    order: tuple


def compute(quick=False, n=None, seed=0, progress=False):
    """Solve, split the singular set and check what each component covers.

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
    Fig5Result

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
    K = NOTCHES
    notched = shapes.notched_disk(radius=1.0, hole_radius=0.2, notches=K, notch_depth=0.45, notch_width=0.6)
    hole = shapely.Point(0.2, 0.1).buffer(0.3, 64)
    target = shapely.Polygon(notched.exterior).difference(hole)
    notches = list(shapely.Point(0.0, 0.0).buffer(1.0, 256).difference(shapely.Polygon(notched.exterior)).geoms)
    notches = [g for g in notches if g.area > 1e-3]
    y = shapes.sample(target, n, seed=rng)
    res = _common.solve(geomot.Domain.disk((0.0, 0.0), 1.0), y, progress, quick)
    s = geomot.singular_set(res)
    _common.check(len(s.components) >= 2, f"expected several singular components, found {len(s.components)}")
    regions = [s.subdifferential(k) for k in range(len(s.components))]
    cover = [r.intersection(hole).area / hole.area for r in regions]
    k_hole = int(np.argmax(cover))
    _common.check(cover[k_hole] > 0.5,
                  f"no singular component covers the hole (best covers {100 * cover[k_hole]:.0f}%)")
    met = [any(r.intersection(g).area > 0.05 * g.area for k, r in enumerate(regions) if k != k_hole)
           for g in notches]
    _common.check(len(notches) == K and all(met), f"only {sum(met)} of {K} notches are covered by a subdifferential")
    # name the component covering the hole Gamma_0 (the article's labels), the notch ones Gamma_1..
    order = (k_hole,) + tuple(k for k in range(len(regions)) if k != k_hole)
    return Fig5Result(res, s, target, n, bool(quick), float(cover[k_hole]), tuple(met), order)


def render(result, out_dir, show=False, progress=False):
    """Draw the map with the components Γk and the target with what each ∂u(Γk) covers.

    Parameters
    ----------
    result : Fig5Result
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
        ``[fig5_notched_disk.png]``.
    """
    out = _common.out_dir(out_dir)
    fig = _common.two_panel_map(result.res, result.singular, result.target,
                                f"Fig. 5 — disk → region with a hole and {NOTCHES} notches (n = {result.n}): "
                                f"Γ0 covers {100 * result.hole_cover:.0f}% of the hole, Γk the notches",
                                _common.pad((-1, -1, 1, 1)), _common.pad(result.target.bounds), arrows=False,
                                order=list(result.order))
    return [_common.save(fig, out / "fig5_notched_disk.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig5_notched_disk.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
