"""Figure 6: solid ball → solid Stanford bunny in 3D: singular surfaces, the bunny's creases, the morph.

Source: the uniform unit ball; target: ``n`` uniform points inside the bunny
(:func:`geomot.shapes.bunny`, rescaled into the unit ball), or inside any watertight ``mesh``
(a ``trimesh.Trimesh``, or a mesh file, rescaled into the unit ball).  The bunny is not convex
(ears, neck, legs, tail), so the Brenier potential has creases.  The target shape is known, so
the singular set is found with the support criterion (``singular_set(res, support=mesh)``: a
facet is singular when the segment between its two targets leaves the bunny by more than one
local target spacing; no threshold).  Drawn: the singular surfaces inside the translucent ball,
coloured per piece Γ0, Γ1, ...; on the bunny, what each piece's subdifferential covers -- the
parts of the segments ``[y_i, y_j]`` outside the solid, which bridge its creases, and the
surface faces they touch, in the piece's colour (:func:`geomot.plot3d.add_crease_regions`).
The article's figure shows these creases on the bunny's surface: between the ears, at the neck,
under the belly and at the tail.  The morph is the displacement interpolation: each cell's mass
moves on a straight line from its centroid to its target, rendered off-screen as frames and an
animated GIF.

Sizes: the creases between the ears and the back, at the neck, under the chin and at the belly
show from the quick size ``n = 1500`` (7 s in all); they grow continuous, and the tail's
appears, at the publication size ``n = 30000`` (solve about 40 s on two shared cores, the whole
figure 1 min 11 s, 1.1 GB).

Checked by :func:`compute`: converged; the singular set is non-empty (polygons in 3D), with the
support criterion; the morph's last frame is the target set.

Example
-------
>>> from geomot.reproduce import fig6
>>> fig6.DIM, fig6.SIZES.quick, fig6.SIZES.publication
(3, 1500, 30000)
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .._colors import target_colors
from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig6Result", "compute", "render", "make"]

NAME = "fig6"
DESCRIPTION = ("solid ball -> solid Stanford bunny (3D): singular surfaces, the bunny's creases and the morph "
               "(PNG + GIF)")
SIZES = _common.Sizes(quick=1500, publication=30000, minimum=1000)
DIM = 3


@dataclass(frozen=True)
class Fig6Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    res : geomot.OTResult
    singular : geomot.SingularSet
        With the support criterion (the target mesh as support).
    mesh : trimesh.Trimesh
        The watertight target mesh, in the unit ball.
    frames : list of (n, 3) float64
        The morph: the masses' positions at evenly spaced times in ``[0, 1]`` (12 quick, else 40).
    n : int
    quick : bool
    """

    res: object = field(repr=False)
    singular: object = field(repr=False)
    mesh: object = field(repr=False)
    frames: list = field(repr=False)
    n: int
    quick: bool


def _bunny_or_explain():
    from .. import shapes

    try:
        return shapes.bunny()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"fig6 needs the solid Stanford bunny: {exc}. The other figures do not need it."
        ) from None


def compute(quick=False, n=None, seed=0, progress=False, mesh=None):
    """Solve ball → mesh, find the singular surfaces, build the morph and check them.

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
    mesh : trimesh.Trimesh or str or pathlib.Path, optional
        A watertight target instead of the bunny (a file is rescaled into the unit ball).

    Returns
    -------
    Fig6Result

    Raises
    ------
    FileNotFoundError
        The bunny file is missing (the message says where it looked).
    ValueError
        The mesh is not watertight, or ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    import geomot

    from .. import plot3d, shapes

    if mesh is None:
        target = _bunny_or_explain()
    elif isinstance(mesh, (str, Path)):
        target = shapes.bunny(path=mesh)  # rescaled into the unit ball; checks watertightness
    else:
        target = mesh
    if not getattr(target, "is_watertight", False):
        raise ValueError("the target mesh is not watertight: it does not bound a solid")
    n = _common.size(NAME, SIZES, n, quick)
    rng = as_rng(seed)
    y = shapes.sample(target, n, seed=rng)
    res = _common.solve(geomot.Domain.ball((0.0, 0.0, 0.0), 1.0), y, progress, quick)
    s = geomot.singular_set(res, support=target)
    _common.check(s.criterion == "support", "the singular set was not found with the support criterion")
    _common.check(len(s.polygons) > 0, "no singular surface found (the bunny is not convex)")
    frames = plot3d.morph_frames(res, np.linspace(0.0, 1.0, 12 if quick else 40))
    _common.check(np.allclose(frames[-1], res.y), "the morph does not end at the targets")
    return Fig6Result(res, s, target, frames, n, bool(quick))


#: camera (position, focal point, view up) of the views of the bunny's creases: the bunny stands
#: on -y with its head towards -x, so +z and -z are its two sides
CREASE_VIEWS = {
    "left side": [(0.0, 0.0, 4.0), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)],
    "right side": [(0.0, 0.0, -4.0), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)],
    "from behind, above": [(2.2, 2.6, 1.2), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)],
    "from the front, below": [(-2.0, -2.2, 2.2), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)],
}


def render(result, out_dir, show=False, progress=False):
    """Render the singular surfaces, the bunny's creases and the morph (PyVista, off-screen).

    Parameters
    ----------
    result : Fig6Result
        What :func:`compute` returned.
    out_dir : str or pathlib.Path
        Created if missing.
    show : bool
        Also open the singular-surface scene in an interactive window (needs a display).
    progress : bool
        Show a progress bar while the morph's frames are rendered.

    Returns
    -------
    list of pathlib.Path
        ``fig6_singular_surfaces.png`` (the singular surfaces in the ball, and the bunny with
        the creases each piece covers, in the piece's colour), ``fig6_creases.png`` (the bunny's
        creases from four sides), ``fig6_morph.png`` (a strip of frames), ``fig6_morph.gif``.
    """
    import pyvista as pv

    from .. import plot3d

    out = _common.out_dir(out_dir)
    res, s, bunny, frames, quick, n = result.res, result.singular, result.mesh, result.frames, result.quick, result.n
    colors = target_colors(res.y)
    size = (1000, 800) if quick else (2000, 1600)
    shift = (2.3, 0.0, 0.0)

    def scene(p):
        p.add_mesh(pv.Sphere(radius=1.0, theta_resolution=48, phi_resolution=48), color="lightgrey", opacity=0.12)
        plot3d.add_singular_surfaces(p, s, opacity=0.9)
        plot3d.add_crease_regions(p, s, bunny, offset=shift, line_width=1.0 if quick else 1.5)
        p.add_text(f"ball -> bunny (n = {n}): the singular surfaces in the ball ({len(s.polygons)} facets, "
                   f"{len(s.components)} pieces), and on the bunny what each piece's subdifferential covers:\n"
                   f"its creases (the segments [y_i, y_j] outside the bunny, and the surface they meet), "
                   f"in the piece's colour", font_size=8 if quick else 13, color="black")
        p.camera_position = "xy"
        p.camera.elevation = 20
        p.camera.azimuth = -20
        p.reset_camera()
        p.camera.zoom(1.5)
        return p

    paths = [plot3d.screenshot(scene(plot3d.make_plotter(window_size=size, off_screen=True)),
                               out / "fig6_singular_surfaces.png")]
    _common.show(scene, show)

    p = plot3d.make_plotter(window_size=(1200, 1000) if quick else (2400, 2000), off_screen=True, shape=(2, 2))
    for k, (name, camera) in enumerate(CREASE_VIEWS.items()):
        p.subplot(k // 2, k % 2)
        plot3d.add_crease_regions(p, s, bunny, line_width=1.0 if quick else 1.5)
        title = name if k else f"the bunny's creases (n = {n}), one colour per piece of the singular set\n{name}"
        p.add_text(title, font_size=9 if quick else 14, color="black")
        p.camera_position = camera
        p.reset_camera()
        p.camera.zoom(1.3)
    paths.append(plot3d.screenshot(p, out / "fig6_creases.png"))

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
    paths.append(_common.save(fig, out / "fig6_morph.png", _common.dpi(quick)))
    paths.append(plot3d.write_gif(images, out / "fig6_morph.gif", duration_ms=90))
    return paths


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False, mesh=None):
    """:func:`compute` then :func:`render`: ``[fig6_singular_surfaces.png, fig6_creases.png, fig6_morph.png,
    fig6_morph.gif]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress, mesh=mesh), out_dir, show=show,
                  progress=progress)
