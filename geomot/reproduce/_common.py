"""What the figure recipes share: sizes, the solve, the checks and the matplotlib styling.

Every recipe (``geomot/reproduce/<name>.py``) is split in two steps: ``compute`` solves the
transport problem and checks the article's claim with :func:`check` (a ``RuntimeError`` before
anything is drawn), ``render`` draws what ``compute`` returned.  The helpers below are the only
code two recipes have in common.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from .. import plot as gplot
from .._validate import as_positive_int


class Sizes(NamedTuple):
    """Numbers of targets of one figure: quick, publication, and the smallest that resolves it."""

    quick: int
    publication: int
    minimum: int


def size(name, sizes, n, quick):
    """The number of targets to use: ``n``, or the figure's default; too small an ``n`` is refused."""
    if n is None:
        return sizes.quick if quick else sizes.publication
    n = as_positive_int(n, "n", minimum=1)
    if n < sizes.minimum:
        raise ValueError(f"n must be at least {sizes.minimum} for {name} (fewer targets do not resolve what the "
                         f"figure shows), got {n}")
    return n


def dpi(quick):
    """Resolution of the saved matplotlib pictures."""
    return 90 if quick else 200


def check(cond, message):
    """The figure's numeric claim; fail loudly before rendering a wrong picture."""
    if not cond:
        raise RuntimeError(f"figure check failed: {message}")


def solve(domain, y, progress, quick, nu=None):
    """The converged transport solve of every figure (looser tolerance in quick mode)."""
    import geomot

    res = geomot.solve_ot(domain, y, nu, tol=1e-6 if quick else 1e-9, progress=progress)
    check(bool(res.converged), f"the transport solve did not converge ({len(y)} targets)")
    return res


def sample_equal(parts, n, rng):
    """n points: an equal share uniformly inside each part (exact symmetry of the masses)."""
    from .. import shapes

    k = len(parts)
    counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return np.vstack([shapes.sample(p, c, seed=rng) for p, c in zip(parts, counts)])


def singular_length(s):
    """Total length of the singular segments of a 2D singular set."""
    seg = np.asarray(s.segments).reshape(-1, 2, 2)
    return float(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1).sum()) if len(seg) else 0.0


def out_dir(path):
    """The output folder, created when missing."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def save(fig, path, dpi):
    fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
    return Path(path)


def style(ax, title, lim=None):
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    if lim is not None:
        ax.set_xlim(lim[0], lim[2])
        ax.set_ylim(lim[1], lim[3])
    ax.tick_params(labelsize=7)


def pad(bounds, frac=0.05):
    """``(xmin, ymin, xmax, ymax)`` grown by ``frac`` of the larger side on every side."""
    b = np.asarray(bounds, dtype=np.float64).ravel()
    w = max(b[2] - b[0], b[3] - b[1]) * frac
    return (b[0] - w, b[1] - w, b[2] + w, b[3] + w)


def show(scene, show):
    """Open an interactive PyVista window with the same scene, when asked and a display exists."""
    from .. import plot3d

    if show and plot3d.has_display():  # pragma: no cover - needs a display
        scene(plot3d.make_plotter(off_screen=False)).show()


def two_panel_map(res, s, target_shape, title, lim_src, lim_tgt, arrows=True, order=None):
    """Source (map colours + singular set), power diagram (+arrows), target (+subdifferentials)."""
    ncol = 3 if arrows else 2
    fig = Figure(figsize=(4.2 * ncol, 4.4), layout="constrained")
    axes = fig.subplots(1, ncol)
    ax = axes[0]
    gplot.plot_map(res, ax=ax, kind="color")
    gplot.plot_singular_set(s, ax=ax, linewidth=2.5, order=order)
    gplot.plot_domain(res.domain, ax=ax)
    style(ax, "map T: cells coloured by their target,\nsingular set Γ0, Γ1, ...", lim_src)
    if len(s.pairs):
        ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    if arrows:
        ax = axes[1]
        gplot.plot_map(res, ax=ax, kind="arrows", max_arrows=250, target_size=2.0)
        gplot.plot_singular_set(s, ax=ax, linewidth=2.0, label=False)
        style(ax, "power diagram, centroid → target arrows", None)
    ax = axes[-1]
    if target_shape is not None:
        gplot.plot_geometry(target_shape, ax=ax, facecolor="0.93", edgecolor="0.4", linewidth=0.8)
    gplot.plot_subdifferentials(s, ax=ax, alpha=0.3, order=order)
    gplot.plot_samples(res.y, ax=ax, color=gplot.target_colors(res.y), size=5.0, alpha=1.0)
    style(ax, "targets, and what the subdifferentials\nof the singular set cover", lim_tgt)
    if len(s.pairs):
        ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    fig.suptitle(title, fontsize=11)
    return fig


class DigitsTransport(NamedTuple):
    """The latent transport of the real-data figures (fig1, fig8, fig10)."""

    latent: object  # geomot.latent.LatentDigits
    res: object  # exact OTResult: unit square -> codes
    singular: object  # SingularSet
    aware: object  # PiecewiseLinearMap (avoids the singular set)
    continuous: object  # ContinuousMap: an MLP regressing the OT map


def digits_transport(name, sizes, n, quick, seed, progress):
    """Digits -> 2D t-SNE codes in the unit square -> exact Newton OT from the unit square onto
    them, the singular set, the singular-aware map and the MLP that regresses the map."""
    import geomot
    from ..generate import continuous_map
    from ..latent import encode_digits, load_digits

    n = size(name, sizes, n, quick)
    digits = load_digits(None if n >= 1797 else n, seed=0)
    latent = encode_digits(digits, encoder="tsne", dim=2, seed=0)
    res = solve(geomot.Domain.box([0.0, 0.0], [1.0, 1.0]), latent.codes, progress, quick)
    s = geomot.singular_set(res)
    check(len(s.pairs) > 0, "no singular set between the clusters of the digits' codes")
    aware = geomot.PiecewiseLinearMap(res, singular=s)
    cont = continuous_map(res, "mlp", seed=seed)
    return DigitsTransport(latent, res, s, aware, cont)


def class_raster(res, labels, pixels=300):
    """(pixels, pixels) class of the target of each pixel of the unit square (the map's cells)."""
    g = (np.arange(pixels) + 0.5) / pixels
    xx, yy = np.meshgrid(g, g)
    idx = res.potential.index(np.column_stack([xx.ravel(), yy.ravel()]))
    return np.asarray(labels)[idx].reshape(pixels, pixels)


#: one colour per digit class
DIGIT_COLORS = "tab10"
