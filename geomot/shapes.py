"""The shapes of the article: 2D target / source supports and the solid bunny.

The 2D generators return valid, oriented shapely geometries whose circles are regular polygons
(``resolution`` vertices per full circle, same convention as :meth:`geomot.Domain.disk`).
The same shapes with default arguments ship with the package as WKT files,
``geomot/data/shapes/<name>.wkt`` (written by :func:`write_shape_files`, read by
:func:`load_shape` with :mod:`importlib.resources`), and so does the watertight Stanford bunny
(:func:`bunny`; credit in ``geomot/data/README.md``).

Non-convex shapes and the singular set they produce (theory: Caffarelli; Lei et al. [1]_):

* :func:`two_half_disks` -- two components; transporting the rectangle ``[0,2] x [0,1]`` onto
  it, the singular set is the midline ``x = 1`` and its subdifferential covers the gap;
* :func:`dumbbell` -- two disks joined by a thin bar; two singular segments on the midline,
  one above and one below the bar;
* :func:`disk_with_hole`, :func:`annulus` -- a hole; one singular point / curve;
* :func:`notched_disk` -- a hole and notches on the boundary: :math:`\\Gamma_0` covers the hole,
  :math:`\\Gamma_k` the k-th notch (the article's figure 5).

References
----------
.. [1] N. Lei, Y. Guo, D. An, X. Qi, Z. Luo, S.-T. Yau, X. Gu, "Mode collapse and regularity of
   optimal transportation maps", arXiv:1902.02934, 2019.
.. [2] G. Turk, M. Levoy, "Zippered polygon meshes from range images", SIGGRAPH 1994 (the
   Stanford bunny; Stanford 3D Scanning Repository).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np

from ._validate import as_positive_float, as_positive_int, as_vector

__all__ = [
    "two_half_disks",
    "dumbbell",
    "disk_with_hole",
    "annulus",
    "notched_disk",
    "bunny",
    "sample",
    "write_shape_files",
    "load_shape",
    "SHAPES",
    "DATA_DIR",
]

#: the package's data folder (an :mod:`importlib.resources` traversable; a ``pathlib.Path`` for
#: an installed or checked-out package)
_PACKAGE_DATA = resources.files(__package__) / "data"
#: folder of the stored WKT files (``geomot/data/shapes``, inside the package)
DATA_DIR = _PACKAGE_DATA / "shapes"


def _circle(center, radius, resolution, phase=0.0):
    t = phase + 2.0 * np.pi * np.arange(resolution) / resolution
    cs = np.stack([np.cos(t), np.sin(t)], axis=1)
    cs[np.abs(cs) < 1e-15] = 0.0  # exact zeros at multiples of pi/2
    return center[None, :] + radius * cs


def _finish(geom, name):
    import shapely
    from shapely.geometry.polygon import orient

    if geom.geom_type == "Polygon":
        geom = orient(geom, 1.0)
    else:
        geom = shapely.MultiPolygon([orient(g, 1.0) for g in geom.geoms])
    if not geom.is_valid:  # pragma: no cover - parameters are validated before
        from shapely.validation import explain_validity

        raise ValueError(f"these parameters give an invalid {name}: {explain_validity(geom)}")
    return geom


def _resolution(resolution, minimum=8):
    return as_positive_int(resolution, "resolution", minimum=minimum)


def two_half_disks(radius=1.0, gap=0.5, center=(0.0, 0.0), resolution=128):
    """Two equal half-disks, flat sides facing each other across a vertical gap.

    A disk of radius :math:`r` centred at :math:`c` is cut along its vertical diameter and the
    halves are pulled apart by ``gap``:

    .. math::

        L = \\{x : x_1 \\le c_1 - g/2,\\ |x - (c_1 - g/2, c_2)| \\le r\\},\\quad
        R = \\{x : x_1 \\ge c_1 + g/2,\\ |x - (c_1 + g/2, c_2)| \\le r\\}.

    The shape is symmetric about the line :math:`x_1 = c_1` and the components have equal area,
    so the optimal map from the rectangle ``[0,2] x [0,1]`` sends ``x < 1`` to ``L`` and
    ``x > 1`` to ``R``: the singular set is the midline ``x = 1``, and the subdifferential there
    covers the gap (the rectangle between the flat sides).

    Parameters
    ----------
    radius : float > 0
    gap : float > 0
        Distance between the two flat sides.
    center : (2,) array_like
        Centre of symmetry.
    resolution : int >= 8
        Vertices per full circle (each arc has ``resolution // 2 + 1`` vertices).

    Returns
    -------
    shapely.MultiPolygon
        Area :math:`2 \\cdot \\frac N4 r^2 \\sin\\frac{2\\pi}{N}` for even ``N``.

    Example
    -------
    >>> g = two_half_disks(resolution=64)
    >>> len(g.geoms), g.bounds
    (2, (-1.25, -1.0, 1.25, 1.0))
    """
    import shapely

    r = as_positive_float(radius, "radius")
    g = as_positive_float(gap, "gap")
    c = as_vector(center, "center", n=2)
    N = _resolution(resolution)
    half = N // 2
    t = np.pi / 2 + np.pi * np.arange(half + 1) / half  # from top, counter-clockwise to bottom
    arc = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)  # left half circle, x <= 0
    left = arc + [c[0] - g / 2, c[1]]
    right = -arc + [c[0] + g / 2, c[1]]
    left[:, 0] = np.minimum(left[:, 0], c[0] - g / 2)
    right[:, 0] = np.maximum(right[:, 0], c[0] + g / 2)
    geom = shapely.MultiPolygon([shapely.Polygon(left), shapely.Polygon(right)])
    return _finish(geom, "two_half_disks")


def dumbbell(radius=1.0, separation=3.0, bar_width=0.2, center=(0.0, 0.0), resolution=128):
    """Two equal disks joined by a thin horizontal bar.

    Disks of radius :math:`r` centred at :math:`c \\pm (s/2, 0)` and the bar
    :math:`|x_1 - c_1| \\le s/2,\\ |x_2 - c_2| \\le w/2`.  Transporting a symmetric source
    (e.g. the rectangle ``[0,2] x [0,1]``, or a disk) onto it, the singular set is made of two
    segments on the midline :math:`x_1 = c_1` (one above, one below the bar's preimage); their
    subdifferentials cover the two concave regions between the disks above and below the bar.

    Parameters
    ----------
    radius : float > 0
    separation : float > 2 * radius
        Distance between the disk centres.
    bar_width : float, 0 < bar_width < 2 * radius
    center : (2,) array_like
    resolution : int >= 8
        Vertices per full circle.

    Returns
    -------
    shapely.Polygon

    Example
    -------
    >>> g = dumbbell(resolution=64)
    >>> g.geom_type, g.bounds
    ('Polygon', (-2.5, -1.0, 2.5, 1.0))
    """
    import shapely

    r = as_positive_float(radius, "radius")
    s = as_positive_float(separation, "separation")
    w = as_positive_float(bar_width, "bar_width")
    c = as_vector(center, "center", n=2)
    N = _resolution(resolution)
    if s <= 2 * r:
        raise ValueError(f"separation must be > 2 * radius = {2 * r} (disjoint disks), got {s}")
    if w >= 2 * r:
        raise ValueError(f"bar_width must be < 2 * radius = {2 * r}, got {w}")
    d1 = shapely.Polygon(_circle(c - [s / 2, 0], r, N))
    d2 = shapely.Polygon(_circle(c + [s / 2, 0], r, N))
    bar = shapely.box(c[0] - s / 2, c[1] - w / 2, c[0] + s / 2, c[1] + w / 2)
    geom = shapely.unary_union([d1, d2, bar])
    return _finish(shapely.normalize(geom), "dumbbell")


def annulus(r_in=0.5, r_out=1.0, center=(0.0, 0.0), resolution=128):
    """The annulus :math:`r_{in} \\le |x - c| \\le r_{out}` (two concentric regular polygons).

    The uniform disk is transported onto the uniform annulus by
    :math:`T(x) = \\frac{x}{|x|}\\sqrt{r_0^2 + |x|^2 (1 - r_0^2)}` (unit disk, ``r_out = 1``);
    the singular set is the centre and :math:`\\partial u(0)` is the hole.

    Parameters
    ----------
    r_in : float, 0 < r_in < r_out
    r_out : float > 0
    center : (2,) array_like
    resolution : int >= 8
        Vertices per circle.

    Returns
    -------
    shapely.Polygon
        Area :math:`\\frac N2 (r_{out}^2 - r_{in}^2)\\sin\\frac{2\\pi}{N}`.

    Example
    -------
    >>> g = annulus(0.5, 1.0, resolution=4)
    >>> round(g.area, 12)
    1.5
    """
    import shapely

    ri = as_positive_float(r_in, "r_in")
    ro = as_positive_float(r_out, "r_out")
    if ri >= ro:
        raise ValueError(f"r_in must be < r_out, got r_in={ri}, r_out={ro}")
    c = as_vector(center, "center", n=2)
    N = as_positive_int(resolution, "resolution", minimum=3)
    geom = shapely.Polygon(_circle(c, ro, N), [_circle(c, ri, N)[::-1]])
    return _finish(geom, "annulus")


def disk_with_hole(radius=1.0, hole_radius=0.35, hole_center=(0.3, 0.15), center=(0.0, 0.0),
                   resolution=128):
    """A disk with an off-centre circular hole (unlike :func:`annulus`, not rotation-symmetric).

    Parameters
    ----------
    radius : float > 0
    hole_radius : float > 0
    hole_center : (2,) array_like
        Offset of the hole's centre from ``center``; the hole must lie strictly inside.
    center : (2,) array_like
    resolution : int >= 8
        Vertices per circle.

    Returns
    -------
    shapely.Polygon
        One interior ring.

    Example
    -------
    >>> g = disk_with_hole(resolution=64)
    >>> len(g.interiors)
    1
    """
    import shapely

    r = as_positive_float(radius, "radius")
    rh = as_positive_float(hole_radius, "hole_radius")
    hc = as_vector(hole_center, "hole_center", n=2)
    c = as_vector(center, "center", n=2)
    N = _resolution(resolution)
    if np.linalg.norm(hc) + rh >= r * np.cos(np.pi / N):
        raise ValueError(f"the hole (hole_center={hc.tolist()}, hole_radius={rh}) must lie strictly "
                         f"inside the disk of radius {r}")
    geom = shapely.Polygon(_circle(c, r, N), [_circle(c + hc, rh, N)[::-1]])
    return _finish(geom, "disk_with_hole")


def notched_disk(radius=1.0, hole_radius=0.25, notches=3, notch_depth=0.4, notch_width=0.5,
                 center=(0.0, 0.0), resolution=128):
    """A disk with a central hole and ``notches`` V-shaped notches cut into its boundary.

    Notch :math:`k` points at angle :math:`\\theta_k = \\pi/2 + 2\\pi k/K`; it is the triangle
    with apex at radius :math:`r - \\text{depth}` on that ray and base (of chord length
    ``notch_width``) beyond the circle, so it removes a wedge of depth ``notch_depth`` from the
    boundary.  With this target (e.g. from a uniform disk or square), the singular set has a
    component :math:`\\Gamma_0` whose subdifferential covers the hole and one :math:`\\Gamma_k`
    per notch covering that notch (the article's figure 5).

    Parameters
    ----------
    radius : float > 0
    hole_radius : float, 0 < hole_radius < radius - notch_depth
    notches : int >= 1
    notch_depth : float, 0 < notch_depth < radius - hole_radius
    notch_width : float > 0
        Width of the notch where it meets the circle; notches must not overlap.
    center : (2,) array_like
    resolution : int >= 8
        Vertices per circle.

    Returns
    -------
    shapely.Polygon
        One interior ring (the hole).

    Example
    -------
    >>> g = notched_disk(notches=4, resolution=64)
    >>> g.geom_type, len(g.interiors)
    ('Polygon', 1)
    """
    import shapely

    r = as_positive_float(radius, "radius")
    rh = as_positive_float(hole_radius, "hole_radius")
    K = as_positive_int(notches, "notches", minimum=1)
    depth = as_positive_float(notch_depth, "notch_depth")
    width = as_positive_float(notch_width, "notch_width")
    c = as_vector(center, "center", n=2)
    N = _resolution(resolution)
    if rh + depth >= r:
        raise ValueError(f"hole_radius + notch_depth must be < radius, got {rh} + {depth} >= {r}")
    if width >= 2 * r:
        raise ValueError(f"notch_width must be < 2 * radius = {2 * r}, got {width}")
    half_angle = np.arcsin(width / (2 * r))
    if K > 1 and 2 * half_angle >= 2 * np.pi / K:
        raise ValueError(f"notch_width={width} is too large for {K} notches: they overlap")
    disk = shapely.Polygon(_circle(c, r, N), [_circle(c, rh, N)[::-1]])
    cuts = []
    for k in range(K):
        th = np.pi / 2 + 2 * np.pi * k / K
        u = np.array([np.cos(th), np.sin(th)])
        v = np.array([-u[1], u[0]])
        apex = c + (r - depth) * u
        # base outside the circle; the sides pass through the chord's end points on the circle
        ends = [c + r * np.cos(half_angle) * u + s * r * np.sin(half_angle) * v for s in (-1, 1)]
        far = [apex + 2.0 * (e - apex) for e in ends]
        cuts.append(shapely.Polygon([apex, far[0], far[1]]))
    geom = disk.difference(shapely.unary_union(cuts))
    if geom.geom_type != "Polygon":  # pragma: no cover - excluded by the checks above
        raise ValueError("these notch parameters split the disk")
    return _finish(shapely.normalize(geom), "notched_disk")


#: name -> generator of the stored 2D shapes
SHAPES = {
    "two_half_disks": two_half_disks,
    "dumbbell": dumbbell,
    "disk_with_hole": disk_with_hole,
    "annulus": annulus,
    "notched_disk": notched_disk,
}


def _ring_wkt(ring):
    import shapely

    xy = shapely.get_coordinates(ring)
    return "(" + ", ".join(f"{float(x)!r} {float(y)!r}" for x, y in xy) + ")"


def _polygon_wkt_body(poly):
    rings = [poly.exterior, *poly.interiors]
    return "(" + ", ".join(_ring_wkt(r) for r in rings) + ")"


def _to_wkt_exact(geom):
    """WKT of a (Multi)Polygon with exactly round-tripping coordinates."""
    if geom.geom_type == "Polygon":
        return "POLYGON " + _polygon_wkt_body(geom)
    return "MULTIPOLYGON (" + ", ".join(_polygon_wkt_body(p) for p in geom.geoms) + ")"


def write_shape_files(directory=None):
    """Write every shape of :data:`SHAPES` (default arguments) as ``<directory>/<name>.wkt``.

    Coordinates are written as Python's shortest round-trip ``repr`` of each float64, so
    :func:`load_shape` gives back the generator's geometry bit for bit.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        Created if missing.  Default: :data:`DATA_DIR`, the package's own copy (for
        maintainers: regenerate it after changing a generator).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     len(write_shape_files(d))
    5
    """
    directory = Path(DATA_DIR if directory is None else directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fn in SHAPES.items():
        path = directory / f"{name}.wkt"
        path.write_text(_to_wkt_exact(fn()) + "\n", encoding="ascii")
        out.append(path)
    return out


def load_shape(name, directory=None):
    """Read a stored shape ``<directory>/<name>.wkt``.

    Parameters
    ----------
    name : str
        One of :data:`SHAPES`.
    directory : str, pathlib.Path or importlib.resources traversable, optional
        Default: :data:`DATA_DIR`, the copy shipped inside the package.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon

    Example
    -------
    >>> load_shape("annulus").equals(annulus())
    True
    """
    import shapely

    if name not in SHAPES:
        raise ValueError(f"name must be one of {sorted(SHAPES)}, got {name!r}")
    # a str / Path, or a traversable of importlib.resources (the packaged copy, even zipped)
    if directory is None:
        directory = DATA_DIR
    folder = Path(directory) if isinstance(directory, (str, os.PathLike)) else directory
    path = folder / f"{name}.wkt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; create it with geomot.shapes.write_shape_files()")
    return shapely.from_wkt(path.read_text(encoding="ascii").strip())


# ----------------------------------------------------------------------------------------------
# the bunny
# ----------------------------------------------------------------------------------------------
_BUNNY_FILE = "bunny_watertight.ply"


#: the copy shipped inside the package (an importlib.resources traversable)
_PACKAGED_BUNNY = _PACKAGE_DATA / _BUNNY_FILE


def _bunny_candidates():
    """Where :func:`bunny` looks, in order: ``$GEOMOT_DATA``, then the packaged copy."""
    out = []
    env = os.environ.get("GEOMOT_DATA")
    if env:
        p = Path(env)
        out.append(p if p.suffix.lower() == ".ply" else p / _BUNNY_FILE)
    out.append(_PACKAGED_BUNNY)
    return out


def bunny(path=None, rescale=True):
    """The solid Stanford bunny as a watertight ``trimesh.Trimesh`` (the article's figure 6).

    A watertight copy ships inside the package (``geomot/data/bunny_watertight.ply``: the bunny
    of the Stanford 3D Scanning Repository, Turk and Levoy 1994, repaired into a closed
    2-manifold with MeshFix; research and teaching use with credit to the Stanford Computer
    Graphics Laboratory).  Search order when ``path`` is None: the environment variable
    ``GEOMOT_DATA`` (a folder holding ``bunny_watertight.ply``, or the ``.ply`` file itself),
    then the packaged copy.

    With ``rescale=True`` (default) the mesh is translated so that its bounding-box centre is
    the origin and scaled so that its farthest vertex is at distance 1:

    .. math:: v \\mapsto \\frac{v - m}{\\max_w |w - m|},\\qquad m = \\tfrac12(\\min v + \\max v),

    so it fits the unit ball centred at the origin (touching the sphere).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A mesh file readable by ``trimesh.load``; it is used instead of the packaged copy.
    rescale : bool

    Returns
    -------
    trimesh.Trimesh
        Watertight, outward normals, positive volume.

    Raises
    ------
    FileNotFoundError
        No file found (the message lists where it looked).
    ValueError
        The mesh is not watertight, or not a single triangle mesh.

    Example
    -------
    >>> m = bunny()
    >>> m.is_watertight, len(m.faces)
    (True, 16372)
    """
    import trimesh

    if path is not None:
        candidates = [Path(path)]
    else:
        candidates = _bunny_candidates()
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        looked = ", ".join(str(p) for p in candidates)
        raise FileNotFoundError(
            f"bunny mesh not found (looked in: {looked}); pass bunny(path='.../bunny_watertight.ply') "
            f"or set the environment variable GEOMOT_DATA to the folder holding {_BUNNY_FILE}")
    with resources.as_file(found) as local:  # a real file, even from a zipped package
        mesh = trimesh.load(str(local), force="mesh")
    if not isinstance(mesh, trimesh.Trimesh):
        raise ValueError(f"{found} does not hold a single triangle mesh")
    if not mesh.is_watertight:
        raise ValueError(f"the mesh in {found} is not watertight (it has holes); it cannot bound a "
                         f"solid domain - use the repaired {_BUNNY_FILE}")
    if mesh.volume < 0:
        mesh.invert()
    if rescale:
        v = np.asarray(mesh.vertices, dtype=np.float64)
        mid = 0.5 * (v.min(axis=0) + v.max(axis=0))
        s = np.linalg.norm(v - mid, axis=1).max()
        mesh = trimesh.Trimesh((v - mid) / s, np.asarray(mesh.faces), process=False)
    return mesh


# ----------------------------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------------------------
def sample(shape, n, seed=None):
    """Uniform random points inside a shape.

    Parameters
    ----------
    shape : shapely Polygon / MultiPolygon, watertight trimesh.Trimesh, or geomot.Domain
        (a Domain is sampled with its own density).
    n : int >= 0
    seed : None, int or numpy.random.Generator

    Returns
    -------
    (n, 2) or (n, 3) float64

    Example
    -------
    >>> x = sample(annulus(), 500, seed=0)
    >>> x.shape
    (500, 2)
    """
    import shapely
    import trimesh

    from .domain import Domain

    if isinstance(shape, Domain):
        dom = shape
    elif isinstance(shape, (shapely.Polygon, shapely.MultiPolygon)):
        dom = Domain.polygon(shape, merge=False)  # sampling uses the triangles only
    elif isinstance(shape, trimesh.Trimesh):
        dom = Domain.mesh(shape)
    else:
        raise ValueError(f"shape must be a shapely (Multi)Polygon, a trimesh.Trimesh or a Domain, "
                         f"got {type(shape).__name__}")
    return dom.sample(n, seed=seed)
