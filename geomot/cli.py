"""The ``geomot`` command line: reproduce the article's figures, solve transport problems from files.

::

    geomot reproduce --list
    geomot reproduce fig3 fig5 --out figures --quick
    geomot reproduce all --out figures
    geomot solve --domain box --lo 0 0 --hi 2 1 --targets y.npy --out result.npz
    geomot solve --domain polygon --file shape.wkt --targets y.csv --nu nu.csv --out result.npz
    geomot explore --family two-half-disks

Errors in the input (unknown figure names, missing or unreadable files, bad options, an output
path that cannot be written) print one line ``geomot: error: ...`` and exit with status 2, never
a traceback; they are found before any work starts.  A figure that fails while being made exits
with status 1 (the other figures are still made); so does an unexpected internal error (one line
``geomot: internal error: ...``: please report it).

``solve --out PATH`` writes ``PATH`` when it ends in ``.npz``, else ``PATH.npz`` (numpy's rule),
and prints the path written; ``PATH`` must name a file in an existing folder, not a folder.
Targets are an ``(n, d)`` table with ``d`` the domain's dimension: one row is one target; a 1-D
``.npy`` array, or a one-column file, of length ``d`` is one target too (for a 1-D domain it is
``n`` targets).  ``--seed`` applies to ``--method montecarlo`` only (Newton is deterministic), as
in :func:`geomot.solve_ot`.
"""

import argparse
import os
import sys
import warnings
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
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    _check_out_dir(args.out)
    failed = []
    for name in names:
        print(f"[{name}] {FIGURES[name].description}", file=sys.stderr, flush=True)
        extra = {"mesh": args.mesh} if (name == "fig6" and args.mesh is not None) else {}
        try:
            paths = FIGURES[name].make(args.out, quick=args.quick, n=args.n, seed=args.seed,
                                       progress=args.progress, show=args.show, **extra)
        except (FileNotFoundError, ImportError) as exc:  # the bunny's file; an optional extra (geomot[ml])
            print(f"geomot: {name} skipped: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        except (RuntimeError, ValueError, TypeError, OSError) as exc:
            print(f"geomot: {name} failed: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        for p in paths:
            print(p)
    if failed:
        print(f"geomot: {len(failed)} figure(s) not made: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _check_out_dir(out):
    """``reproduce --out``: a folder, created now (so that a bad path fails before any work)."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder (the figures are written into a folder)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder --out {out}: {exc.strerror or exc}") from None
    if not os.access(p, os.W_OK):
        raise UsageError(f"the output folder --out {out} is not writable")


# ============================================================================ solve
def _read_array(path, what):
    """``(rows, columns)`` table (CSV: always 2-D; .npy: as stored) from a .npy or .csv file."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} file {p} is a folder")
    if not p.is_file():
        raise UsageError(f"{what} file not found: {p}")
    try:
        if p.suffix.lower() == ".npy":
            a = np.load(p, allow_pickle=False)
        elif p.suffix.lower() in (".csv", ".txt"):
            with warnings.catch_warnings():  # "input contained no data": reported below, once
                warnings.simplefilter("ignore", UserWarning)
                try:
                    a = np.loadtxt(p, delimiter=",", ndmin=2)
                except ValueError:
                    if not _has_header(p):
                        raise
                    a = np.loadtxt(p, delimiter=",", ndmin=2, skiprows=1)
        else:
            raise UsageError(f"{what} file must be .npy or .csv, got {p.name}")
    except (OSError, ValueError, EOFError) as exc:  # EOFError: an empty .npy
        raise UsageError(f"cannot read {what} from {p}: {exc}") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biufc":
        raise UsageError(f"{what} in {p} must be numbers, got {getattr(a, 'dtype', type(a).__name__)}")
    if a.size == 0:
        raise UsageError(f"{what} file {p} holds no numbers")
    return a


def _has_header(p):
    """Whether the first line of a CSV file is a header (not all numbers)."""
    with open(p, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        [float(v) for v in first.split(",")]
    except ValueError:
        return True
    return False


def _targets(a, dim, path):
    """The targets table as ``(n, dim)``: one row is one target; so is a 1-D array or one column of ``dim`` numbers."""
    from ._validate import as_points, check_distinct

    if a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1 and dim > 1):
        if dim == 1:
            a = a.reshape(-1, 1)
        elif a.size == dim:
            a = a.reshape(1, dim)  # one target, written as a row, a column or a 1-D array
        else:
            raise UsageError(f"targets in {path} are a single list of {a.size} numbers: one target in "
                             f"the {dim}D domain needs {dim}; write one target per row, {dim} columns")
    if a.ndim != 2:
        raise UsageError(f"targets must be an (n, d) table, got shape {a.shape} from {path}")
    if a.shape[1] != dim:
        raise UsageError(f"targets in {path} have {a.shape[1]} columns, the {dim}D domain needs {dim} "
                         f"(one target per row)")
    y = as_points(a, f"targets ({path})", dim=dim)
    check_distinct(y, f"targets ({path})")
    return y


def _masses(a, path):
    """``nu`` as a vector: a row, a column or a 1-D array."""
    from ._validate import as_vector

    if a.ndim > 2 or (a.ndim == 2 and min(a.shape) != 1):
        raise UsageError(f"nu must be a list of masses (one row or one column), got shape {a.shape} from {path}")
    return as_vector(a.reshape(-1), f"nu ({path})", positive=True)


def _out_path(out):
    """The file ``solve --out`` writes (``.npz`` appended when missing), checked writable now."""
    raw = os.fspath(out)
    p = Path(raw if raw.endswith(".npz") else raw + ".npz")
    if raw.endswith(("/", os.sep)) or Path(raw).is_dir() or raw in ("", ".", ".."):
        raise UsageError(f"--out {raw!r} is a folder; give a file name, e.g. --out {os.path.join(raw or '.', 'result.npz')}")
    if p.is_dir():
        raise UsageError(f"--out would write {p}, which is a folder")
    parent = p.parent
    if not parent.exists():
        raise UsageError(f"output folder does not exist: {parent}")
    if not parent.is_dir():
        raise UsageError(f"output folder is not a folder: {parent}")
    existed = p.exists()
    try:  # open for appending: creates nothing that survives, truncates nothing
        with open(p, "ab"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write --out {p}: {exc.strerror or exc}") from None
    finally:
        if not existed and p.exists():
            p.unlink()
    return p


def _read_polygon(path):
    import shapely

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"polygon file not found: {p}")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read a polygon from {p}: {exc}") from None
    try:
        if p.suffix.lower() in (".json", ".geojson"):
            geom = shapely.from_geojson(text)
        else:
            geom = shapely.from_wkt(text.strip())
    except Exception as exc:  # shapely raises its own GEOSException / ValueError
        raise UsageError(f"cannot read a polygon from {p}: {exc}") from None
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise UsageError(f"{p} holds no polygon (found {geom.geom_type}{' EMPTY' if geom.is_empty else ''})")
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

    if args.seed is not None and args.method != "montecarlo":
        raise UsageError(f"--seed applies to --method montecarlo only (--method {args.method} is "
                         f"deterministic); drop --seed or add --method montecarlo")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    y = _read_array(args.targets, "targets")
    nu = None if args.nu is None else _masses(_read_array(args.nu, "nu"), args.nu)
    out = _out_path(args.out)
    domain = _domain(args)
    y = _targets(y, domain.dim, args.targets)
    kw = {"method": args.method, "progress": args.progress}
    for name in ("tol", "max_iter", "seed"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    res = geomot.solve_ot(domain, y, nu, **kw)
    try:
        written = res.save(out)
    except OSError as exc:
        raise UsageError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    err = res.history[-1] if len(getattr(res, "history", [])) else float("nan")
    print(f"{'converged' if res.converged else 'NOT converged'} in {res.iterations} iterations "
          f"(error {err:.3g}); {len(y)} target{'s' if len(y) != 1 else ''} in {y.shape[1]}D; wrote {written}")
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
    >>> main(["reproduce", "--list"])                    # doctest: +ELLIPSIS
    fig1 ...
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
    except (ValueError, TypeError) as exc:  # invalid input caught by geomot's validation
        print(f"geomot: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that vanished or cannot be read / written meanwhile
        print(f"geomot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("geomot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, not a traceback (the command line promises none)
        print(f"geomot: internal error: {type(exc).__name__}: {exc} (please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
