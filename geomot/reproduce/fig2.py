"""Figure 2: the graph of the Brenier potential for a two-cluster target, and its ridge.

Source: uniform on the square ``[-1, 1]^2``; target: ``n`` points, half in each of two disks of
radius 0.6 centred at ``(±1.6, 0)``.  The graph of

.. math:: u(x) = \\max_i \\langle x, y_i \\rangle + h_i

is a convex polyhedral surface (one facet per cell); the facets of the two clusters meet along
a sharp ridge whose projection, the midline ``x = 0``, is the singular set.  Rendered with
PyVista (off-screen), with the flat power diagram and the singular set drawn below the surface;
plus a matplotlib top view.

Checked by :func:`compute`: the solve converged, the singular set lies within a cell's width
(``max(0.1, 1.5 sqrt(4/n))``) of ``x = 0`` and is at least 1.6 long (80% of the square's height).

Example
-------
>>> from geomot.reproduce import fig2
>>> r = fig2.compute(quick=True, n=100)
>>> r.deviation < r.tolerance, r.length >= 1.6
(True, True)
"""

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from .. import plot as gplot
from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig2Result", "compute", "render", "make"]

NAME = "fig2"
DESCRIPTION = ("graph of the Brenier potential for a two-cluster target: the ridge and its projection, the "
               "singular set (PyVista)")
SIZES = _common.Sizes(quick=300, publication=2000, minimum=100)
DIM = 2


@dataclass(frozen=True)
class Fig2Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
    n : int
        Number of targets.
    quick : bool
        Quick (small) rendering sizes.
    deviation : float
        ``max |x|`` over the singular segments (0 on the midline).
    tolerance : float
        A cell's width, ``max(0.1, 1.5 sqrt(4/n))``: the bound ``deviation`` is checked against.
    length : float
        Total length of the singular set.
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    n: int
    quick: bool
    deviation: float
    tolerance: float
    length: float


def compute(quick=False, n=None, seed=0, progress=False):
    """Solve, find the ridge and check it.

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
    Fig2Result

    Raises
    ------
    ValueError
        ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    import geomot
    import shapely

    n = _common.size(NAME, SIZES, n, quick)
    rng = as_rng(seed)
    clusters = [shapely.Point(-1.6, 0.0).buffer(0.6, 64), shapely.Point(1.6, 0.0).buffer(0.6, 64)]
    y = _common.sample_equal(clusters, n, rng)
    res = _common.solve(geomot.Domain.box([-1.0, -1.0], [1.0, 1.0]), y, progress, quick)
    s = geomot.singular_set(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _common.check(len(seg) > 0, "no ridge: the singular set is empty")
    tol = float(max(0.1, 1.5 * np.sqrt(4.0 / n)))  # a cell's width
    dev = float(np.abs(seg[..., 0]).max())
    _common.check(dev < tol, f"ridge not on the midline: max |x| = {dev:.3f} > {tol:.3f}")
    length = _common.singular_length(s)
    _common.check(length >= 1.6, f"ridge too short: length {length:.3f} < 1.6")
    return Fig2Result(res, s, n, bool(quick), dev, tol, length)


def render(result, out_dir, show=False, progress=False):
    """Draw the graph of the potential (PyVista, off-screen) and its top view (matplotlib).

    Parameters
    ----------
    result : Fig2Result
        What :func:`compute` returned.
    out_dir : str or pathlib.Path
        Created if missing.
    show : bool
        Also open the 3D scene in an interactive window (needs a display).
    progress : bool
        Unused (nothing long to render); every recipe's ``render`` takes it.

    Returns
    -------
    list of pathlib.Path
        ``fig2_potential.png``, ``fig2_projection.png``.
    """
    from .. import plot3d

    out = _common.out_dir(out_dir)
    res, s, quick = result.res, result.singular, result.quick
    size = (900, 700) if quick else (2000, 1500)

    def scene(p):
        plot3d.add_potential(p, res, singular=s, ridge_width=5.0 if quick else 8.0)
        p.add_text("graph of the Brenier potential u (ridge in red)\nand its projection: power diagram + singular set",
                   font_size=9 if quick else 14, color="black")
        p.camera_position = "iso"
        p.camera.azimuth = 25
        p.camera.elevation = -5
        p.reset_camera()
        p.camera.zoom(1.1)
        return p

    paths = [plot3d.screenshot(scene(plot3d.make_plotter(window_size=size, off_screen=True)),
                               out / "fig2_potential.png")]
    _common.show(scene, show)

    fig = Figure(figsize=(9.6, 4.2), layout="constrained")
    a1, a2 = fig.subplots(1, 2, width_ratios=[1.0, 1.4])
    gplot.plot_map(res, ax=a1, kind="color", edgecolor="0.3", linewidth=0.15)
    gplot.plot_singular_set(s, ax=a1, linewidth=3)
    _common.style(a1, "projection of the graph: the cells,\nand the ridge = singular set", _common.pad((-1, -1, 1, 1)))
    gplot.plot_samples(res.y, ax=a2, color=gplot.target_colors(res.y), size=5, alpha=1.0)
    gplot.plot_subdifferentials(s, ax=a2)
    _common.style(a2, "two-cluster target; the ridge's subdifferential\ncovers the gap", None)
    fig.suptitle(f"Fig. 2 — Brenier potential of a two-cluster target (n = {result.n})", fontsize=11)
    paths.append(_common.save(fig, out / "fig2_projection.png", _common.dpi(quick)))
    return paths


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig2_potential.png, fig2_projection.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
