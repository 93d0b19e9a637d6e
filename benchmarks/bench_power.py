"""Benchmark: one exact power diagram with all its integrals vs one qhull call.

For each size, n uniform random targets in the unit box with Voronoi weights
(h = -|y|^2/2, so that every cell is non-empty), we time

* baseline: ONE ``scipy.spatial.ConvexHull`` call on the lifted points (y, -2h), and
* geomot: ``power_diagram(y, h, box)`` followed by every integral users need (volumes,
  masses, centroids, adjacent pairs with facet measures, the sparse Hessian),

in the same process, and report the ratio.  The issue's target is a ratio <= 1.5.

With ``--integration`` it times instead the integration of the cells of one diagram (the
kernels, not the hull): every cell clipped (``geomot._clip``, the former path) against the
dispatch of ``geomot.power._framed_diagram`` (interior cells from the triangulation's power
centres, ``geomot._dual``, the others clipped), in the same process, with the fraction of cells
done from the triangulation.

Usage::

    python benchmarks/bench_power.py                       # 2D 1e4, 1e5; 3D 1e4
    python benchmarks/bench_power.py --full                # adds 2D 1e6 and 3D 1e5
    python benchmarks/bench_power.py --integration [--full]   # 3D 1e4, 2D 1e5 (3D 1e5, 2D 1e6)
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


def integration(d, n, repeat, seed=0):
    """Seconds per diagram of the cell integration: all clipped vs the dispatch."""
    from geomot import _clip, power
    from geomot._tol import scale_of, tol

    rng = np.random.default_rng(seed)
    y = rng.random((n, d))
    pd = power_diagram(y, -0.5 * (y**2).sum(axis=1), Domain.box([0.0] * d, [1.0] * d))
    tri = pd.triangulation
    pc = pd._space.pieces
    yf, wphi = np.asarray(pd._yf), np.asarray(pd._wphi)
    args = (yf, wphi, tri.indptr, tri.indices, pd._cand_ptr, pd._cand_piece, pc.normals, pc.offsets,
            pc.indptr, pc.lo, pc.hi, pc.sign, pc.density, pd._eps, pd._clo, pd._chi)
    if d == 2:
        t_clip, _ = best_of(lambda: _clip.integrate_cells_2d(*args, np.zeros(n, dtype=bool)), repeat)
    else:
        t_clip, _ = best_of(lambda: _clip.integrate_cells_3d(*args, np.zeros(n, dtype=bool)), repeat)
    t_new, out = best_of(lambda: power._integrate(yf, wphi, tri, pc, pd._eps, scale_of(pd._space.bounds),
                                                  pd._cand_ptr, pd._cand_piece, pd._clo, pd._chi), repeat)
    print(f"{d}D n={n:>8d}  integration: all clipped {t_clip:7.3f} s   from the triangulation + clipped "
          f"{t_new:7.3f} s   speed-up {t_clip / t_new:5.2f}   fast cells {out[0].mean():.3f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="include 2D n=1e6 and 3D n=1e5")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--integration", action="store_true",
                    help="time the cell integration only: all clipped vs from the triangulation")
    args = ap.parse_args()
    # warm up the numba kernels (compilation is not what we measure)
    for d in (2, 3):
        y = np.random.default_rng(1).random((50, d))
        power_diagram(y, -0.5 * (y**2).sum(1), Domain.box([0] * d, [1] * d)).hessian()
    if args.integration:
        for d, n in [(3, 10**4), (2, 10**5)] + ([(3, 10**5), (2, 10**6)] if args.full else []):
            integration(d, n, max(args.repeat, 3))
        return
    cases = [(2, 10**4), (2, 10**5), (3, 10**4)]
    if args.full:
        cases += [(2, 10**6), (3, 10**5)]
    for d, n in cases:
        run(d, n, args.repeat if n <= 10**5 else 1)


if __name__ == "__main__":
    main()
