"""Point clouds and their motion in :mod:`geomot.plot3d`: clouds, morphs, frames, GIFs.

:func:`point_cloud` / :func:`add_point_cloud` build and draw points; :func:`morph_frames` moves
each cell's mass from its centroid to its target (displacement interpolation),
:func:`render_frames` renders such frames with one fixed camera and :func:`write_gif` writes
them as an animation.  Re-exported by :mod:`geomot.plot3d`.
"""

from pathlib import Path

import numpy as np

from ._plot3d_setup import _check_plotter, _finite_points, _pv, _rgb, _window_size, make_plotter
from ._validate import as_positive_float, as_positive_int, as_real_array

__all__ = ["point_cloud", "add_point_cloud", "morph_frames", "render_frames", "write_gif"]


def point_cloud(x, colors=None):
    """Points as a ``pyvista.PolyData`` (2D points get z = 0; rows with NaN are dropped).

    Parameters
    ----------
    x : (n, 2) or (n, 3) array_like
    colors : (n, 3) array_like, optional
        RGB in [0, 1], stored as ``point_data['rgb']``.

    Returns
    -------
    pyvista.PolyData

    Example
    -------
    >>> point_cloud(np.zeros((4, 3))).n_points
    4
    """
    pv = _pv()
    x = as_real_array(x, "x", "an (n, 2) or (n, 3) array")
    if x.ndim != 2 or x.shape[1] not in (2, 3):
        raise ValueError(f"x must be an (n, 2) or (n, 3) array, got shape {x.shape}")
    ok = np.all(np.isfinite(x), axis=1)
    c = None if colors is None else _rgb(colors, len(x))  # checked before VTK sees anything
    pts = x[ok] if x.shape[1] == 3 else np.column_stack([x[ok], np.zeros(ok.sum())])
    cloud = pv.PolyData(pts)
    if c is not None:
        cloud.point_data["rgb"] = (c[ok] * 255).astype(np.uint8)
    return cloud


def add_point_cloud(plotter, x, colors=None, point_size=6.0, color="steelblue", spheres=True):
    """Draw points (coloured per point when ``colors`` is given).

    Example
    -------
    >>> p = add_point_cloud(make_plotter(off_screen=True), np.zeros((3, 3)))
    """
    _check_plotter(plotter)
    cloud = point_cloud(x, colors)
    if cloud.n_points == 0:
        return plotter
    kw = dict(point_size=point_size, render_points_as_spheres=spheres)
    if colors is not None:
        plotter.add_mesh(cloud, scalars="rgb", rgb=True, **kw)
    else:
        plotter.add_mesh(cloud, color=color, **kw)
    return plotter


# --------------------------------------------------------------------------- morphs
def morph_frames(res, t_values):
    """Displacement interpolation: each cell's mass moves straight from its centroid to its target.

    Parameters
    ----------
    res : geomot.OTResult
        A solve with an exact diagram (``res.diagram.centroids``) and targets ``res.y``.
    t_values : array_like of float in [0, 1]
        Times; ``t = 0`` is the source (cell centroids), ``t = 1`` the targets.

    Returns
    -------
    list of (n, d) ndarray
        Positions ``(1 - t) * centroid_i + t * y_i`` (rows of empty cells are NaN).

    Example
    -------
    >>> import numpy as np, geomot
    >>> y = np.random.default_rng(0).random((40, 3))
    >>> res = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]), y)
    >>> frames = morph_frames(res, np.linspace(0, 1, 5))
    >>> len(frames), np.allclose(frames[-1], res.y)
    (5, True)
    """
    t = as_real_array(t_values, "t_values", "a sequence of times in [0, 1]").reshape(-1)
    if t.size == 0:
        raise ValueError("t_values must contain at least one time")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ValueError(f"t_values must lie in [0, 1] (no NaN), got min {float(t.min()):g}, max {float(t.max()):g}")
    if getattr(res, "diagram", None) is None or not hasattr(res, "y"):
        raise ValueError(f"res must be a geomot.OTResult with a power diagram (res.diagram), "
                         f"got {type(res).__name__}")
    y = np.asarray(res.y, dtype=np.float64)
    c = np.asarray(res.diagram.centroids, dtype=np.float64)
    if c.shape != y.shape:
        raise ValueError(f"centroids {c.shape} and targets {y.shape} differ in shape")
    return [(1.0 - tk) * c + tk * y for tk in t]


def render_frames(frames, colors=None, window_size=(480, 480), point_size=5.0, bounds=None, progress=False,
                  camera_position="iso", title=None, zoom=1.0):
    """Render point-cloud frames off-screen with one fixed camera and return the images.

    Parameters
    ----------
    frames : list of (n, 3) ndarray
        E.g. :func:`morph_frames`.
    colors : (n, 3) array_like, optional
        RGB per point (the same in every frame, so the eye can follow each cell's mass).
    window_size : (int, int)
    point_size : float
    bounds : (xmin, xmax, ymin, ymax, zmin, zmax), optional
        Camera framing; default the union of all frames.
    progress : bool
        A tqdm progress bar.
    camera_position : str or camera tuple
    title : str, optional
        Text in the corner of every frame (``{t}`` is replaced by the frame index).
    zoom : float
        Camera zoom after framing ``bounds``.

    Returns
    -------
    list of (h, w, 3) uint8 ndarray

    Example
    -------
    >>> imgs = render_frames([np.random.default_rng(0).random((50, 3))], window_size=(120, 120))
    >>> imgs[0].shape
    (120, 120, 3)
    """
    _pv()
    if isinstance(frames, (str, bytes)) or not np.iterable(frames):
        raise ValueError(f"frames must be a list of (n, 3) point arrays, got {type(frames).__name__}")
    frames = list(frames)
    if len(frames) == 0:
        raise ValueError("frames is empty")
    checked = []
    for k, f in enumerate(frames):
        a = as_real_array(f, f"frames[{k}]", "an (n, 2) or (n, 3) array of points")
        if a.ndim != 2 or a.shape[1] not in (2, 3):
            raise ValueError(f"frames[{k}] must be an (n, 2) or (n, 3) array of points, got shape {a.shape}")
        checked.append(a if a.shape[1] == 3 else np.column_stack([a, np.zeros(len(a))]))
    frames = checked
    _window_size(window_size)
    allp = np.vstack(frames)
    allp = allp[np.all(np.isfinite(allp), axis=1)]
    if bounds is None:
        if allp.shape[0] == 0:
            raise ValueError("frames hold no finite point (every row has NaN or inf): nothing to frame")
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        bounds = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    else:
        b = _finite_points(bounds, "bounds", "(xmin, xmax, ymin, ymax, zmin, zmax)").reshape(-1)
        if b.shape != (6,):
            raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax, zmin, zmax), got {np.shape(bounds)}")
        bounds = tuple(float(v) for v in b)
    iterator = frames
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(frames, desc="rendering frames", unit="frame")
    p = make_plotter(window_size=window_size, off_screen=True)
    images = []
    cloud = None
    text = None
    for k, f in enumerate(iterator):
        if cloud is None:
            cloud = point_cloud(f, colors)
            if colors is not None:
                p.add_mesh(cloud, scalars="rgb", rgb=True, point_size=point_size, render_points_as_spheres=True)
            else:
                p.add_mesh(cloud, color="steelblue", point_size=point_size, render_points_as_spheres=True)
            p.camera_position = camera_position
            p.reset_camera(bounds=bounds)
            p.camera.zoom(float(zoom))
            text = p.add_text(title.format(t=k) if title else "", font_size=10, color="black") if title else None
        else:
            new = point_cloud(f, colors)
            cloud.points = new.points
            if text is not None:
                text.set_text(2, title.format(t=k))
        p.render()
        images.append(np.asarray(p.screenshot(return_img=True))[..., :3].copy())
    p.close()
    return images


def write_gif(images, path, duration_ms=80, loop=0, bounce=True):
    """Write images as an animated GIF (pillow).

    Parameters
    ----------
    images : list of (h, w, 3) uint8 ndarray
    path : str or Path
    duration_ms : int
        Display time of each frame.
    loop : int
        0 loops forever.
    bounce : bool
        Play forward then backward (a morph that goes there and back).

    Returns
    -------
    Path

    Example
    -------
    >>> import numpy as np
    >>> imgs = [np.full((8, 8, 3), v, np.uint8) for v in (0, 128, 255)]
    >>> write_gif(imgs, "fade.gif").suffix
    '.gif'
    """
    from PIL import Image

    if isinstance(images, (str, bytes)) or not np.iterable(images):
        raise ValueError(f"images must be a list of (h, w, 3) uint8 arrays, got {type(images).__name__}")
    images = [_gif_frame(im, k) for k, im in enumerate(images)]
    if len(images) == 0:
        raise ValueError("images is empty")
    if any(im.shape[:2] != images[0].shape[:2] for im in images):
        sizes = sorted({im.shape[:2] for im in images})
        raise ValueError(f"images must all have the same size (h, w), got {sizes}")
    duration_ms = as_positive_float(duration_ms, "duration_ms")
    loop = as_positive_int(loop, "loop", minimum=0)
    seq = list(images) + (list(images[-2:0:-1]) if bounce and len(images) > 2 else [])
    # fast octree quantisation to a 256-colour palette (median cut is ~100x slower on large frames)
    frames = [Image.fromarray(im).quantize(256, method=Image.Quantize.FASTOCTREE) for im in seq]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(str(path), save_all=True, append_images=frames[1:], duration=int(round(duration_ms)),
                   loop=loop, optimize=False)
    return path


def _gif_frame(im, k):
    """Image ``k`` as an (h, w, 3) uint8 array: RGB(A) or grey, integers in [0, 255]."""
    a = np.asarray(im)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
        raise ValueError(f"images[{k}] must be an (h, w, 3) RGB, (h, w, 4) RGBA or (h, w) grey image, "
                         f"got shape {a.shape}")
    if a.dtype != np.uint8:
        if a.dtype.kind not in "iu" or a.min() < 0 or a.max() > 255:
            raise ValueError(f"images[{k}] must hold uint8 values (integers in [0, 255]), got dtype {a.dtype}"
                             + ("; scale float images in [0, 1] by 255 first" if a.dtype.kind == "f" else ""))
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a[..., :3])
