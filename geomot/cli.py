"""The ``geomot`` command line: reproduce the article's figures, solve transport problems from files.

::

    geomot reproduce --list
    geomot reproduce fig3 fig5 --out figures --quick
    geomot reproduce all --out figures
    geomot solve --domain box --lo 0 0 --hi 2 1 --targets y.npy --out result.npz
    geomot solve --domain polygon --file shape.wkt --targets y.csv --nu nu.csv --out result.npz
    geomot explore --family two-half-disks

Errors in the input (unknown figure names, missing or unreadable files, bad options) print one
line ``geomot: error: ...`` and exit with status 2; a figure that fails while being made exits
with status 1 (the other figures are still made).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


# ============================================================================ parser
def build_parser():
    """The ``argparse`` parser of the ``geomot`` command (sub-commands ``reproduce``, ``solve``, ``explore``).

    Example
    -------
    >>> build_parser().parse_args(["reproduce", "fig3", "--quick"]).quick
    True
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="geomot",
        description="Exact semi-discrete optimal transport in 2D/3D: reproduce the figures of "
                    "'Mode Collapse and Regularity of Optimal Transportation Maps', or solve a "
                    "transport problem from files.")
    parser.add_argument("--version", action="version", version=f"geomot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rep = sub.add_parser(
        "reproduce", help="make the article's figures (PNG, and a GIF for fig6)",
        description="Make the article's figures. NAME is one of the names printed by --list, or 'all'.")
    rep.add_argument("names", nargs="*", metavar="NAME", help="figure name(s), or 'all'")
    rep.add_argument("--list", action="store_true", help="list the figures with a one-line description and exit")
    rep.add_argument("--out", default="figures", metavar="DIR", help="output folder (default: ./figures)")
    rep.add_argument("--quick", action="store_true",
                     help="small sizes: each figure in well under a minute (default: publication quality)")
    rep.add_argument("--n", type=int, default=None, metavar="N", help="number of target points (overrides the default)")
    rep.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    rep.add_argument("--mesh", metavar="FILE", default=None,
                     help="fig6: any watertight mesh file to use instead of the Stanford bunny")
    rep.add_argument("--show", action="store_true", help="also open interactive PyVista windows (needs a display)")
    rep.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")

    sol = sub.add_parser(
        "solve", help="solve a semi-discrete transport problem from files and save the result",
        description="Solve uniform-on-a-domain -> discrete targets and write the result (.npz, "
                    "readable with geomot.load).")
    sol.add_argument("--domain", required=True, choices=["box", "disk", "ball", "polygon", "mesh"],
                     help="the source domain: box (--lo, --hi), disk/ball (--center, --radius), "
                          "polygon (--file: WKT or GeoJSON), mesh (--file: a watertight mesh)")
    sol.add_argument("--lo", type=float, nargs="+", help="box: lower corner")
    sol.add_argument("--hi", type=float, nargs="+", help="box: upper corner")
    sol.add_argument("--center", type=float, nargs="+", help="disk/ball: centre (default the origin)")
    sol.add_argument("--radius", type=float, default=1.0, help="disk/ball: radius (default 1)")
    sol.add_argument("--file", metavar="PATH",
                     help="polygon: a .wkt/.geojson file; mesh: a mesh file (.ply, .stl, .obj)")
    sol.add_argument("--targets", required=True, metavar="FILE", help="target points, (n, d): .npy or .csv")
    sol.add_argument("--nu", metavar="FILE", help="target masses, (n,): .npy or .csv (default uniform)")
    sol.add_argument("--out", required=True, metavar="FILE", help="where to write the result (.npz)")
    sol.add_argument("--tol", type=float, default=None, help="stopping tolerance (default: the solver's)")
    sol.add_argument("--max-iter", type=int, default=None, help="maximum number of iterations")
    sol.add_argument("--method", default="newton", choices=["newton", "montecarlo"], help="solver (default newton)")
    sol.add_argument("--seed", type=int, default=None, help="random seed (montecarlo)")
    sol.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")

    from .reproduce.singular_appears import FAMILIES

    exp = sub.add_parser(
        "explore", help="the classroom explorer: deform a target, watch the singular set appear (needs a display)",
        description="Open an interactive window: the power diagram, the map and the singular set update live as "
                    "you choose the target shape, its parameter (gap, hole radius, notch depth), the number of "
                    "targets and the threshold; the potential's graph in a PyVista window. Needs a display "
                    "(for slides without one: geomot reproduce singular-appears).")
    exp.add_argument("--family", default="two-half-disks", choices=list(FAMILIES), help="initial target shape")
    exp.add_argument("--parameter", type=float, default=None, metavar="X",
                     help="initial gap / hole radius / notch depth (default: half the sweep)")
    exp.add_argument("--n", type=int, default=500, metavar="N", help="initial number of targets (default 500)")
    exp.add_argument("--seed", type=int, default=0, help="random seed of the targets (default 0)")
    exp.add_argument("--no-3d", dest="potential", action="store_false",
                     help="do not open the PyVista window of the potential's graph")
    return parser


# ============================================================================ reproduce
def _cmd_reproduce(args):
    from .reproduce import FIGURES, list_figures

    if args.list:
        width = max(len(name) for name in FIGURES)
        for name, desc in list_figures():
            print(f"{name:<{width}}  {desc}")
        return 0
    if not args.names:
        raise UsageError("no figure name given (try 'geomot reproduce --list', or 'all')")
    names = list(FIGURES) if "all" in args.names else list(dict.fromkeys(args.names))
    unknown = [x for x in names if x not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure name(s): {', '.join(unknown)} (known: {', '.join(FIGURES)}, all)")
    if args.n is not None:
        small = [f"{x} needs n >= {FIGURES[x].min_n}" for x in names if args.n < FIGURES[x].min_n]
        if small:
            raise UsageError(f"--n {args.n} is too small to resolve the figure(s): {'; '.join(small)}")
    if args.mesh is not None and not Path(args.mesh).is_file():
        raise UsageError(f"mesh file not found: {args.mesh}")
    failed = []
    for name in names:
        print(f"[{name}] {FIGURES[name].description}", file=sys.stderr, flush=True)
        extra = {"mesh": args.mesh} if (name == "fig6" and args.mesh is not None) else {}
        try:
            paths = FIGURES[name].make(args.out, quick=args.quick, n=args.n, seed=args.seed,
                                       progress=args.progress, show=args.show, **extra)
        except FileNotFoundError as exc:
            print(f"geomot: {name} skipped: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        except (RuntimeError, ValueError) as exc:
            print(f"geomot: {name} failed: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        for p in paths:
            print(p)
    if failed:
        print(f"geomot: {len(failed)} figure(s) not made: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


# ============================================================================ solve
def _read_array(path, what):
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what} file not found: {p}")
    try:
        if p.suffix.lower() == ".npy":
            return np.load(p, allow_pickle=False)
        if p.suffix.lower() in (".csv", ".txt"):
            try:
                return np.loadtxt(p, delimiter=",", ndmin=1)
            except ValueError:  # a header line
                return np.loadtxt(p, delimiter=",", ndmin=1, skiprows=1)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what} from {p}: {exc}") from None
    raise UsageError(f"{what} file must be .npy or .csv, got {p.name}")


def _read_polygon(path):
    import shapely

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"polygon file not found: {p}")
    text = p.read_text()
    try:
        if p.suffix.lower() in (".json", ".geojson"):
            geom = shapely.from_geojson(text)
        else:
            geom = shapely.from_wkt(text.strip())
    except Exception as exc:  # shapely raises its own GEOSException / ValueError
        raise UsageError(f"cannot read a polygon from {p}: {exc}") from None
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    return geom


def _domain(args):
    import geomot

    kind = args.domain
    if kind == "box":
        if args.lo is None or args.hi is None:
            raise UsageError("--domain box needs --lo and --hi (e.g. --lo 0 0 --hi 2 1)")
        return geomot.Domain.box(args.lo, args.hi)
    if kind in ("disk", "ball"):
        d = 2 if kind == "disk" else 3
        center = args.center if args.center is not None else [0.0] * d
        if len(center) != d:
            raise UsageError(f"--center needs {d} numbers for a {kind}, got {len(center)}")
        return getattr(geomot.Domain, kind)(center, args.radius)
    if args.file is None:
        raise UsageError(f"--domain {kind} needs --file")
    if kind == "polygon":
        return geomot.Domain.polygon(_read_polygon(args.file))
    import trimesh

    p = Path(args.file)
    if not p.is_file():
        raise UsageError(f"mesh file not found: {p}")
    try:
        mesh = trimesh.load(str(p), force="mesh")
    except Exception as exc:  # trimesh raises many kinds
        raise UsageError(f"cannot read a mesh from {p}: {exc}") from None
    return geomot.Domain.mesh(mesh)


def _cmd_solve(args):
    import geomot

    y = _read_array(args.targets, "targets")
    if y.ndim != 2:
        raise UsageError(f"targets must be an (n, d) table, got shape {y.shape} from {args.targets}")
    nu = None if args.nu is None else _read_array(args.nu, "nu").reshape(-1)
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise UsageError(f"output folder does not exist: {out.parent}")
    domain = _domain(args)
    kw = {"method": args.method, "progress": args.progress}
    for name in ("tol", "max_iter", "seed"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    res = geomot.solve_ot(domain, y, nu, **kw)
    res.save(out)
    err = res.history[-1] if len(getattr(res, "history", [])) else float("nan")
    print(f"{'converged' if res.converged else 'NOT converged'} in {res.iterations} iterations "
          f"(error {err:.3g}); {len(y)} targets in {y.shape[1]}D; wrote {out}")
    return 0 if res.converged else 1


# ============================================================================ explore
def _cmd_explore(args):
    from . import explore

    try:
        explore.require_display()
    except explore.NoDisplayError as exc:
        raise UsageError(str(exc)) from None
    explore.run(family=args.family, parameter=args.parameter, n=args.n, seed=args.seed,  # pragma: no cover
                potential=args.potential)
    return 0  # pragma: no cover - needs a display


# ============================================================================ main
def main(argv=None):
    """Entry point of the ``geomot`` console script; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when some work failed, 2 for bad input.

    Example
    -------
    >>> main(["reproduce", "--list"])        # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on bad options
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "reproduce":
            return _cmd_reproduce(args)
        if args.command == "explore":
            return _cmd_explore(args)
        return _cmd_solve(args)
    except UsageError as exc:
        print(f"geomot: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # invalid input caught by geomot's validation
        print(f"geomot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("geomot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
