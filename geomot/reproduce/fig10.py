"""Figure 10: a straight latent segment that crosses the singular set decodes, under a continuous
generator, to an image that is no digit.

The article interpolates two latent points: the decoded images along the segment form a curve on
the image manifold, and where the segment crosses the singular set a continuous generator
produces an image that cannot exist (a face with one brown and one blue eye).  Here, on the
digits (2D t-SNE codes, exact transport from the unit square): a segment of the latent square
that crosses the singular set between two digits' clusters
(:func:`geomot.segment_crossings`), the decoded images of the singular-aware map along it (they
stay digits: the map jumps at the crossing, marked) and, at the same parameters, those of the
continuous generator (an MLP regressing the map), whose code at the crossing lies between the
clusters and decodes to a blend of the two digits.  The segment is the one, among segments of
half-length 0.12 through the middle of the highest-scoring singular facets between two digits'
clusters (normal to the facet, crossing the singular set once), whose continuous image at the
crossing is the most even blend of the two end digits for the classifier.

Checked by :func:`compute`: the segment crosses the singular set; the two ends decode to different
digits; the continuous generator's code at the crossing is off the data manifold, while the
singular-aware codes along the segment are on it.

Example
-------
>>> from geomot.reproduce import fig10
>>> r = fig10.compute(quick=True, n=300)
>>> bool(r.crossings.singular.any()), r.digits[0] != r.digits[1], r.blend_off
(True, True, True)
"""

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from .. import plot as gplot
from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig10Result", "compute", "render", "make"]

NAME = "fig10"
DESCRIPTION = "latent interpolation across the singular set: digits vs a continuous generator's blend"
SIZES = _common.Sizes(quick=900, publication=1797, minimum=300)
DIM = 2
#: images shown along the segment (the crossing is added)
STEPS = 11
#: half-length of the segment, in units of the latent square
HALF_LENGTH = 0.12
#: segments tried (across the highest-scoring singular facets between two digits)
MAX_CANDIDATES = 40


@dataclass(frozen=True)
class Fig10Result:
    """What :func:`compute` found.

    Attributes
    ----------
    transport : DigitsTransport
    crossings : geomot.SegmentCrossings
        Of the segment ``a -> b``.
    t_star : float
        The singular crossing shown.
    t : (STEPS + 1,) float64
        Parameters of the images (``t_star`` included).
    aware_codes, continuous_codes : (STEPS + 1, 2) float64
        Codes along the segment: the transport map (singular-aware; at ``t_star`` its limit from
        the ``a`` side) and the MLP.
    aware_images, continuous_images : (STEPS + 1, 64) float64
    digits : (2,) int
        The classifier's digits at the two ends.
    blend_probabilities : (10,) float64
        The classifier's probabilities for the continuous image at ``t_star``.
    blend_off : bool
        The continuous code at ``t_star`` is off the data manifold.
    quick : bool
    """

    transport: object = field(repr=False)
    crossings: object = field(repr=False)
    t_star: float
    t: np.ndarray = field(repr=False)
    aware_codes: np.ndarray = field(repr=False)
    continuous_codes: np.ndarray = field(repr=False)
    aware_images: np.ndarray = field(repr=False)
    continuous_images: np.ndarray = field(repr=False)
    digits: tuple
    blend_probabilities: np.ndarray = field(repr=False)
    blend_off: bool
    quick: bool


def _candidates(tr):
    """Segments across singular facets between two digits' clusters, largest score first."""
    s, lab = tr.singular, tr.latent.labels
    for k in range(len(s.pairs)):
        i, j = s.pairs[k]
        if lab[i] == lab[j]:
            continue
        for seg in s.segments[s.segment_pair == k]:
            mid = seg.mean(axis=0)
            tang = seg[1] - seg[0]
            if not np.linalg.norm(tang) > 0:
                continue
            nrm = np.array([-tang[1], tang[0]]) / np.linalg.norm(tang)
            a, b = mid - HALF_LENGTH * nrm, mid + HALF_LENGTH * nrm
            if np.all((a > 0) & (a < 1) & (b > 0) & (b < 1)):
                yield a, b


def compute(quick=False, n=None, seed=0, progress=False):
    """Find a latent segment across the singular set and decode both generators along it.

    Parameters
    ----------
    quick : bool
    n : int, optional
        Number of digits; at least ``SIZES.minimum``.
    seed : None, int or numpy.random.Generator
    progress : bool

    Returns
    -------
    Fig10Result

    Raises
    ------
    RuntimeError
        No segment shows the claim (nothing has been drawn).
    """
    import geomot

    rng = as_rng(seed)
    tr = _common.digits_transport(NAME, SIZES, n, quick, rng, progress)
    lat, res = tr.latent, tr.res
    pot = res.potential
    best = None
    for q, (a, b) in enumerate(_candidates(tr)):
        if q >= MAX_CANDIDATES:
            break
        c = geomot.segment_crossings(res, a, b, singular=tr.singular)
        sing = np.flatnonzero(c.singular)
        if sing.size != 1:
            continue
        t_star = float(c.t[sing[0]])
        grid = np.linspace(0.0, 1.0, STEPS)
        grid = np.delete(grid, np.argmin(np.abs(grid - t_star)))  # t* replaces its nearest step
        t = np.sort(np.append(grid, t_star))
        ks = int(np.searchsorted(t, t_star))
        x = a + t[:, None] * (b - a)
        aware = tr.aware(x)
        # the map's value where the PL map rejects (near the crossing) and, at t*, its limit
        # from the a side (the cell the segment leaves)
        disc = res.y[pot.index(x)]
        rej = ~np.all(np.isfinite(aware), axis=1)
        aware[rej] = disc[rej]
        aware[ks] = res.y[c.pairs[sing[0], 0]]
        cont = tr.continuous(x)
        aware_img, cont_img = lat.decode(aware), lat.decode(cont)
        ends = lat.classify(aware_img[[0, -1]])
        blend_off = bool(lat.off_manifold(cont[ks:ks + 1])[0])
        if ends[0] == ends[1] or not blend_off or lat.off_manifold(aware).mean() > 0.1:
            continue
        probs = lat.class_probabilities(cont_img[ks:ks + 1])[0]
        even = float(min(probs[ends[0]], probs[ends[1]]))
        if best is None or even > best[0]:
            best = (even, Fig10Result(tr, c, t_star, t, aware, cont, aware_img, cont_img,
                                      (int(ends[0]), int(ends[1])), probs, blend_off, bool(quick)))
    _common.check(best is not None, "no latent segment across the singular set shows a continuous "
                                    "generator's code off the data manifold")
    return best[1]


def _strip(ax, images, t, ks, title, mark):
    m = len(images)
    canvas = np.ones((10, m * 10 + 1, 3))
    for q, img in enumerate(images):
        canvas[1:9, 1 + 10 * q:9 + 10 * q] = np.repeat((1.0 - img.reshape(8, 8))[:, :, None], 3, axis=2)
    if mark == "frame":
        canvas[0, 10 * ks:10 * ks + 10] = canvas[9, 10 * ks:10 * ks + 10] = (0.9, 0.1, 0.1)
        canvas[:, 10 * ks] = canvas[:, 10 * ks + 9] = (0.9, 0.1, 0.1)
    ax.imshow(canvas, interpolation="nearest")
    if mark == "jump":
        ax.axvline(10 * ks + 9.5, color="red", lw=2.5)
    ax.set_yticks([])
    ax.set_xticks(10 * np.arange(m) + 5)
    ax.set_xticklabels([("t*" if q == ks else f"{v:.1f}") for q, v in enumerate(t)], fontsize=7)
    ax.set_title(title, fontsize=10)


def render(result, out_dir, show=False, progress=False):
    """Draw the segment in the latent square, the code paths, and the two image strips.

    Returns
    -------
    list of pathlib.Path
        ``[fig10_latent_interpolation.png]``.
    """
    out = _common.out_dir(out_dir)
    tr = result.transport
    lat, res, s, c = tr.latent, tr.res, tr.singular, result.crossings
    ks = int(np.flatnonzero(result.t == result.t_star)[0])
    fig = Figure(figsize=(14.0, 7.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.5, 1.0])
    a0, a1 = top.subplots(1, 2)
    raster = _common.class_raster(res, lat.labels, 240 if result.quick else 500)
    a0.imshow(raster, origin="lower", extent=(0, 1, 0, 1), cmap=_common.DIGIT_COLORS, vmin=-0.5, vmax=9.5,
              interpolation="nearest", alpha=0.85)
    gplot.plot_singular_set(s, ax=a0, color="black", linewidth=1.0, label=False)
    a0.plot(*np.vstack([c.a, c.b]).T, "w-", lw=2.5)
    a0.plot(*np.vstack([c.a, c.b]).T, "k--", lw=1.0)
    p = c.a + result.t_star * (c.b - c.a)
    a0.plot(*p, "o", ms=9, mfc="none", mec="red", mew=2)
    _common.style(a0, f"latent square (colour = digit it is sent to), singular set (black);\n"
                      f"the segment a -> b crosses it at t* = {result.t_star:.3f} (red)", (0, 0, 1, 1))
    gplot.plot_samples(lat.codes, ax=a1, color="0.8", size=3.0, alpha=1.0)
    a1.plot(*result.aware_codes[:ks + 1].T, "o-", color="tab:blue", ms=4, lw=1, label="singular-aware: jumps at t*")
    a1.plot(*result.aware_codes[ks + 1:].T, "o-", color="tab:blue", ms=4, lw=1)
    a1.plot(*result.aware_codes[ks:ks + 2].T, ":", color="tab:blue", lw=1)
    a1.plot(*result.continuous_codes.T, "s-", color="tab:red", ms=4, lw=1, label="continuous (MLP): crosses the gap")
    a1.plot(*result.continuous_codes[ks], "s", ms=11, mfc="none", mec="red", mew=2)
    lo = np.minimum(result.aware_codes.min(0), result.continuous_codes.min(0)) - 0.08
    hi = np.maximum(result.aware_codes.max(0), result.continuous_codes.max(0)) + 0.08
    a1.legend(fontsize=7, loc="lower right")
    _common.style(a1, "their images in the code space (grey: the digits' codes)",
                  (lo[0], lo[1], hi[0], hi[1]))
    b0, b1 = bottom.subplots(2, 1)
    d0, d1 = result.digits
    _strip(b0, result.aware_images, result.t, ks,
           f"singular-aware generator: {d0} ... {d0} | {d1} ... {d1} (the map jumps at t*, red line)", "jump")
    top2 = np.argsort(result.blend_probabilities)[::-1][:2]
    _strip(b1, result.continuous_images, result.t, ks,
           f"continuous generator at the same t: at t* (red frame) a code between the clusters, a blend "
           f"(classifier: {top2[0]} {result.blend_probabilities[top2[0]]:.2f}, "
           f"{top2[1]} {result.blend_probabilities[top2[1]]:.2f})", "frame")
    fig.suptitle("Figure 10 — latent interpolation across the singular set: a continuous generator "
                 "decodes the crossing to an image that is no digit", fontsize=11)
    return [_common.save(fig, out / "fig10_latent_interpolation.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig10_latent_interpolation.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
