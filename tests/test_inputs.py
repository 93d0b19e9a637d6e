"""Hostile and careless input to the public entry points (issue 14, points 6 and 9).

Every case gets a correct answer or a ValueError (TypeError for a wrong type) that names the
argument -- never an internal exception (IndexError, AttributeError, ...) or a silent truncation.
"""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

import geomot  # noqa: E402
from geomot import plot, plot3d  # noqa: E402
from geomot.brenier import BrenierPotential  # noqa: E402
from geomot.generate import PiecewiseLinearMap, continuous_map, mode_balance  # noqa: E402
from geomot.singular import default_threshold, emptiness_scores, local_spacing  # noqa: E402

METHODS = ["auto", "walk", "kdtree", "brute"]


@pytest.fixture(scope="module")
def halves():
    """An exact solve (box -> two half-disks), its singular set, and a 3D solve."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dom = geomot.Domain.box([0, 0], [2, 1])
        y = geomot.shapes.sample(geomot.shapes.two_half_disks(), 300, seed=0)
        res = geomot.solve_ot(dom, y, tol=1e-9)
        s = geomot.singular_set(res)
        res3 = geomot.solve_ot(geomot.Domain.box([0, 0, 0], [1, 1, 1]),
                               np.random.default_rng(0).random((20, 3)))
    return res, s, res3


@pytest.fixture(scope="module")
def potential():
    rng = np.random.default_rng(0)
    y = rng.random((50, 2))
    return BrenierPotential(y, -0.5 * (y**2).sum(axis=1) + 0.01 * rng.random(50))


# ----------------------------------------------------------------------------- complex input
BOX = geomot.Domain.box([0, 0], [1, 1])
Y = np.random.default_rng(0).random((10, 2))


@pytest.mark.parametrize("call, name", [
    (lambda: geomot.solve_ot(BOX, Y.astype(complex)), "y"),
    (lambda: geomot.solve_ot(BOX, Y, np.ones(10) + 0j), "nu"),
    (lambda: geomot.solve_ot(BOX, Y, h0=np.zeros(10, complex)), "h0"),
    (lambda: geomot.power_diagram(Y.astype(complex), np.zeros(10), BOX), "y"),
    (lambda: geomot.power_diagram(Y, np.zeros(10) + 1j, BOX), "h"),
    (lambda: geomot.Domain.box([0j, 0], [1, 1]), "lo"),
    (lambda: geomot.Domain.disk([0, 0], 1 + 0j), "radius"),
    (lambda: geomot.Domain.disk(np.array([0j, 0]), 1), "center"),
    (lambda: BOX.contains([[0.5 + 0j, 0.5]]), "x"),
    (lambda: BrenierPotential(Y.astype(complex), np.zeros(10)), "y"),
    (lambda: BrenierPotential(Y, np.zeros(10)).index([[0.5j, 0.5]]), "x"),
    (lambda: BrenierPotential(Y, np.zeros(10)).legendre([0.5j, 0.5]), "z"),
    (lambda: geomot.solve_ot(BOX, np.array([[0.1, 0.2], [0.3, 1j]], dtype=object)), "y"),
    (lambda: local_spacing(Y.astype(complex), 2), "y"),
    (lambda: plot.plot_samples(Y + 1j), "x"),
    (lambda: plot3d.point_cloud(np.zeros((3, 3)) + 1j), "x"),
    (lambda: plot3d.morph_frames(None, [0.5j]), "t_values"),
])
def test_complex_input_is_a_type_error_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be (a )?real"):
        call()
    plt.close("all")


def test_real_input_of_other_dtypes_still_converts():
    res = geomot.solve_ot(BOX, Y.astype(np.float32), np.ones(10, dtype=np.int64))
    assert res.converged
    assert geomot.Domain.box(np.array([0, 0], dtype=np.int32), [1, 1]).volume == 1.0


# ----------------------------------------------------------------------------- seeds
@pytest.mark.parametrize("call", [
    lambda: geomot.solve_ot(BOX, Y, method="montecarlo", seed=-1),
    lambda: BOX.sample(5, seed=-1),
    lambda: geomot.shapes.sample(geomot.shapes.two_half_disks(), 5, seed=-3),
])
def test_negative_seed_is_named(call):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer.*got -\d"):
        call()


def test_seed_is_named_for_the_generator(halves):
    res, _, _ = halves
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        PiecewiseLinearMap(res, avoid_singular=False).sample(5, seed=-1)


# ----------------------------------------------------------------------------- duplicates
@pytest.mark.parametrize("y, how", [
    ([[0.0, 0.0], [1e-312, 0.0], [0.5, 0.5]], "to within rounding (their distance 1e-312 is subnormal"),
    ([[0.0, 0.0], [1e-312, 0.0]], "to within rounding"),
    ([[1e-312, 0.0], [0.0, 1e-312], [0.0, 0.0]], "to within rounding (their distance 1.41e-312"),
    ([[0.3, 0.3], [0.3, 0.3], [0.9, 0.1]], "are equal"),
    ([[0.3, 0.3], [0.3, 0.3 + 1e-14], [0.9, 0.1]], "coincide (distance 9.99e-15 <= 6.32e-13, i.e. 1e-12 x"),
])
def test_duplicates_are_reported_as_coinciding(y, how):
    with pytest.raises(ValueError, match="y contains duplicate targets: rows 0 and 1") as exc:
        geomot.solve_ot(BOX, y)
    assert how in str(exc.value)


def test_distinct_targets_far_below_the_tolerance_floor_are_not_duplicates():
    # the floor of the duplicate tolerance is the smallest normal float, not 1e-312
    y = np.array([[0.0, 0.0], [1e-305, 0.0]])
    geomot._validate.check_distinct(y)


# ----------------------------------------------------------------------------- Brenier point location
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x", [[1e200, 1e200], [1e160, 3.0], [-1e200, 1e199], [1e154, 0.0], [0.0, -1e250]])
def test_point_location_far_away_equals_brute_force(potential, method, x):
    u = potential
    assert u.index(x, method=method) == u.index(x, method="brute")
    assert u(x, method=method) == u(x, method="brute")


@pytest.mark.parametrize("method", METHODS)
def test_point_location_of_a_far_batch(potential, method):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2)) * 10.0 ** rng.integers(0, 300, size=(300, 1))
    np.testing.assert_array_equal(potential.index(x, method=method), potential.index(x, method="brute"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x, match", [
    ([np.inf, 0.0], "x contains NaN or inf"),
    ([[0.5, 0.5], [np.nan, 0.0]], r"x contains NaN or inf \(first at row 1"),
    ([1e308, 1e308], "x is too large: u\\(x\\) .* overflows float64 at row 0"),
    ([[0.5, 0.5], [1e308, 1e308]], "x is too large.*at row 1"),
    ([0.5, 0.5, 0.5], "x must be a point of dimension 2"),
    ([[0.5, 0.5, 0.5]], "x must have 2 columns \\(the dimension of the targets\\)"),
    ("ab", "x must be an \\(N, 2\\) array of float"),
])
def test_point_location_bad_points(potential, method, x, match):
    for f in (potential.index, potential, potential.map, potential.gradient):
        with pytest.raises(ValueError, match=match):
            f(x, method=method)


# ----------------------------------------------------------------------------- PiecewiseLinearMap
@pytest.mark.parametrize("avoid", [True, False])
@pytest.mark.parametrize("x", [[1e200, 1e200], [1e200, 0.0], [-1e200, 5.0], [1e16, 0.5], [3.0, 0.5],
                               [1e308, -1e308], [-0.5, -0.5]])
def test_piecewise_linear_map_far_away_is_the_discrete_map(halves, avoid, x):
    res, s, _ = halves
    g = PiecewiseLinearMap(res, avoid_singular=avoid, singular=s if avoid else None)
    u = BrenierPotential(res.diagram.y, res.diagram.h)
    np.testing.assert_array_equal(g([x]), res.diagram.y[[u.index(x, method="brute")]])


def test_piecewise_linear_map_outside_the_domain_is_the_exact_argmax(halves):
    # hill climbing on the cell adjacency is exact inside a convex domain only
    res, _, _ = halves
    g = PiecewiseLinearMap(res, avoid_singular=False)
    u = BrenierPotential(res.diagram.y, res.diagram.h)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3000, 2)) * 3.0 + [1.0, 0.5]
    out = ~np.asarray(res.domain.contains(x))
    x = x[out & ~((x[:, 0] > 0) & (x[:, 0] < 2) & (x[:, 1] > 0) & (x[:, 1] < 1))]
    np.testing.assert_array_equal(g(x), res.diagram.y[u.index(x, method="brute")])


@pytest.mark.parametrize("x, exc, match", [
    ([[np.inf, 0.0]], ValueError, "x contains NaN or inf"),
    ([[0.5, np.nan]], ValueError, "x contains NaN or inf"),
    ([[0.5 + 1j, 0.5]], TypeError, "x must be real"),
    (np.zeros((0, 3)), ValueError, "x must have 2 columns"),
    (np.zeros((3, 3)), ValueError, "x must have 2 columns"),
    ("abc", ValueError, "x must be an"),
    (None, ValueError, "x must be"),
])
def test_piecewise_linear_map_bad_points(halves, x, exc, match):
    g = PiecewiseLinearMap(halves[0], avoid_singular=False)
    with pytest.raises(exc, match=match):
        g(x)


def test_piecewise_linear_map_empty_input(halves):
    g = PiecewiseLinearMap(halves[0], avoid_singular=False)
    assert g([]).shape == (0, 2) and g(np.zeros((0, 2))).shape == (0, 2)


# ----------------------------------------------------------------------------- singular.py
YS = np.random.default_rng(3).random((10, 2))


@pytest.mark.parametrize("k, match", [
    (0, "k_neighbors must be an integer >= 1, got 0"),
    (-1, "k_neighbors must be an integer >= 1"),
    (2.5, "k_neighbors must be an integer"),
    (True, "k_neighbors must be an integer"),
    (None, "k_neighbors must be an integer"),
    ("3", "k_neighbors must be an integer"),
    (11, "y has 10 point\\(s\\): local_spacing needs at least k_neighbors=11"),
    (100, "needs at least k_neighbors=100"),
])
def test_local_spacing_bad_k_neighbors(k, match):
    with pytest.raises(ValueError, match=match):
        local_spacing(YS, k)


@pytest.mark.parametrize("y, kw, match", [
    (YS[:1], {"k_neighbors": 1}, "y has 1 point\\(s\\).*at least 2"),
    (np.zeros((0, 2)), {"k_neighbors": 1}, "y must have at least 1 row"),
    (np.arange(5.0), {"k_neighbors": 2}, "y must be a 2-D"),
    ([[np.nan, 0.0], [1, 1], [2, 2]], {"k_neighbors": 2}, "y contains NaN or inf"),
    (YS, {"k_neighbors": 2, "tree": 3}, "tree must be a scipy.spatial.cKDTree"),
    (YS, {"k_neighbors": 2, "tree": cKDTree(YS[:4])}, "tree must be built on y itself"),
    (YS, {"k_neighbors": 2, "tree": cKDTree(YS[::-1])}, "tree must be built on y itself"),
])
def test_local_spacing_bad_input(y, kw, match):
    with pytest.raises(ValueError, match=match):
        local_spacing(y, **kw)


def test_local_spacing_with_its_own_tree_and_k_equal_n():
    ell = local_spacing(YS, 3)
    np.testing.assert_array_equal(local_spacing(YS, 3, tree=cKDTree(YS)), ell)
    assert np.all(np.isfinite(local_spacing(YS, 10))) and local_spacing(YS, 1).shape == (10,)


ELL = local_spacing(YS, 3)


@pytest.mark.parametrize("pairs, match", [
    ([[0, 10]], r"pairs must hold target indices in \[0, 10\).*row 0 is \[0, 10\]"),
    ([[0, 1], [-1, 2]], r"pairs must hold target indices in \[0, 10\).*row 1 is \[-1, 2\]"),
    ([[0, -11]], r"pairs must hold target indices in \[0, 10\)"),
    ([[0.5, 1]], r"pairs must hold integer target indices, row 0 is \[0.5, 1.0\]"),
    ([[0, np.nan]], r"pairs must hold integer target indices"),
    ([[True, False]], "pairs must hold integer target indices, got booleans"),
    ([[0, 1, 2]], r"pairs must be an \(m, 2\) array of target indices, got shape \(1, 3\)"),
    ([0, 1, 2, 3], r"pairs must be an \(m, 2\) array"),
    ("ab", "pairs must"),
])
def test_emptiness_scores_bad_pairs(pairs, match):
    with pytest.raises(ValueError, match=match):
        emptiness_scores(YS, pairs, ELL)


@pytest.mark.parametrize("kw, match", [
    ({"ell": ELL[:3]}, "ell must have length 10"),
    ({"ell": np.full(10, np.nan)}, "ell contains NaN or inf"),
    ({"ell": np.zeros(10)}, "ell must be > 0 everywhere"),
    ({"n_probe": 0}, "n_probe must be an integer >= 1"),
    ({"n_probe": -1}, "n_probe must be an integer >= 1"),
    ({"tree": cKDTree(YS[:5])}, "tree must be built on y itself"),
])
def test_emptiness_scores_bad_keywords(kw, match):
    args = {"y": YS, "pairs": [[0, 1]], "ell": ELL, **kw}
    with pytest.raises(ValueError, match=match):
        emptiness_scores(**args)


def test_emptiness_scores_accepts_lists_one_pair_and_integral_floats():
    ref = emptiness_scores(YS, np.array([[0, 1], [2, 3]]), ELL)
    np.testing.assert_array_equal(emptiness_scores(YS.tolist(), [[0.0, 1.0], [2.0, 3.0]], ELL.tolist()), ref)
    np.testing.assert_array_equal(emptiness_scores(YS, [0, 1], ELL), ref[:1])
    assert emptiness_scores(YS, np.zeros((0, 2), int), ELL).shape == (0,)


@pytest.mark.parametrize("n, d, match", [
    (0, 2, "n must be an integer >= 1"), (-5, 2, "n must be an integer >= 1"),
    (np.nan, 2, "n must be an integer"), ("a", 2, "n must be an integer"),
    (100, 1, "d must be 2 or 3"), (100, 4, "d must be 2 or 3"), (100, True, "d must be 2 or 3"),
])
def test_default_threshold_bad_input(n, d, match):
    with pytest.raises(ValueError, match=match):
        default_threshold(n, d)


def test_default_threshold_accepts_numpy_ints():
    assert default_threshold(np.int64(3000), np.int64(2)) == default_threshold(3000, 2)


# ----------------------------------------------------------------------------- generate.py
@pytest.mark.parametrize("kw, match", [
    ({"degree": 0}, "degree must be an integer >= 1"),
    ({"degree": -1}, "degree must be an integer >= 1"),
    ({"kind": "poly", "degree": 2.5}, "degree must be an integer"),
])
def test_continuous_map_bad_keywords(halves, kw, match):
    with pytest.raises(ValueError, match=match):
        continuous_map(halves[0], **kw)


@pytest.mark.parametrize("kind", ["rbf", "poly"])
def test_continuous_map_far_points_and_empty_input(halves, kind):
    f = continuous_map(halves[0], kind=kind)
    with pytest.raises(ValueError, match=rf"x row 1 .* too far from the data: the fitted {kind} map overflows"):
        f([[0.5, 0.5], [1e200, 1e200]])
    assert f(np.zeros((0, 2))).shape == (0, 2) and f([]).shape == (0, 2)
    with pytest.raises(TypeError, match="x must be real"):
        f([[0.5j, 0.0]])


@pytest.mark.parametrize("kw, match", [
    ({"labels_fn": lambda p: np.array([1, "a"], dtype=object)}, "labels .* cannot be sorted"),
    ({"labels_fn": lambda p: p[:, 0] > 0, "modes": 3}, "modes must be a sequence of labels"),
    ({"labels_fn": lambda p: p[:, 0] > 0, "modes": "ab"}, "modes must be a sequence of labels"),
])
def test_mode_balance_bad_labels(kw, match):
    with pytest.raises(ValueError, match=match):
        mode_balance([[0.0, 0.0], [1.0, 1.0]], **kw)


# ----------------------------------------------------------------------------- plot.py
def _bad_plot_calls():
    sq = shapely.box(0, 0, 1, 1)
    return [
        ("geometry_path", lambda h: plot.geometry_path(3), "geom must be a shapely geometry"),
        ("plot_geometry", lambda h: plot.plot_geometry(np.zeros((3, 2))), "geom must be a shapely geometry"),
        ("plot_domain int", lambda h: plot.plot_domain(3), "domain must be a 2D geomot.Domain or a shapely"),
        ("plot_domain None", lambda h: plot.plot_domain(None), "domain must be"),
        ("plot_domain ax", lambda h: plot.plot_domain(sq, ax=3), "ax must be a matplotlib Axes"),
        ("diagram int", lambda h: plot.plot_power_diagram(3), "pd must be a geomot.PowerDiagram"),
        ("diagram res", lambda h: plot.plot_power_diagram(h[0]), r"pass res.diagram"),
        ("diagram 3d", lambda h: plot.plot_power_diagram(h[2].diagram), "draws 2D diagrams, pd is 3D"),
        ("diagram rgb", lambda h: plot.plot_power_diagram(h[0].diagram, color_by=np.full((300, 3), 5.0)),
         r"color_by colours must be RGB\(A\) values in \[0, 1\]"),
        ("diagram strs", lambda h: plot.plot_power_diagram(h[0].diagram, color_by=["r"] * 300), "color_by must be"),
        ("diagram outline", lambda h: plot.plot_power_diagram(h[0].diagram, outline=3), "domain must be"),
        ("map int", lambda h: plot.plot_map(3), "res must be a geomot.OTResult with a power diagram"),
        ("map pd", lambda h: plot.plot_map(h[0].diagram), "res must be a geomot.OTResult"),
        ("map arrows -1", lambda h: plot.plot_map(h[0], kind="arrows", max_arrows=-1),
         "max_arrows must be an integer >= 0"),
        ("map arrows 1.5", lambda h: plot.plot_map(h[0], kind="arrows", max_arrows=1.5), "max_arrows must be"),
        ("singular int", lambda h: plot.plot_singular_set(3), "s must be a geomot.SingularSet"),
        ("singular res", lambda h: plot.plot_singular_set(h[0]), "s must be a geomot.SingularSet"),
        ("singular order str", lambda h: plot.plot_singular_set(h[1], order="ab"), "order must be a permutation"),
        ("singular order int", lambda h: plot.plot_singular_set(h[1], order=3), "order must be a permutation"),
        ("subdiff int", lambda h: plot.plot_subdifferentials(3), "s must be a geomot.SingularSet"),
        ("samples str", lambda h: plot.plot_samples("abc"), r"x must be an \(n, 2\) array of points"),
        ("samples domain", lambda h: plot.plot_samples(np.zeros((3, 2)), domain=3), "domain must be"),
    ]


@pytest.mark.parametrize("label, call, match", _bad_plot_calls(), ids=[c[0] for c in _bad_plot_calls()])
def test_plot_bad_input_is_a_value_error(halves, label, call, match):
    try:
        with pytest.raises(ValueError, match=match):
            call(halves)
    finally:
        plt.close("all")


def test_plot_nan_rows_and_none_geometry_still_draw():
    ax = plot.plot_samples([[np.nan, 0.0], [0.5, 0.5]])
    assert len(ax.collections[0].get_offsets()) == 1
    assert plot.geometry_path(None) is None
    plt.close("all")


# ----------------------------------------------------------------------------- plot3d.py
def _bad_plot3d_calls():
    ok = np.zeros((4, 4, 3), np.uint8)
    return [
        ("window int", lambda h: plot3d.make_plotter(window_size=3, off_screen=True), "window_size must be"),
        ("window neg", lambda h: plot3d.make_plotter(window_size=(-5, 10), off_screen=True), "window_size must be"),
        ("window str", lambda h: plot3d.make_plotter(window_size=("a", "b"), off_screen=True), "window_size"),
        ("screenshot", lambda h: plot3d.screenshot(3, "x.png"), "plotter must be a pyvista.Plotter"),
        ("surface colors", lambda h: plot3d.potential_surface(h[0], colors=np.full((300, 3), np.nan)),
         r"colors must hold RGB values in \[0, 1\]"),
        ("surface colors 5", lambda h: plot3d.potential_surface(h[0], colors=np.full((300, 3), 5.0)), "colors must"),
        ("ridges nan", lambda h: plot3d.ridge_lines(np.full((1, 2, 2), np.nan), z=0), "segments contains NaN"),
        ("ridges str", lambda h: plot3d.ridge_lines("ab"), "segments must be"),
        ("ridges z", lambda h: plot3d.ridge_lines(np.zeros((1, 2, 2)), z="a"), "z must be a real number"),
        ("ridges u", lambda h: plot3d.ridge_lines(np.zeros((1, 2, 2)), u=3), "u must be callable"),
        ("potential plotter", lambda h: plot3d.add_potential(3, h[0]), "plotter must be a pyvista.Plotter"),
        ("surfaces int", lambda h: plot3d.singular_surfaces(3), "s must be a 3D geomot.SingularSet or a list"),
        ("surfaces 2d", lambda h: plot3d.singular_surfaces(h[1]), "draws 3D singular sets, s is 2D"),
        ("surfaces 2col", lambda h: plot3d.singular_surfaces([np.zeros((4, 2))]),
         r"polygon 0 must be a \(p, 3\) array"),
        ("surfaces nan", lambda h: plot3d.singular_surfaces([np.full((4, 3), np.nan)]), "polygon 0 contains NaN"),
        ("add surfaces", lambda h: plot3d.add_singular_surfaces(3, []), "plotter must be"),
        ("cloud str", lambda h: plot3d.point_cloud("abc"), "x must be an"),
        ("cloud colors nan", lambda h: plot3d.point_cloud(np.zeros((3, 3)), colors=np.full((3, 3), np.nan)),
         "colors must hold RGB values"),
        ("cloud colors str", lambda h: plot3d.point_cloud(np.zeros((3, 3)), colors="red"), "the string 'red'"),
        ("add cloud", lambda h: plot3d.add_point_cloud(3, np.zeros((3, 3))), "plotter must be"),
        ("morph int", lambda h: plot3d.morph_frames(3, [0, 1]), "res must be a geomot.OTResult"),
        ("morph t str", lambda h: plot3d.morph_frames(h[0], "ab"), "t_values must be"),
        ("morph t nan", lambda h: plot3d.morph_frames(h[0], [np.nan]), r"t_values must lie in \[0, 1\]"),
        ("frames int", lambda h: plot3d.render_frames(3), "frames must be a list"),
        ("frames nan", lambda h: plot3d.render_frames([np.full((5, 3), np.nan)]), "frames hold no finite point"),
        ("frames shape", lambda h: plot3d.render_frames([np.zeros((5, 4))]), r"frames\[0\] must be an"),
        ("frames bounds", lambda h: plot3d.render_frames([np.zeros((5, 3))], bounds=3), "bounds must be"),
        ("frames window", lambda h: plot3d.render_frames([np.zeros((5, 3))], window_size=0), "window_size"),
        ("gif int", lambda h: plot3d.write_gif([3], "a.gif"), r"images\[0\] must be an \(h, w, 3\)"),
        ("gif sizes", lambda h: plot3d.write_gif([ok, np.zeros((5, 5, 3), np.uint8)], "a.gif"),
         "images must all have the same size"),
        ("gif float", lambda h: plot3d.write_gif([np.full((4, 4, 3), 0.5)], "a.gif"), "scale float images"),
        ("gif duration", lambda h: plot3d.write_gif([ok], "a.gif", duration_ms=-1), "duration_ms must be"),
        ("gif loop", lambda h: plot3d.write_gif([ok], "a.gif", loop=-1), "loop must be an integer >= 0"),
    ]


@pytest.mark.parametrize("label, call, match", _bad_plot3d_calls(), ids=[c[0] for c in _bad_plot3d_calls()])
def test_plot3d_bad_input_is_a_value_error(halves, label, call, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=match):
        call(halves)
    assert not any(tmp_path.iterdir())  # nothing written


def test_write_gif_accepts_grey_and_integer_images(tmp_path):
    from PIL import Image

    imgs = [np.full((6, 5), 10, np.uint8), np.full((6, 5, 3), 200, np.int64)]
    with Image.open(plot3d.write_gif(imgs, tmp_path / "g.gif")) as im:
        assert im.size == (5, 6) and im.n_frames == 2


def test_legendre_of_no_point_and_bad_points(potential):
    assert potential.legendre(np.zeros((0, 2))).shape == (0,)
    with pytest.raises(ValueError, match="z contains NaN or inf"):
        potential.legendre([[np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"z must have 2 columns \(the dimension of the targets\)"):
        potential.legendre(np.zeros((1, 3)))


@pytest.mark.parametrize("kw, match", [
    ({"threshold": True}, "threshold must be a number, got True"),
    ({"merge_distance": False}, "merge_distance must be a number"),
    ({"threshold": 1 + 0j}, "threshold must be real, got the complex number"),
])
def test_singular_set_keywords_refuse_bools_and_complex(halves, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        geomot.singular_set(halves[0], **kw)
