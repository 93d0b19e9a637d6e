"""Benchmark: mode collapse on the GAN literature's Gaussian mixtures, the digits (figure 8), and
the separation of the digits' encoders.

Three generators, all built on the same semi-discrete transport from the uniform unit cube onto
samples of the data:

* ``singular-aware`` -- ``PiecewiseLinearMap(res)`` (avoids the singular set);
* ``no avoidance`` -- ``PiecewiseLinearMap(res, avoid_singular=False)``;
* ``MLP`` -- ``continuous_map(res, "mlp")``: a network trained to regress the transport map
  itself (a continuous generator given the best possible target).

Benchmarks (``geomot.mixtures``): a ring of 8 and a grid of 25 Gaussians in 2D (exact Newton), 10
Gaussians in 16D (Monte Carlo, ``solve_ot(method="montecarlo", tol=0.1)`` with the solver's default
sample schedule and stopping rule, top-cells construction).  Each
generator draws ``--samples`` (2,500) points; the metrics are those of the literature (modes
covered, high-quality share, KL of the mode histogram from uniform; ``geomot.mixtures``).
``--fig8``: the table of figure 8 (digits, t-SNE codes, all 1,797).  ``--encoders``: the
separation of the digits' codes by encoder (``geomot.latent.separation``).

Usage::

    python benchmarks/bench_mode_collapse.py [--samples 2500] [--seed 0] [--fig8] [--encoders]
                                             [--mc-samples N] [--mc-iter K] [--n16 200]

``--mc-samples`` fixes the Monte-Carlo batch size (default: the growing schedule, which reaches
the batch whose noise ``tol`` allows) and ``--mc-iter`` caps the batches (default: the solver's).

Prints Markdown tables (the ones in ``docs/mode_collapse_benchmarks.md``).
"""

import argparse
import time
import warnings

import numpy as np

import geomot
from geomot import mixtures
from geomot.generate import continuous_map


#: the 16D solve's target accuracy (max relative mass error; the solver's stopping rule)
MC_TOL = 0.1


def _generators(res, seed):
    t0 = time.perf_counter()
    aware = geomot.PiecewiseLinearMap(res, **({"seed": seed} if res.method == "montecarlo" else {}))
    naive = geomot.PiecewiseLinearMap(res, avoid_singular=False,
                                      **({"seed": seed} if res.method == "montecarlo" else {}))
    t1 = time.perf_counter()
    mlp = continuous_map(res, "mlp", seed=seed)
    t2 = time.perf_counter()
    return [("singular-aware", aware, t1 - t0), ("no avoidance", naive, 0.0), ("MLP", mlp, t2 - t1)]


def _row(bench, name, m, secs):
    return (f"| {bench} | {name} | {m.modes_covered} / {m.n_modes} | {100 * m.high_quality:.1f} % | "
            f"{m.kl:.3f} | {secs:.1f} |")


def mixtures_table(samples, seed, n16, mc_samples, mc_iter):
    print("| benchmark | generator | modes covered | high quality | KL | seconds (build + sample) |")
    print("|---|---|---|---|---|---|")
    cases = [("ring of 8 (2D, exact)", mixtures.ring(), 800, None),
             ("grid of 25 (2D, exact)", mixtures.grid(), 2500, None),
             ("10 Gaussians in 16D (Monte Carlo)", mixtures.high_dim(), n16, "montecarlo")]
    for bench, mix, n, method in cases:
        y = mix.sample(n, seed=seed)
        d = mix.dim
        dom = geomot.Domain.box([0.0] * d, [1.0] * d)
        t0 = time.perf_counter()
        if method is None:
            res = geomot.solve_ot(dom, y, tol=1e-6)
        else:
            # (a run that misses tol is reported in its row, not stopped: the maps need only cells)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", geomot.ConvergenceWarning)
                res = geomot.solve_ot(dom, y, method="montecarlo", seed=seed, n_samples=mc_samples,
                                      max_iter=mc_iter, tol=MC_TOL)
        solve = time.perf_counter() - t0
        extra = ""
        if method == "montecarlo":
            sizes = np.asarray(res.timings["n_samples"])
            extra = f", {sizes.sum():.3g} samples, final batch {sizes[-1]:.3g}"
        print(f"| {bench}: solve | n = {n} | converged {res.converged}, {res.iterations} it., error "
              f"{res.history[-1]:.3g}{extra} | | | {solve:.1f} |")
        for name, gen, build in _generators(res, seed):
            t0 = time.perf_counter()
            pts = gen.sample(samples, seed=seed + 1)
            secs = build + time.perf_counter() - t0
            print(_row(bench, name, mixtures.mode_metrics(pts, mix), secs))


def fig8_table(seed):
    from geomot.reproduce import fig8

    r = fig8.compute(quick=False, seed=seed)
    print(f"| generator (n = {r.n} codes, {len(r.generated[0].codes)} samples) | off the manifold | "
          f"KL from the data's classes | class shares 0-9 |")
    print("|---|---|---|---|")
    for name, off, kl, hist in r.table():
        print(f"| {name} | {100 * off:.1f} % | {kl:.4f} | " + " ".join(f"{v:.3f}" for v in hist) + " |")


def encoders_table(seed):
    from geomot.latent import encode_digits, load_digits, separation

    digits = load_digits()
    print("| encoder | dim | k-NN purity | cross-class pairs singular | within-class pairs singular | "
          "median score cross / within | threshold |")
    print("|---|---|---|---|---|---|---|")
    for enc, dim in (("tsne", 2), ("pca", 2), ("pca", 8), ("autoencoder", 8)):
        lat = encode_digits(digits, encoder=enc, dim=dim, seed=seed)
        s = separation(lat.codes, lat.labels, seed=seed)
        print(f"| {enc} | {dim} | {s.knn_purity:.3f} | {100 * s.cross_singular:.1f} % | "
              f"{100 * s.within_singular:.1f} % | {s.cross_score:.2f} / {s.within_score:.2f} | {s.threshold:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n16", type=int, default=200, help="targets of the 16D mixture")
    ap.add_argument("--mc-samples", type=int, default=None, help="fixed batch size (default: the schedule)")
    ap.add_argument("--mc-iter", type=int, default=None, help="largest number of batches (default: the solver's)")
    ap.add_argument("--fig8", action="store_true")
    ap.add_argument("--encoders", action="store_true")
    ap.add_argument("--no-mixtures", action="store_true")
    args = ap.parse_args()
    if not args.no_mixtures:
        mixtures_table(args.samples, args.seed, args.n16, args.mc_samples, args.mc_iter)
    if args.fig8:
        print()
        fig8_table(args.seed)
    if args.encoders:
        print()
        encoders_table(args.seed)


if __name__ == "__main__":
    main()
