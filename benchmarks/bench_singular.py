"""Benchmark: singular-set detection and AE-OT generation against one power diagram.

Issue 4 asks that, on a 2D result with n = 10^5 cells, ``singular_set`` and
``PiecewiseLinearMap(...).sample(10^6)`` each take at most the time of one ``power_diagram`` of
that size.  This script solves rectangle [0,2]x[0,1] -> two half-disks (n/2 iid targets in each),
then times, in the same run (best of ``--repeat``):

* ``power_diagram(y, h, domain)`` (and with its facet geometry, which ``singular_set`` needs),
* ``singular_set`` on a freshly built diagram (so the lazy facet geometry is paid for), with the
  emptiness criterion (no support) and with the support criterion (``support=two_half_disks()``:
  the detector's own cost, the diagram being given),
* with ``--delaunay``, the restricted-Delaunay criterion (one more power diagram, on the support),
* ``PiecewiseLinearMap(res, singular=s)`` construction and ``.sample(10^6)``,
* ``PiecewiseLinearMap(res).sample(10^6)`` end to end (its own ``singular_set`` included),

and prints each as a ratio to one ``power_diagram`` call.  With ``--convex`` it also counts false
positives on square -> disk at the same n.

Usage::

    python benchmarks/bench_singular.py [--n 100000] [--samples 1000000] [--repeat 3] [--convex]
                                        [--delaunay] [--result res.npz]
"""

import argparse
import os
import time

import numpy as np
import shapely

import geomot
from geomot import shapes
from geomot.domain import Domain
from geomot.generate import PiecewiseLinearMap, off_support_fraction
from geomot.power import power_diagram
from geomot.singular import singular_set


def best(fn, repeat, setup=None):
    times = []
    out = None
    for _ in range(repeat):
        arg = setup() if setup is not None else None
        t = time.perf_counter()
        out = fn(arg) if setup is not None else fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--convex", action="store_true", help="also check square -> disk")
    ap.add_argument("--delaunay", action="store_true",
                    help="also time the restricted-Delaunay criterion (slow: a second diagram)")
    ap.add_argument("--result", default=None,
                    help="load the solved result from this file if it exists, else save it there")
    a = ap.parse_args(argv)

    rng = np.random.default_rng(a.seed)
    two = shapes.two_half_disks()
    parts = sorted(two.geoms, key=lambda p: p.centroid.x)
    y = np.concatenate([shapes.sample(p, a.n // 2, seed=rng) for p in parts])
    dom = Domain.box([0, 0], [2, 1])
    if a.result is not None and os.path.exists(a.result):
        res = geomot.load(a.result)
        y = res.y
        print(f"loaded {a.result}: n={len(y)}")
    else:
        t = time.perf_counter()
        res = geomot.solve_ot(dom, y, tol=1e-6)
        print(f"solve_ot n={len(y)}: {time.perf_counter() - t:.1f} s, {res.iterations} iterations, "
              f"converged={res.converged}")
        if a.result is not None:
            res.save(a.result)

    # warm up numba kernels (compiled once, cached)
    small = PiecewiseLinearMap(res, singular=singular_set(res))
    small.sample(1000, seed=0)

    t_pd, _ = best(lambda: power_diagram(y, res.h, dom), a.repeat)
    t_pdf, _ = best(lambda: power_diagram(y, res.h, dom).facets(), a.repeat)
    t_sing, s = best(lambda pd: singular_set(pd), a.repeat,
                     setup=lambda: power_diagram(y, res.h, dom))
    t_sup, ss = best(lambda pd: singular_set(pd, support=two), a.repeat,
                     setup=lambda: power_diagram(y, res.h, dom))
    t_rdt = None
    if a.delaunay:
        t_rdt, sr = best(lambda pd: singular_set(pd, support=two, criterion="restricted_delaunay"), 1,
                         setup=lambda: power_diagram(y, res.h, dom))
    t_plm, g = best(lambda: PiecewiseLinearMap(res, singular=s), a.repeat)
    t_smp, x = best(lambda: g.sample(a.samples, seed=1), a.repeat)
    t_full, _ = best(lambda: PiecewiseLinearMap(res).sample(a.samples, seed=1), 1)

    print(f"\nsingular set: {len(s)} pairs, {len(s.components)} component(s), "
          f"threshold {s.threshold:.2f}, midline length covered {s.component_measures.sum():.3f}, "
          f"max |x - 1| = {np.abs(s.segments[..., 0] - 1).max():.4f}")
    print(f"support criterion: {len(ss)} pairs, {len(ss.components)} component(s), midline length "
          f"covered {ss.component_measures.sum():.3f}, max |x - 1| = "
          f"{np.abs(ss.segments[..., 0] - 1).max():.4f}")
    if t_rdt is not None:
        print(f"restricted Delaunay criterion: {len(sr)} pairs, {len(sr.components)} component(s), "
              f"max |x - 1| = {np.abs(sr.segments[..., 0] - 1).max():.4f}")
    print(f"generation: {g.rejected.mean():.2%} simplices rejected; off-support fraction of "
          f"{a.samples} samples: {off_support_fraction(x, two):.2e}")
    rows = [
        ("power_diagram", t_pd),
        ("power_diagram + facets()", t_pdf),
        ("singular_set (fresh diagram)", t_sing),
        ("singular_set(support=...) (fresh diagram)", t_sup),
    ] + ([("singular_set(criterion='restricted_delaunay')", t_rdt)] if t_rdt is not None else []) + [
        ("PiecewiseLinearMap(res, singular=s)", t_plm),
        (f".sample({a.samples})", t_smp),
        ("construction + sample", t_plm + t_smp),
        (f"PiecewiseLinearMap(res).sample({a.samples})", t_full),
    ]
    print(f"\n{'operation':45s} {'seconds':>9s} {'/ power_diagram':>16s}")
    for name, tt in rows:
        print(f"{name:45s} {tt:9.3f} {tt / t_pd:16.2f}")

    if a.convex:
        yc = shapes.sample(shapely.Point(0, 0).buffer(1.0, 128), a.n, seed=a.seed)
        rc = geomot.solve_ot(Domain.box([0, 0], [1, 1]), yc, tol=1e-6)
        sc = singular_set(rc)
        print(f"\nsquare -> disk n={a.n}: {len(sc)} singular pairs (expected 0), "
              f"threshold {sc.threshold:.2f}")


if __name__ == "__main__":
    main()
