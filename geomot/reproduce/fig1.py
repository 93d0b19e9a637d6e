"""Figure 1: the latent codes of real digits form ten clusters; the transport onto them is singular.

Data: the 8x8 handwritten digits bundled with scikit-learn, embedded in the plane by t-SNE as in
the article (:func:`geomot.latent.encode_digits`), scaled into the unit square.  Exact 2D Newton
transport from the uniform unit square onto the codes; its singular set runs between the
clusters.  The singular-aware piecewise-linear map (:class:`geomot.PiecewiseLinearMap`) puts its
samples in all ten clusters and none between them; a neural network trained to regress the same
map (:func:`geomot.generate.continuous_map` ``kind="mlp"``) is continuous and fills the gaps.
"Between the clusters" is measured by the off-manifold test of
:meth:`geomot.latent.LatentDigits.off_manifold`: farther from every data code than the 99th
percentile of the codes' nearest-neighbour distances (so 1 % of the data itself is "off").

Checked by :func:`compute`: converged; a singular set exists; the singular-aware samples reach
every cluster (each digit holds at least a third of its fair share) with at most 5 % of them off
the manifold, and fewer than half the continuous generator's share.

Example
-------
>>> from geomot.reproduce import fig1
>>> r = fig1.compute(quick=True, n=300)
>>> r.off_aware < 0.05 < r.off_continuous, int((r.shares_aware > 0).sum())
(True, 10)
"""

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from .. import plot as gplot
from .._validate import as_rng
from . import _common

__all__ = ["NAME", "DESCRIPTION", "SIZES", "DIM", "Fig1Result", "compute", "render", "make"]

NAME = "fig1"
DESCRIPTION = "digits' t-SNE codes: ten clusters, the singular set between them, samples in all and none between"
#: numbers of digits (targets): quick, publication (all 1797), minimum (30 per class)
SIZES = _common.Sizes(quick=900, publication=1797, minimum=300)
DIM = 2


@dataclass(frozen=True)
class Fig1Result:
    """What :func:`compute` found and :func:`render` draws.

    Attributes
    ----------
    transport : geomot.reproduce._common.DigitsTransport
        Codes, the exact solve, the singular set and both generators.
    aware, continuous : (m, 2) float64
        Samples of the singular-aware map and of the MLP.
    off_aware, off_continuous : float
        Their shares off the data manifold.
    shares_aware, shares_continuous : (10,) float64
        Shares of the on-manifold samples in each digit's cluster (the nearest code's class).
    n : int
    quick : bool
    """

    transport: object = field(repr=False)
    aware: np.ndarray = field(repr=False)
    continuous: np.ndarray = field(repr=False)
    off_aware: float
    off_continuous: float
    shares_aware: np.ndarray = field(repr=False)
    shares_continuous: np.ndarray = field(repr=False)
    n: int
    quick: bool


def _shares(latent, pts):
    on = ~latent.off_manifold(pts)
    lab = latent.nearest_label(pts[on]) if on.any() else np.zeros(0, np.int64)
    return np.bincount(lab, minlength=latent.digits.n_classes) / max(len(pts), 1)


def compute(quick=False, n=None, seed=0, progress=False):
    """Embed, solve, sample both generators and check the article's claim.

    Parameters
    ----------
    quick : bool
        ``SIZES.quick`` digits and tolerance 1e-6 (else all 1797 digits and 1e-9).
    n : int, optional
        Number of digits instead of the default; at least ``SIZES.minimum``.
    seed : None, int or numpy.random.Generator
        Seeds the generators' samples and the MLP.
    progress : bool
        Show the solver's progress bar.

    Returns
    -------
    Fig1Result

    Raises
    ------
    ValueError
        ``n`` is below ``SIZES.minimum``.
    RuntimeError
        A claim of the figure fails (nothing has been drawn).
    """
    rng = as_rng(seed)
    tr = _common.digits_transport(NAME, SIZES, n, quick, rng, progress)
    m = 3000 if quick else 10000
    aware = tr.aware.sample(m, seed=rng)
    cont = tr.continuous.sample(m, seed=rng)
    lat = tr.latent
    off_a = float(lat.off_manifold(aware).mean())
    off_c = float(lat.off_manifold(cont).mean())
    sh_a, sh_c = _shares(lat, aware), _shares(lat, cont)
    k = lat.digits.n_classes
    _common.check(bool(np.all(sh_a >= 1.0 / (3 * k))),
                  f"the singular-aware samples miss a cluster (shares {np.round(sh_a, 3).tolist()})")
    _common.check(off_a <= 0.05, f"{100 * off_a:.1f}% of the singular-aware samples are off the manifold")
    _common.check(off_a < 0.5 * off_c,
                  f"the continuous generator is not worse ({100 * off_c:.1f}% vs {100 * off_a:.1f}% off)")
    return Fig1Result(tr, aware, cont, off_a, off_c, sh_a, sh_c, len(lat.codes), bool(quick))


def _scatter_on_codes(ax, lat, pts, title):
    off = lat.off_manifold(pts)
    gplot.plot_samples(lat.codes, ax=ax, color="0.82", size=3.0, alpha=1.0)
    lab = lat.nearest_label(pts[~off])
    ax.scatter(pts[~off, 0], pts[~off, 1], c=lab, cmap=_common.DIGIT_COLORS, vmin=-0.5, vmax=9.5, s=1.5,
               alpha=0.7, linewidths=0)
    ax.scatter(pts[off, 0], pts[off, 1], color="red", s=4.0, linewidths=0)
    _common.style(ax, title, (0, 0, 1, 1))


def render(result, out_dir, show=False, progress=False):
    """Draw the codes, the map with its singular set, and both generators' samples.

    Parameters
    ----------
    result : Fig1Result
    out_dir : str or pathlib.Path
        Created if missing.
    show, progress : bool
        Unused (no 3D scene, nothing long); every recipe's ``render`` takes them.

    Returns
    -------
    list of pathlib.Path
        ``[fig1_digits_latent.png]``.
    """
    out = _common.out_dir(out_dir)
    tr = result.transport
    lat, res, s = tr.latent, tr.res, tr.singular
    fig = Figure(figsize=(17.0, 4.8), layout="constrained")
    a0, a1, a2, a3 = fig.subplots(1, 4)
    a0.scatter(lat.codes[:, 0], lat.codes[:, 1], c=lat.labels, cmap=_common.DIGIT_COLORS, vmin=-0.5,
               vmax=9.5, s=4, linewidths=0)
    for c in range(lat.digits.n_classes):
        mid = np.median(lat.codes[lat.labels == c], axis=0)
        a0.text(mid[0], mid[1], str(c), fontsize=13, weight="bold", ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    _common.style(a0, f"t-SNE codes of {result.n} digits:\nten clusters (colour = digit)", (0, 0, 1, 1))
    raster = _common.class_raster(res, lat.labels, 240 if result.quick else 500)
    a1.imshow(raster, origin="lower", extent=(0, 1, 0, 1), cmap=_common.DIGIT_COLORS, vmin=-0.5, vmax=9.5,
              interpolation="nearest")
    gplot.plot_singular_set(s, ax=a1, color="black", linewidth=1.2, label=False)
    _common.style(a1, "latent square: each point coloured by the digit\nit is sent to; singular set (black)",
                  (0, 0, 1, 1))
    _scatter_on_codes(a2, lat, result.aware, f"singular-aware map (AE-OT): all ten clusters,\n"
                      f"{100 * result.off_aware:.1f}% of {len(result.aware)} samples between them (red)")
    _scatter_on_codes(a3, lat, result.continuous, f"continuous generator (MLP fit of the map):\n"
                      f"{100 * result.off_continuous:.1f}% between the clusters (red)")
    fig.suptitle("Figure 1 — real data: the codes of the digits form ten modes; the transport onto them "
                 "is singular between the modes, and a continuous generator fills the gaps", fontsize=11)
    return [_common.save(fig, out / "fig1_digits_latent.png", _common.dpi(result.quick))]


def make(out_dir, quick=False, n=None, seed=0, progress=False, show=False):
    """:func:`compute` then :func:`render`: ``[fig1_digits_latent.png]``."""
    return render(compute(quick=quick, n=n, seed=seed, progress=progress), out_dir, show=show, progress=progress)
