"""PyVista renderings: the graph of the Brenier potential, singular surfaces, point clouds, morphs.

Everything renders off-screen when no display is present (``pyvista.OFF_SCREEN``), so the
functions work headless (VTK's EGL/OSMesa render windows).  Builders return ``pyvista`` data sets;
``add_*`` functions draw on a ``pyvista.Plotter`` and return it; :func:`screenshot` and
:func:`write_gif` write images.

Example
-------
>>> import numpy as np
>>> from geomot import plot3d
>>> p = plot3d.make_plotter(window_size=(320, 240))
>>> p = plot3d.add_point_cloud(p, np.random.default_rng(0).random((100, 3)))
>>> plot3d.screenshot(p, "cloud.png").name
'cloud.png'
"""

import numbers
import os
import re
import sys
from pathlib import Path

import numpy as np

from ._colors import component_rgb, target_colors
from ._validate import as_positive_float, as_positive_int, as_real_array

__all__ = [
    "has_display",
    "can_render",
    "make_plotter",
    "screenshot",
    "potential_surface",
    "ridge_lines",
    "add_potential",
    "singular_surfaces",
    "add_singular_surfaces",
    "subdifferential_segments",
    "crease_regions",
    "add_crease_regions",
    "point_cloud",
    "add_point_cloud",
    "morph_frames",
    "render_frames",
    "write_gif",
]


def has_display():
    """``True`` when an interactive window can be opened (a display server on Linux).

    Example
    -------
    >>> isinstance(has_display(), bool)
    True
    """
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


_PROBE = (
    "import pyvista as pv\n"
    "pv.OFF_SCREEN = True\n"
    "p = pv.Plotter(off_screen=True, window_size=(16, 16))\n"
    "p.add_mesh(pv.Sphere())\n"
    "img = p.screenshot(return_img=True)\n"
    "assert img.shape[:2] == (16, 16)\n"
)
_CAN_RENDER = None


def can_render(timeout=120):
    """Whether VTK can render off-screen here, probed once in a subprocess.

    VTK's wheels render headless through EGL or OSMesa, which need the system's Mesa libraries
    (on Debian/Ubuntu: ``libegl1`` and ``libgl1-mesa-dri``, or ``libosmesa6``).  Without them a
    render can abort the process, so the probe runs in a child process.

    Parameters
    ----------
    timeout : float
        Seconds allowed for the probe.

    Returns
    -------
    (bool, str)
        The answer, and the probe's error output when it failed.

    Example
    -------
    >>> ok, why = can_render()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    global _CAN_RENDER
    if _CAN_RENDER is None:
        import subprocess

        try:
            out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout)
            ok = out.returncode == 0
            err = re.sub(r"\x1b\[[0-9;]*m", "", out.stderr).strip().splitlines()
            why = "" if ok else (err or [f"exit status {out.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, why = False, str(exc)
        _CAN_RENDER = (ok, why)
    return _CAN_RENDER


def _check_plotter(plotter, name="plotter"):
    if not (hasattr(plotter, "add_mesh") and hasattr(plotter, "screenshot")):
        raise ValueError(f"{name} must be a pyvista.Plotter (e.g. geomot.plot3d.make_plotter()), "
                         f"got {type(plotter).__name__}")
    return plotter


def _rgb(colors, n, name="colors"):
    """``colors`` as (n, 3) float RGB in [0, 1] (ValueError naming it otherwise)."""
    if isinstance(colors, str):
        raise ValueError(f"{name} must be an ({n}, 3) array of RGB values in [0, 1], got the string "
                         f"{colors!r} (one colour for all: color=...)")
    c = as_real_array(colors, name, f"an ({n}, 3) array of RGB values in [0, 1]")
    if c.shape != (n, 3):
        raise ValueError(f"{name} must have shape ({n}, 3), got {c.shape}")
    if not np.all((c >= 0) & (c <= 1)):
        raise ValueError(f"{name} must hold RGB values in [0, 1] (no NaN)")
    return c


def _finite_float(x, name):
    if isinstance(x, (bool, np.bool_, str)) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {x!r}")
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return v


def _window_size(window_size):
    """``(width, height)``: two integers >= 1 (pixels)."""
    try:
        w, h = window_size
        w, h = as_positive_int(w, "window_size"), as_positive_int(h, "window_size")
    except (TypeError, ValueError):
        raise ValueError(f"window_size must be (width, height) in pixels, two integers >= 1, "
                         f"got {window_size!r}") from None
    return w, h


def _finite_points(x, name, what):
    a = as_real_array(x, name, what)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _pv():
    import pyvista as pv

    if not has_display():
        pv.OFF_SCREEN = True
        try:  # VTK first tries X and logs a harmless warning before falling back to EGL/OSMesa
            from vtkmodules.vtkCommonCore import vtkLogger

            vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)
        except ImportError:  # pragma: no cover
            pass
    return pv


def make_plotter(window_size=(1024, 768), off_screen=None, background="white", shape=(1, 1)):
    """A ``pyvista.Plotter``, off-screen unless a display is present (or as asked).

    Parameters
    ----------
    window_size : (int, int)
        Pixels (width, height) of screenshots.
    off_screen : bool, optional
        Force off-screen rendering; default: off-screen when :func:`has_display` is False.
    background : colour
    shape : (int, int)
        Rows and columns of sub-scenes (``plotter.subplot(r, c)`` selects one).

    Returns
    -------
    pyvista.Plotter

    Example
    -------
    >>> p = make_plotter(window_size=(200, 200), off_screen=True)
    """
    w, h = _window_size(window_size)
    pv = _pv()
    if off_screen is None:
        off_screen = not has_display()
    p = pv.Plotter(off_screen=bool(off_screen), window_size=[w, h],
                   shape=(int(shape[0]), int(shape[1])), border=False)
    p.set_background(background, all_renderers=True)
    return p


def screenshot(plotter, path, close=True):
    """Render ``plotter`` off-screen to a PNG file and return its path.

    Parameters
    ----------
    plotter : pyvista.Plotter
    path : str or Path
        Output PNG (parent folders are created).
    close : bool
        Close the plotter afterwards (frees the render window).

    Returns
    -------
    Path

    Example
    -------
    >>> p = make_plotter(window_size=(200, 200), off_screen=True)
    >>> path = screenshot(p, "empty.png")
    >>> path.stat().st_size > 0
    True
    """
    _check_plotter(plotter)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plotter.screenshot(str(path))
    if close:
        plotter.close()
    return path


# --------------------------------------------------------------------------- potentials
def _potential_of(obj):
    u = getattr(obj, "potential", obj)
    if not hasattr(u, "graph") or not hasattr(u, "y"):
        raise ValueError("expected an OTResult or a BrenierPotential (with .graph and .y)")
    return u


def potential_surface(obj, domain=None, colors=None):
    """The graph of the Brenier potential over a 2D domain, coloured cell by cell.

    Parameters
    ----------
    obj : geomot.OTResult or geomot.BrenierPotential
        With a result the domain defaults to ``res.domain``.
    domain : geomot.Domain, optional
        2D domain (required with a bare potential).
    colors : (n, 3) array_like, optional
        RGB colour of each target's facet; default the position colours of the targets.

    Returns
    -------
    pyvista.PolyData
        The surface ``z = u(x)`` with ``cell_data['target']`` and ``cell_data['rgb']``.

    Example
    -------
    >>> import numpy as np, geomot
    >>> y = np.random.default_rng(0).random((30, 2))
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), y)
    >>> surf = potential_surface(res)
    >>> sorted(set(surf.cell_data["target"])) == list(range(30))
    True
    """
    u = _potential_of(obj)
    if domain is None:
        domain = getattr(obj, "domain", None)
        if domain is None:
            raise ValueError("domain is required when a BrenierPotential is given")
    y = np.asarray(u.y, dtype=np.float64)
    rgb = target_colors(y) if colors is None else _rgb(colors, len(y))
    surf = u.graph(domain)
    owner = np.asarray(surf.cell_data["target"], dtype=np.int64)
    surf.cell_data["rgb"] = (rgb[owner] * 255).astype(np.uint8)
    return surf


def ridge_lines(segments, u=None, z=None):
    """Line segments as a ``pyvista.PolyData``, lifted onto the graph of ``u`` (or to height ``z``).

    Parameters
    ----------
    segments : (k, 2, 2) or (k, 2, 3) array_like
        2D segments (e.g. ``pd.facets().segments`` or ``s.segments``) or 3D ones.
    u : callable, optional
        The potential: 2D segment endpoints get height ``u(x)`` (a ridge of its graph).
    z : float, optional
        Constant height instead (a projection plane).

    Returns
    -------
    pyvista.PolyData

    Example
    -------
    >>> lines = ridge_lines(np.array([[[0, 0], [1, 0]]]), z=0.0)
    >>> lines.n_lines
    1
    """
    pv = _pv()
    seg = _finite_points(segments, "segments", "a (k, 2, 2) or (k, 2, 3) array")
    if u is not None and not callable(u):
        raise ValueError(f"u must be callable (e.g. a BrenierPotential), got {type(u).__name__}")
    if z is not None:
        z = _finite_float(z, "z")
    if seg.size == 0:
        return pv.PolyData()
    if seg.ndim != 3 or seg.shape[1] != 2 or seg.shape[2] not in (2, 3):
        raise ValueError(f"segments must have shape (k, 2, 2) or (k, 2, 3), got {seg.shape}")
    pts = seg.reshape(-1, seg.shape[2])
    if pts.shape[1] == 2:
        if u is not None:
            zz = np.asarray(u(pts), dtype=np.float64)
        else:
            zz = np.full(len(pts), 0.0 if z is None else z)
        pts = np.column_stack([pts, zz])
    k = seg.shape[0]
    lines = np.column_stack([np.full(k, 2), np.arange(2 * k).reshape(k, 2)]).ravel()
    return pv.PolyData(pts, lines=lines)


def add_potential(plotter, res, singular=None, show_edges=True, projection=True, z_scale=None,
                  ridge_width=6.0, edge_width=1.0):
    """Draw the potential's graph, its cell ridges, the singular ridges and their projection.

    Parameters
    ----------
    plotter : pyvista.Plotter
    res : geomot.OTResult
        A 2D solve (``res.potential``, ``res.diagram``, ``res.domain``).
    singular : geomot.SingularSet, optional
        Its segments are drawn as thick red ridges on the graph and on the projection plane.
    show_edges : bool
        Draw all cell boundaries (the regular ridges) as thin dark lines.
    projection : bool
        Also draw, below the surface, the flat power diagram (the projection of the graph) with
        the singular set on it.
    z_scale : float, optional
        Vertical exaggeration; default makes the height range half the domain's width.
    ridge_width, edge_width : float
        Line widths of the singular ridges and of the regular ones.

    Returns
    -------
    pyvista.Plotter

    Example
    -------
    >>> import numpy as np, geomot
    >>> from geomot import shapes
    >>> y = shapes.sample(shapes.two_half_disks(), 200, seed=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y)
    >>> p = add_potential(make_plotter(window_size=(200, 200)), res, geomot.singular_set(res))
    >>> len(p.actors) > 0
    True
    """
    _check_plotter(plotter)
    if not all(hasattr(res, a) for a in ("potential", "diagram", "domain")):
        raise ValueError(f"res must be a geomot.OTResult (with .potential, .diagram, .domain), "
                         f"got {type(res).__name__}")
    if singular is not None:
        if not hasattr(singular, "segments"):
            raise ValueError(f"singular must be a geomot.SingularSet, got {type(singular).__name__}")
        if getattr(singular, "dim", 2) != 2:
            raise ValueError(f"singular must be a 2D singular set (ridges of a 2D potential), got "
                             f"{singular.dim}D")
    if z_scale is not None:
        z_scale = as_positive_float(z_scale, "z_scale")
    ridge_width = as_positive_float(ridge_width, "ridge_width")
    edge_width = as_positive_float(edge_width, "edge_width")
    u = res.potential
    surf = potential_surface(res)
    pts = np.asarray(surf.points)
    zmin, zmax = float(pts[:, 2].min()), float(pts[:, 2].max())
    width = float(np.ptp(pts[:, :2], axis=0).max())
    if z_scale is None:
        z_scale = 0.5 * width / (zmax - zmin) if zmax > zmin else 1.0
    gap = 0.25 * width

    def lift(poly, dz=0.0):
        out = poly.copy()
        p = np.asarray(out.points).copy()
        p[:, 2] = (p[:, 2] - zmin) * z_scale + gap + dz
        out.points = p
        return out

    plotter.add_mesh(lift(surf), scalars="rgb", rgb=True, smooth_shading=False, ambient=0.25, diffuse=0.8,
                     specular=0.15)
    if show_edges:
        seg = res.diagram.facets().segments
        if len(seg):
            # lifted a hair above the surface so that the lines are not hidden by z-fighting
            plotter.add_mesh(lift(ridge_lines(seg, u=u), 2e-3 * width), color="black", line_width=edge_width,
                             opacity=0.6)
    sseg = np.zeros((0, 2, 2)) if singular is None else np.asarray(singular.segments).reshape(-1, 2, 2)
    if len(sseg):
        plotter.add_mesh(lift(ridge_lines(sseg, u=u), 4e-3 * width), color=component_rgb(0), line_width=ridge_width,
                         render_lines_as_tubes=True)
    if projection:
        flat = surf.copy()
        p = np.asarray(flat.points).copy()
        p[:, 2] = 0.0
        flat.points = p
        plotter.add_mesh(flat, scalars="rgb", rgb=True, opacity=0.85, lighting=False)
        if len(sseg):
            plotter.add_mesh(ridge_lines(sseg, z=1e-3 * width), color=component_rgb(0), line_width=ridge_width,
                             render_lines_as_tubes=True)
    return plotter


# --------------------------------------------------------------------------- singular surfaces
def singular_surfaces(s):
    """The 3D singular set (``s.polygons``) as one ``pyvista.PolyData`` of polygons.

    Parameters
    ----------
    s : geomot.SingularSet or list of (p, 3) arrays
        A 3D singular set, or its polygons.

    Returns
    -------
    pyvista.PolyData
        Polygonal faces with ``cell_data['component']`` (the index of the component Γk each
        face belongs to, -1 if unknown).

    Example
    -------
    >>> sq = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    >>> singular_surfaces([sq]).n_cells
    1
    """
    pv = _pv()
    if hasattr(s, "polygons") and getattr(s, "dim", 3) != 3:
        raise ValueError(f"singular_surfaces draws 3D singular sets, s is {s.dim}D "
                         f"(2D: geomot.plot.plot_singular_set)")
    src = getattr(s, "polygons", s)
    if isinstance(src, (str, bytes)) or not np.iterable(src):
        raise ValueError(f"s must be a 3D geomot.SingularSet or a list of (p, 3) polygons, got {type(s).__name__}")
    polys = []
    for k, q in enumerate(src):
        q = _finite_points(q, f"polygon {k}", "a (p, 3) array of vertices")
        if q.ndim != 2 or q.shape[1] != 3:
            raise ValueError(f"polygon {k} must be a (p, 3) array of vertices, got shape {q.shape}")
        polys.append(q)
    polys = [q for q in polys if len(q) >= 3]
    if not polys:
        return pv.PolyData()
    comp = np.full(len(polys), -1, dtype=np.int64)
    if hasattr(s, "polygon_pair") and hasattr(s, "components"):
        pair_comp = np.full(len(s.pairs), -1, dtype=np.int64)
        for k, idx in enumerate(s.components):
            pair_comp[np.asarray(idx, dtype=np.int64)] = k
        pp = np.asarray(s.polygon_pair, dtype=np.int64)
        if len(pp) == len(comp):
            comp = pair_comp[pp]
    counts = np.array([len(q) for q in polys])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    faces = np.concatenate([np.concatenate([[c], np.arange(st, st + c)]) for c, st in zip(counts, starts)])
    mesh = pv.PolyData(np.vstack(polys), faces=faces)
    mesh.cell_data["component"] = comp
    return mesh


def add_singular_surfaces(plotter, s, opacity=1.0, by_component=True, show_edges=False):
    """Draw the 3D singular surfaces (creases of the potential), one colour per component.

    Parameters
    ----------
    plotter : pyvista.Plotter
    s : geomot.SingularSet
    opacity : float
    by_component : bool
        Colour faces by component Γ0, Γ1, ... (else all red).
    show_edges : bool

    Returns
    -------
    pyvista.Plotter

    Example
    -------
    >>> import numpy as np, geomot
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(300, 3)) * 0.1 + np.repeat([[0.5, 0.5, 0.2], [0.5, 0.5, 0.8]], 150, axis=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]), y)
    >>> p = add_singular_surfaces(make_plotter(window_size=(200, 200)), geomot.singular_set(res))
    >>> len(p.actors) > 0
    True
    """
    _check_plotter(plotter)
    mesh = singular_surfaces(s)
    if mesh.n_cells == 0:
        return plotter
    if by_component:
        comp = np.asarray(mesh.cell_data["component"])
        rgb = np.array([component_rgb(k) if k >= 0 else (0.5, 0.5, 0.5) for k in comp])
        mesh.cell_data["rgb"] = (rgb * 255).astype(np.uint8)
        plotter.add_mesh(mesh, scalars="rgb", rgb=True, opacity=opacity, show_edges=show_edges)
    else:
        plotter.add_mesh(mesh, color=component_rgb(0), opacity=opacity, show_edges=show_edges)
    return plotter


# --------------------------------------------------------------------------- creases of the target
def _pair_components(s):
    """(k,) component index of each singular pair (-1 if none)."""
    comp = np.full(len(s.pairs), -1, dtype=np.int64)
    for k, idx in enumerate(s.components):
        comp[np.asarray(idx, dtype=np.int64)] = k
    return comp


def _segment_pieces(s, support=None, step=0.25):
    """The singular pairs' segments ``[y_i, y_j]`` cut into pieces ``step`` local spacings long.

    Returns ``(a, b, component)``: the pieces' end points (m, d) and the component of their
    pair; with ``support``, only the pieces whose midpoint lies outside it (where the discrete
    subdifferential crosses the gap, hole or crease of the target).
    """
    y = np.asarray(s.y, dtype=np.float64)
    pr = np.asarray(s.pairs, dtype=np.int64).reshape(-1, 2)
    d = y.shape[1]
    if len(pr) == 0:
        return np.zeros((0, d)), np.zeros((0, d)), np.zeros(0, dtype=np.int64)
    ell = np.asarray(s.local_scale, dtype=np.float64)
    lmax = np.maximum(ell[pr[:, 0]], ell[pr[:, 1]])
    length = np.linalg.norm(y[pr[:, 1]] - y[pr[:, 0]], axis=1)
    m = np.maximum(np.ceil(length / (step * lmax)).astype(np.int64), 1)
    owner = np.repeat(np.arange(len(pr)), m)
    first = np.repeat(np.cumsum(m) - m, m)
    k = np.arange(owner.size) - first
    t0, t1 = k / m[owner], (k + 1) / m[owner]
    yi, dy = y[pr[owner, 0]], y[pr[owner, 1]] - y[pr[owner, 0]]
    a, b = yi + t0[:, None] * dy, yi + t1[:, None] * dy
    comp = _pair_components(s)[owner]
    if support is not None:
        from ._support import as_support

        keep = ~as_support(support, d).contains(0.5 * (a + b))
        a, b, comp = a[keep], b[keep], comp[keep]
    return a, b, comp


def subdifferential_segments(s, support=None):
    """The discrete subdifferentials ``[y_i, y_j]`` of the singular pairs, as lines in target space.

    At a point of the facet ``W_i | W_j`` the subdifferential of ``u`` is the segment
    ``[y_i, y_j]``: across a singular facet it bridges a gap of the target support.

    Parameters
    ----------
    s : geomot.SingularSet
        2D or 3D (2D lines get z = 0).
    support : shapely geometry, watertight trimesh.Trimesh or geomot.Domain, optional
        The target support: keep only the parts of the segments outside it (what the
        subdifferentials cover: the gaps, holes and creases of the target).

    Returns
    -------
    pyvista.PolyData
        Line pieces (a quarter local spacing long) with ``cell_data['component']``.

    Example
    -------
    >>> import numpy as np, geomot, trimesh
    >>> rng = np.random.default_rng(0)
    >>> balls = trimesh.util.concatenate([trimesh.creation.icosphere(2, 0.3).apply_translation(c)
    ...                                   for c in ([0.5, 0.5, 0.15], [0.5, 0.5, 0.85])])
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]),
    ...                       geomot.shapes.sample(balls, 300, seed=0))
    >>> s = geomot.singular_set(res, support=balls)
    >>> lines = subdifferential_segments(s, support=balls)
    >>> bool(lines.n_lines > 0 and np.abs(lines.points[:, 2] - 0.5).max() < 0.25)   # in the gap
    True
    """
    pv = _pv()
    a, b, comp = _segment_pieces(s, support)
    if len(a) == 0:
        return pv.PolyData()
    if a.shape[1] == 2:
        a, b = np.column_stack([a, np.zeros(len(a))]), np.column_stack([b, np.zeros(len(b))])
    k = len(a)
    pts = np.empty((2 * k, 3))
    pts[0::2], pts[1::2] = a, b
    lines = np.column_stack([np.full(k, 2), np.arange(2 * k).reshape(k, 2)]).ravel()
    out = pv.PolyData(pts, lines=lines)
    out.cell_data["component"] = comp
    return out


def crease_regions(s, mesh, radius=None):
    """The target's surface, each face labelled by the piece of the singular set that covers it.

    A singular pair's subdifferential ``[y_i, y_j]`` leaves the solid target through its
    surface, on both sides of a gap (a crease: between the ears of the bunny, under its belly,
    at its neck and tail).  A face is labelled ``k`` when the part outside the solid of a
    segment of component ``Gamma_k`` passes within ``radius`` of its centroid: the faces of
    component ``k`` are the walls of the crease that its subdifferential bridges.

    Parameters
    ----------
    s : geomot.SingularSet
        A 3D singular set (e.g. ``singular_set(res, support=mesh)``).
    mesh : trimesh.Trimesh
        The watertight target surface.
    radius : float, optional
        Default: the median local target spacing of the singular pairs.

    Returns
    -------
    pyvista.PolyData
        The mesh with ``cell_data['component']`` (-1: no piece), pieces nearer wins.

    Example
    -------
    >>> import numpy as np, geomot, trimesh
    >>> balls = trimesh.util.concatenate([trimesh.creation.icosphere(2, 0.3).apply_translation(c)
    ...                                   for c in ([0.5, 0.5, 0.15], [0.5, 0.5, 0.85])])
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]),
    ...                       geomot.shapes.sample(balls, 300, seed=0))
    >>> surf = crease_regions(geomot.singular_set(res, support=balls), balls)
    >>> lab = surf.cell_data["component"]
    >>> z = surf.cell_centers().points[:, 2]
    >>> bool(np.all(np.abs(z[lab == 0] - 0.5) < 0.35))   # on the two hemispheres facing each other
    True
    """
    import trimesh
    from scipy.spatial import cKDTree

    pv = _pv()
    if not isinstance(mesh, trimesh.Trimesh):
        raise ValueError(f"mesh must be a trimesh.Trimesh, got {type(mesh).__name__}")
    if getattr(s, "dim", None) != 3:
        raise ValueError("crease_regions needs a 3D singular set")
    a, b, comp = _segment_pieces(s, mesh)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    out = pv.PolyData(np.asarray(mesh.vertices, dtype=np.float64),
                      faces=np.column_stack([np.full(len(faces), 3), faces]).ravel())
    label = np.full(len(faces), -1, dtype=np.int64)
    if len(a):
        if radius is None:
            pr = np.asarray(s.pairs, dtype=np.int64)
            radius = float(np.median(np.asarray(s.local_scale)[pr]))
        pts = np.vstack([a, b])
        dist, idx = cKDTree(pts).query(np.asarray(mesh.triangles_center), distance_upper_bound=float(radius))
        hit = np.isfinite(dist)
        label[hit] = np.concatenate([comp, comp])[idx[hit]]
    out.cell_data["component"] = label
    return out


def add_crease_regions(plotter, s, mesh, segments=True, offset=(0.0, 0.0, 0.0), base_color=(0.86, 0.78, 0.64),
                       opacity=1.0, line_width=1.5):
    """Draw the target surface with its creases coloured per piece, and the gap-crossing segments.

    Parameters
    ----------
    plotter : pyvista.Plotter
    s : geomot.SingularSet
        3D.
    mesh : trimesh.Trimesh
        The watertight target surface.
    segments : bool
        Also draw the parts of the subdifferentials ``[y_i, y_j]`` outside the solid (thin lines
        across the creases, in the piece's colour).
    offset : (3,) float
        Translation applied to everything drawn (to place the target next to the source).
    base_color : colour
        Colour of the faces no piece covers.
    opacity : float
    line_width : float

    Returns
    -------
    pyvista.Plotter

    Example
    -------
    >>> import numpy as np, geomot, trimesh
    >>> balls = trimesh.util.concatenate([trimesh.creation.icosphere(2, 0.3).apply_translation(c)
    ...                                   for c in ([0.5, 0.5, 0.15], [0.5, 0.5, 0.85])])
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]),
    ...                       geomot.shapes.sample(balls, 300, seed=0))
    >>> p = add_crease_regions(make_plotter(window_size=(200, 200)),
    ...                        geomot.singular_set(res, support=balls), balls)
    >>> len(p.actors)
    2
    """
    shift = np.asarray(offset, dtype=np.float64).reshape(3)
    surf = crease_regions(s, mesh)
    surf.points = np.asarray(surf.points) + shift
    lab = np.asarray(surf.cell_data["component"])
    base = np.asarray(_color_rgb(base_color))
    rgb = np.array([component_rgb(k) for k in range(max(int(lab.max()) + 1, 0))] + [tuple(base)])
    surf.cell_data["rgb"] = (rgb[np.where(lab >= 0, lab, len(rgb) - 1)] * 255).astype(np.uint8)
    plotter.add_mesh(surf, scalars="rgb", rgb=True, opacity=opacity, smooth_shading=True)
    if segments:
        lines = subdifferential_segments(s, support=mesh)
        if lines.n_cells:
            lines.points = np.asarray(lines.points) + shift
            comp = np.asarray(lines.cell_data["component"])
            lrgb = np.array([component_rgb(k) if k >= 0 else (0.5, 0.5, 0.5) for k in range(int(comp.max()) + 1)])
            lines.cell_data["rgb"] = (lrgb[comp] * 255).astype(np.uint8)
            plotter.add_mesh(lines, scalars="rgb", rgb=True, line_width=line_width)
    return plotter


def _color_rgb(color):
    """A colour name or triple as an RGB triple in [0, 1]."""
    import pyvista as pv

    return tuple(float(c) for c in pv.Color(color).float_rgb)


# --------------------------------------------------------------------------- point clouds
def point_cloud(x, colors=None):
    """Points as a ``pyvista.PolyData`` (2D points get z = 0; rows with NaN are dropped).

    Parameters
    ----------
    x : (n, 2) or (n, 3) array_like
    colors : (n, 3) array_like, optional
        RGB in [0, 1], stored as ``point_data['rgb']``.

    Returns
    -------
    pyvista.PolyData

    Example
    -------
    >>> point_cloud(np.zeros((4, 3))).n_points
    4
    """
    pv = _pv()
    x = as_real_array(x, "x", "an (n, 2) or (n, 3) array")
    if x.ndim != 2 or x.shape[1] not in (2, 3):
        raise ValueError(f"x must be an (n, 2) or (n, 3) array, got shape {x.shape}")
    ok = np.all(np.isfinite(x), axis=1)
    c = None if colors is None else _rgb(colors, len(x))  # checked before VTK sees anything
    pts = x[ok] if x.shape[1] == 3 else np.column_stack([x[ok], np.zeros(ok.sum())])
    cloud = pv.PolyData(pts)
    if c is not None:
        cloud.point_data["rgb"] = (c[ok] * 255).astype(np.uint8)
    return cloud


def add_point_cloud(plotter, x, colors=None, point_size=6.0, color="steelblue", spheres=True):
    """Draw points (coloured per point when ``colors`` is given).

    Example
    -------
    >>> p = add_point_cloud(make_plotter(off_screen=True), np.zeros((3, 3)))
    """
    _check_plotter(plotter)
    cloud = point_cloud(x, colors)
    if cloud.n_points == 0:
        return plotter
    kw = dict(point_size=point_size, render_points_as_spheres=spheres)
    if colors is not None:
        plotter.add_mesh(cloud, scalars="rgb", rgb=True, **kw)
    else:
        plotter.add_mesh(cloud, color=color, **kw)
    return plotter


# --------------------------------------------------------------------------- morphs
def morph_frames(res, t_values):
    """Displacement interpolation: each cell's mass moves straight from its centroid to its target.

    Parameters
    ----------
    res : geomot.OTResult
        A solve with an exact diagram (``res.diagram.centroids``) and targets ``res.y``.
    t_values : array_like of float in [0, 1]
        Times; ``t = 0`` is the source (cell centroids), ``t = 1`` the targets.

    Returns
    -------
    list of (n, d) ndarray
        Positions ``(1 - t) * centroid_i + t * y_i`` (rows of empty cells are NaN).

    Example
    -------
    >>> import numpy as np, geomot
    >>> y = np.random.default_rng(0).random((40, 3))
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]), y)
    >>> frames = morph_frames(res, np.linspace(0, 1, 5))
    >>> len(frames), np.allclose(frames[-1], res.y)
    (5, True)
    """
    t = as_real_array(t_values, "t_values", "a sequence of times in [0, 1]").reshape(-1)
    if t.size == 0:
        raise ValueError("t_values must contain at least one time")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ValueError(f"t_values must lie in [0, 1] (no NaN), got min {float(t.min()):g}, max {float(t.max()):g}")
    if getattr(res, "diagram", None) is None or not hasattr(res, "y"):
        raise ValueError(f"res must be a geomot.OTResult with a power diagram (res.diagram), "
                         f"got {type(res).__name__}")
    y = np.asarray(res.y, dtype=np.float64)
    c = np.asarray(res.diagram.centroids, dtype=np.float64)
    if c.shape != y.shape:
        raise ValueError(f"centroids {c.shape} and targets {y.shape} differ in shape")
    return [(1.0 - tk) * c + tk * y for tk in t]


def render_frames(frames, colors=None, window_size=(480, 480), point_size=5.0, bounds=None, progress=False,
                  camera_position="iso", title=None, zoom=1.0):
    """Render point-cloud frames off-screen with one fixed camera and return the images.

    Parameters
    ----------
    frames : list of (n, 3) ndarray
        E.g. :func:`morph_frames`.
    colors : (n, 3) array_like, optional
        RGB per point (the same in every frame, so the eye can follow each cell's mass).
    window_size : (int, int)
    point_size : float
    bounds : (xmin, xmax, ymin, ymax, zmin, zmax), optional
        Camera framing; default the union of all frames.
    progress : bool
        A tqdm progress bar.
    camera_position : str or camera tuple
    title : str, optional
        Text in the corner of every frame (``{t}`` is replaced by the frame index).
    zoom : float
        Camera zoom after framing ``bounds``.

    Returns
    -------
    list of (h, w, 3) uint8 ndarray

    Example
    -------
    >>> imgs = render_frames([np.random.default_rng(0).random((50, 3))], window_size=(120, 120))
    >>> imgs[0].shape
    (120, 120, 3)
    """
    _pv()
    if isinstance(frames, (str, bytes)) or not np.iterable(frames):
        raise ValueError(f"frames must be a list of (n, 3) point arrays, got {type(frames).__name__}")
    frames = list(frames)
    if len(frames) == 0:
        raise ValueError("frames is empty")
    checked = []
    for k, f in enumerate(frames):
        a = as_real_array(f, f"frames[{k}]", "an (n, 2) or (n, 3) array of points")
        if a.ndim != 2 or a.shape[1] not in (2, 3):
            raise ValueError(f"frames[{k}] must be an (n, 2) or (n, 3) array of points, got shape {a.shape}")
        checked.append(a if a.shape[1] == 3 else np.column_stack([a, np.zeros(len(a))]))
    frames = checked
    _window_size(window_size)
    allp = np.vstack(frames)
    allp = allp[np.all(np.isfinite(allp), axis=1)]
    if bounds is None:
        if allp.shape[0] == 0:
            raise ValueError("frames hold no finite point (every row has NaN or inf): nothing to frame")
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        bounds = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    else:
        b = _finite_points(bounds, "bounds", "(xmin, xmax, ymin, ymax, zmin, zmax)").reshape(-1)
        if b.shape != (6,):
            raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax, zmin, zmax), got {np.shape(bounds)}")
        bounds = tuple(float(v) for v in b)
    iterator = frames
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(frames, desc="rendering frames", unit="frame")
    p = make_plotter(window_size=window_size, off_screen=True)
    images = []
    cloud = None
    text = None
    for k, f in enumerate(iterator):
        if cloud is None:
            cloud = point_cloud(f, colors)
            if colors is not None:
                p.add_mesh(cloud, scalars="rgb", rgb=True, point_size=point_size, render_points_as_spheres=True)
            else:
                p.add_mesh(cloud, color="steelblue", point_size=point_size, render_points_as_spheres=True)
            p.camera_position = camera_position
            p.reset_camera(bounds=bounds)
            p.camera.zoom(float(zoom))
            text = p.add_text(title.format(t=k) if title else "", font_size=10, color="black") if title else None
        else:
            new = point_cloud(f, colors)
            cloud.points = new.points
            if text is not None:
                text.set_text(2, title.format(t=k))
        p.render()
        images.append(np.asarray(p.screenshot(return_img=True))[..., :3].copy())
    p.close()
    return images


def write_gif(images, path, duration_ms=80, loop=0, bounce=True):
    """Write images as an animated GIF (pillow).

    Parameters
    ----------
    images : list of (h, w, 3) uint8 ndarray
    path : str or Path
    duration_ms : int
        Display time of each frame.
    loop : int
        0 loops forever.
    bounce : bool
        Play forward then backward (a morph that goes there and back).

    Returns
    -------
    Path

    Example
    -------
    >>> import numpy as np
    >>> imgs = [np.full((8, 8, 3), v, np.uint8) for v in (0, 128, 255)]
    >>> write_gif(imgs, "fade.gif").suffix
    '.gif'
    """
    from PIL import Image

    if isinstance(images, (str, bytes)) or not np.iterable(images):
        raise ValueError(f"images must be a list of (h, w, 3) uint8 arrays, got {type(images).__name__}")
    images = [_gif_frame(im, k) for k, im in enumerate(images)]
    if len(images) == 0:
        raise ValueError("images is empty")
    if any(im.shape[:2] != images[0].shape[:2] for im in images):
        sizes = sorted({im.shape[:2] for im in images})
        raise ValueError(f"images must all have the same size (h, w), got {sizes}")
    duration_ms = as_positive_float(duration_ms, "duration_ms")
    loop = as_positive_int(loop, "loop", minimum=0)
    seq = list(images) + (list(images[-2:0:-1]) if bounce and len(images) > 2 else [])
    # fast octree quantisation to a 256-colour palette (median cut is ~100x slower on large frames)
    frames = [Image.fromarray(im).quantize(256, method=Image.Quantize.FASTOCTREE) for im in seq]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(str(path), save_all=True, append_images=frames[1:], duration=int(round(duration_ms)),
                   loop=loop, optimize=False)
    return path


def _gif_frame(im, k):
    """Image ``k`` as an (h, w, 3) uint8 array: RGB(A) or grey, integers in [0, 255]."""
    a = np.asarray(im)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
        raise ValueError(f"images[{k}] must be an (h, w, 3) RGB, (h, w, 4) RGBA or (h, w) grey image, "
                         f"got shape {a.shape}")
    if a.dtype != np.uint8:
        if a.dtype.kind not in "iu" or a.min() < 0 or a.max() > 255:
            raise ValueError(f"images[{k}] must hold uint8 values (integers in [0, 255]), got dtype {a.dtype}"
                             + ("; scale float images in [0, 1] by 255 first" if a.dtype.kind == "f" else ""))
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a[..., :3])
