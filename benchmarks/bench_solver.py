"""Benchmark of the damped Newton solver, as a ratio to one convex hull of the lifted targets.

Unit square (2D) or unit cube (3D), uniform density, n uniform random targets with uniform
masses, solved to ``tol`` (default 1e-8).  Each case runs in a fresh subprocess so that its peak
memory (``ru_maxrss``) is its own; the numba kernels are compiled by a small warm-up solve
before the clock starts.  The unit of time is ONE ``scipy.spatial.ConvexHull`` call on the
lifted targets ``(y_i, -2 h0_i)`` (h0 the Voronoi start), measured in the same process.

Usage::

    python benchmarks/bench_solver.py                      # 2D 1e4 1e5, 3D 1e4 1e5
    python benchmarks/bench_solver.py --sizes 1e4 --dims 2 # one case
    python benchmarks/bench_solver.py --full               # adds 2D 1e6
    python benchmarks/bench_solver.py --json out.json      # also write the numbers

Targets (issue 3): 2D n=1e5 in at most 15 hull-calls, 2D n=1e6 in about 110 s and under 8 GB,
3D n=1e4 in at most 20 hull-calls.  Also reported: how many lifted hulls the solver built
(Newton steps repair the last triangulation by flips, 2D and 3D), the CG iterations and AMG setups
per step.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def run_case(dim, n, tol, linear_solver, seed, hull_unit=True, progress=False):
    """Solve one case in this process; return a dict of numbers."""
    from scipy.spatial import ConvexHull

    from geomot import power
    from geomot.domain import Domain
    from geomot.solver import _nested_dissection, solve_ot

    dom = Domain.box(np.zeros(dim), np.ones(dim))
    rng = np.random.default_rng(seed)
    yw = rng.random((300, dim))
    warm = solve_ot(dom, yw, tol=1e-8)  # compile the numba kernels (cached on disk after a first run)
    _nested_dissection(yw, warm.diagram.hessian())
    y = np.random.default_rng(seed).random((n, dim))
    h0 = -0.5 * np.einsum("ij,ij->i", y, y)
    lifted = np.column_stack([y, -2.0 * h0])
    t_hull = np.inf if hull_unit else None
    for _ in range(0 if not hull_unit else 3 if n <= 200_000 else 1):  # best of 3 (one at a million points: ~10-20 s)
        t = time.perf_counter()
        ConvexHull(lifted)
        t_hull = min(t_hull, time.perf_counter() - t)
    # count the hulls the solver builds (steps repair the last triangulation by flips)
    builds = [0]
    hull_fn = power._regular_triangulation

    def counted(*a, **k):
        builds[0] += 1
        return hull_fn(*a, **k)

    power._regular_triangulation = counted
    try:
        t = time.perf_counter()
        res = solve_ot(dom, y, tol=tol, linear_solver=linear_solver, progress=progress)
        t_solve = time.perf_counter() - t
    finally:
        power._regular_triangulation = hull_fn
    tim = {k: np.asarray(v).tolist() for k, v in res.timings.items()}
    return {
        "dim": dim, "n": n, "tol": tol, "linear_solver": linear_solver, "converged": bool(res.converged),
        "iterations": int(res.iterations), "final_error": float(res.history[-1]),
        "hull_call_s": t_hull, "solve_s": t_solve, "hull_calls": None if t_hull is None else t_solve / t_hull, "hulls_built": builds[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "timings": tim,
    }


def _print_case(r):
    t = r["timings"]
    unit = r["hull_call_s"]
    calls = "(no hull-call unit)" if unit is None else f"= {r['hull_calls']:5.1f} hull-calls (one hull-call {unit:.3f} s)"
    print(f"\n{r['dim']}D n={r['n']:>8d}  solve {r['solve_s']:8.2f} s {calls}  Newton iterations {r['iterations']}  "
          f"error {r['final_error']:.2e}  converged {r['converged']}  peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  start diagram {t['start'][0]:.3f} s; lifted hulls built by the solver: {r['hulls_built']}"
          + " (the other triangulations were repaired by flips)")
    print("   it  alpha trials  hull/flips  integr  assembly  lin.solve  CG-its  AMG-setups  backtrack   [s]")
    for k in range(len(t["hull"])):
        print(f"  {k + 1:3d}  {t['alpha'][k]:5.3g} {int(t['trials'][k]):6d} {t['hull'][k]:11.3f} "
              f"{t['integration'][k]:7.3f} {t['assembly'][k]:9.3f} {t['linear_solve'][k]:10.3f} "
              f"{int(t.get('cg_iterations', [0] * 99)[k]):7d} {int(t.get('amg_setups', [0] * 99)[k]):11d} "
              f"{t['backtracking'][k]:10.3f}")
    tot = {k: float(np.sum(t[k])) for k in ("hull", "integration", "assembly", "linear_solve", "backtracking")}
    print("  total " + "  ".join(f"{k} {v:.2f}s" + ("" if unit is None else f" ({v / unit:.1f} hull-calls)")
                                 for k, v in tot.items())
          + f"  start {t['start'][0]:.2f}s")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5], help="numbers of targets (default 1e4 1e5)")
    p.add_argument("--dims", nargs="+", type=int, default=[2, 3], choices=[2, 3])
    p.add_argument("--full", action="store_true", help="also 2D n=1e6")
    p.add_argument("--tol", type=float, default=1e-8)
    p.add_argument("--linear-solver", default="auto", choices=["auto", "direct", "amg"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--no-hull-unit", action="store_true",
                   help="skip the one-qhull-call baseline (at 1e7 targets it alone needs ~10 GB)")
    p.add_argument("--progress", action="store_true", help="show the solve's progress bar (stderr)")
    p.add_argument("--case", nargs=2, type=int, metavar=("DIM", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        r = run_case(args.case[0], args.case[1], args.tol, args.linear_solver, args.seed,
                     hull_unit=not args.no_hull_unit, progress=args.progress)
        print("RESULT " + json.dumps(r))
        return 0
    cases = [(d, int(n)) for d in args.dims for n in args.sizes]
    if args.full and (2, 1_000_000) not in cases:
        cases.append((2, 1_000_000))
    print(f"bench_solver: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, tol {args.tol}")
    results = []
    for d, n in cases:
        cmd = [sys.executable, os.path.abspath(__file__), "--case", str(d), str(n), "--tol", str(args.tol),
               "--linear-solver", args.linear_solver, "--seed", str(args.seed)]
        cmd += ["--no-hull-unit"] * args.no_hull_unit + ["--progress"] * args.progress
        # the progress bar (stderr) passes through when asked for
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None if args.progress else subprocess.PIPE, text=True)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
        if out.returncode or not line:
            print(f"{d}D n={n}: failed (exit {out.returncode})\n{(out.stderr or '')[-2000:]}")
            continue
        r = json.loads(line[0][len("RESULT "):])
        results.append(r)
        _print_case(r)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
