"""Creases of a 3D target in :mod:`geomot.plot3d`: the singular set seen in target space.

Across a singular facet ``W_i | W_j`` the subdifferential ``[y_i, y_j]`` of the potential bridges
a gap, hole or crease of the target support: :func:`subdifferential_segments` draws these
segments (the parts outside the support), :func:`crease_regions` labels the faces of a watertight
target mesh by the piece ``Gamma_k`` whose segments leave the solid next to them, and
:func:`add_crease_regions` draws both.  Re-exported by :mod:`geomot.plot3d`.
"""

import numpy as np

from ._colors import component_rgb
from ._plot3d_setup import _color_rgb, _pv
from ._plot3d_setup import make_plotter  # noqa: F401  (the examples draw on one)

__all__ = ["subdifferential_segments", "crease_regions", "add_crease_regions"]


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
