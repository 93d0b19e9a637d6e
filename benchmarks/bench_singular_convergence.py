"""Benchmark: convergence in n of the detected singular set to the known one, per criterion.

For the cases of THEORY.md whose singular set Sigma is known, solve the transport at several
sizes n (iid targets, seeded), detect Sigma with each criterion of ``geomot.singular_set`` and
measure it against the truth:

* ``half_disks``  rectangle [0,2]x[0,1] -> two half-disks (n/2 in each): Sigma is the midline x = 1;
* ``annulus``     unit disk -> annulus 0.5 <= |y| <= 1: Sigma is the centre;
* ``dumbbell``    rectangle [0,2]x[0,1] -> dumbbell (targets mirrored about x = 0, so the map is
  exactly symmetric): Sigma is the midline minus the band of heights mapped into the bar, i.e.
  two midline segments.  The band [t1, t2] is read from the solved map itself (the midline
  points whose target lies in the bar, |y_1| < 0.45).  Sigma also has four short branches
  leaving the inner ends of the two segments (their subdifferentials cover the wedges between
  the bar and the disks); they are not in this "known" answer, so they count as distance from
  the detected set to the truth once a criterion resolves them;
* ``cube_balls``  unit cube -> two balls of radius 1 at z = -1.5 and 1.5 (n/2 in each): Sigma
  is the mid plane z = 0.5.

Reported per case, n and criterion: the number of singular pairs and of pieces, the one-sided
Hausdorff distances ``det->true`` (how far the detected facets stray from Sigma) and
``true->det`` (how far Sigma is from the detected set: missed parts), the Hausdorff distance
(their max), the share of Sigma covered (points of Sigma within one cell size
``(|Omega| / n)^{1/d}`` of a detected facet; for the centre of the annulus 0 or 1), the stray
share (of the points sampled on the detected facets, those farther than 3 cells from Sigma:
false positives), and the time of the detection (the diagram given).  Criteria: ``support`` (the target shape given: ``singular_set(res,
support=shape)``) and ``emptiness`` (no shape: the default threshold).

``--compare`` adds, at one size per dimension, two more criteria on the same solves:
``restricted_delaunay`` (geogram's combinatorial test: a facet is singular when (i, j) is not an
edge of the Delaunay triangulation of the targets restricted to the support) and ``angle``
(AE-OT's threshold on the dihedral angle between the facets of the graph of u, normals
(y_i, -1) and (y_j, -1)) at a fixed angle calibrated on half_disks at the smallest size (midway
between the largest regular and the smallest singular angle there), and the half-disks problem
with the targets scaled by 0.5 and translated by (10, 0) (the same transport -- the same cells --
in other units and another origin) to show what a fixed angle does.

Usage::

    python benchmarks/bench_singular_convergence.py [--full] [--compare] [--cases a,b]
                                                    [--sizes2d 1000,3000] [--sizes3d 1000]
                                                    [--seed 0] [--json out.json]
                                                    [--figure dumbbell.png --figure-n 30000]

Default: 2D n = 1000, 3000, 3D n = 1000, about a minute on two shared cores.  ``--full``: 2D
n = 10^3, 3*10^3, 10^4, 3*10^4, 10^5 and 3D n = 10^3, 3*10^3, 10^4, 3*10^4 (20-30 minutes),
``--compare`` at 2D n = 10^4 and 3D n = 10^4 with ``--full`` (else at the largest default size).
"""

import argparse
import json
import time

import numpy as np
from scipy.spatial import cKDTree

import geomot
from geomot import shapes
from geomot.domain import Domain
from geomot.singular import singular_set

CASES_2D = ("half_disks", "annulus", "dumbbell")
CASES_3D = ("cube_balls",)
CRITERIA = ("support", "emptiness")
FULL_2D = (1000, 3000, 10_000, 30_000, 100_000)
FULL_3D = (1000, 3000, 10_000, 30_000)


# ----------------------------------------------------------------------------- the cases
def _two_balls(subdivisions=3):
    import trimesh

    return [trimesh.creation.icosphere(subdivisions, 1.0).apply_translation((0.0, 0.0, z)) for z in (-1.5, 1.5)]


def support_of(case):
    """The target support of a case (shapely geometry or watertight trimesh)."""
    import shapely
    import trimesh

    if case == "half_disks":
        return shapes.two_half_disks()
    if case == "annulus":
        return shapes.annulus(0.5, 1.0)
    if case == "dumbbell":
        return shapes.dumbbell()
    if case == "cube_balls":
        return trimesh.util.concatenate(_two_balls())
    raise KeyError(case)


def solve_case(case, n, seed=0, scale=1.0, shift=None):
    """Solve one case: ``(res, support)``; the targets (and the support) mapped by
    ``y -> scale * y + shift`` (the same transport in other units: the cells do not change)."""
    import shapely

    rng = np.random.default_rng(seed)
    sup = support_of(case)
    if case == "half_disks":
        parts = sorted(sup.geoms, key=lambda p: p.centroid.x)
        y = np.concatenate([shapes.sample(p, n // 2, seed=rng) for p in parts])
        dom = Domain.box([0, 0], [2, 1])
    elif case == "annulus":
        y = shapes.sample(sup, n, seed=rng)
        dom = Domain.disk([0, 0], 1.0)
    elif case == "dumbbell":
        left = sup.intersection(shapely.box(-10, -10, 0, 10))
        half = shapes.sample(left, n // 2, seed=rng)
        y = np.concatenate([half, half * [-1.0, 1.0]])  # mirrored: an exactly symmetric map
        dom = Domain.box([0, 0], [2, 1])
    elif case == "cube_balls":
        y = np.concatenate([shapes.sample(b, n // 2, seed=rng) for b in _two_balls()])
        dom = Domain.box([0, 0, 0], [1, 1, 1])
    else:
        raise KeyError(case)
    if scale != 1.0 or shift is not None:
        b = np.zeros(y.shape[1]) if shift is None else np.asarray(shift, dtype=np.float64)
        y = scale * y + b
        sup = shapely.affinity.translate(shapely.affinity.scale(sup, scale, scale, origin=(0, 0)), *b)
    res = geomot.solve_ot(dom, y, tol=1e-6)
    return res, sup


class Truth:
    """The known singular set of a case: samples of it, and the distance of points to it."""

    def __init__(self, case, res):
        self.case = case
        self.dim = res.y.shape[1]
        self.band = None
        if case == "half_disks":
            t = np.linspace(0.0, 1.0, 2001)
            self.samples = np.column_stack([np.ones_like(t), t])
        elif case == "annulus":
            self.samples = np.zeros((1, 2))
        elif case == "dumbbell":
            # the midline heights whose image (from the left) lies in the bar are regular
            t = np.linspace(0.0, 1.0, 4001)
            idx = res.potential.index(np.column_stack([np.full_like(t, 1.0 - 1e-7), t]))
            inbar = res.y[idx, 0] > -0.45
            self.band = (float(t[inbar].min()), float(t[inbar].max())) if inbar.any() else (0.5, 0.5)
            keep = (t <= self.band[0]) | (t >= self.band[1])
            self.samples = np.column_stack([np.ones(keep.sum()), t[keep]])
        elif case == "cube_balls":
            g = np.linspace(0.0, 1.0, 101)
            gx, gy = np.meshgrid(g, g)
            self.samples = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, 0.5)])
        else:
            raise KeyError(case)

    def distance(self, p):
        """(m,) distance of points ``p`` to the known singular set."""
        if self.case == "half_disks":
            return np.hypot(p[:, 0] - 1.0, np.maximum(0.0, np.maximum(-p[:, 1], p[:, 1] - 1.0)))
        if self.case == "annulus":
            return np.linalg.norm(p, axis=1)
        if self.case == "dumbbell":
            t1, t2 = self.band
            dt = np.where(p[:, 1] <= t1, 0.0, np.where(p[:, 1] >= t2, 0.0,
                                                         np.minimum(p[:, 1] - t1, t2 - p[:, 1])))
            return np.hypot(p[:, 0] - 1.0, dt)
        return np.abs(p[:, 2] - 0.5)


# ----------------------------------------------------------------------------- measures
def facet_points(pieces, step):
    """Points on detected facets: 2D segments sampled ``step`` apart; 3D polygons' vertices,
    edge midpoints and centroid (polygons are cell-sized)."""
    pts = []
    for q in pieces:
        q = np.asarray(q, dtype=np.float64)
        if q.shape[0] == 2:
            m = max(int(np.ceil(np.linalg.norm(q[1] - q[0]) / step)), 1)
            t = np.linspace(0.0, 1.0, m + 1)[:, None]
            pts.append(q[0] + t * (q[1] - q[0]))
        else:
            pts.extend([q, 0.5 * (q + np.roll(q, -1, axis=0)), q.mean(axis=0, keepdims=True)])
    return np.vstack(pts) if pts else np.zeros((0, 0))


def measure(truth, pieces, cell):
    """(det->true, true->det, Hausdorff, covered share) of detected facet ``pieces``."""
    pts = facet_points(pieces, 0.25 * cell)
    if pts.size == 0:
        return np.inf, np.inf, np.inf, 0.0
    d_det = float(truth.distance(pts).max())
    d_true, _ = cKDTree(pts).query(truth.samples)
    return d_det, float(d_true.max()), max(d_det, float(d_true.max())), float(np.mean(d_true <= cell))


def pieces_of(s):
    return list(s.segments) if s.dim == 2 else list(s.polygons)


def diagram_pieces(diagram, sel):
    """Facet pieces of the pairs ``sel`` of a diagram (for criteria outside singular_set)."""
    fg = diagram.facets(np.asarray(sel, dtype=np.int64))
    pts, ptr = np.asarray(fg.points), np.asarray(fg.indptr)
    return [pts[ptr[k]:ptr[k + 1]] for k in range(len(ptr) - 1)]


def dihedral(y, pairs):
    """Angle between the facets of the graph of u over the two cells (normals (y, -1))."""
    yi, yj = y[pairs[:, 0]], y[pairs[:, 1]]
    num = 1.0 + np.einsum("ij,ij->i", yi, yj)
    den = np.sqrt((1.0 + np.einsum("ij,ij->i", yi, yi)) * (1.0 + np.einsum("ij,ij->i", yj, yj)))
    return np.arccos(np.clip(num / den, -1.0, 1.0))


def cell_size(res, n):
    return (float(res.domain.volume) / n) ** (1.0 / res.y.shape[1])


def run_criterion(res, sup, truth, criterion, angle=None):
    """One row: detection by ``criterion`` and its measures."""
    n = len(res.y)
    cell = cell_size(res, n)
    diagram = res.diagram
    diagram.pairs  # noqa: B018 - built before timing: the detector's own cost is timed
    t0 = time.perf_counter()
    if criterion == "angle":
        pairs = np.asarray(diagram.pairs)
        sel = np.flatnonzero(dihedral(res.y, pairs) > angle)
        pieces = diagram_pieces(diagram, sel)
        npairs, ncomp = sel.size, None
    else:
        s = singular_set(res, support=None if criterion == "emptiness" else sup,
                         criterion=criterion)
        pieces, npairs, ncomp = pieces_of(s), len(s), len(s.components)
    dt = time.perf_counter() - t0
    d_det, d_true, haus, cov = measure(truth, pieces, cell)
    far = facet_points(pieces, 0.25 * cell)
    return {"n": n, "criterion": criterion, "pairs": int(npairs), "pieces": ncomp,
            "det_to_true": d_det, "true_to_det": d_true, "hausdorff": haus, "covered": cov,
            "far_points": float(np.mean(truth.distance(far) > 3 * cell)) if far.size else 0.0,
            "cell": cell, "seconds": dt, "band": truth.band}


def calibrate_angle(res):
    """Midway between the largest regular and the smallest singular angle (half-disks)."""
    pairs = np.asarray(res.diagram.pairs)
    ang = dihedral(res.y, pairs)
    cross = np.sign(res.y[pairs[:, 0], 0]) != np.sign(res.y[pairs[:, 1], 0])
    return 0.5 * (ang[~cross].max() + ang[cross].min()), float(ang[~cross].max()), float(ang[cross].min())


# ----------------------------------------------------------------------------- the table
def fmt(v, digits=4):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "inf" if not np.isfinite(v) else f"{v:.{digits}g}"
    return str(v)


def print_table(rows, title):
    print(f"\n### {title}\n")
    head = ["case", "n", "criterion", "pairs", "pieces", "det->true", "true->det", "Hausdorff",
            "covered", "stray", "cell", "time (s)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join([r["case"], str(r["n"]), r["criterion"] + (f" ({r['angle']:.3g} rad)" if
                                 r.get("angle") is not None else ""), fmt(r["pairs"]), fmt(r["pieces"]),
                                 fmt(r["det_to_true"], 3), fmt(r["true_to_det"], 3), fmt(r["hausdorff"], 3),
                                 f"{r['covered']:.3f}", f"{r['far_points']:.3f}", fmt(r["cell"], 3),
                                 f"{r['seconds']:.3f}"]) + " |")


def dumbbell_figure(path, n, seed=0):
    """Rectangle -> dumbbell at ``n``: the detected singular set by both criteria (the Y at
    each end of the two midline segments) and what the support criterion's pieces cover."""
    from matplotlib.figure import Figure

    from geomot import plot as gplot

    res, bell = solve_case("dumbbell", n, seed)
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, crit in zip(axes[:2], ("support", "emptiness")):
        s = singular_set(res, support=None if crit == "emptiness" else bell, criterion=crit)
        gplot.plot_map(res, ax=ax, kind="color")
        gplot.plot_singular_set(s, ax=ax, linewidth=2.0, label=False)
        ax.set_title(f"criterion {crit!r}: {len(s)} pairs, {len(s.components)} pieces", fontsize=10)
        ax.set_aspect("equal")
    s = singular_set(res, support=bell)
    ax = axes[2]
    gplot.plot_geometry(bell, ax=ax, facecolor="0.92", edgecolor="0.4")
    gplot.plot_subdifferentials(s, ax=ax, alpha=0.35)
    for i, j in s.pairs[::2]:
        ax.plot(*res.y[[i, j]].T, lw=0.3, color="k")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_title("targets' side: the segments [y_i, y_j] of the singular pairs\n"
                 "and the subdifferential of each piece", fontsize=10)
    fig.suptitle(f"rectangle -> dumbbell, n = {n}: the two midline segments end in a Y "
                 f"(branches covering the wedges between the bar and the disks)", fontsize=11)
    fig.savefig(path, dpi=80, facecolor="white")
    print(f"wrote {path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the sizes of the docs' table")
    ap.add_argument("--compare", action="store_true",
                    help="also the restricted-Delaunay and dihedral-angle criteria, at one size")
    ap.add_argument("--cases", default=",".join(CASES_2D + CASES_3D))
    ap.add_argument("--sizes2d", default=None, help="comma-separated 2D sizes")
    ap.add_argument("--sizes3d", default=None, help="comma-separated 3D sizes")
    ap.add_argument("--compare-n2d", type=int, default=None)
    ap.add_argument("--compare-n3d", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the rows to this file")
    ap.add_argument("--figure", default=None,
                    help="draw the dumbbell's singular set (both criteria) and its subdifferentials "
                         "at --figure-n to this PNG")
    ap.add_argument("--figure-n", type=int, default=30_000)
    a = ap.parse_args(argv)
    if a.figure:
        dumbbell_figure(a.figure, a.figure_n, a.seed)

    sizes2 = [int(v) for v in a.sizes2d.split(",")] if a.sizes2d else list(FULL_2D if a.full else (1000, 3000))
    sizes3 = [int(v) for v in a.sizes3d.split(",")] if a.sizes3d else list(FULL_3D if a.full else (1000,))
    cn2 = a.compare_n2d or (10_000 if a.full else max(sizes2))
    cn3 = a.compare_n3d or (10_000 if a.full else max(sizes3))
    cases = [c for c in a.cases.split(",") if c]
    unknown = set(cases) - set(CASES_2D + CASES_3D)
    if unknown:
        ap.error(f"unknown case(s) {sorted(unknown)}; choose from {CASES_2D + CASES_3D}")

    rows, compare_rows = [], []
    angle = None
    if a.compare:
        ref, _ = solve_case("half_disks", min(sizes2), a.seed)
        angle, lo, hi = calibrate_angle(ref)
        print(f"dihedral angle calibrated on half_disks n={min(sizes2)}: largest regular {lo:.4f} rad, "
              f"smallest singular {hi:.4f} rad -> threshold {angle:.4f} rad")
    for case in cases:
        sizes = sizes2 if case in CASES_2D else sizes3
        cn = cn2 if case in CASES_2D else cn3
        for n in sorted(set(sizes) | ({cn} if a.compare else set())):
            t0 = time.perf_counter()
            res, sup = solve_case(case, n, a.seed)
            truth = Truth(case, res)
            print(f"{case} n={n}: solved in {time.perf_counter() - t0:.1f} s ({res.iterations} Newton steps, "
                  f"converged={res.converged})" + (f", bar band {truth.band[0]:.3f}..{truth.band[1]:.3f}"
                                                    if truth.band else ""), flush=True)
            crits = list(CRITERIA) if n in sizes else []
            if a.compare and n == cn:
                crits = list(dict.fromkeys(crits + list(CRITERIA) + ["restricted_delaunay", "angle"]))
            for crit in crits:
                r = dict(run_criterion(res, sup, truth, crit, angle), case=case, seed=a.seed)
                r["angle"] = angle if crit == "angle" else None
                if n in sizes and crit in CRITERIA:
                    rows.append(r)
                if a.compare and n == cn:
                    compare_rows.append(r)
    if a.compare and "half_disks" in cases:
        for label, scale, shift in (("half_disks, targets x 0.5", 0.5, None),
                                    ("half_disks, targets + (10, 0)", 1.0, (10.0, 0.0))):
            res, sup = solve_case("half_disks", cn2, a.seed, scale=scale, shift=shift)
            truth = Truth("half_disks", res)
            for crit in ("support", "emptiness", "angle"):
                r = dict(run_criterion(res, sup, truth, crit, angle), case=label, seed=a.seed)
                r["angle"] = angle if crit == "angle" else None
                compare_rows.append(r)

    print_table(rows, f"convergence (seed {a.seed})")
    if compare_rows:
        print_table(compare_rows, f"four criteria on the same solves (seed {a.seed})")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows, "compare": compare_rows}, fh, indent=1, default=float)
    return rows, compare_rows


if __name__ == "__main__":
    main()
