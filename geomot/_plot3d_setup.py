"""The rendering setup of :mod:`geomot.plot3d`: display, off-screen probe, plotters, screenshots.

PyVista is imported on first use (:func:`_pv`), in off-screen mode when no display is present,
so that every rendering works headless (VTK's EGL/OSMesa render windows).  The argument checks
shared by the renderings (plotters, RGB colours, window sizes, finite points) are here too; every
public name is re-exported by :mod:`geomot.plot3d`.
"""

import numbers
import os
import re
import sys
from pathlib import Path

import numpy as np

from ._validate import as_positive_int, as_real_array

__all__ = ["has_display", "can_render", "make_plotter", "screenshot"]


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


def _color_rgb(color):
    """A colour name or triple as an RGB triple in [0, 1]."""
    import pyvista as pv

    return tuple(float(c) for c in pv.Color(color).float_rgb)
