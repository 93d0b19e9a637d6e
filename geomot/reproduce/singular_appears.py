"""The singular set appears: deform a convex target into a non-convex one and watch Σ be born.

Caffarelli's theorem says the optimal map onto a **convex** target is continuous, so its
singular set is empty; once the target stops being convex -- a gap opens between two half-disks,
a hole grows in a disk, notches are cut into its rim -- the map must tear, and the ridges of the
Brenier potential appear.  This recipe sweeps one such deformation (a *family* with one
parameter, ``0`` being convex) and makes the frames of an animation for slides: the same frames
the classroom explorer (:mod:`geomot.explore`) shows live.

The families (:data:`FAMILIES`):

* ``two-half-disks`` -- rectangle ``[0,2] x [0,1]`` → a disk of radius 0.6 cut along its
  vertical diameter, the halves pulled apart by ``gap``.  The targets are sampled once in the
  closed disk (half in each half) and translated by ``∓gap/2``: the target measure is uniform on
  the two half-disks for every gap, and the frames move continuously.  Known answer: Σ is the
  midline ``x = 1`` for every ``gap > 0`` (:attr:`Family.known`), empty for ``gap = 0``.
* ``disk-with-hole`` -- unit disk → unit disk with an off-centre hole of radius ``hole radius``.
* ``notched-disk`` -- unit disk → unit disk with three V-notches of depth ``notch depth`` (and
  width 1.2 x depth).

For the two disk families the targets are one uniform sample of the unit disk, restricted to the
deformed shape (so points never jump between frames; the number of targets shrinks as the hole
grows).  At the discrete level Σ is detected once the gap is a few target spacings wide
(:func:`geomot.singular_set`'s scale-aware threshold), so it appears at a smaller gap as ``n``
grows, and converges to the known answer.

Checked by :func:`compute`: every solve converged; Σ is empty at parameter 0 (a convex target);
Σ is not empty at the end of the sweep; for ``two-half-disks`` its Hausdorff distance to the
midline at the end is below ``max(0.05, 1.5 sqrt(2/n))`` (a cell's width).

Example
-------
>>> from geomot.reproduce import singular_appears as sa
>>> s0 = sa.scene("two-half-disks", 0.0, n=400)
>>> s1 = sa.scene("two-half-disks", 0.4, n=400)
>>> s0.n_pairs, s1.n_pairs > 0, s1.hausdorff < 0.1
(0, True, True)
"""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_positive_float, as_positive_int, as_rng, readonly
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "FAMILIES", "Family", "get_family", "Scene", "scene",
           "draw_scene", "SingularAppearsResult", "compute", "render", "make", "write_mp4"]

NAME = "singular-appears"
DESCRIPTION = "open a gap between two half-disks: the singular set appears (GIF + MP4 for slides)"
SIZES = _common.Sizes(quick=600, publication=3000, minimum=300)
DIM = 2
#: frames of the sweep (quick, publication)
FRAMES = (10, 40)

_RECT = ((0.0, 0.0), (2.0, 1.0))


# ================================================================================ families
class Family:
    """A one-parameter deformation of a convex target (parameter 0) into non-convex ones.

    Subclasses define the source domain, the target shape at each parameter, how the targets are
    drawn, and, when it is known in closed form, the singular set of the continuous problem.

    Attributes
    ----------
    name : str
        The key in :data:`FAMILIES` (``"two-half-disks"``, ...).
    label : str
        Human-readable, for titles.
    parameter : str
        What the parameter is (``"gap"``, ``"hole radius"``, ``"notch depth"``).
    limits : (float, float)
        Its range: 0 (convex) to the largest value the shapes allow.
    sweep : float
        The end of the sweep that :func:`compute` animates.
    """

    name = ""
    label = ""
    parameter = ""
    limits = (0.0, 1.0)
    sweep = 1.0

    def check(self, p):
        """The parameter as a float, refused outside :attr:`limits`."""
        p = as_positive_float(p, self.parameter.replace(" ", "_"), allow_zero=True)
        lo, hi = self.limits
        if not lo <= p <= hi:
            raise ValueError(f"{self.parameter} must lie in [{lo}, {hi}] for {self.name}, got {p!r}")
        return p

    def source(self):
        """The source :class:`geomot.Domain` (uniform)."""
        raise NotImplementedError

    def shape(self, p):
        """The target support at parameter ``p`` (a shapely geometry)."""
        raise NotImplementedError

    def targets(self, p, n, seed):
        """``(m, 2)`` target points at parameter ``p`` from a pool of ``n`` points drawn with ``seed``.

        The pool does not depend on ``p``: the same seed gives frames whose points move
        continuously with the parameter.
        """
        raise NotImplementedError

    def known(self, p):
        """The singular set of the continuous problem (shapely geometry), or None when not known."""
        return None

    def source_bounds(self):
        """``(xmin, ymin, xmax, ymax)`` of the source domain."""
        return np.asarray(self.source().bounds, dtype=np.float64).ravel()

    def target_bounds(self):
        """``(xmin, ymin, xmax, ymax)`` of the largest target of the family (fixed frame limits)."""
        return np.asarray(self.shape(self.limits[1]).bounds, dtype=np.float64)

    def __repr__(self):
        return f"<Family {self.name}: {self.parameter} in {list(self.limits)}>"


class TwoHalfDisks(Family):
    """Rectangle ``[0,2] x [0,1]`` → two half-disks of radius 0.6 about ``x = 1``, ``gap`` apart."""

    name = "two-half-disks"
    label = "rectangle → two half-disks"
    parameter = "gap"
    limits = (0.0, 0.5)
    sweep = 0.4
    radius = 0.6
    center = (1.0, 0.5)

    def source(self):
        import geomot

        return geomot.Domain.box(*_RECT)

    def _halves(self):
        import shapely

        cx, cy = self.center
        disk = shapely.Point(cx, cy).buffer(self.radius, quad_segs=64)
        big = 2 * self.radius
        return (disk.intersection(shapely.box(cx - big, cy - big, cx, cy + big)),
                disk.intersection(shapely.box(cx, cy - big, cx + big, cy + big)))

    def shape(self, p):
        import shapely
        from shapely import affinity

        p = self.check(p)
        left, right = self._halves()
        if p == 0:
            return shapely.union(left, right)
        return shapely.MultiPolygon([affinity.translate(left, -p / 2), affinity.translate(right, p / 2)])

    def targets(self, p, n, seed):
        p = self.check(p)
        left, right = self._halves()
        # an equal share in each half: the two masses are exactly equal, so the split is at x = 1
        y = _common.sample_equal([left, right], n, as_rng(seed))
        k = (n + 1) // 2
        y[:k, 0] -= p / 2
        y[k:, 0] += p / 2
        return y

    def known(self, p):
        import shapely

        if self.check(p) == 0:
            return shapely.LineString()  # convex target: Σ is empty
        return shapely.LineString([(self.center[0], _RECT[0][1]), (self.center[0], _RECT[1][1])])


class _CutDisk(Family):
    """Unit disk → the unit disk with something cut out; the targets are a disk sample restricted."""

    def source(self):
        import geomot

        return geomot.Domain.disk((0.0, 0.0), 1.0)

    def _disk(self):
        import shapely

        from .. import shapes

        # the very polygon geomot.shapes uses for the unit circle, so that cutting never moves the rim
        return shapely.Polygon(shapes.disk_with_hole(radius=1.0, hole_radius=0.1, hole_center=(0.0, 0.0)).exterior)

    def targets(self, p, n, seed):
        import shapely

        from .. import shapes

        shape = self.shape(p)
        pool = shapes.sample(self._disk(), n, seed=as_rng(seed))
        return pool[shapely.contains_xy(shape, pool[:, 0], pool[:, 1])]

    def known(self, p):
        import shapely

        return shapely.LineString() if self.check(p) == 0 else None


class DiskWithHole(_CutDisk):
    """Unit disk → unit disk with a hole of radius ``hole radius`` centred at ``(0.25, 0.1)``."""

    name = "disk-with-hole"
    label = "disk → disk with a hole"
    parameter = "hole radius"
    limits = (0.0, 0.6)
    sweep = 0.45
    hole_center = (0.25, 0.1)

    def shape(self, p):
        from .. import shapes

        p = self.check(p)
        if p == 0:
            return self._disk()
        return shapes.disk_with_hole(radius=1.0, hole_radius=p, hole_center=self.hole_center)


class NotchedDisk(_CutDisk):
    """Unit disk → unit disk with three V-notches of depth ``notch depth`` (width 1.2 x depth at the rim)."""

    name = "notched-disk"
    label = "disk → notched disk"
    parameter = "notch depth"
    limits = (0.0, 0.7)
    sweep = 0.5
    opening = 1.2

    def shape(self, p):
        import shapely

        from .. import shapes

        p = self.check(p)
        if p == 0:
            return self._disk()
        # a V of fixed opening that deepens (width 1.2 x depth): a notch shallower than the sagitta
        # of a fixed-width chord would cut the rim into slivers (shapes.notched_disk refuses it)
        notched = shapes.notched_disk(radius=1.0, hole_radius=0.02, notches=3, notch_depth=p,
                                      notch_width=self.opening * p)
        return self._disk().intersection(shapely.Polygon(notched.exterior))  # the notches, not the hole


#: name -> Family, in the order the explorer lists them
FAMILIES = {f.name: f for f in (TwoHalfDisks(), DiskWithHole(), NotchedDisk())}


def get_family(family):
    """The :class:`Family` named ``family`` (a Family is returned as it is).

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones).
    """
    if isinstance(family, Family):
        return family
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    return FAMILIES[family]


# ================================================================================== scenes
@dataclass(frozen=True)
class Scene:
    """One frame of the sweep: the solve at one parameter and the singular set it has.

    Attributes
    ----------
    family : str
    parameter : float
    n : int
        Size of the pool of targets (the number of targets at parameter 0).
    threshold : float
        The singular-set threshold used (the scale-aware default when none was given).
    res : geomot.OTResult
    singular : geomot.SingularSet
    target : shapely geometry
        The target support.
    known : shapely geometry or None
        The singular set of the continuous problem, when known (empty: Σ = ∅).
    n_pairs : int
        Singular pairs found.
    length : float
        Total length of the singular segments.
    hausdorff : float
        Hausdorff distance between the detected Σ and :attr:`known` (NaN when either is empty or
        the answer is not known).
    seconds : float
        Time of the solve and the detection.
    """

    family: str
    parameter: float
    n: int
    threshold: float
    res: object = field(repr=False)
    singular: object = field(repr=False)
    target: object = field(repr=False)
    known: object = field(repr=False)
    n_pairs: int
    length: float
    hausdorff: float
    seconds: float

    @property
    def n_targets(self):
        """Number of targets actually transported to (the pool restricted to the shape)."""
        return len(self.res.y)

    def summary(self):
        """One line: the parameter, the size, Σ's size and its distance to the known answer."""
        fam = FAMILIES[self.family]
        text = (f"{fam.parameter} = {self.parameter:.3f}, n = {self.n_targets}, τ = {self.threshold:.2f}: "
                f"Σ has {self.n_pairs} facets, length {self.length:.2f}")
        if np.isfinite(self.hausdorff):
            text += f", Hausdorff distance to the known Σ {self.hausdorff:.3f}"
        elif self.known is not None and self.known.is_empty:
            text += " (expected: none, the target is convex)"
        return text


def scene(family, parameter, n, *, threshold=None, seed=0, res=None, tol=1e-6):
    """Solve at one parameter of a family and detect the singular set.

    Parameters
    ----------
    family : str or Family
        A key of :data:`FAMILIES`.
    parameter : float
        In ``family.limits``; 0 is the convex target.
    n : int
        Size of the pool of targets (>= 50).
    threshold : float, optional
        Singular-set threshold (default: :func:`geomot.singular.default_threshold`).
    seed : int or numpy.random.Generator
        Seeds the pool (the same seed gives continuously moving frames).
    res : geomot.OTResult, optional
        A solve of this very problem, to re-detect Σ with another threshold without solving.
    tol : float
        Solver tolerance.

    Returns
    -------
    Scene

    Raises
    ------
    ValueError
        An unknown family, a parameter outside its limits, ``n < 50`` or a bad threshold.
    """
    import warnings

    import shapely

    import geomot
    from ..singular import default_threshold

    fam = get_family(family)
    p = fam.check(parameter)
    n = as_positive_int(n, "n", minimum=50)
    if threshold is not None:
        threshold = as_positive_float(threshold, "threshold")
    t0 = time.perf_counter()
    if res is None:
        res = geomot.solve_ot(fam.source(), fam.targets(p, n, seed), tol=tol)
    with warnings.catch_warnings():  # "no singular pair although the targets leave an empty region"
        warnings.simplefilter("ignore", RuntimeWarning)  # is exactly what small gaps show; we report it
        s = geomot.singular_set(res, threshold=threshold)
    tau = float(default_threshold(len(res.y), 2) if threshold is None else threshold)
    seg = np.asarray(s.segments, dtype=np.float64).reshape(-1, 2, 2)
    known = fam.known(p)
    hd = float("nan")
    if len(seg) and known is not None and not known.is_empty:
        hd = float(shapely.MultiLineString([tuple(map(tuple, a)) for a in seg]).hausdorff_distance(known))
    return Scene(fam.name, p, n, tau, res, s, fam.shape(p), known, int(len(s.pairs)), _common.singular_length(s),
                 hd, time.perf_counter() - t0)


def draw_scene(sc, axes, title=True):
    """Draw a :class:`Scene` on two matplotlib axes: the source and the target.

    Left: the power diagram, each cell coloured by its target (the map: the colours jump where it
    does), the singular set Σ in red and, dashed, the known answer.  Right: the target shape,
    the targets and what the subdifferential of each piece of Σ covers.

    Parameters
    ----------
    sc : Scene
    axes : (Axes, Axes)
        Cleared first.
    title : bool
        Axis titles (the figure's own title is left to the caller).

    Returns
    -------
    (Axes, Axes)
    """
    from .. import plot as gplot

    fam = FAMILIES[sc.family]
    ax_s, ax_t = axes
    for ax in axes:
        ax.clear()
    res, s = sc.res, sc.singular
    gplot.plot_map(res, ax=ax_s, kind="color", edgecolor="0.3", linewidth=0.3)
    gplot.plot_domain(res.domain, ax=ax_s, linewidth=1.0)
    if sc.known is not None and not sc.known.is_empty:
        lines = getattr(sc.known, "geoms", [sc.known])
        for k, line in enumerate(lines):
            xy = np.asarray(line.coords)
            ax_s.plot(xy[:, 0], xy[:, 1], "--", color="k", linewidth=1.0, zorder=6,
                      label="Σ of the continuous map" if k == 0 else None)
    gplot.plot_singular_set(s, ax=ax_s, linewidth=3.0)
    gplot.plot_geometry(sc.target, ax=ax_t, facecolor="0.93", edgecolor="0.45", linewidth=0.8)
    gplot.plot_subdifferentials(s, ax=ax_t, alpha=0.3)
    gplot.plot_samples(res.y, ax=ax_t, color=gplot.target_colors(res.y), size=6.0, alpha=1.0)
    _common.style(ax_s, "source: power diagram coloured by the map, Σ" if title else "",
                  _common.pad(fam.source_bounds()))
    _common.style(ax_t, f"target ({fam.parameter} = {sc.parameter:.2f}) and ∂u(Σ)" if title else "",
                  _common.pad(fam.target_bounds()))
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    return ax_s, ax_t


def panel_ratios(family):
    """Width ratios of the source and target panels of :func:`draw_scene` (their aspect ratios)."""
    fam = get_family(family)
    a = [(b[2] - b[0]) / (b[3] - b[1]) for b in (_common.pad(fam.source_bounds()), _common.pad(fam.target_bounds()))]
    return a


# ================================================================================== recipe
@dataclass(frozen=True)
class SingularAppearsResult:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    family : str
    parameters : (k,) float64, read-only
        The sweep, from 0 (convex) to ``Family.sweep``.
    scenes : tuple of Scene
    n : int
    quick : bool
    appears : float
        The first parameter of the sweep at which Σ is detected.
    """

    family: str
    parameters: np.ndarray = field(repr=False)
    scenes: tuple = field(repr=False)
    n: int
    quick: bool
    appears: float

    @property
    def lengths(self):
        """(k,) total length of Σ along the sweep."""
        return readonly(np.array([s.length for s in self.scenes]))

    @property
    def n_pairs(self):
        """(k,) number of singular pairs along the sweep."""
        return readonly(np.array([s.n_pairs for s in self.scenes]))


def compute(quick=False, n=None, seed=0, progress=False, family="two-half-disks", frames=None):
    """Sweep a family from its convex member to a non-convex one; solve and detect Σ at each step.

    Parameters
    ----------
    quick : bool
        ``SIZES.quick`` targets and ``FRAMES[0]`` frames (else ``SIZES.publication``, ``FRAMES[1]``).
    n : int, optional
        Pool size instead of the default; at least ``SIZES.minimum``.
    seed : None, int or numpy.random.Generator
    progress : bool
        A progress bar over the frames.
    family : str
        A key of :data:`FAMILIES`.
    frames : int, optional
        Number of parameters of the sweep (>= 2).

    Returns
    -------
    SingularAppearsResult

    Raises
    ------
    ValueError
        Bad ``n``, ``family`` or ``frames``.
    RuntimeError
        A claim fails (nothing has been drawn).
    """
    fam = get_family(family)
    n = _common.size(NAME, SIZES, n, quick)
    k = FRAMES[0 if quick else 1] if frames is None else as_positive_int(frames, "frames", minimum=2)
    if not isinstance(seed, numbers.Integral):  # one pool for every frame: draw its seed once
        seed = int(as_rng(seed).integers(2**31))
    params = np.linspace(0.0, fam.sweep, k)
    it = params
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(params, desc=f"{NAME} ({fam.name})", unit="frame")
    scenes = tuple(scene(fam, p, n, seed=seed, tol=1e-6 if quick else 1e-9) for p in it)
    _common.check(all(bool(s.res.converged) for s in scenes), "a transport solve of the sweep did not converge")
    _common.check(scenes[0].n_pairs == 0, f"Σ is not empty for the convex target ({scenes[0].n_pairs} pairs)")
    _common.check(scenes[-1].n_pairs > 0, f"no singular set at {fam.parameter} = {fam.sweep}")
    if fam.name == "two-half-disks":
        tol = float(max(0.05, 1.5 * np.sqrt(2.0 / n)))
        _common.check(scenes[-1].hausdorff < tol, f"Σ is {scenes[-1].hausdorff:.3f} from the midline (> {tol:.3f})")
    appears = float(next(s.parameter for s in scenes if s.n_pairs > 0))
    return SingularAppearsResult(fam.name, readonly(params), scenes, n, bool(quick), appears)


def _frame(sc, size, dpi):
    """The RGB image of one scene: the two panels and a title with the numbers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    draw_scene(sc, fig.subplots(1, 2, width_ratios=panel_ratios(sc.family)))
    head, _, tail = sc.summary().partition(": ")
    fig.suptitle(f"{FAMILIES[sc.family].label}, {head}\n{tail}", fontsize=10)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def write_mp4(images, path, fps=4):
    """Write RGB frames as an H.264 MP4 with imageio-ffmpeg; None when it is not installed.

    Parameters
    ----------
    images : list of (h, w, 3) uint8 ndarray
        Same size; padded with white to multiples of 16 pixels (what H.264 players expect).
    path : str or Path
    fps : float

    Returns
    -------
    pathlib.Path or None
    """
    from pathlib import Path

    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    h, w = images[0].shape[:2]
    H, W = -(-h // 16) * 16, -(-w // 16) * 16
    path = Path(path)
    writer = imageio_ffmpeg.write_frames(str(path), (W, H), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, quality=7, ffmpeg_log_level="error")
    writer.send(None)
    for im in images:
        frame = np.full((H, W, 3), 255, np.uint8)
        frame[:h, :w] = im[..., :3]
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def render(result, out_dir, show=False, progress=False):
    """Animate the sweep: a GIF (and an MP4 when imageio-ffmpeg is installed) and a contact sheet.

    Parameters
    ----------
    result : SingularAppearsResult
    out_dir : str or pathlib.Path
        Created if missing.
    show : bool
        Unused (no 3D scene; ``geomot explore`` is the live version).
    progress : bool
        A progress bar while the frames are drawn.

    Returns
    -------
    list of pathlib.Path
        ``singular_appears.gif``, ``singular_appears.png`` (six frames and the length of Σ along
        the sweep), and ``singular_appears.mp4`` when it could be written.
    """
    from matplotlib.figure import Figure

    from .. import plot3d

    out = _common.out_dir(out_dir)
    fam = FAMILIES[result.family]
    size, dpi = ((9.0, 4.0), 80) if result.quick else ((12.0, 5.3), 120)
    scenes = result.scenes
    if progress:
        from tqdm.auto import tqdm

        scenes = tqdm(scenes, desc="drawing frames", unit="frame")
    images = [_frame(sc, size, dpi) for sc in scenes]
    paths = [plot3d.write_gif(images, out / "singular_appears.gif", duration_ms=450, bounce=True)]

    pick = np.unique(np.linspace(0, len(images) - 1, 6).round().astype(int))
    h, w = images[0].shape[:2]
    fig = Figure(figsize=(15, 2 * 5 * h / w + 2.6), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=[5 * h / w, 5 * h / w, 2.4])
    for k, i in enumerate(pick):
        ax = fig.add_subplot(grid[k // 3, k % 3])
        ax.imshow(images[i])
        ax.set_axis_off()
    ax = fig.add_subplot(grid[2, :])
    ax.plot(result.parameters, result.lengths, "o-", color="C3", label="length of Σ")
    ax.axvline(result.appears, color="0.5", linestyle=":", label=f"Σ first detected ({fam.parameter} = "
                                                                  f"{result.appears:.2f})")
    ax.set_xlabel(fam.parameter)
    ax.set_ylabel("length of Σ")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(f"The singular set appears: {fam.label} (n = {result.n})", fontsize=12)
    paths.append(_common.save(fig, out / "singular_appears.png", _common.dpi(result.quick)))
    fps = 2.0
    seq = images + images[-2:0:-1]
    mp4 = write_mp4(seq, out / "singular_appears.mp4", fps=fps)
    if mp4 is not None:
        paths.append(mp4)
    return paths


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False, family="two-half-disks"):
    """:func:`compute` then :func:`render`: ``[singular_appears.gif, singular_appears.png(, .mp4)]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress, family=family), out_dir, show=show,
                  progress=progress)
