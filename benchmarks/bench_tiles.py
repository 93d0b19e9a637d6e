"""Benchmark: tiled lifted hulls vs one global qhull call, time and peak memory.

For each case, n uniform random targets in the unit box with Voronoi weights
(h = -|y|^2/2), lifted in their affine frame as :mod:`geomot.lifting` lifts them, we build

* baseline: ONE global ``scipy.spatial.ConvexHull`` call of the lifted points
  (``lifting._lower_hull``, with its space-filling-curve insertion order), and
* tiled: ``_tiles.tiled_lower_hull`` (one qhull call per tile in threads, plus the band,
  verified to be the global lower hull),

and also the whole ``RegularTriangulation`` each way (``lifting._regular_triangulation`` with
``tiles=False`` and with the default size switch -- which tiles 2D from 1e5 targets and 3D
only on a dask client -- hidden targets and the CSR adjacency on top).
Each measurement runs in a fresh process (``resource.getrusage`` gives its peak resident
memory), one at a time.  Printed: wall and CPU seconds, peak memory, ratios baseline / tiled
(wall time is what a user waits for; CPU time is the steadier measure on a shared machine:
the tiles run in threads, the global hull in one).

Usage::

    python benchmarks/bench_tiles.py            # 2D 1e5, 1e6; 3D 1e5
    python benchmarks/bench_tiles.py --full     # adds 2D 1e7 and 3D 1e6 (minutes, ~GBs)
    python benchmarks/bench_tiles.py --cases 2:200000 3:50000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _child(kind, d, n, seed):
    """One measurement in this (fresh) process; prints one JSON line."""
    sys.path.insert(0, os.path.dirname(HERE))
    from geomot import _tiles, lifting

    rng = np.random.default_rng(seed)
    y = rng.random((n, d))
    h = -0.5 * np.einsum("ij,ij->i", y, y)
    _, t = lifting._affine_frame(y)
    z = lifting._lifted_heights(t, h)
    # load the compiled kernels (numba's cache) outside the measurement, whatever the kind
    _tiles.tiled_lower_hull(t[:4000], z[:4000], _tiles.TileOptions(tile_points=1000, min_points=0))
    lifting._regular_triangulation(y[:4000], h[:4000], False)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0, w0 = time.process_time(), time.perf_counter()
    out = {"kind": kind, "d": d, "n": n}
    if kind == "global":
        simp, _ = lifting._lower_hull(t, z)
    elif kind == "tiled":
        simp, _, rep = _tiles.tiled_lower_hull(t, z)
        out.update(tiles=rep.tiles, rounds=rep.rounds, fallback=rep.fallback, band=rep.band_points,
                   hulled=rep.hulled_points, phases=dict(rep.phases))
        if simp is None:
            simp, _ = lifting._lower_hull(t, z)
    elif kind == "tri-global":
        simp = lifting._regular_triangulation(y, h, False).simplices
    else:  # "tri-tiled": the default size switch
        simp = lifting._regular_triangulation(y, h).simplices
        out["tiled_by_default"] = _tiles.TileOptions().applies(n, d)
    out.update(wall=time.perf_counter() - w0, cpu=time.process_time() - c0, simplices=int(simp.shape[0]),
               peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, before_mb=base / 1024)
    print(json.dumps(out), flush=True)


def _measure(kind, d, n, seed):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, str(d), str(n), str(seed)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{kind} {d}D n={n} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="add 2D n=1e7 and 3D n=1e6")
    ap.add_argument("--cases", nargs="*", help="d:n pairs instead of the default cases")
    ap.add_argument("--no-tri", action="store_true", help="skip the whole-triangulation measurements")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, d, n, seed = args.child
        _child(kind, int(d), int(n), int(seed))
        return
    if args.cases:
        cases = [tuple(int(v) for v in c.split(":")) for c in args.cases]
    else:
        cases = [(2, 10**5), (2, 10**6), (3, 10**5)]
        if args.full:
            cases += [(2, 10**7), (3, 10**6)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs (load average {load:.1f} at the start); one fresh process per measurement; "
          "wall / CPU seconds, peak RSS", flush=True)
    pairs = [("global", "tiled")] + ([] if args.no_tri else [("tri-global", "tri-tiled")])
    for d, n in cases:
        for base_kind, tiled_kind in pairs:
            b = _measure(base_kind, d, n, args.seed)
            t = _measure(tiled_kind, d, n, args.seed)
            extra = ""
            if "tiles" in t:
                phases = ", ".join(f"{k} {v:.1f}" for k, v in t["phases"].items())
                extra = (f"  [{t['tiles']} tiles, {t['rounds']} round(s), halo {t['hulled'] / n - 1:+.0%}, band "
                         f"{t['band']} pts, fallback: {t['fallback']}; s: {phases}]")
            if t.get("tiled_by_default") is False:
                extra = "  [not tiled by default (TILE_MIN_POINTS): one global hull either way]"
            same = "" if b["simplices"] == t["simplices"] else f"  SIMPLEX COUNTS DIFFER {b['simplices']} vs {t['simplices']}"
            print(f"{d}D n={n:>9,d} {base_kind:>10s}: {b['wall']:8.2f} s wall {b['cpu']:8.2f} s cpu "
                  f"{b['peak_mb']:8.0f} MB | {tiled_kind:>9s}: {t['wall']:8.2f} s wall {t['cpu']:8.2f} s cpu "
                  f"{t['peak_mb']:8.0f} MB | speed-up x{b['wall'] / t['wall']:.2f} wall, x{b['cpu'] / t['cpu']:.2f} cpu, "
                  f"memory x{t['peak_mb'] / b['peak_mb']:.2f}"
                  f"{extra}{same}", flush=True)


if __name__ == "__main__":
    main()
