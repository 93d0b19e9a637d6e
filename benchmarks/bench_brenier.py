"""Benchmark the Brenier potential's argmax: walk / k-d tree vs brute force, numba vs numpy.

    python benchmarks/bench_brenier.py                 # about a minute on 2 cores
    python benchmarks/bench_brenier.py --targets 10000 100000 --points 20000 --profile smooth

For each number of targets ``n`` (uniform in the unit square) and each height profile

``voronoi``  h = -|y|^2/2 (+1e-3 noise): power weights nearly constant (near-Voronoi);
``smooth``   h = -|y|^2/2 + 0.2 sin(3 y_0) + 0.1 y_1^2: weights varying by O(1), as in a
             transport with a large displacement,

it times ``u.index(x)`` for ``N`` query points with ``method="walk"`` (triangulation walk),
``method="kdtree"`` (lifted k-d tree, on ``--kd-points`` of the points) and
``method="brute"`` on the numpy backend (the baseline) and the numba backend, on
``--brute-points`` of the points (the cost of both is linear in N), checks that all
agree, and prints points/s and the ratios, all measured in the same run.  Structure build times (qhull hull / k-d tree) are reported apart.
"""

import argparse
import time

import numpy as np

from geomot.brenier import BrenierPotential


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _heights(y, profile, rng):
    h = -0.5 * np.sum(y**2, axis=1)
    if profile == "voronoi":
        return h + 1e-3 * rng.normal(size=y.shape[0])
    return h + 0.2 * np.sin(3 * y[:, 0]) + 0.1 * y[:, -1] ** 2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, nargs="+", default=[10_000, 100_000], help="numbers of targets n")
    ap.add_argument("--points", type=int, default=20_000, help="query points N")
    ap.add_argument("--brute-points", type=int, default=2_000, help="points timed for the brute force")
    ap.add_argument("--kd-points", type=int, default=5_000, help="points timed for the k-d tree")
    ap.add_argument("--profile", choices=["voronoi", "smooth", "both"], default="both")
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    d = args.dim
    x = rng.random((args.points, d))
    xb = x[: args.brute_points]
    xk = x[: args.kd_points]
    # warm up numba (compiled once, then loaded from the on-disk cache)
    BrenierPotential(rng.random((5, d)), np.zeros(5), backend="numba").index(x[:10], method="brute")
    profiles = ["voronoi", "smooth"] if args.profile == "both" else [args.profile]

    print(f"argmax of <x, y_i> + h_i in d={d}: N={args.points} points (k-d tree on {xk.shape[0]}, "
          f"brute force on {xb.shape[0]}), "
          f"best of {args.repeat}; throughput in points/s")
    print(f"{'profile':>8} {'n':>7} {'walk':>9} {'kdtree':>9} {'numpy':>9} {'numba':>9} "
          f"{'walk/np':>8} {'kd/np':>7} {'numba/np':>9} {'hull s':>7} {'tree s':>7}")
    for profile in profiles:
        for n in args.targets:
            y = rng.random((n, d))
            h = _heights(y, profile, rng)
            u = BrenierPotential(y, h)
            un = BrenierPotential(y, h, backend="numba")
            t_hull, _ = _best(lambda: u._walker, 1)
            t_tree, _ = _best(lambda: u._tree, 1)
            t_wk, i_wk = _best(lambda: u.index(x, method="walk"), args.repeat)
            t_kd, i_kd = _best(lambda: u.index(xk, method="kdtree"), args.repeat)
            t_np, i_np = _best(lambda: u.index(xb, method="brute"), args.repeat)
            t_nb, i_nb = _best(lambda: un.index(xb, method="brute"), args.repeat)
            m = xb.shape[0]
            ok = np.array_equal(i_wk[:m], i_np) and np.array_equal(i_nb, i_np)
            if not (ok and np.array_equal(i_kd, i_wk[: i_kd.shape[0]])):
                raise SystemExit(f"methods disagree for profile={profile}, n={n}")
            r_wk, r_kd = args.points / t_wk, xk.shape[0] / t_kd
            r_np, r_nb = m / t_np, m / t_nb
            print(f"{profile:>8} {n:>7} {r_wk:>9.3g} {r_kd:>9.3g} {r_np:>9.3g} {r_nb:>9.3g} "
                  f"{r_wk / r_np:>8.1f} {r_kd / r_np:>7.1f} {r_nb / r_np:>9.2f} {t_hull:>7.2f} {t_tree:>7.3f}")


if __name__ == "__main__":
    main()
