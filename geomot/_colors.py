"""Colour conventions shared by the 2D (matplotlib) and 3D (PyVista) drawings; numpy only.

Targets are coloured by a colour wheel of their position, so that where the transport
map is continuous neighbouring cells get nearby colours and across the singular set the colour
jumps.  Singular components Γ0, Γ1, ... get fixed distinct colours.
"""

import numpy as np

from ._validate import as_points

__all__ = ["target_colors", "COMPONENT_COLORS", "component_rgb"]

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


def _hsv_to_rgb(h, s, v):
    """Vectorised HSV -> RGB, all in [0, 1]."""
    h6 = (h % 1.0) * 6.0
    i = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.empty(h.shape + (3,))
    for k, (r, g, b) in enumerate(choices):
        m = i == k
        out[m, 0], out[m, 1], out[m, 2] = r[m], g[m], b[m]
    return out


def target_colors(y, bounds=None):
    """RGB colours of points from a colour wheel of their position (2D or 3D).

    The box ``bounds`` (default the bounding box of ``y``) is mapped onto the unit square
    ``[-1, 1]^2`` around its centre; the hue is the angle of a point about the centre and the
    saturation grows with its distance from it (white at the centre).  In 3D the first two
    coordinates give the hue and the third darkens the colour.  Nearby points get nearby
    colours; points on opposite sides of a gap or a hole get contrasting ones, so the jumps of a
    transport map show as colour jumps.

    Parameters
    ----------
    y : (n, 2) or (n, 3) array_like
        Points (usually the targets).
    bounds : (lo, hi), optional
        The box mapped onto the colour wheel.

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
    half = np.where(hi - lo > 0, (hi - lo) / 2, 1.0)
    t = np.clip((y - (lo + hi) / 2) / half, -1.0, 1.0)
    hue = (np.arctan2(t[:, 1], t[:, 0]) / (2 * np.pi)) % 1.0
    rad = np.clip(np.hypot(t[:, 0], t[:, 1]) / np.sqrt(2.0) * 1.6, 0.0, 1.0)
    sat = 0.15 + 0.85 * rad
    val = np.full(len(y), 0.95)
    if y.shape[1] == 3:
        val = 0.55 + 0.4 * (t[:, 2] + 1) / 2
    return np.clip(_hsv_to_rgb(hue, sat, val), 0.0, 1.0)
