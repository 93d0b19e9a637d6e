"""Benchmark the Monte-Carlo argmax throughput (numba vs numpy) and one Monte-Carlo solve.

    python benchmarks/bench_montecarlo.py              # about 30 s on 2 cores
    python benchmarks/bench_montecarlo.py --points 200000 --targets 1000 --dim 16

Part 1 times ``count_cells`` (argmax of <x, y_i> + h_i + bincount) for N samples and n
targets in dimension d on every available backend, against the numpy baseline measured in
the same run, and checks that the counts are identical.  Part 2 runs ``solve_montecarlo``
on a box in dimension d and reports iterations, time and the final error.
"""

import argparse
import time

import numpy as np

import geomot
from geomot._backend import available_backends
from geomot.montecarlo import count_cells, solve_montecarlo


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=100_000, help="samples N for the throughput test")
    ap.add_argument("--targets", type=int, default=500, help="targets n")
    ap.add_argument("--dim", type=int, default=10, help="dimension d")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--solve-targets", type=int, default=50)
    ap.add_argument("--solve-samples", type=int, default=50_000)
    ap.add_argument("--solve-tol", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    N, n, d = args.points, args.targets, args.dim
    x = rng.random((N, d)) * 2 - 1
    y = rng.normal(size=(n, d))
    h = rng.normal(size=n) * 0.1
    backends = [b for b in available_backends()]
    count_cells(x[:10], y, h, backend="numba") if "numba" in backends else None  # compile / load cache

    print(f"count_cells: N={N} samples, n={n} targets, d={d} (best of {args.repeat})")
    ref = None
    t_ref = None
    for name in backends:
        best = np.inf
        for _ in range(args.repeat):
            t = time.perf_counter()
            c = count_cells(x, y, h, backend=name)
            best = min(best, time.perf_counter() - t)
        if ref is None:
            ref, t_ref = c, best
        elif not np.array_equal(c, ref):
            raise SystemExit(f"backend {name} counts differ from numpy")
        print(f"  {name:>6}: {N / best:10.3g} points/s  ({best:.3f} s, x{t_ref / best:.2f} vs numpy)")

    ns = args.solve_targets
    box = geomot.Domain.box(-np.ones(d), np.ones(d))
    ys = rng.normal(size=(ns, d))
    for name in backends:
        t = time.perf_counter()
        run = solve_montecarlo(box, ys, seed=args.seed, tol=args.solve_tol, n_samples=args.solve_samples,
                               backend=name, max_iter=2000)
        dt = time.perf_counter() - t
        print(f"solve_montecarlo[{name}]: d={d}, n={ns}, {args.solve_samples} samples/it, tol={args.solve_tol}: "
              f"converged={run.converged} in {run.iterations} it, {dt:.2f} s, final error {run.history[-1]:.3g}")


if __name__ == "__main__":
    main()
