"""geomot against the C++ peer pysdot, side by side in one run (issue 12's table).

Unit square (2D) or unit cube (3D) source with uniform density, ``n`` uniform random targets
(one seed for every system), masses ``1/n``, every solve stopped at a maximum relative mass
error ``max_i |m_i - nu_i| / nu_i <= 1e-8``.  Each (system, case) runs in a fresh subprocess, one
at a time, so that its peak resident memory (``ru_maxrss``) is its own and no two systems share
the cores; a case that runs past ``--timeout`` seconds is stopped and reported as such.

Systems:

* ``geomot``: ``solve_ot(Domain.box(...), y, tol=1e-8)`` (damped Newton, flips, tiles past the
  size switch of :mod:`geomot._tiles`); its numba kernels are compiled by a small solve before
  the clock starts.
* ``pysdot``: ``pysdot.OptimalTransport`` with its stopping rule "max delta masses" at
  ``1e-8 / n`` (the same relative criterion) and its scipy sparse direct solve.
* ``pysdot+AMG``: the same, with pyamg smoothed aggregation + CG (relative residual 1e-10) in
  place of the direct solve -- what any pysdot user can do -- under one BLAS thread, as geomot's
  own solves run.

pysdot is an optional anchor, never a dependency (``pip install ../shared/anchors/pysdot-*.whl``,
see that folder's README): without it only geomot's columns are printed.  Also printed: one
diagram (masses of the Voronoi start) for geomot and pysdot, and geomot's solve in the unit of
ONE ``scipy.spatial.ConvexHull`` call of the lifted targets measured in the same process.

Usage::

    python benchmarks/bench_peers.py                 # 2D 1e4 1e5, 3D 1e4
    python benchmarks/bench_peers.py --full          # adds 2D 1e6 and 3D 1e5 (tens of minutes)
    python benchmarks/bench_peers.py --cases 2:1e5 3:1e5 --systems geomot pysdot+AMG
    python benchmarks/bench_peers.py --json out.json
"""

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

TOL = 1e-8
SYSTEMS = ("geomot", "pysdot", "pysdot+AMG")


def _targets(dim, n, seed):
    return np.random.default_rng(seed).random((n, dim))


def _child_geomot(dim, n, seed):
    from scipy.spatial import ConvexHull

    from geomot import Domain, power_diagram, solve_ot

    dom = Domain.box(np.zeros(dim), np.ones(dim))
    # every code path of the timed solve compiled (numba's cache) and imported off the clock:
    # the direct and the AMG linear solves (pysdot gets the same warm-up below)
    solve_ot(dom, _targets(dim, 300, seed + 1), tol=TOL)
    solve_ot(dom, _targets(dim, 300, seed + 1), tol=TOL, linear_solver="amg")
    y = _targets(dim, n, seed)
    h0 = -0.5 * np.einsum("ij,ij->i", y, y)
    t = time.perf_counter()
    ConvexHull(np.column_stack([y, -2.0 * h0]))
    hull = time.perf_counter() - t
    t = time.perf_counter()
    power_diagram(y, h0, dom).masses
    diagram = time.perf_counter() - t
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    res = solve_ot(dom, y, tol=TOL)
    solve = time.perf_counter() - t
    err = float(np.max(np.abs(res.masses - res.nu) / res.nu))
    return {"diagram": diagram, "hull": hull, "solve": solve, "iterations": int(res.iterations),
            "error": err, "converged": bool(res.converged), "base_kb": base}


class _AMGSolver:
    """pysdot's linear-solver interface with pyamg smoothed aggregation + CG."""

    def create_matrix(self, N, offsets, columns, values):
        from scipy.sparse import csr_matrix

        return csr_matrix((values, columns, offsets), shape=(N, N))

    def create_vector(self, values=None, size=0):
        return np.zeros(size) if values is None else np.array(values, dtype=np.float64)

    def solve(self, A, b):
        import pyamg
        from threadpoolctl import threadpool_limits

        # one BLAS thread, as geomot's own solves use (geomot._linalg): threaded BLAS on the
        # V-cycle's vector norms is many times slower on a small machine
        with threadpool_limits(limits=1, user_api="blas"):
            ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
            return ml.solve(b, tol=1e-10, accel="cg", maxiter=1000)


def _child_pysdot(dim, n, seed, amg):
    from pysdot import OptimalTransport
    from pysdot.domain_types import ConvexPolyhedraAssembly

    dom = ConvexPolyhedraAssembly()
    dom.add_box(np.zeros(dim), np.ones(dim))
    # the same warm-up as geomot's: one small solve with the timed configuration, off the clock
    y = _targets(dim, 300, seed + 1)
    warm = OptimalTransport(positions=y, domain=dom, masses=np.full(300, 1.0 / 300), linear_solver="Scipy")
    warm.set_stopping_criterion(TOL / 300, "max delta masses")
    if amg:
        warm._linear_solver_inst = _AMGSolver()
    warm.adjust_weights()
    y = _targets(dim, n, seed)
    nu = np.full(n, 1.0 / n)
    ot = OptimalTransport(positions=y, domain=dom, masses=nu, linear_solver="Scipy")
    ot.set_weights(np.zeros(n))  # equal weights: the Voronoi diagram, geomot's start
    t = time.perf_counter()
    ot.pd.integrals()
    diagram = time.perf_counter() - t
    ot.set_weights(np.zeros(n))
    ot.set_stopping_criterion(TOL / n, "max delta masses")
    if amg:
        ot._linear_solver_inst = _AMGSolver()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    failed = ot.adjust_weights()
    solve = time.perf_counter() - t
    m = ot.pd.integrals()
    err = float(np.max(np.abs(m - nu) / nu))
    return {"diagram": diagram, "solve": solve, "iterations": len(ot.delta_m) - 1, "error": err,
            "converged": (not failed) and err <= TOL * 1.0000001, "base_kb": base}


def _child(system, dim, n, seed):
    if system == "geomot":
        out = _child_geomot(dim, n, seed)
    else:
        out = _child_pysdot(dim, n, seed, amg=system == "pysdot+AMG")
    out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("RESULT " + json.dumps(out), flush=True)


def run_case(system, dim, n, seed, timeout):
    """One (system, case) in a fresh interpreter; a dict of numbers (or ``timeout``/``error``)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", system, str(dim), str(n), str(seed)]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": tail[0], "wall": time.perf_counter() - t}


def _fmt_solve(r):
    if r is None:
        return "-"
    if "timeout" in r:
        return f"> {r['timeout']:.0f} s (stopped)"
    if "error" in r and "solve" not in r:
        return f"failed: {r['error'][:40]}"
    flag = "" if r["converged"] else " (not converged)"
    return f"{r['solve']:.1f} s, {r['iterations']} its, {r['peak_gb']:.2f} GB{flag}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", nargs="+", default=None, help="dim:n, e.g. 2:1e5 3:1e4")
    ap.add_argument("--full", action="store_true", help="also 2D 1e6 and 3D 1e5")
    ap.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per (system, case)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        system, dim, n, seed = args.child
        _child(system, int(dim), int(n), int(seed))
        return 0
    cases = args.cases or (["2:1e4", "2:1e5", "3:1e4"] + (["2:1e6", "3:1e5"] if args.full else []))
    cases = [(int(c.split(":")[0]), int(float(c.split(":")[1]))) for c in cases]
    have_pysdot = importlib.util.find_spec("pysdot") is not None
    systems = [s for s in args.systems if s == "geomot" or have_pysdot]
    if not have_pysdot:
        print("pysdot is not installed: geomot only (pip install ../shared/anchors/pysdot-*.whl)")
    rows = []
    for dim, n in cases:
        row = {"dim": dim, "n": n}
        for s in systems:
            row[s] = run_case(s, dim, n, args.seed, args.timeout)
            print(f"  {dim}D n={n:.0e} {s}: {_fmt_solve(row[s])}", flush=True)
        rows.append(row)
    print()
    print(f"{os.cpu_count()} cores; every solve to max relative mass error {TOL:g}")
    print("| case | one diagram: geomot / pysdot | solve: geomot | geomot in hull-calls | pysdot | pysdot+AMG |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        g, p = row.get("geomot"), row.get("pysdot")
        diag = "-"
        if g and "diagram" in g:
            diag = f"{g['diagram']:.2f} s / " + (f"{p['diagram']:.2f} s" if p and "diagram" in p else "-")
        units = f"{g['solve'] / g['hull']:.1f}" if g and "solve" in g else "-"
        print(f"| {row['dim']}D {row['n']:.0e} | {diag} | {_fmt_solve(g)} | {units} | "
              f"{_fmt_solve(row.get('pysdot'))} | {_fmt_solve(row.get('pysdot+AMG'))} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cores": os.cpu_count(), "tol": TOL, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
