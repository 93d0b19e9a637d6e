"""The classroom explorer: move a slider, watch the singular set of an optimal map appear.

``geomot explore`` opens a matplotlib window with two panels and a row of controls:

* left, the **source** with its power diagram, each cell coloured by its target (the map: the
  colours jump exactly where it does), the singular set Σ in red and, dashed, the singular set of
  the continuous problem when it is known;
* right, the **target** shape, the target points and what the subdifferential of each piece of Σ
  covers (the gap, the hole, a notch);
* controls: the *target shape* (radio buttons: two half-disks, disk with a hole, notched disk),
  its *parameter* (gap, hole radius, notch depth; 0 is the convex target), the number of targets
  *n*, and the singular-set *threshold* τ (with *auto τ*: the scale-aware default for this n).

Every change re-solves (damped Newton, a few hundredths of a second at n = 500) and redraws;
moving τ only re-detects Σ.  Where a display exists, a PyVista window shows the graph of the
Brenier potential with Σ as red ridges, updated with the rest.  Headless, :func:`require_display`
says so (``geomot explore`` exits with status 2), and ``geomot reproduce singular-appears`` makes
the same sweep as a GIF / MP4 for slides.

The scenes (solve, detection, drawing) are those of :mod:`geomot.reproduce.singular_appears`;
this module only adds the widgets.  The :class:`Explorer` works on any matplotlib figure, so
its update logic is tested headless (Agg) by moving the sliders programmatically.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from geomot.explore import Explorer
>>> ex = Explorer(parameter=0.0, n=400, potential=False)
>>> ex.scene.n_pairs                     # the two half-disks touch: a disk, convex, Σ = ∅
0
>>> ex.sliders["parameter"].set_val(0.4)  # open the gap
>>> ex.scene.n_pairs > 0, ex.scene.hausdorff < 0.1
(True, True)
"""

import os
import sys

import numpy as np

from .reproduce import singular_appears as _sa

__all__ = ["NoDisplayError", "display_problem", "require_display", "Explorer", "run"]

#: slider ranges of n and of the threshold τ
N_RANGE = (200, 3000, 50)
THRESHOLD_RANGE = (1.5, 12.0)


class NoDisplayError(RuntimeError):
    """The explorer was asked to open a window where none can open."""


def display_problem():
    """Why no interactive window can open here, or None when one can.

    Returns
    -------
    str or None

    Example
    -------
    >>> display_problem() is None or isinstance(display_problem(), str)
    True
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display (DISPLAY is not set)"
    import matplotlib
    from matplotlib.backends import BackendFilter, backend_registry

    backend = matplotlib.get_backend()
    if backend.lower() not in backend_registry.list_builtin(BackendFilter.INTERACTIVE):
        return f"matplotlib's backend is {backend!r}, which cannot open a window"
    return None


def require_display():
    """Raise :class:`NoDisplayError`, with a plain message, unless a window can open.

    Raises
    ------
    NoDisplayError

    Example
    -------
    >>> try:
    ...     require_display()
    ... except NoDisplayError as err:            # headless: a plain message, no traceback
    ...     print("needs a display" in str(err))
    ... else:
    ...     print(True)
    True
    """
    why = display_problem()
    if why is not None:
        raise NoDisplayError(f"the explorer opens a window and needs a display: {why}. Run it on a desktop, or make "
                             f"the same sweep as an animation for slides: geomot reproduce singular-appears --out figures")


class Explorer:
    """The explorer's figure, its widgets and the scene they control.

    Parameters
    ----------
    family : str
        A key of :data:`geomot.reproduce.singular_appears.FAMILIES`.
    parameter : float, optional
        Initial parameter (default the middle of the family's sweep).
    n : int
        Initial number of targets (the pool at parameter 0), in ``N_RANGE``.
    threshold : float, optional
        Initial τ; default: *auto τ* (the scale-aware default, following n).
    seed : int
        Seeds the targets (fixed: moving the parameter moves the points continuously).
    fig : matplotlib Figure, optional
        Draw on it (default a new ``pyplot`` figure).
    potential : bool
        Also show the potential's graph in a PyVista window (needs a display).

    Attributes
    ----------
    fig : matplotlib Figure
    axes : (Axes, Axes)
        Source and target panels.
    radio : matplotlib.widgets.RadioButtons
        The target shape.
    sliders : dict
        ``"parameter"``, ``"n"``, ``"threshold"``: matplotlib Sliders.
    auto : matplotlib.widgets.CheckButtons
        *auto τ*.
    scene : geomot.reproduce.singular_appears.Scene
        What is shown now.
    updates : int
        Number of redraws so far.

    Example
    -------
    >>> from matplotlib.figure import Figure
    >>> ex = Explorer(parameter=0.0, n=300, fig=Figure(figsize=(13, 7)))   # convex: Σ is empty
    >>> ex.scene.n_pairs
    0
    >>> ex.sliders["parameter"].set_val(0.4)                              # open the gap
    >>> ex.scene.n_pairs > 0, ex.updates > 1
    (True, True)
    """

    def __init__(self, family="two-half-disks", parameter=None, n=500, threshold=None, seed=0, fig=None,
                 potential=False):
        from matplotlib.widgets import CheckButtons, RadioButtons, Slider

        self.family = _sa.get_family(family)
        p = self.family.sweep / 2 if parameter is None else self.family.check(parameter)
        lo, hi, step = N_RANGE
        n = int(np.clip(int(n), lo, hi))
        self.seed = seed
        self._solves = {}
        self._busy = False
        self.updates = 0
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(13, 7.2))
        self.fig = fig
        grid = fig.add_gridspec(2, 2, height_ratios=[5, 1.35], width_ratios=_sa.panel_ratios(self.family),
                                left=0.05, right=0.98, top=0.9, bottom=0.03, hspace=0.25, wspace=0.12)
        self.axes = (fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]))
        self._grid = grid
        # controls, in figure coordinates along the bottom
        ax_radio = fig.add_axes([0.03, 0.03, 0.17, 0.17])
        ax_radio.set_title("target shape", fontsize=9, loc="left")
        names = list(_sa.FAMILIES)
        self.radio = RadioButtons(ax_radio, [_sa.FAMILIES[k].label for k in names], active=names.index(self.family.name))
        self._names = names
        self.sliders = {
            "parameter": Slider(fig.add_axes([0.34, 0.16, 0.42, 0.035]), self.family.parameter,
                                *self.family.limits, valinit=p),
            "n": Slider(fig.add_axes([0.34, 0.105, 0.42, 0.035]), "n (targets)", lo, hi, valinit=n, valstep=step),
            "threshold": Slider(fig.add_axes([0.34, 0.05, 0.42, 0.035]), "threshold τ", *THRESHOLD_RANGE,
                                valinit=float(np.clip(threshold or 4.8, *THRESHOLD_RANGE))),
        }
        self.auto = CheckButtons(fig.add_axes([0.83, 0.05, 0.13, 0.08]), ["auto τ"], [threshold is None])
        self._status = fig.text(0.5, 0.955, "", ha="center", va="center", fontsize=10)
        self._plotter = None
        self._framed = None
        if potential:
            self._open_potential_window()
        self.radio.on_clicked(self._on_family)
        self.sliders["parameter"].on_changed(lambda _: self.update())
        self.sliders["n"].on_changed(lambda _: self.update())
        self.sliders["threshold"].on_changed(self._on_threshold)
        self.auto.on_clicked(lambda _: self.update())
        self.scene = None
        self.update()

    # ------------------------------------------------------------------ state
    @property
    def parameter(self):
        return float(self.sliders["parameter"].val)

    @property
    def n(self):
        return int(round(self.sliders["n"].val))

    @property
    def threshold(self):
        """τ from the slider, or None under *auto τ*."""
        return None if self.auto.get_status()[0] else float(self.sliders["threshold"].val)

    # ---------------------------------------------------------------- updates
    def update(self):
        """Solve (or reuse the solve of) the current shape, parameter and n; detect Σ; redraw."""
        if self._busy:
            return self.scene
        key = (self.family.name, round(self.parameter, 6), self.n, self.seed)
        res = self._solves.get(key)
        self.scene = _sa.scene(self.family, self.parameter, self.n, threshold=self.threshold, seed=self.seed, res=res)
        if res is None:
            if len(self._solves) > 64:  # a long session: keep the memory bounded
                self._solves.clear()
            self._solves[key] = self.scene.res
        if self.threshold is None:  # auto τ: show the default on the slider without re-triggering
            self._quietly(self.sliders["threshold"], float(np.clip(self.scene.threshold, *THRESHOLD_RANGE)))
        _sa.draw_scene(self.scene, self.axes)
        self._status.set_text(f"{self.family.label} — {self.scene.summary()}")
        self.updates += 1
        self._update_potential()
        self.fig.canvas.draw_idle()
        return self.scene

    def _quietly(self, widget, value):
        self._busy = True
        try:
            widget.set_val(value)
        finally:
            self._busy = False

    def _on_threshold(self, _):
        if self._busy:
            return
        if self.auto.get_status()[0]:  # moving τ by hand leaves auto mode
            self._busy = True
            try:
                self.auto.set_active(0)
            finally:
                self._busy = False
        self.update()

    def _on_family(self, label):
        name = self._names[[_sa.FAMILIES[k].label for k in self._names].index(label)]
        if name == self.family.name:
            return
        self.family = _sa.FAMILIES[name]
        s = self.sliders["parameter"]
        s.valmin, s.valmax = self.family.limits
        s.ax.set_xlim(*self.family.limits)
        s.label.set_text(self.family.parameter)
        s.valinit = self.family.sweep / 2
        s.vline.set_xdata([s.valinit, s.valinit])  # the "initial value" mark of the new range
        self._grid.set_width_ratios(_sa.panel_ratios(self.family))
        self._quietly(s, self.family.sweep / 2)
        self.update()

    def set_family(self, name):
        """Choose the target shape, as a click on its radio button does."""
        self.radio.set_active(self._names.index(_sa.get_family(name).name))

    # ------------------------------------------------- the potential's graph (PyVista)
    def _open_potential_window(self):  # pragma: no cover - needs a display
        from . import plot3d

        if not plot3d.has_display():
            return
        p = plot3d.make_plotter(window_size=(720, 600), off_screen=False)
        p.show(title="geomot explore: the Brenier potential", interactive_update=True, auto_close=False)
        self._plotter = p
        self._timer = self.fig.canvas.new_timer(interval=100)  # keep the VTK window responsive
        self._timer.add_callback(self._pump)
        self._timer.start()

    def _pump(self):  # pragma: no cover - needs a display
        try:  # handle the VTK window's events (rotate, zoom); it re-renders only when they ask
            self._plotter.iren.process_events()
        except Exception:  # the window was closed
            self._timer.stop()
            self._plotter = None

    def _update_potential(self):  # pragma: no cover - needs a display
        if self._plotter is None:
            return
        from . import plot3d

        p = self._plotter
        p.clear_actors()
        plot3d.add_potential(p, self.scene.res, self.scene.singular)
        if self._framed != self.family.name:  # a new shape: frame it; else keep the user's view
            p.camera_position = "iso"
            p.reset_camera()
            self._framed = self.family.name
        p.render()


def run(family="two-half-disks", parameter=None, n=500, seed=0, potential=True):
    """Open the explorer and block until its window is closed.

    Parameters
    ----------
    family, parameter, n, seed :
        The initial state (see :class:`Explorer`).
    potential : bool
        Also open the PyVista window of the potential's graph.

    Raises
    ------
    NoDisplayError
        No window can open here (headless); nothing has been computed.

    Example
    -------
    >>> if display_problem() is not None:   # headless: refused before any work
    ...     try:
    ...         run()
    ...     except NoDisplayError:
    ...         pass
    """
    require_display()
    import matplotlib.pyplot as plt

    ex = Explorer(family=family, parameter=parameter, n=n, seed=seed, potential=potential)
    plt.show()
    return ex
