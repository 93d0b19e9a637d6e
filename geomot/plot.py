"""Matplotlib drawings of 2D semi-discrete transport: diagrams, maps, singular sets, samples.

Every function draws on the given ``ax`` (a new figure and axes when ``ax`` is None) and returns
the Axes, so that calls compose::

    ax = plot_map(res)
    plot_singular_set(s, ax=ax)

Colours of targets come from a colour wheel of their position (:func:`target_colors`):
where the transport map is continuous neighbouring cells get nearby colours; across the singular
set the colour jumps.
"""

import numpy as np

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from ._colors import COMPONENT_COLORS as _COMPONENT_COLORS
from ._colors import target_colors
from ._validate import as_positive_int, as_real_array, as_rng

__all__ = [
    "target_colors",
    "geometry_path",
    "plot_geometry",
    "plot_domain",
    "plot_power_diagram",
    "plot_map",
    "plot_singular_set",
    "plot_subdifferentials",
    "plot_samples",
]



def _new_ax(ax, figsize=(5, 5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes (or None for a new figure), got {type(ax).__name__}")
    return ax


def _check_singular_2d(s, what):
    """ValueError unless ``s`` is a 2D singular set (a SingularSet, as from geomot.singular_set)."""
    if not (hasattr(s, "segments") and hasattr(s, "components") and hasattr(s, "pairs")):
        raise ValueError(f"s must be a geomot.SingularSet (from geomot.singular_set), got {type(s).__name__}")
    if getattr(s, "dim", 2) != 2:
        raise ValueError(f"{what} draws 2D singular sets, s is {s.dim}D (3D: "
                         f"geomot.plot3d.add_singular_surfaces)")


def _finish(ax, equal=True):
    if equal:
        ax.set_aspect("equal")
    ax.autoscale_view()
    return ax


def _ring_codes(k):
    codes = np.full(k, MplPath.LINETO, dtype=np.uint8)
    codes[0] = MplPath.MOVETO
    codes[-1] = MplPath.CLOSEPOLY
    return codes


def geometry_path(geom):
    """A matplotlib ``Path`` for a shapely (Multi)Polygon, holes included.

    Parameters
    ----------
    geom : shapely geometry
        ``Polygon``, ``MultiPolygon`` or ``GeometryCollection``; non-areal parts are ignored.

    Returns
    -------
    matplotlib.path.Path or None
        None when the geometry has no areal part (or ``geom`` is None).

    Raises
    ------
    ValueError
        If ``geom`` is neither None nor a shapely geometry.

    Example
    -------
    >>> from shapely.geometry import box
    >>> geometry_path(box(0, 0, 1, 1)).vertices.shape
    (5, 2)
    """
    import shapely
    from shapely.geometry.polygon import orient

    if geom is not None and not isinstance(geom, shapely.Geometry):
        raise ValueError(f"geom must be a shapely geometry, got {type(geom).__name__}")
    verts, codes = [], []
    for poly in _polygons(geom):
        poly = orient(poly, sign=1.0)  # exterior counter-clockwise, holes clockwise (non-zero fill rule)
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords, dtype=np.float64)[:, :2]
            if len(xy) < 4:
                continue
            verts.append(xy)
            codes.append(_ring_codes(len(xy)))
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _polygons(geom):
    """The Polygon parts of a shapely geometry."""
    if geom is None or getattr(geom, "is_empty", True):
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [geom]
    if kind in ("MultiPolygon", "GeometryCollection"):
        out = []
        for g in geom.geoms:
            out.extend(_polygons(g))
        return out
    return []


def plot_geometry(geom, ax=None, facecolor="none", edgecolor="k", linewidth=1.0, **kwargs):
    """Draw a shapely (Multi)Polygon (with holes) on ``ax``.

    Parameters
    ----------
    geom : shapely geometry
    ax : matplotlib Axes, optional
    facecolor, edgecolor, linewidth :
        Passed to ``PathPatch``; ``kwargs`` too.

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> from shapely.geometry import Point
    >>> ax = plot_geometry(Point(0, 0).buffer(1), facecolor="0.9")
    """
    ax = _new_ax(ax)
    path = geometry_path(geom)
    if path is not None:
        ax.add_patch(PathPatch(path, facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth, **kwargs))
    return _finish(ax)


def plot_domain(domain, ax=None, facecolor="none", edgecolor="k", linewidth=1.0, **kwargs):
    """Draw the outline (and optionally the fill) of a 2D :class:`geomot.Domain` or shapely shape.

    Example
    -------
    >>> from shapely.geometry import box
    >>> ax = plot_domain(box(0, 0, 2, 1))
    """
    import shapely

    if getattr(domain, "dim", 2) != 2:
        raise ValueError(f"plot_domain draws 2D domains, got dimension {domain.dim}")
    geom = getattr(domain, "geometry", domain)
    if not isinstance(geom, shapely.Geometry):
        raise ValueError(f"domain must be a 2D geomot.Domain or a shapely geometry, got {type(domain).__name__}")
    return plot_geometry(geom, ax=ax, facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth, **kwargs)


def _diagram_targets(pd):
    for name in ("y", "targets", "points"):
        y = getattr(pd, name, None)
        if y is not None:
            return np.asarray(y, dtype=np.float64)
    raise ValueError("the power diagram does not expose its targets (expected an attribute 'y')")


def _cell_colors(pd, n, color_by, cmap):
    """(n, 4) RGBA facecolours of the cells, or None for no fill."""
    if color_by is None or (isinstance(color_by, str) and color_by == "none"):
        return None
    cm = plt.get_cmap(cmap)
    if isinstance(color_by, str):
        if color_by == "index":
            return np.asarray(cm(np.arange(n) % cm.N if cm.N < 256 else np.linspace(0, 1, max(n, 1))))
        if color_by == "mass":
            vals = np.asarray(pd.masses, dtype=np.float64)
        elif color_by == "target":
            c = target_colors(_diagram_targets(pd))
            return np.column_stack([c, np.ones(n)])
        else:
            raise ValueError(f"color_by must be 'index', 'mass', 'target', None or an array, got {color_by!r}")
    else:
        vals = as_real_array(color_by, "color_by", f"an ({n},) array of numbers or ({n}, 3|4) colours")
        if vals.ndim == 2 and vals.shape[0] == n and vals.shape[1] in (3, 4):
            if not np.all((vals >= 0) & (vals <= 1)):
                raise ValueError("color_by colours must be RGB(A) values in [0, 1] (no NaN)")
            return vals if vals.shape[1] == 4 else np.column_stack([vals, np.ones(n)])
        if vals.shape != (n,):
            raise ValueError(f"color_by array must have shape ({n},) or ({n}, 3|4), got {vals.shape}")
    lo, hi = np.nanmin(vals), np.nanmax(vals)
    t = (vals - lo) / (hi - lo) if hi > lo else np.full(n, 0.5)
    return np.asarray(cm(t))


def plot_power_diagram(pd, ax=None, color_by="index", cmap="tab20", edgecolor="k", linewidth=0.3, alpha=1.0,
                       show_sites=False, outline=None):
    """Draw the cells of a 2D power diagram clipped to its domain.

    Parameters
    ----------
    pd : geomot.PowerDiagram
        A 2D diagram (``pd.cell(i)`` a shapely geometry).
    ax : matplotlib Axes, optional
    color_by : {'index', 'mass', 'target', None} or array_like
        Fill of the cells: cycled colours, the cell mass through ``cmap``, the 2D position colour
        of each cell's target (:func:`target_colors`), no fill, ``(n,)`` scalars or ``(n, 3|4)``
        colours.
    cmap : str
        Matplotlib colormap for 'index', 'mass' and scalar arrays.
    edgecolor, linewidth, alpha :
        Cell boundaries and fill opacity.
    show_sites : bool
        Also mark the cell centroids.
    outline : geomot.Domain or shapely geometry, optional
        Draw this outline on top (e.g. the domain).

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> import numpy as np, geomot
    >>> from geomot.plot import plot_power_diagram
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> y = np.random.default_rng(0).random((20, 2))
    >>> pd = geomot.power_diagram(y, np.zeros(20), dom)
    >>> ax = plot_power_diagram(pd, color_by="mass")
    """
    if not (hasattr(pd, "cell") and hasattr(pd, "masses")):
        hint = " (pass res.diagram)" if hasattr(pd, "diagram") else ""
        raise ValueError(f"pd must be a geomot.PowerDiagram{hint}, got {type(pd).__name__}")
    if getattr(pd, "dim", 2) != 2:
        raise ValueError(f"plot_power_diagram draws 2D diagrams, pd is {pd.dim}D")
    ax = _new_ax(ax)
    n = len(pd.masses)
    colors = _cell_colors(pd, n, color_by, cmap)
    patches, fc = [], []
    for i in range(n):
        path = geometry_path(pd.cell(i))
        if path is None:
            continue
        patches.append(PathPatch(path))
        if colors is not None:
            fc.append(colors[i])
    coll = PatchCollection(patches, match_original=False)
    coll.set_facecolor(np.asarray(fc) if colors is not None else "none")
    coll.set_edgecolor(edgecolor)
    coll.set_linewidth(linewidth)
    if colors is not None:
        coll.set_alpha(alpha)
    ax.add_collection(coll)
    if show_sites:
        c = np.asarray(pd.centroids, dtype=np.float64)
        ok = np.all(np.isfinite(c), axis=1)
        ax.plot(c[ok, 0], c[ok, 1], ".", color="k", markersize=2)
    if outline is not None:
        plot_domain(outline, ax=ax, linewidth=1.0)
    return _finish(ax)


def plot_map(res, ax=None, kind="color", max_arrows=400, seed=0, show_targets=False, edgecolor="face",
             linewidth=0.3, arrow_color="k", target_size=4.0):
    """Draw the transport map of a 2D solve.

    Parameters
    ----------
    res : geomot.OTResult
        A converged 2D semi-discrete solve (``res.diagram``, ``res.y``).
    ax : matplotlib Axes, optional
    kind : {'color', 'arrows'}
        'color': each source cell filled with the position colour of its target (the colour
        jumps exactly where the map does). 'arrows': the cell outlines and arrows from cell
        centroids to their targets (at most ``max_arrows``, a seeded random subset).
    max_arrows : int
    seed : int or numpy.random.Generator
        Chooses the arrow subset.
    show_targets : bool
        Also scatter the targets in their colours (useful when source and target overlap).
    edgecolor, linewidth :
        Cell boundaries (kind='color'); the default ``'face'`` hides the seams between cells.
    arrow_color : colour
    target_size : float
        Marker size of the targets.

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> import numpy as np, geomot
    >>> from geomot.plot import plot_map
    >>> dom = geomot.Domain.box([0, 0], [1, 1])
    >>> res = geomot.solve_ot(dom, np.random.default_rng(0).random((30, 2)) + [2, 0])
    >>> ax = plot_map(res, kind="arrows")
    """
    if kind not in ("color", "arrows"):
        raise ValueError(f"kind must be 'color' or 'arrows', got {kind!r}")
    if getattr(res, "diagram", None) is None or not hasattr(res, "y"):
        raise ValueError(f"res must be a geomot.OTResult with a power diagram (res.diagram), "
                         f"got {type(res).__name__}")
    max_arrows = as_positive_int(max_arrows, "max_arrows", minimum=0)
    y = np.asarray(res.y, dtype=np.float64)
    if y.shape[1] != 2:
        raise ValueError(f"plot_map draws 2D transport, got targets of dimension {y.shape[1]}")
    ax = _new_ax(ax)
    pd = res.diagram
    colors = target_colors(y)
    if kind == "color":
        plot_power_diagram(pd, ax=ax, color_by=colors, edgecolor=edgecolor, linewidth=linewidth)
    else:
        plot_power_diagram(pd, ax=ax, color_by=None, edgecolor="0.6", linewidth=0.3)
        c = np.asarray(pd.centroids, dtype=np.float64)
        ok = np.flatnonzero(np.all(np.isfinite(c), axis=1))
        if len(ok) > max_arrows:
            ok = np.sort(as_rng(seed).choice(ok, size=max_arrows, replace=False))
        d = y[ok] - c[ok]
        ax.quiver(c[ok, 0], c[ok, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1.0,
                  color=colors[ok] if arrow_color is None else arrow_color, width=0.002, alpha=0.7)
    if show_targets or kind == "arrows":
        ax.scatter(y[:, 0], y[:, 1], s=target_size, c=colors, linewidths=0)
    return _finish(ax)


def plot_singular_set(s, ax=None, color=None, linewidth=2.0, by_component=True, label=True, order=None):
    """Draw the 2D singular set: the facets across which the map jumps.

    Parameters
    ----------
    s : geomot.SingularSet
        A 2D singular set (``s.segments`` of shape (k, 2, 2)).
    ax : matplotlib Axes, optional
    color : colour, optional
        One colour for everything; default one colour per component Γ0, Γ1, ...
    linewidth : float
    by_component : bool
        Colour by component (ignored when ``color`` is given).
    label : bool
        Add legend labels Γ0, Γ1, ...
    order : sequence of int, optional
        Component ``order[k]`` is drawn and labelled as Γk (default: ``s.components`` order).

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> import numpy as np, geomot
    >>> from geomot import shapes
    >>> y = shapes.sample(shapes.two_half_disks(), 300, seed=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y)
    >>> ax = plot_singular_set(geomot.singular_set(res))
    >>> len(ax.collections) > 0
    True
    """
    _check_singular_2d(s, "plot_singular_set")
    ax = _new_ax(ax)
    seg = np.asarray(s.segments, dtype=np.float64).reshape(-1, 2, 2)
    if len(seg) == 0:
        return _finish(ax)
    comps = list(getattr(s, "components", [])) if by_component and color is None else []
    if comps:
        for k, c in enumerate(_component_order(len(comps), order)):
            idx = np.asarray(comps[c], dtype=np.int64)
            lc = LineCollection(seg[idx], colors=_COMPONENT_COLORS[k % len(_COMPONENT_COLORS)], linewidths=linewidth,
                                capstyle="round", label=f"$\\Gamma_{{{k}}}$" if label else None, zorder=5)
            ax.add_collection(lc)
    else:
        lc = LineCollection(seg, colors=color or _COMPONENT_COLORS[0], linewidths=linewidth, capstyle="round",
                            label="singular set" if label else None, zorder=5)
        ax.add_collection(lc)
    return _finish(ax)


def _component_order(m, order):
    if order is None:
        return list(range(m))
    try:
        order = [int(k) for k in order]
    except (TypeError, ValueError):
        raise ValueError(f"order must be a permutation of range({m}), got {order!r}") from None
    if sorted(order) != list(range(m)):
        raise ValueError(f"order must be a permutation of range({m}), got {order}")
    return order


def _as_region_path(region):
    """A matplotlib Path for a subdifferential region (shapely geometry or (p, 2) vertices)."""
    if hasattr(region, "geom_type"):
        return geometry_path(region)
    v = np.asarray(region, dtype=np.float64).reshape(-1, 2)
    if len(v) < 3:
        return None
    v = np.vstack([v, v[:1]])
    return MplPath(v, _ring_codes(len(v)))


def plot_subdifferentials(s, ax=None, alpha=0.35, edge=True, label=True, order=None):
    """Shade, in target space, the region each singular component's subdifferential covers.

    Component k gets the colour that :func:`plot_singular_set` gives Γk, so a source-space plot
    and a target-space plot read together.

    Parameters
    ----------
    s : geomot.SingularSet
    ax : matplotlib Axes, optional
    alpha : float
        Fill opacity.
    edge : bool
        Draw the region boundaries.
    label : bool
        Legend labels ∂u(Γk).
    order : sequence of int, optional
        Component ``order[k]`` is drawn and labelled as Γk.

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> import numpy as np, geomot
    >>> from geomot import shapes
    >>> y = shapes.sample(shapes.two_half_disks(), 300, seed=0)
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y)
    >>> ax = plot_subdifferentials(geomot.singular_set(res))
    >>> len(ax.patches) > 0
    True
    """
    _check_singular_2d(s, "plot_subdifferentials")
    ax = _new_ax(ax)
    for k, c in enumerate(_component_order(len(s.components), order)):
        path = _as_region_path(s.subdifferential(c))
        if path is None:
            continue
        col = _COMPONENT_COLORS[k % len(_COMPONENT_COLORS)]
        ax.add_patch(PathPatch(path, facecolor=col, alpha=alpha, edgecolor="none", zorder=3,
                               label=f"$\\partial u(\\Gamma_{{{k}}})$" if label else None))
        if edge:
            ax.add_patch(PathPatch(path, facecolor="none", edgecolor=col, linewidth=1.2, zorder=4))
    return _finish(ax)


def plot_samples(x, ax=None, color="k", size=2.0, alpha=0.8, label=None, domain=None, **kwargs):
    """Scatter 2D points (rows with NaN, e.g. rejected samples, are skipped).

    Parameters
    ----------
    x : (n, 2) array_like
    ax : matplotlib Axes, optional
    color : colour or (n, 3|4) colours
    size, alpha, label :
        Passed to ``scatter``.
    domain : geomot.Domain or shapely geometry, optional
        Also draw this outline.

    Returns
    -------
    matplotlib Axes

    Example
    -------
    >>> import numpy as np
    >>> ax = plot_samples(np.random.default_rng(0).random((100, 2)))
    """
    x = as_real_array(x, "x", "an (n, 2) array of points")
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must be an (n, 2) array of points, got shape {x.shape}")
    ax = _new_ax(ax)
    ok = np.all(np.isfinite(x), axis=1)
    c = color
    if isinstance(color, np.ndarray) and color.ndim == 2 and len(color) == len(x):
        c = color[ok]
    ax.scatter(x[ok, 0], x[ok, 1], s=size, c=c, alpha=alpha, linewidths=0, label=label, **kwargs)
    if domain is not None:
        plot_domain(domain, ax=ax)
    return _finish(ax)
