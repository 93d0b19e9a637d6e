"""Tests of geomot.plot (matplotlib) and geomot.plot3d (PyVista, off-screen)."""

import numpy as np
import pytest
import shapely
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from PIL import Image

import geomot
from geomot import plot, plot3d, shapes
from geomot._colors import component_rgb, target_colors


def _render_reason():
    from geomot.plot3d import can_render

    ok, why = can_render()
    return "" if ok else why


#: VTK needs Mesa's EGL or OSMesa to render headless (apt: libegl1 libgl1-mesa-dri, or libosmesa6)
needs_render = pytest.mark.skipif(bool(_render_reason()),
                                  reason=f"VTK cannot render off-screen: {_render_reason()}")


@pytest.fixture(scope="module")
def two_halves():
    """Rectangle -> two half-disks, small: a converged solve and its singular set."""
    rng = np.random.default_rng(0)
    target = shapes.two_half_disks(radius=0.6, gap=0.4, center=(1.0, 0.5))
    y = np.vstack([shapes.sample(g, 100, seed=rng) for g in target.geoms])
    res = geomot.solve_ot(geomot.Domain.box([0, 0], [2, 1]), y, tol=1e-8)
    assert res.converged
    return res, geomot.singular_set(res)


def _ax():
    return Figure().subplots()


# ------------------------------------------------------------------ colours
def test_target_colors_continuous_and_contrasting():
    y = np.array([[0.0, 0.0], [0.01, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    c = target_colors(y)
    assert c.shape == (6, 3) and np.all((c >= 0) & (c <= 1))
    # nearby points: nearby colours; opposite sides of the centre: contrasting colours
    assert np.abs(c[0] - c[1]).max() < 0.05
    assert np.abs(c[2] - c[3]).max() > 0.5
    assert np.abs(c[4] - c[5]).max() > 0.5
    c3 = target_colors(np.random.default_rng(0).random((10, 3)))
    assert c3.shape == (10, 3)


def test_target_colors_bad_input():
    with pytest.raises(ValueError, match="columns"):
        target_colors(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        target_colors([[0.0, np.nan]])
    with pytest.raises(ValueError, match="bounds"):
        target_colors(np.zeros((3, 2)), bounds=([0, 0, 0], [1, 1, 1]))


def test_component_rgb_cycles():
    assert component_rgb(0) == pytest.approx((214 / 255, 39 / 255, 40 / 255))
    assert component_rgb(8) == component_rgb(0)


# ------------------------------------------------------------------ 2D
def test_geometry_path_keeps_holes():
    ring = shapely.Point(0, 0).buffer(1.0).difference(shapely.Point(0, 0).buffer(0.5))
    # render the filled ring: black on the ring, white in the hole
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(2, 2), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    plot.plot_geometry(ring, ax=ax, facecolor="k", edgecolor="none")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_axis_off()
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    assert img[50, 50].mean() > 200  # centre: the hole
    assert img[50, 12].mean() < 50  # x = -0.76: on the ring
    assert plot.geometry_path(shapely.Polygon()) is None
    assert plot.geometry_path(shapely.LineString([(0, 0), (1, 1)])) is None


def test_plot_power_diagram_one_patch_per_cell(two_halves):
    res, _ = two_halves
    pd = res.diagram
    for color_by in ("index", "mass", "target", None, np.arange(pd.n, dtype=float)):
        ax = plot.plot_power_diagram(pd, ax=_ax(), color_by=color_by, show_sites=True, outline=res.domain)
        coll = [c for c in ax.collections if isinstance(c, PatchCollection)][0]
        assert len(coll.get_paths()) == int(np.count_nonzero(pd.masses > 0))
    with pytest.raises(ValueError, match="color_by"):
        plot.plot_power_diagram(pd, ax=_ax(), color_by="bogus")
    with pytest.raises(ValueError, match="shape"):
        plot.plot_power_diagram(pd, ax=_ax(), color_by=np.zeros(3))


def test_plot_map_colours_cells_by_their_target(two_halves):
    res, _ = two_halves
    ax = plot.plot_map(res, ax=_ax(), kind="color")
    coll = [c for c in ax.collections if isinstance(c, PatchCollection)][0]
    fc = coll.get_facecolors()[:, :3]
    nonempty = np.flatnonzero(res.diagram.masses > 0)
    np.testing.assert_allclose(fc, target_colors(res.y)[nonempty], atol=1e-6)
    # the map jumps across x = 1: cells well left of it go to the left half-disk
    cx = res.diagram.centroids[nonempty, 0]
    assert np.all(res.y[nonempty][cx < 0.9, 0] < 1.0)
    assert np.all(res.y[nonempty][cx > 1.1, 0] > 1.0)


def test_plot_map_arrows_and_errors(two_halves):
    res, _ = two_halves
    ax = plot.plot_map(res, ax=_ax(), kind="arrows", max_arrows=50)
    assert len(ax.patches) == 0 and len(ax.collections) >= 3  # diagram, quiver, targets
    quiver = [c for c in ax.collections if c.__class__.__name__ == "Quiver"][0]
    assert quiver.N == 50
    with pytest.raises(ValueError, match="kind"):
        plot.plot_map(res, ax=_ax(), kind="nope")


def test_plot_singular_set_and_subdifferentials(two_halves):
    _, s = two_halves
    ax = plot.plot_singular_set(s, ax=_ax())
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert sum(len(c.get_segments()) for c in lines) == len(s.segments)
    ax = plot.plot_singular_set(s, ax=_ax(), color="k", label=False)
    assert len(ax.collections) == 1
    with pytest.raises(ValueError, match="permutation"):
        plot.plot_singular_set(s, ax=_ax(), order=[5])
    ax = plot.plot_subdifferentials(s, ax=_ax())
    assert len(ax.patches) == 2 * len(s.components)
    # the subdifferential of the midline covers the gap between the half-disks
    assert ax.patches[0].get_path().contains_point((1.0, 0.5))


def test_plot_samples_skips_nan_and_validates():
    x = np.array([[0.0, 0.0], [np.nan, np.nan], [1.0, 1.0]])
    ax = plot.plot_samples(x, ax=_ax(), domain=shapely.box(0, 0, 1, 1))
    assert len(ax.collections[0].get_offsets()) == 2
    with pytest.raises(ValueError, match="shape"):
        plot.plot_samples(np.zeros((3, 3)), ax=_ax())
    with pytest.raises(ValueError, match="2D"):
        plot.plot_domain(geomot.Domain.ball([0, 0, 0], 1.0), ax=_ax())


# ------------------------------------------------------------------ 3D builders (no rendering)
def test_morph_frames_is_displacement_interpolation(two_halves):
    res, _ = two_halves
    frames = plot3d.morph_frames(res, [0.0, 0.25, 1.0])
    c = res.diagram.centroids
    np.testing.assert_allclose(frames[0], c)
    np.testing.assert_allclose(frames[2], res.y)
    np.testing.assert_allclose(frames[1], 0.75 * c + 0.25 * res.y)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plot3d.morph_frames(res, [1.5])
    with pytest.raises(ValueError, match="at least one"):
        plot3d.morph_frames(res, [])


def test_point_cloud_and_singular_surfaces():
    cloud = plot3d.point_cloud(np.array([[0, 0, 0], [np.nan, 0, 0], [1, 1, 1.0]]), colors=np.ones((3, 3)))
    assert cloud.n_points == 2 and cloud.point_data["rgb"].shape == (2, 3)
    assert plot3d.point_cloud(np.zeros((4, 2))).n_points == 4
    with pytest.raises(ValueError):
        plot3d.point_cloud(np.zeros((4, 4)))
    sq = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    tri = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 1]], float)
    mesh = plot3d.singular_surfaces([sq, tri])
    assert mesh.n_cells == 2 and mesh.n_points == 7
    assert mesh.area == pytest.approx(1.5)
    assert plot3d.singular_surfaces([]).n_cells == 0


def test_ridge_lines_lift_onto_the_potential(two_halves):
    res, s = two_halves
    lines = plot3d.ridge_lines(s.segments, u=res.potential)
    assert lines.n_lines == len(s.segments)
    pts = np.asarray(lines.points)
    np.testing.assert_allclose(pts[:, 2], res.potential(pts[:, :2]))
    flat = plot3d.ridge_lines(s.segments, z=-1.0)
    assert np.all(np.asarray(flat.points)[:, 2] == -1.0)
    with pytest.raises(ValueError, match="segments"):
        plot3d.ridge_lines(np.zeros((3, 3, 2)))


def test_potential_surface_is_coloured_by_cell(two_halves):
    res, _ = two_halves
    surf = plot3d.potential_surface(res)
    owner = np.asarray(surf.cell_data["target"])
    rgb = np.asarray(surf.cell_data["rgb"])
    np.testing.assert_array_equal(rgb, (target_colors(res.y)[owner] * 255).astype(np.uint8))
    # the surface is the graph of u: its vertices lie on it
    pts = np.asarray(surf.points)
    np.testing.assert_allclose(pts[:, 2], res.potential(pts[:, :2]), atol=1e-9)
    with pytest.raises(ValueError, match="domain"):
        plot3d.potential_surface(res.potential)


def test_write_gif_frames(tmp_path):
    imgs = [np.full((8, 10, 3), v, np.uint8) for v in (0, 100, 200, 255)]
    path = plot3d.write_gif(imgs, tmp_path / "a" / "x.gif")
    with Image.open(path) as im:
        assert im.size == (10, 8)
        assert im.n_frames == 6  # forward and back
    with pytest.raises(ValueError, match="empty"):
        plot3d.write_gif([], tmp_path / "y.gif")


# ------------------------------------------------------------------ 3D rendering (off-screen)
@needs_render
def test_render_potential_off_screen(two_halves, tmp_path):
    """A real PyVista render, headless: the picture is not blank."""
    res, s = two_halves
    p = plot3d.make_plotter(window_size=(320, 240), off_screen=True)
    plot3d.add_potential(p, res, singular=s)
    path = plot3d.screenshot(p, tmp_path / "potential.png")
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"), dtype=float)
    assert a.shape == (240, 320, 3)
    assert a.std() > 10
    # the red ridge is visible
    red = (a[..., 0] > 150) & (a[..., 1] < 80) & (a[..., 2] < 80)
    assert red.sum() > 20


@needs_render
def test_render_frames_moves_points():
    rng = np.random.default_rng(0)
    a, b = rng.random((40, 3)), rng.random((40, 3)) + [3, 0, 0]
    imgs = plot3d.render_frames([a, b], colors=np.tile([0.1, 0.2, 0.9], (40, 1)), window_size=(120, 90),
                                title="t={t}")
    assert len(imgs) == 2 and imgs[0].shape == (90, 120, 3)
    assert np.abs(imgs[0].astype(int) - imgs[1].astype(int)).sum() > 0
    with pytest.raises(ValueError, match="empty"):
        plot3d.render_frames([])
