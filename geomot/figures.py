"""The figures of Lei-Guo-An-Qi-Luo-Yau-Gu, *Mode Collapse and Regularity of Optimal Transportation
Maps* (arXiv:1902.02934), reproduced with geomot.

Each figure is a function ``make_<name>(out_dir, quick=False, n=None, seed=0, progress=False)``
that solves the transport problem, **checks a numeric property the article states** (raising
``RuntimeError`` if it fails, before anything is drawn), renders PNG files (and a GIF for fig6)
into ``out_dir`` and returns their paths.  ``quick=True`` uses small sizes (each figure in well
under a minute on a laptop); the default sizes give publication-quality pictures.

The registry :data:`FIGURES` maps names (``fig2`` ... ``fig6``, ``mode-collapse``) to
:class:`FigureSpec`; :func:`reproduce` runs several of them (``geomot reproduce``).

Example
-------
>>> from geomot import figures
>>> sorted(figures.FIGURES)
['fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'mode-collapse']
>>> paths = figures.make_fig3("out", quick=True)      # doctest: +SKIP
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from matplotlib.figure import Figure

from . import plot as gplot
from ._colors import target_colors
from ._validate import as_positive_int, as_rng

__all__ = [
    "FigureSpec",
    "FIGURES",
    "list_figures",
    "reproduce",
    "make_fig2",
    "make_fig3",
    "make_fig4",
    "make_fig5",
    "make_fig6",
    "make_mode_collapse",
]


@dataclass(frozen=True)
class FigureSpec:
    """One reproducible figure: its name, a one-line description and its maker."""

    name: str
    description: str
    make: Callable
    dim: int = 2

    @property
    def sizes(self):
        """Default numbers of targets ``(quick, publication)``."""
        return _SIZES[self.name][:2]

    @property
    def min_n(self):
        """The smallest ``n`` that resolves what the figure shows (smaller ``n`` is refused)."""
        return _SIZES[self.name][2]


# ============================================================================ helpers
def _out_dir(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


#: number of targets per figure: (quick, publication, smallest that resolves the figure's claim)
_SIZES = {
    "fig2": (300, 2000, 100),
    "fig3": (400, 4000, 200),
    "fig4": (500, 4000, 300),
    "fig5": (1500, 8000, 1500),
    "fig6": (1500, 8000, 1000),
    "mode-collapse": (360, 3000, 240),
}


def _size(name, n, quick):
    quick_n, full_n, min_n = _SIZES[name]
    if n is None:
        return quick_n if quick else full_n
    n = as_positive_int(n, "n", minimum=1)
    if n < min_n:
        raise ValueError(f"n must be at least {min_n} for {name} (fewer targets do not resolve what the figure "
                         f"shows), got {n}")
    return n


def _dpi(quick):
    return 90 if quick else 200


def _check(cond, message):
    """The figure's numeric claim; fail loudly before rendering a wrong picture."""
    if not cond:
        raise RuntimeError(f"figure check failed: {message}")


def _solve(domain, y, progress, quick, nu=None):
    import geomot

    res = geomot.solve_ot(domain, y, nu, tol=1e-6 if quick else 1e-9, progress=progress)
    _check(bool(res.converged), f"the transport solve did not converge ({len(y)} targets)")
    return res


def _singular(res):
    import geomot

    return geomot.singular_set(res)


def _sample_equal(parts, n, rng):
    """n points: an equal share uniformly inside each part (exact symmetry of the masses)."""
    from . import shapes

    k = len(parts)
    counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return np.vstack([shapes.sample(p, c, seed=rng) for p, c in zip(parts, counts)])


def _save(fig, path, dpi):
    fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
    return Path(path)


def _style(ax, title, lim=None):
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    if lim is not None:
        ax.set_xlim(lim[0], lim[2])
        ax.set_ylim(lim[1], lim[3])
    ax.tick_params(labelsize=7)


def _pad(bounds, frac=0.05):
    b = np.asarray(bounds, dtype=np.float64).ravel()
    w = max(b[2] - b[0], b[3] - b[1]) * frac
    return (b[0] - w, b[1] - w, b[2] + w, b[3] + w)


def _show(scene, show):
    """Open an interactive PyVista window with the same scene, when asked and a display exists."""
    from . import plot3d

    if show and plot3d.has_display():  # pragma: no cover - needs a display
        scene(plot3d.make_plotter(off_screen=False)).show()


def _singular_length(s):
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    return float(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1).sum()) if len(seg) else 0.0


def _two_panel_map(res, s, target_shape, title, lim_src, lim_tgt, arrows=True, order=None):
    """Source (map colours + singular set), power diagram (+arrows), target (+subdifferentials)."""
    ncol = 3 if arrows else 2
    fig = Figure(figsize=(4.2 * ncol, 4.4), layout="constrained")
    axes = fig.subplots(1, ncol)
    ax = axes[0]
    gplot.plot_map(res, ax=ax, kind="color")
    gplot.plot_singular_set(s, ax=ax, linewidth=2.5, order=order)
    gplot.plot_domain(res.domain, ax=ax)
    _style(ax, "map T: cells coloured by their target,\nsingular set Γ0, Γ1, ...", lim_src)
    if len(s.pairs):
        ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    if arrows:
        ax = axes[1]
        gplot.plot_map(res, ax=ax, kind="arrows", max_arrows=250, target_size=2.0)
        gplot.plot_singular_set(s, ax=ax, linewidth=2.0, label=False)
        _style(ax, "power diagram, centroid → target arrows", None)
    ax = axes[-1]
    if target_shape is not None:
        gplot.plot_geometry(target_shape, ax=ax, facecolor="0.93", edgecolor="0.4", linewidth=0.8)
    gplot.plot_subdifferentials(s, ax=ax, alpha=0.3, order=order)
    gplot.plot_samples(res.y, ax=ax, color=gplot.target_colors(res.y), size=5.0, alpha=1.0)
    _style(ax, "targets, and what the subdifferentials\nof the singular set cover", lim_tgt)
    if len(s.pairs):
        ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    fig.suptitle(title, fontsize=11)
    return fig


# ============================================================================ fig2
def make_fig2(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """Figure 2: the graph of the Brenier potential for a two-cluster target, and its ridge.

    Source: uniform on the square ``[-1, 1]^2``; target: ``n`` points, half in each of two disks
    centred at ``(±1.6, 0)``.  The graph of ``u`` is a convex polyhedral surface (one facet per
    cell); the facets of the two clusters meet along a sharp ridge whose projection, the midline
    ``x = 0``, is the singular set.  Rendered with PyVista (off-screen), with the flat power
    diagram and the singular set drawn below the surface; plus a matplotlib top view.

    Checked: the solve converged, the singular set lies within a cell's width
    (``max(0.1, 1.5 sqrt(4/n))``) of ``x = 0`` and is at least 80% as long as the square's height.

    Returns
    -------
    list of Path
        ``fig2_potential.png`` (3D) and ``fig2_projection.png`` (top view).
    """
    import geomot
    import shapely

    from . import plot3d

    out = _out_dir(out_dir)
    n = _size("fig2", n, quick)
    rng = as_rng(seed)
    clusters = [shapely.Point(-1.6, 0.0).buffer(0.6, 64), shapely.Point(1.6, 0.0).buffer(0.6, 64)]
    y = _sample_equal(clusters, n, rng)
    dom = geomot.Domain.box([-1.0, -1.0], [1.0, 1.0])
    res = _solve(dom, y, progress, quick)
    s = _singular(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _check(len(seg) > 0, "no ridge: the singular set is empty")
    tol = max(0.1, 1.5 * np.sqrt(4.0 / n))  # a cell's width
    dev = float(np.abs(seg[..., 0]).max())
    _check(dev < tol, f"ridge not on the midline: max |x| = {dev:.3f} > {tol:.3f}")
    _check(_singular_length(s) >= 1.6, f"ridge too short: length {_singular_length(s):.3f} < 1.6")

    paths = []
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

    paths.append(plot3d.screenshot(scene(plot3d.make_plotter(window_size=size, off_screen=True)),
                                   out / "fig2_potential.png"))
    _show(scene, show)

    fig = Figure(figsize=(9.6, 4.2), layout="constrained")
    a1, a2 = fig.subplots(1, 2, width_ratios=[1.0, 1.4])
    gplot.plot_map(res, ax=a1, kind="color", edgecolor="0.3", linewidth=0.15)
    gplot.plot_singular_set(s, ax=a1, linewidth=3)
    _style(a1, "projection of the graph: the cells,\nand the ridge = singular set", _pad((-1, -1, 1, 1)))
    gplot.plot_samples(y, ax=a2, color=gplot.target_colors(y), size=5, alpha=1.0)
    gplot.plot_subdifferentials(s, ax=a2)
    _style(a2, "two-cluster target; the ridge's subdifferential\ncovers the gap", None)
    fig.suptitle(f"Fig. 2 — Brenier potential of a two-cluster target (n = {n})", fontsize=11)
    paths.append(_save(fig, out / "fig2_projection.png", _dpi(quick)))
    return paths


# ============================================================================ fig3
def make_fig3(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """Figure 3: uniform rectangle ``[0,2] x [0,1]`` → uniform on two half-disks.

    The target is ``geomot.shapes.two_half_disks`` (radius 0.6, gap 0.4, symmetric about
    ``x = 1``), sampled with ``n/2`` points in each half.  The map sends the left half of the
    rectangle to the left half-disk and the right half to the right one: the singular set is
    the midline ``x = 1``, and its subdifferential covers the gap between the flat sides.

    Checked: converged; singular segments within a cell's width (``max(0.05, 1.5 sqrt(2/n))``)
    of ``x = 1``; their total length covers at least 80% of the midline.

    Returns
    -------
    list of Path
        ``fig3_two_half_disks.png``.
    """
    import geomot
    from . import shapes

    out = _out_dir(out_dir)
    n = _size("fig3", n, quick)
    rng = as_rng(seed)
    target = shapes.two_half_disks(radius=0.6, gap=0.4, center=(1.0, 0.5))
    y = _sample_equal(list(target.geoms), n, rng)
    res = _solve(geomot.Domain.box([0.0, 0.0], [2.0, 1.0]), y, progress, quick)
    s = _singular(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _check(len(seg) > 0, "the singular set is empty")
    dev = float(np.abs(seg[..., 0] - 1.0).max())
    tol = max(0.05, 1.5 * np.sqrt(2.0 / n))  # a cell's width
    _check(dev < tol, f"singular set not on the midline x = 1: max |x - 1| = {dev:.3f} > {tol:.3f}")
    _check(_singular_length(s) >= 0.8, f"singular set covers only {_singular_length(s):.2f} of the midline")
    fig = _two_panel_map(res, s, target, f"Fig. 3 — rectangle → two half-disks (n = {n}): "
                         f"singular set on x = 1 (max |x − 1| = {dev:.3f})",
                         _pad((0, 0, 2, 1)), _pad(target.bounds))
    return [_save(fig, out / "fig3_two_half_disks.png", _dpi(quick))]


# ============================================================================ fig4
def make_fig4(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """Figure 4: uniform rectangle ``[0,2] x [0,1]`` → uniform on a dumbbell.

    Target: ``geomot.shapes.dumbbell`` (two disks joined by a bar), symmetric about ``x = 1``.
    The singular set is two segments on the midline, above and below the preimage of the bar;
    between them the map stays continuous (the bar's cells are neighbours with nearby targets).

    Checked: converged; every singular segment within a cell's width of ``x = 1``; the singular set
    has points both above and below ``y = 0.5`` and none in a band around the bar's preimage.

    Returns
    -------
    list of Path
        ``fig4_dumbbell.png``.
    """
    import geomot
    from . import shapes

    out = _out_dir(out_dir)
    n = _size("fig4", n, quick)
    rng = as_rng(seed)
    target = shapes.dumbbell(radius=0.45, separation=1.5, bar_width=0.12, center=(1.0, 0.5))
    left = target.intersection(_rect(-10, -10, 1.0, 10))
    right = target.intersection(_rect(1.0, -10, 10, 10))
    y = _sample_equal([left, right], n, rng)
    res = _solve(geomot.Domain.box([0.0, 0.0], [2.0, 1.0]), y, progress, quick)
    s = _singular(res)
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    _check(len(seg) > 0, "the singular set is empty")
    dev = float(np.abs(seg[..., 0] - 1.0).max())
    tol = max(0.05, 1.5 * np.sqrt(2.0 / n))  # a cell's width
    _check(dev < tol, f"singular set not on the midline x = 1: max |x - 1| = {dev:.3f} > {tol:.3f}")
    ys = seg[..., 1]
    _check(bool(np.any(ys.max(axis=1) > 0.6)) and bool(np.any(ys.min(axis=1) < 0.4)),
           "singular set is not on both sides of the bar")
    # the continuous part: a gap in the singular set around the bar's preimage
    lo_top = float(ys.min(axis=1)[ys.min(axis=1) >= 0.5 - 1e-9].min(initial=np.inf))
    hi_bot = float(ys.max(axis=1)[ys.max(axis=1) <= 0.5 + 1e-9].max(initial=-np.inf))
    crossing = np.any((ys.min(axis=1) < 0.5) & (ys.max(axis=1) > 0.5))
    gap = lo_top - hi_bot
    _check(not crossing and gap > 0.02, f"the map is not continuous across the bar (gap {gap:.3f})")
    fig = _two_panel_map(res, s, target, f"Fig. 4 — rectangle → dumbbell (n = {n}): two singular segments "
                         f"on x = 1, continuous across the bar (gap {gap:.2f})",
                         _pad((0, 0, 2, 1)), _pad(target.bounds))
    return [_save(fig, out / "fig4_dumbbell.png", _dpi(quick))]


def _rect(x0, y0, x1, y1):
    """A shapely rectangle (splits a shape into its left and right halves)."""
    import shapely

    return shapely.box(x0, y0, x1, y1)


# ============================================================================ fig5
def make_fig5(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """Figure 5: unit disk → a region with a hole and notches; Γ0 covers the hole, Γk the notches.

    Target: ``geomot.shapes.notched_disk`` (a disk with a central hole and three V-notches).
    The singular set splits into components; the subdifferential of one (Γ0) covers the hole,
    and each notch is covered by the subdifferential of another (Γk).  Left: the source disk
    coloured by the map, with the components; right: the target with the regions their
    subdifferentials cover.

    The hole is off-centre (radius 0.3 at ``(0.2, 0.1)``) so that Γ0 is a curve, not a point.

    Checked: converged; one component's subdifferential covers more than half of the hole;
    every notch is met by the subdifferential of another component.

    Returns
    -------
    list of Path
        ``fig5_notched_disk.png``.
    """
    import geomot
    import shapely
    from . import shapes

    out = _out_dir(out_dir)
    n = _size("fig5", n, quick)
    rng = as_rng(seed)
    K = 3
    notched = shapes.notched_disk(radius=1.0, hole_radius=0.2, notches=K, notch_depth=0.45, notch_width=0.6)
    hole = shapely.Point(0.2, 0.1).buffer(0.3, 64)
    target = shapely.Polygon(notched.exterior).difference(hole)
    notches = list(shapely.Point(0.0, 0.0).buffer(1.0, 256).difference(shapely.Polygon(notched.exterior)).geoms)
    notches = [g for g in notches if g.area > 1e-3]
    y = shapes.sample(target, n, seed=rng)
    res = _solve(geomot.Domain.disk((0.0, 0.0), 1.0), y, progress, quick)
    s = _singular(res)
    _check(len(s.components) >= 2, f"expected several singular components, found {len(s.components)}")
    regions = [s.subdifferential(k) for k in range(len(s.components))]
    cover = [r.intersection(hole).area / hole.area for r in regions]
    k_hole = int(np.argmax(cover))
    _check(cover[k_hole] > 0.5, f"no singular component covers the hole (best covers {100 * cover[k_hole]:.0f}%)")
    met = [any(r.intersection(g).area > 0.05 * g.area for k, r in enumerate(regions) if k != k_hole)
           for g in notches]
    _check(len(notches) == K and all(met), f"only {sum(met)} of {K} notches are covered by a subdifferential")
    # name the component covering the hole Gamma_0 (the article's labels), the notch ones Gamma_1..
    order = [k_hole] + [k for k in range(len(regions)) if k != k_hole]
    fig = _two_panel_map(res, s, target, f"Fig. 5 — disk → region with a hole and {K} notches (n = {n}): "
                         f"Γ0 covers {100 * cover[k_hole]:.0f}% of the hole, Γk the notches",
                         _pad((-1, -1, 1, 1)), _pad(target.bounds), arrows=False, order=order)
    return [_save(fig, out / "fig5_notched_disk.png", _dpi(quick))]


# ============================================================================ fig6
def _bunny_or_explain():
    from . import shapes

    try:
        return shapes.bunny()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"fig6 needs the solid Stanford bunny: {exc}. The other figures do not need it."
        ) from None


def make_fig6(out_dir, quick=False, n=None, seed=0, progress=False, show=False, mesh=None):
    """Figure 6: solid ball → solid Stanford bunny in 3D: singular surfaces and the morph.

    Source: the uniform unit ball; target: ``n`` uniform points inside the bunny
    (``geomot.shapes.bunny()``, rescaled into the unit ball), or inside any watertight ``mesh``
    (a ``trimesh.Trimesh``, or a mesh file, rescaled into the unit ball).
    The bunny is not convex (ears, neck, legs), so the Brenier potential has creases: the
    singular surfaces (shared facets of adjacent cells whose targets jump across empty space),
    rendered inside the translucent ball.  The morph is the displacement interpolation: each
    cell's mass moves on a straight line from its centroid to its target, rendered off-screen as
    frames and an animated GIF.

    Checked: converged; the singular set is non-empty (polygons in 3D); the morph's last frame
    is the target set.

    Raises
    ------
    FileNotFoundError
        The bunny file is missing (the message says where it looked).
    ValueError
        The mesh is not watertight.

    Returns
    -------
    list of Path
        ``fig6_singular_surfaces.png``, ``fig6_morph.png`` (a strip of frames) and
        ``fig6_morph.gif``.
    """
    import geomot
    import pyvista as pv

    from . import plot3d, shapes

    if mesh is None:
        bunny = _bunny_or_explain()
    elif isinstance(mesh, (str, Path)):
        bunny = shapes.bunny(path=mesh)  # rescaled into the unit ball; checks watertightness
    else:
        bunny = mesh
    if not getattr(bunny, "is_watertight", False):
        raise ValueError("the target mesh is not watertight: it does not bound a solid")
    out = _out_dir(out_dir)
    n = _size("fig6", n, quick)
    rng = as_rng(seed)
    y = shapes.sample(bunny, n, seed=rng)
    res = _solve(geomot.Domain.ball((0.0, 0.0, 0.0), 1.0), y, progress, quick)
    s = _singular(res)
    _check(len(s.polygons) > 0, "no singular surface found (the bunny is not convex)")
    frames = plot3d.morph_frames(res, np.linspace(0.0, 1.0, 12 if quick else 40))
    _check(np.allclose(frames[-1], res.y), "the morph does not end at the targets")
    colors = target_colors(res.y)
    size = (1000, 800) if quick else (2000, 1600)
    paths = []

    def scene(p):
        p.add_mesh(pv.Sphere(radius=1.0, theta_resolution=48, phi_resolution=48), color="lightgrey", opacity=0.12)
        plot3d.add_singular_surfaces(p, s, opacity=0.9)
        shift = np.array([2.3, 0.0, 0.0])
        vb = np.asarray(bunny.vertices) + shift
        faces = np.column_stack([np.full(len(bunny.faces), 3), np.asarray(bunny.faces)]).ravel()
        p.add_mesh(pv.PolyData(vb, faces=faces), color="tan", opacity=0.25)
        plot3d.add_point_cloud(p, res.y + shift, colors=colors, point_size=5.0 if quick else 8.0)
        p.add_text(f"ball -> bunny (n = {n}): singular surfaces in the ball ({len(s.polygons)} facets, "
                   f"{len(s.components)} components)\nright: the target points inside the bunny",
                   font_size=9 if quick else 14, color="black")
        p.camera_position = "xy"
        p.camera.elevation = 20
        p.camera.azimuth = -20
        p.reset_camera()
        p.camera.zoom(1.5)
        return p

    paths.append(plot3d.screenshot(scene(plot3d.make_plotter(window_size=size, off_screen=True)),
                                   out / "fig6_singular_surfaces.png"))
    _show(scene, show)

    lo = np.nanmin(np.vstack(frames), axis=0)
    hi = np.nanmax(np.vstack(frames), axis=0)
    bounds = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    fsize = (360, 360) if quick else (720, 720)
    images = plot3d.render_frames(frames, colors=colors, window_size=fsize, point_size=4.0 if quick else 7.0,
                                  bounds=bounds, progress=progress, camera_position="xy", zoom=1.5)
    pick = np.linspace(0, len(images) - 1, 5).round().astype(int)
    strip = np.concatenate([images[i] for i in pick], axis=1)
    fig = Figure(figsize=(2.4 * len(pick), 2.8))
    ax = fig.subplots()
    ax.imshow(strip)
    ax.set_axis_off()
    ts = np.linspace(0.0, 1.0, len(images))[pick]
    ax.set_title("displacement interpolation ball → bunny: t = " + ", ".join(f"{t:.2f}" for t in ts), fontsize=10)
    paths.append(_save(fig, out / "fig6_morph.png", _dpi(quick)))
    paths.append(plot3d.write_gif(images, out / "fig6_morph.gif", duration_ms=90))
    return paths


# ============================================================================ mode collapse
def make_mode_collapse(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """Mode collapse: a continuous map vs the singular-aware piecewise-linear map.

    Source: uniform on the unit square; target: six small disks (modes) on a ring.  A smooth
    map fitted to the transport (``geomot.generate.continuous_map``, like a neural network)
    must be continuous, so it generates samples in the gaps between modes; the
    piecewise-linear extension that refuses to interpolate across the singular set
    (``geomot.PiecewiseLinearMap``) generates none there.  The fractions of generated samples
    off the support are printed in the titles.

    Checked: converged; the singular-aware fraction off the support is below 2% and below the
    continuous map's fraction.

    Returns
    -------
    list of Path
        ``mode_collapse.png``.
    """
    import geomot
    import shapely
    from .generate import continuous_map, off_support_fraction

    out = _out_dir(out_dir)
    n = _size("mode-collapse", n, quick)
    rng = as_rng(seed)
    K = 6
    ang = 2 * np.pi * np.arange(K) / K
    modes = [shapely.Point(0.5 + 0.36 * np.cos(a), 0.5 + 0.36 * np.sin(a)).buffer(0.1, 48) for a in ang]
    support = shapely.union_all(modes)
    y = _sample_equal(modes, n, rng)
    dom = geomot.Domain.box([0.0, 0.0], [1.0, 1.0])
    res = _solve(dom, y, progress, quick)
    s = _singular(res)
    m = 2000 if quick else 20000
    cont = continuous_map(res).sample(m, seed=rng)
    pl = geomot.PiecewiseLinearMap(res, avoid_singular=True, singular=s).sample(m, seed=rng)
    tol = 0.01
    f_cont = float(off_support_fraction(cont, support, tol=tol))
    f_pl = float(off_support_fraction(pl, support, tol=tol))
    _check(f_pl < 0.02, f"singular-aware generation put {100 * f_pl:.1f}% of samples off the support")
    _check(f_pl < f_cont, f"continuous map is not worse ({100 * f_cont:.1f}% vs {100 * f_pl:.1f}%)")

    def off(pts):
        inside = shapely.contains_xy(support.buffer(tol), pts[:, 0], pts[:, 1])
        return ~inside

    fig = Figure(figsize=(12.6, 4.6), layout="constrained")
    a0, a1, a2 = fig.subplots(1, 3)
    gplot.plot_map(res, ax=a0, kind="color")
    gplot.plot_singular_set(s, ax=a0, color="red", linewidth=2.0, label=False)
    _style(a0, "source: cells by target colour,\nsingular set (red)", _pad((0, 0, 1, 1)))
    lim = _pad(support.bounds, 0.12)
    for ax, pts, f, name in ((a1, cont, f_cont, "continuous map (smooth fit)"),
                             (a2, pl, f_pl, "singular-aware PL map (AE-OT)")):
        gplot.plot_geometry(support, ax=ax, facecolor="0.92", edgecolor="0.4", linewidth=0.8)
        bad = off(pts)
        gplot.plot_samples(pts[~bad], ax=ax, color="tab:blue", size=1.5, alpha=0.6)
        gplot.plot_samples(pts[bad], ax=ax, color="tab:red", size=3.0, alpha=0.9)
        _style(ax, f"{name}\n{100 * f:.1f}% of {m} samples off the modes (red)", lim)
    fig.suptitle(f"Mode collapse — {K} modes (n = {n}): a continuous generator fills the gaps, "
                 f"the singular-aware one does not", fontsize=11)
    return [_save(fig, out / "mode_collapse.png", _dpi(quick))]


# ============================================================================ registry
FIGURES = {
    "fig2": FigureSpec("fig2", "graph of the Brenier potential for a two-cluster target: the ridge and its "
                       "projection, the singular set (PyVista)", make_fig2),
    "fig3": FigureSpec("fig3", "rectangle -> two half-disks: map, power diagram, singular set on the midline",
                       make_fig3),
    "fig4": FigureSpec("fig4", "rectangle -> dumbbell: two singular segments on the midline, continuous across "
                       "the bar", make_fig4),
    "fig5": FigureSpec("fig5", "disk -> notched disk with a hole: Gamma_0 covers the hole, Gamma_k the notches",
                       make_fig5),
    "fig6": FigureSpec("fig6", "solid ball -> solid Stanford bunny (3D): singular surfaces and the morph "
                       "(PNG + GIF)", make_fig6, dim=3),
    "mode-collapse": FigureSpec("mode-collapse", "continuous map vs singular-aware map on six modes: samples in "
                                "the gaps vs none", make_mode_collapse),
}


def list_figures():
    """``[(name, description), ...]`` of the reproducible figures, in order.

    Example
    -------
    >>> [name for name, _ in list_figures()][:2]
    ['fig2', 'fig3']
    """
    return [(f.name, f.description) for f in FIGURES.values()]


def reproduce(names, out_dir="figures", quick=False, n=None, seed=0, progress=False, show=False):
    """Make several figures; ``"all"`` means every one.

    Parameters
    ----------
    names : str or list of str
        Figure names (see :func:`list_figures`) or ``"all"``.
    out_dir : str or Path
    quick, n, seed, progress, show :
        Passed to each maker.

    Returns
    -------
    dict
        name -> list of Path.

    Raises
    ------
    ValueError
        An unknown figure name (the message lists the known ones).

    Example
    -------
    >>> reproduce(["fig3"], "out", quick=True)       # doctest: +SKIP
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if "all" in names:
        names = list(FIGURES)
    unknown = [x for x in names if x not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure name(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(FIGURES)} (or 'all')")
    out = {}
    for name in dict.fromkeys(names):
        out[name] = FIGURES[name].make(out_dir, quick=quick, n=n, seed=seed, progress=progress, show=show)
    return out
