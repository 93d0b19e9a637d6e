"""Build ``docs/api.md`` from the docstrings of the public API.

Run from the repository root (it imports geomot, so the package must be importable)::

    python docs/gen_api.py            # writes docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md is out of date

Every name of ``geomot.__all__`` is documented, classes with their public methods and
properties, and the public modules (``geomot.shapes``, ``geomot.plot``, ``geomot.plot3d``) and
the documented helper modules (``geomot.generate``, ``geomot.montecarlo``, ``geomot.singular``,
``geomot.reproduce``) with the names of their ``__all__``.  The numpydoc docstrings are converted to
GitHub Markdown: section titles become bold labels, parameter lists become bullet lists,
``.. math::`` blocks become ``$$ ... $$`` and ``:math:`...``` becomes ``$...$``, doctest examples
become ``pycon`` code blocks.
"""

import argparse
import importlib
import inspect
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "api.md")

#: (section title, module, names or None for the module's ``__all__``, intro)
SECTIONS = [
    ("Domains", "geomot", ["Domain", "ConvexPieces"],
     "The support of the source measure (uniform, or piecewise-constant, density)."),
    ("Power diagrams", "geomot", ["power_diagram", "PowerDiagram"],
     "Exact power (Laguerre) diagrams restricted to a domain, from one lifted convex hull."),
    ("Geometry of facets", "geomot.power", ["FacetGeometry", "RegularTriangulation"],
     "Returned by `PowerDiagram.facets()` and stored in `PowerDiagram.triangulation`."),
    ("Semi-discrete optimal transport", "geomot", ["solve_ot", "OTResult", "load"],
     "Damped Newton on the exact diagram (2D/3D) or Monte Carlo + Adam (any dimension)."),
    ("Frames", "geomot.frame", ["Frame", "FramedDomain"],
     "The O(1) coordinates every computation uses (`OTResult.frame`, `PowerDiagram.frame`)."),
    ("Brenier potential", "geomot", ["BrenierPotential"],
     "The upper envelope of planes $u(x) = \\max_i \\langle x, y_i\\rangle + h_i$."),
    ("Singular set", "geomot", ["singular_set", "SingularSet"],
     "Where the optimal map jumps: the ridges of the Brenier potential."),
    ("Singular-set helpers", "geomot.singular", ["local_spacing", "default_threshold", "emptiness_scores"],
     "The pieces of the scale-aware criterion, exposed for experiments."),
    ("Generation (AE-OT)", "geomot", ["PiecewiseLinearMap"],
     "Piecewise-linear extension of the discrete map that refuses to interpolate across the "
     "singular set."),
    ("Crossings of the singular set", "geomot", ["segment_crossings", "SegmentCrossings"],
     "Where a latent segment changes cells, exactly, in any dimension, and which changes are "
     "singular (latent interpolation, figure 10)."),
    ("Mode-collapse baselines and measures", "geomot.generate",
     ["continuous_map", "ContinuousMap", "off_support_fraction", "mode_balance"],
     "A continuous generator fitted to the same data, and the two numbers that show mode "
     "collapse."),
    ("Real data (`geomot.latent`)", "geomot.latent", None,
     "scikit-learn's bundled digits (`pip install geomot[ml]`): encoders (t-SNE, PCA, an "
     "autoencoder), a k-NN decoder, an independent classifier, the off-manifold test and the "
     "separation measure."),
    ("Mode-collapse benchmarks (`geomot.mixtures`)", "geomot.mixtures", None,
     "The Gaussian mixtures of the GAN literature (ring of 8, grid of 25, 10 modes in 16D) and "
     "their metrics (modes covered, high-quality share, KL of the mode histogram)."),
    ("Monte Carlo", "geomot.montecarlo", None,
     "The Monte-Carlo solver behind `solve_ot(..., method=\"montecarlo\")`, usable directly."),
    ("Backends", "geomot._backend", ["get_backend", "available_backends", "BackendUnavailableError",
                                     "Backend"],
     "`geomot.get_backend` is public; the same argmax / count kernels on numpy, numba and CuPy."),
    ("Shapes (`geomot.shapes`)", "geomot.shapes", None,
     "The article's shapes as shapely geometries, the solid Stanford bunny, and uniform "
     "sampling."),
    ("2D plots (`geomot.plot`)", "geomot.plot", None,
     "matplotlib drawings; every function takes `ax=None` and returns the Axes."),
    ("3D renderings (`geomot.plot3d`)", "geomot.plot3d", None,
     "PyVista builders and off-screen renderings."),
    ("The article's figures (`geomot.reproduce`)", "geomot.reproduce", None,
     "What `geomot reproduce` and the gallery run: the registry; one recipe module per figure."),
    ("The singular set appears (`geomot.reproduce.singular_appears`)", "geomot.reproduce.singular_appears",
     ["FAMILIES", "Family", "get_family", "Scene", "scene", "draw_scene", "SingularAppearsResult", "compute",
      "render", "make", "write_mp4"],
     "The sweep from a convex target to a non-convex one that `geomot explore` moves live and "
     "`geomot reproduce singular-appears` animates."),
    ("Classroom explorer (`geomot.explore`)", "geomot.explore", None,
     "`geomot explore`: the matplotlib window with its controls, and its headless check."),
    ("Figure recipes", "geomot.reproduce.fig3", ["compute", "render", "make", "Fig3Result"],
     "Every recipe (`geomot.reproduce.fig1` ... `fig6`, `fig8`, `fig10`, `mode_collapse`) has these "
     "steps; fig3's "
     "are shown here."),
]

_SECTION_RE = re.compile(r"^\s*(Parameters|Returns|Yields|Raises|Warns|Attributes|Notes|"
                         r"References|Examples?|See Also|Other Parameters|Methods)\s*$")
_LIST_SECTIONS = {"Parameters", "Returns", "Yields", "Raises", "Warns", "Attributes",
                  "Other Parameters", "Methods"}


def _inline(text):
    """reST inline markup -> Markdown."""
    text = re.sub(r":math:`([^`]*)`", lambda m: "$" + m.group(1).strip() + "$", text)
    text = re.sub(r":(?:func|meth|class|attr|mod|data|obj|exc|ref):`~?([^`]*)`",
                  lambda m: "`" + m.group(1) + "`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r"\.\. \[(\d+)\]", r"[\1]", text)
    text = re.sub(r"\[(\d+)\]_", r"[\1]", text)
    return text


def _dedent_block(lines):
    ind = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
    return [s[ind:] for s in lines]


def _convert_body(lines):
    """Convert plain (non-list) docstring lines: math blocks, doctests, literal blocks."""
    out = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if s.startswith(".. math::"):
            rest = s[len(".. math::"):].strip()
            block = [rest] if rest else []
            base = len(line) - len(line.lstrip())
            i += 1
            while i < n and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base):
                block.append(lines[i].strip())
                i += 1
            eq = " ".join(b for b in block if b)
            out += ["", "$$", eq, "$$", ""]
            continue
        if s.startswith(">>>"):
            block = []
            while i < n and lines[i].strip():
                block.append(lines[i].strip())
                i += 1
            out += ["", "```pycon", *block, "```", ""]
            continue
        if s.endswith("::") and not s.startswith(".."):
            out.append(_inline(s[:-1] if not s.endswith(" ::") else s[:-3]))
            base = len(line) - len(line.lstrip())
            i += 1
            block = []
            while i < n and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", "```python", *_dedent_block([b for b in block]), "```", ""]
            # drop leading blank lines inside the fence
            continue
        if s.startswith(".. ") and not s.startswith(".. ["):
            i += 1  # other directives (doctest flags, notes): skip the marker line
            continue
        out.append(_inline(line))
        i += 1
    # remove blank lines right after an opening fence
    clean = []
    for k, line in enumerate(out):
        if not line.strip() and clean and clean[-1] in ("```python",):
            continue
        clean.append(line)
    return clean


def _convert_list(lines):
    """A numpydoc parameter list -> Markdown bullets."""
    lines = _dedent_block(lines)
    items = []
    for line in lines:
        if not line.strip():
            if items:
                items[-1][1].append("")
            continue
        if not line.startswith(" "):
            items.append([line.strip(), []])
        elif items:
            items[-1][1].append(line)
        else:
            items.append(["", [line]])
    out = []
    for head, desc in items:
        if " : " in head:
            name, typ = head.split(" : ", 1)
            bullet = f"- **{_inline(name).strip()}** : {_inline(typ).strip()}"
        else:
            bullet = f"- {_inline(head) if ':' in head or ' ' in head else '**' + head + '**'}"
        out.append(bullet)
        body = _convert_body(_dedent_block(desc))
        while body and not body[-1].strip():
            body.pop()
        for b in body:
            out.append(("  " + b) if b.strip() else "")
    return out


def docstring_to_md(doc):
    """A numpydoc docstring -> Markdown lines."""
    if not doc:
        return ["*(no docstring)*"]
    # inline markup may span lines: convert it on the whole text first
    lines = _inline(inspect.cleandoc(doc)).splitlines()
    chunks = []  # (section or None, lines)
    cur, buf = None, []
    i = 0
    while i < len(lines):
        if (i + 1 < len(lines) and _SECTION_RE.match(lines[i])
                and re.match(r"^\s*-{3,}\s*$", lines[i + 1])):
            chunks.append((cur, buf))
            cur, buf = lines[i].strip(), []
            i += 2
            continue
        buf.append(lines[i])
        i += 1
    chunks.append((cur, buf))
    out = []
    for sec, body in chunks:
        while body and not body[0].strip():
            body = body[1:]
        while body and not body[-1].strip():
            body = body[:-1]
        if not body:
            continue
        if sec is not None:
            title = "Example" if sec in ("Example", "Examples") else sec
            out += ["", f"**{title}**", ""]
        if sec in _LIST_SECTIONS:
            out += _convert_list(body)
        else:
            out += _convert_body(body)
    # collapse runs of blank lines
    res = []
    for line in out:
        if not line.strip() and res and not res[-1].strip():
            continue
        res.append(line.rstrip())
    return res


def _signature(obj, name):
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        sig = "(...)"
    sig = re.sub(r"=<[^>]*>", "=...", sig)
    sig = sig.replace("PosixPath(", "Path(")
    return f"{name}{sig}"


def _anchor(text):
    return re.sub(r"[^a-z0-9_\- ]", "", text.lower()).replace(" ", "-")


def _class_members(cls):
    """Public methods and properties defined on the class (in source order)."""
    members = []
    for k, v in cls.__dict__.items():
        if k.startswith("_") and k not in ("__call__",):
            continue
        if isinstance(v, (classmethod, staticmethod)):
            members.append((k, "classmethod" if isinstance(v, classmethod) else "staticmethod",
                            v.__func__))
        elif isinstance(v, property):
            members.append((k, "property", v.fget))
        elif type(v).__name__ == "cached_property":
            members.append((k, "property", v.func))
        elif inspect.isfunction(v):
            members.append((k, "method", v))
    return members


def document(qualname, obj, level=3):
    out = []
    h = "#" * level
    if inspect.isclass(obj):
        init = obj.__dict__.get("__init__")
        sig_obj = obj if init is None or not inspect.isfunction(init) else obj
        out += [f"{h} class `{qualname}`", "", "```python", _signature(sig_obj, qualname), "```", ""]
        out += docstring_to_md(obj.__doc__)
        for name, kind, fn in _class_members(obj):
            if name == "__init__":
                continue
            doc = inspect.getdoc(fn) if fn is not None else None
            if not doc:
                continue
            out += ["", f"{h}# `{qualname}.{name}`" + (" *(property)*" if kind == "property" else
                                                       " *(classmethod)*" if kind == "classmethod" else ""), ""]
            if kind != "property":
                sig = _signature(fn, name)
                if kind == "method":
                    sig = sig.replace("(self, ", "(").replace("(self)", "()")
                else:
                    sig = sig.replace("(cls, ", "(").replace("(cls)", "()")
                out += ["```python", f"{qualname}.{sig}", "```", ""]
            out += docstring_to_md(doc)
    elif callable(obj):
        out += [f"{h} `{qualname}`", "", "```python", _signature(obj, qualname), "```", ""]
        out += docstring_to_md(obj.__doc__)
    else:
        out += [f"{h} `{qualname}`", "", f"`{qualname} = {obj!r}`"[:300], ""]
    out.append("")
    return out


def build():
    sys.path.insert(0, ROOT)
    import geomot

    lines = [
        "# API reference",
        "",
        "<!-- generated by docs/gen_api.py from the docstrings: edit the docstrings, then run "
        "`python docs/gen_api.py` -->",
        "",
        f"geomot {geomot.__version__}. Everything below is importable as written; the names of "
        "`geomot.__all__` are",
        "",
        ", ".join(f"`geomot.{n}`" for n in geomot.__all__ if n != "__version__") + ".",
        "",
        "Conventions: numpy arrays in and out (float64; results are read-only), `seed` accepts an "
        "int or a `numpy.random.Generator`, bad input raises `ValueError` with a message that says "
        "what is wrong and where.",
        "",
        "## Contents",
        "",
    ]
    body = []
    documented = set()
    for title, modname, names, intro in SECTIONS:
        try:
            mod = importlib.import_module(modname)
        except ImportError as exc:  # a module that is not there (yet)
            body += [f"## {title}", "", f"*({modname} could not be imported: {exc})*", ""]
            continue
        if names is None:
            names = [n for n in getattr(mod, "__all__", []) if not n.isupper()]
        lines.append(f"- [{title}](#{_anchor(title)})")
        body += [f"## {title}", "", intro, ""]
        if modname not in ("geomot",) and mod.__doc__ and names is getattr(mod, "__all__", None) or \
                (modname in ("geomot.shapes", "geomot.plot", "geomot.plot3d", "geomot.reproduce",
                             "geomot.reproduce.fig3", "geomot.reproduce.singular_appears", "geomot.explore",
                             "geomot.montecarlo")):
            body += docstring_to_md(mod.__doc__) + [""]
        for n in names:
            obj = getattr(mod, n, None)
            if obj is None:
                body += [f"### `{n}`", "", f"*(not found in {modname})*", ""]
                continue
            # the public spelling: geomot.NAME when the package exports this very object
            exported = n in geomot.__all__ and getattr(geomot, n, None) is obj
            qual = f"geomot.{n}" if modname == "geomot" or exported else f"{modname}.{n}"
            body += document(qual, obj)
            if exported or modname == "geomot":
                documented.add(n)
    missing = [n for n in geomot.__all__
               if n not in documented and n != "__version__"
               and not inspect.ismodule(getattr(geomot, n, None))]
    if missing:
        body += ["## Other names", ""]
        for n in missing:
            body += document(f"geomot.{n}", getattr(geomot, n))
    text = "\n".join(lines + [""] + body).rstrip() + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if docs/api.md is out of date")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    text = build()
    if args.check:
        old = open(args.out, encoding="utf-8").read() if os.path.exists(args.out) else ""
        if old != text:
            print(f"{args.out} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
