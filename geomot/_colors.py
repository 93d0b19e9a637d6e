"""Colour conventions shared by the 2D (matplotlib) and 3D (PyVista) drawings; numpy only.

Targets are coloured by a smooth 2D/3D colour map of their position, so that where the transport
map is continuous neighbouring cells get nearby colours and across the singular set the colour
jumps.  Singular components Γ0, Γ1, ... get fixed distinct colours.
"""

import numpy as np

from ._validate import as_points

__all__ = ["target_colors", "COMPONENT_COLORS", "component_rgb"]

#: corner colours of the position colour map: (lo, lo), (hi, lo), (lo, hi), (hi, hi)
_CORNERS = np.array(
    [
        [0.16, 0.33, 0.80],  # blue
        [0.85, 0.20, 0.20],  # red
        [0.15, 0.70, 0.45],  # green
        [0.98, 0.80, 0.15],  # yellow
    ]
)

#: colours of the singular components Γ0, Γ1, ... (hex)
COMPONENT_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def component_rgb(k):
    """RGB triple in [0, 1] of singular component ``k``.

    Example
    -------
    >>> component_rgb(0)
    (0.8392156862745098, 0.15294117647058825, 0.1568627450980392)
    """
    h = COMPONENT_COLORS[int(k) % len(COMPONENT_COLORS)].lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4))


def target_colors(y, bounds=None):
    """RGB colours of points from a smooth colour map of their position (2D or 3D).

    The bounding box of ``y`` (or ``bounds``) is mapped bilinearly, on the first two
    coordinates, onto four corner colours (blue, red, green, yellow); in 3D the third coordinate
    darkens/lightens the colour.  Nearby points get nearby colours.

    Parameters
    ----------
    y : (n, 2) or (n, 3) array_like
        Points (usually the targets).
    bounds : (lo, hi), optional
        The box mapped onto the colour map; default the bounding box of ``y``.

    Returns
    -------
    (n, 3) ndarray
        RGB colours in [0, 1].

    Example
    -------
    >>> c = target_colors([[0, 0], [1, 1]])
    >>> c.shape
    (2, 3)
    """
    y = as_points(y, "y")
    if y.shape[1] not in (2, 3):
        raise ValueError(f"y must have 2 or 3 columns, got shape {y.shape}")
    if bounds is None:
        lo, hi = y.min(axis=0), y.max(axis=0)
    else:
        lo = np.asarray(bounds[0], dtype=np.float64).reshape(-1)
        hi = np.asarray(bounds[1], dtype=np.float64).reshape(-1)
        if lo.shape != (y.shape[1],) or hi.shape != (y.shape[1],):
            raise ValueError(f"bounds must be (lo, hi) with {y.shape[1]} entries each")
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    t = np.clip((y - lo) / span, 0.0, 1.0)
    u, v = t[:, :1], t[:, 1:2]
    c = (1 - u) * (1 - v) * _CORNERS[0] + u * (1 - v) * _CORNERS[1] + (1 - u) * v * _CORNERS[2] + u * v * _CORNERS[3]
    if y.shape[1] == 3:
        w = t[:, 2:3]
        c = c * (0.55 + 0.45 * w) + (1 - c) * 0.25 * w
    return np.clip(c, 0.0, 1.0)
