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

import numpy as np

from ._colors import component_rgb, target_colors
from ._plot3d_clouds import add_point_cloud, morph_frames, point_cloud, render_frames, write_gif
from ._plot3d_creases import add_crease_regions, crease_regions, subdifferential_segments
from ._plot3d_setup import (_check_plotter, _finite_float, _finite_points, _pv, _rgb, can_render, has_display,
                            make_plotter, screenshot)
from ._validate import as_positive_float

# the potentials and the singular surfaces are built here; the rendering setup, the creases of a
# 3D target and the point clouds / morphs / GIFs have modules of their own, re-exported here
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
