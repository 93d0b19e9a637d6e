"""Benchmark the Monte-Carlo solver: its assignment kernel, its optimisers, and the d = 16 solve.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_montecarlo.py          # all parts, ~10 min on 2 cores
    python benchmarks/bench_montecarlo.py --parts kernel                  # ~1 min
    python benchmarks/bench_montecarlo.py --parts solve --dim 16 --targets 2000 --solve-tol 0.1
    python benchmarks/bench_montecarlo.py --gpu                           # d = 64, n = 1e4 on CuPy

Part ``kernel``: the assignment ``argmax_i <x, y_i> + h_i`` of ``--points`` samples (one
:data:`~geomot._mc_sampling.CHUNK` by default, the unit a worker counts) to ``--targets``
targets in dimension ``--dim``, on the numpy and numba backends (and CuPy with ``--gpu``),
for the counts only and for the top two (what the Newton optimiser needs), against the
**baseline measured in the same run**: the plain ``s = x @ y.T + h; s.argmax(1)`` on the same
chunk (one BLAS call, an ``N x n`` matrix), and the same on the kernels' row blocks.  Reported: scores/s, the ratio to the baseline,
and the peak memory the call allocated (``tracemalloc``: numpy's allocations); the indices are
checked equal to the baseline's.

Part ``optimizers``: the same problem solved to ``--tol`` by each optimiser (``newton``,
``adam``, ``sgd``) with the default sample schedule, and by today's defaults before the
schedule (Adam, a fixed batch of 1e5): batches, samples, seconds, the solver's own final error
and the error of the returned heights measured on a fresh independent sample of 4x the final
batch (not timed); Adam and SGD get at most ``--compare-max-iter`` batches.  The optimiser and
solve parts count on ``--backend`` (default numba).  Problem: the 10-mode Gaussian mixture of part ``solve`` with
``--compare-targets`` targets in ``--compare-dim`` dimensions.

Part ``solve``: the headline solve, defaults except ``tol`` and ``backend``: the unit box
:math:`[-1, 1]^d` onto ``--targets`` points of a 10-mode Gaussian mixture in dimension
``--dim`` (modes :math:`2 N(0, I)`, spread 0.3), to ``--solve-tol``, with the independent check.
For comparison, the issue's measurements of the solver before this work: d = 8 (PCA digits),
1797 targets, 3e5 samples x 300 iterations: 465 s, not converged (error 0.29); 16-D mixture,
500 targets, 2e5 x 150: 57 s, error 13.6.

``--gpu``: part ``solve`` at d = 64, n = 1e4 with ``backend="cupy"`` (device sampling), and the
kernel part on CuPy.  Numba kernels are compiled (or loaded from the cache) before timing.
"""

import argparse
import os
import platform
import sys
import time
import tracemalloc
import warnings

import numpy as np

import geomot
from geomot import _backend
from geomot._mc_sampling import CHUNK
from geomot.montecarlo import estimate_masses, noise_band, solve_montecarlo


def mixture(n, d, seed, modes=10):
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.normal(size=(modes, d))
    return centers[rng.integers(modes, size=n)] + 0.3 * rng.normal(size=(n, d))


def _timed(f, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def _peak(f):
    tracemalloc.start()
    tracemalloc.reset_peak()
    f()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def kernel_part(N, n, d, repeat, seed, gpu):
    rng = np.random.default_rng(seed)
    x = rng.random((N, d)) * 2 - 1
    y = mixture(n, d, seed + 1)
    h = rng.normal(size=n) * 0.1

    def plain():
        s = x @ y.T + h
        return s.argmax(axis=1)

    rows_b, _ = _backend._work_shape(N, n, None)

    def plain_blocks():  # the same, on the kernels' row blocks
        return np.concatenate([(x[r:r + rows_b] @ y.T + h).argmax(axis=1) for r in range(0, N, rows_b)])

    t_ref, ref = _timed(plain, repeat)
    mem_ref = _peak(plain)
    t_blk, idx_blk = _timed(plain_blocks, repeat)
    mem_blk = _peak(plain_blocks)
    if not np.array_equal(idx_blk, ref):
        raise SystemExit("the blocked baseline disagrees with the baseline")
    print(f"kernel: N={N} samples, n={n} targets, d={d}; best of {repeat}")
    print(f"  {'baseline x @ y.T + h, argmax':<34} {N * n / t_ref / 1e6:9.0f} Mscores/s  {t_ref:7.3f} s  "
          f"peak {mem_ref / 2**20:8.1f} MiB")
    print(f"  {'  the same on %d-row blocks' % rows_b:<34} {N * n / t_blk / 1e6:9.0f} Mscores/s  {t_blk:7.3f} s  "
          f"peak {mem_blk / 2**20:8.1f} MiB")
    names = ["numpy", "numba"] + (["cupy"] if gpu else [])
    rows = []
    for name in names:
        be = _backend.get_backend(name=name)
        xb, yb, hb = be.asarray(x), be.asarray(y), be.asarray(h)
        be.top2_scores(xb[:100], yb, hb)  # compile / warm up
        for what, f in (("argmax", lambda: be.argmax_scores(xb, yb, hb)[0]),
                        ("top two", lambda: be.top2_scores(xb, yb, hb)[0])):
            t, idx = _timed(f, repeat)
            if not np.array_equal(be.to_numpy(idx), ref):
                raise SystemExit(f"backend {name} ({what}) disagrees with the baseline")
            mem = _peak(f) if name != "cupy" else float("nan")
            rows.append((name, what, t, mem))
            print(f"  {name + ' ' + what:<34} {N * n / t / 1e6:9.0f} Mscores/s  {t:7.3f} s  peak "
                  f"{mem / 2**20:8.1f} MiB  x{t_ref / t:.2f} vs baseline, x{t_blk / t:.2f} vs blocked")
    return rows


def _check(domain, y, h, n_check, seed, backend="numpy"):
    """Max relative mass error of ``h`` on a fresh sample (chunked: bounded memory)."""
    n = y.shape[0]
    counts = np.zeros(n)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_check:
        m = min(1 << 20, n_check - done)
        counts += estimate_masses(domain.sample(m, seed=rng), y, h, backend=backend) * m
        done += m
    nu = np.full(n, 1.0 / n)
    return float(np.max(np.abs(counts / n_check - nu) / nu)), noise_band(nu, n_check)


def solve_part(d, n, tol, seed, backend="numpy", optimizer="newton", n_samples=None, max_iter=1000, label=None,
               check=True):
    box = geomot.Domain.box(-np.ones(d), np.ones(d))
    y = mixture(n, d, seed)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = solve_montecarlo(box, y, seed=seed, tol=tol, backend=backend, optimizer=optimizer,
                               n_samples=n_samples, max_iter=max_iter)
    dt = time.perf_counter() - t
    line = (f"  {label or optimizer:<28} d={d} n={n} tol={tol}: converged={run.converged} in {run.iterations} "
            f"batches, {run.n_samples.sum():.3g} samples (last {run.n_samples[-1]:.3g}), {dt:.1f} s "
            f"(counting {run.timings['batch'].sum():.1f} s, steps {run.timings['step'].sum():.1f} s), "
            f"own error {run.history[-1]:.3g}")
    if check:
        n_check = int(min(4 * run.n_samples[-1], 2**26))
        err, band = _check(box, y, run.h, n_check, seed + 99, backend=backend)
        line += f", independent error {err:.3g} (on {n_check:.3g} fresh samples, band {band:.3g})"
    print(line, flush=True)
    return run, dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="kernel,optimizers,solve", help="comma-separated: kernel, optimizers, solve")
    ap.add_argument("--points", type=int, default=CHUNK, help="samples N of the kernel part (one chunk)")
    ap.add_argument("--targets", type=int, default=2000, help="targets n (kernel and solve parts)")
    ap.add_argument("--dim", type=int, default=16, help="dimension d (kernel and solve parts)")
    ap.add_argument("--tol", type=float, default=0.1, help="tolerance of the optimiser comparison")
    ap.add_argument("--solve-tol", type=float, default=0.2, help="tolerance of the headline solve")
    ap.add_argument("--backend", default="numba", help="backend of the optimiser and solve parts")
    ap.add_argument("--compare-targets", type=int, default=200)
    ap.add_argument("--compare-dim", type=int, default=16)
    ap.add_argument("--compare-max-iter", type=int, default=150, help="batches allowed to Adam and SGD")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gpu", action="store_true", help="CuPy: kernel on the GPU and the d = 64, n = 1e4 solve")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    import numba
    import scipy

    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    if "kernel" in parts:
        kernel_part(args.points, args.targets, args.dim, args.repeat, args.seed, args.gpu)
    if "optimizers" in parts:
        d, n = args.compare_dim, args.compare_targets
        print(f"optimizers: 10-mode mixture, d={d}, n={n}, tol={args.tol}, default schedule, backend={args.backend}")
        for opt in ("newton", "adam", "sgd"):
            solve_part(d, n, args.tol, args.seed, backend=args.backend, optimizer=opt,
                       max_iter=1000 if opt == "newton" else args.compare_max_iter)
        solve_part(d, n, args.tol, args.seed, backend=args.backend, optimizer="adam", n_samples=100_000,
                   max_iter=args.compare_max_iter, label="before: adam, fixed 1e5")
    if "solve" in parts:
        print(f"solve (defaults but tol and backend={args.backend}):")
        solve_part(args.dim, args.targets, args.solve_tol, args.seed, backend=args.backend)
    if args.gpu:
        print("GPU solve:")
        solve_part(64, 10_000, args.solve_tol, args.seed, backend="cupy", label="cupy, device sampling")


if __name__ == "__main__":
    main()
