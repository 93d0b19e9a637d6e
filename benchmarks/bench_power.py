"""Benchmark: one exact power diagram with all its integrals vs one qhull call.

For each size, n uniform random targets in the unit box with Voronoi weights
(h = -|y|^2/2, so that every cell is non-empty), we time

* baseline: ONE ``scipy.spatial.ConvexHull`` call on the lifted points (y, -2h), and
* geomot: ``power_diagram(y, h, box)`` followed by every integral users need (volumes,
  masses, centroids, adjacent pairs with facet measures, the sparse Hessian),

in the same process, and report the ratio.  The issue's target is a ratio <= 1.5.

Usage::

    python benchmarks/bench_power.py              # 2D 1e4, 1e5; 3D 1e4
    python benchmarks/bench_power.py --full       # adds 2D 1e6 and 3D 1e5
"""

import argparse
import time

import numpy as np
from scipy.spatial import ConvexHull

from geomot import Domain, power_diagram


def best_of(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(d, n, repeat, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random((n, d))
    h = -0.5 * (y**2).sum(axis=1)
    dom = Domain.box([0.0] * d, [1.0] * d)
    t_hull, _ = best_of(lambda: ConvexHull(np.column_stack([y, -2 * h])), repeat)

    def full():
        pd = power_diagram(y, h, dom)
        pd.centroids, pd.pairs, pd.facet_measures
        pd.hessian()
        return pd

    t_pd, pd = best_of(full, repeat)
    err = abs(pd.volumes.sum() - 1.0)
    print(f"{d}D n={n:>8d}  hull {t_hull:8.3f} s   power_diagram+integrals {t_pd:8.3f} s   "
          f"ratio {t_pd / t_hull:5.2f}   |sum vol - 1| = {err:.1e}", flush=True)
    return t_pd / t_hull


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="include 2D n=1e6 and 3D n=1e5")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    # warm up the numba kernels (compilation is not what we measure)
    for d in (2, 3):
        y = np.random.default_rng(1).random((50, d))
        power_diagram(y, -0.5 * (y**2).sum(1), Domain.box([0] * d, [1] * d)).hessian()
    cases = [(2, 10**4), (2, 10**5), (3, 10**4)]
    if args.full:
        cases += [(2, 10**6), (3, 10**5)]
    for d, n in cases:
        run(d, n, args.repeat if n <= 10**5 else 1)


if __name__ == "__main__":
    main()
