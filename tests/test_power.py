"""Exact power diagrams: known diagrams, tiling, Jacobian, reference kernels, degeneracies."""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geomot
from geomot import Domain, power_diagram
from geomot._clip_ref import cells_reference


def voronoi_h(y):
    y = np.asarray(y, dtype=float)
    return -0.5 * (y**2).sum(axis=1)


UNIT2 = Domain.box([0, 0], [1, 1])
UNIT3 = Domain.box([0, 0, 0], [1, 1, 1])


# ------------------------------------------------------------------ known diagrams
def test_two_cells_split_at_bisector():
    y = np.array([[0.25, 0.5], [0.75, 0.5]])
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes, [0.5, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(pd.centroids, [[0.25, 0.5], [0.75, 0.5]], atol=1e-15)
    np.testing.assert_array_equal(pd.pairs, [[0, 1]])
    np.testing.assert_allclose(pd.facet_measures, [1.0], atol=1e-15)


def test_two_cells_weight_moves_bisector():
    # <x, y1 - y0> <= h0 - h1  with y1 - y0 = (0.5, 0): x <= 2 (h0 - h1) -> x = 0.5 + 2*0.05
    y = np.array([[0.25, 0.5], [0.75, 0.5]])
    h = voronoi_h(y) + np.array([0.05, 0.0])
    pd = power_diagram(y, h, UNIT2)
    split = (h[0] - h[1]) / 0.5
    np.testing.assert_allclose(pd.volumes, [split, 1 - split], atol=1e-15)


def test_h_zero_gives_support_function_cells():
    # h = 0: u(x) = max <x, y_i>, the cell of y1 = (0.75, .5) is every x with x1 > 0
    y = np.array([[0.25, 0.5], [0.75, 0.5]])
    pd = power_diagram(y, [0.0, 0.0], UNIT2)
    np.testing.assert_allclose(pd.volumes, [0.0, 1.0], atol=1e-15)
    assert pd.empty[0] and not pd.empty[1]
    assert np.all(np.isnan(pd.centroids[0]))


@pytest.mark.parametrize("k", [2, 3, 7])
def test_regular_grid_cells_are_equal_squares(k):
    c = (np.arange(k) + 0.5) / k
    y = np.stack(np.meshgrid(c, c), -1).reshape(-1, 2)
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes, 1.0 / k**2, rtol=1e-12)
    np.testing.assert_allclose(pd.centroids, y, atol=1e-13)
    # 2k(k-1) edges of the grid; the qhull diagonals of cocircular squares are dropped
    assert len(pd.pairs) == 2 * k * (k - 1)
    np.testing.assert_allclose(pd.facet_measures, 1.0 / k, rtol=1e-12)


def test_regular_grid_3d():
    k = 3
    c = (np.arange(k) + 0.5) / k
    y = np.stack(np.meshgrid(c, c, c), -1).reshape(-1, 3)
    pd = power_diagram(y, voronoi_h(y), UNIT3)
    np.testing.assert_allclose(pd.volumes, 1.0 / k**3, rtol=1e-12)
    np.testing.assert_allclose(pd.centroids, y, atol=1e-13)
    assert len(pd.pairs) == 3 * k * k * (k - 1)
    np.testing.assert_allclose(pd.facet_measures, 1.0 / k**2, rtol=1e-12)


def test_single_target_owns_the_domain():
    pd = power_diagram([[3.0, -1.0]], [0.7], UNIT2)
    np.testing.assert_allclose(pd.volumes, [1.0])
    np.testing.assert_allclose(pd.masses, [1.0])
    np.testing.assert_allclose(pd.centroids, [[0.5, 0.5]])
    assert pd.pairs.shape == (0, 2)
    assert pd.hessian().shape == (1, 1) and pd.hessian().nnz == 0


def test_symmetric_targets_give_symmetric_cells():
    # four targets symmetric under the square's rotations
    y = np.array([[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]])
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes, 0.25, rtol=1e-14)
    np.testing.assert_allclose(pd.centroids, [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]], atol=1e-14)


def test_hidden_point_has_empty_cell():
    # the middle target lifted above the segment joining its neighbours: hidden
    y = np.array([[0.1, 0.5], [0.5, 0.5], [0.9, 0.5], [0.5, 0.9]])
    h = voronoi_h(y)
    h[1] -= 1.0
    pd = power_diagram(y, h, UNIT2)
    assert pd.hidden[1]
    assert pd.volumes[1] == 0.0
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-14)


# ------------------------------------------------------------------ invariants
def test_adding_constant_to_h_changes_nothing():
    rng = np.random.default_rng(3)
    y = rng.random((60, 2))
    h = voronoi_h(y) + 1e-3 * rng.random(60)
    a = power_diagram(y, h, UNIT2)
    b = power_diagram(y, h + 123.5, UNIT2)
    np.testing.assert_allclose(a.volumes, b.volumes, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(a.pairs, b.pairs)


def test_translation_invariance():
    rng = np.random.default_rng(4)
    y = rng.random((50, 2))
    h = voronoi_h(y)
    t = np.array([10.0, -3.0])
    a = power_diagram(y, h, UNIT2)
    # translating targets and domain together: the Voronoi diagram translates
    dom = Domain.box(t, t + 1)
    b = power_diagram(y + t, voronoi_h(y + t), dom)
    np.testing.assert_allclose(a.volumes, b.volumes, atol=1e-12)
    np.testing.assert_allclose(a.centroids + t, b.centroids, atol=1e-11)


def test_scale_invariance():
    rng = np.random.default_rng(5)
    y = rng.random((40, 2))
    s = 7.5
    a = power_diagram(y, voronoi_h(y), UNIT2)
    b = power_diagram(s * y, voronoi_h(s * y), Domain.box([0, 0], [s, s]))
    np.testing.assert_allclose(b.volumes, s**2 * a.volumes, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.masses, a.masses, rtol=1e-10, atol=1e-14)


def test_inputs_not_mutated():
    rng = np.random.default_rng(6)
    y = rng.random((30, 2))
    h = voronoi_h(y)
    y0, h0 = y.copy(), h.copy()
    pd = power_diagram(y, h, UNIT2)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(h, h0)
    with pytest.raises(ValueError):
        pd.volumes[0] = 1.0


# ------------------------------------------------------------------ domains
def test_tiling_on_holed_polygon_and_reference():
    poly = shapely.Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    dom = Domain.polygon(poly)
    rng = np.random.default_rng(7)
    y = rng.random((25, 2)) * 3
    h = voronoi_h(y) + 0.05 * rng.random(25)
    pd = power_diagram(y, h, dom)
    np.testing.assert_allclose(pd.volumes.sum(), 8.0, rtol=1e-12)
    vol, cen, facets = cells_reference(y, h, dom)
    np.testing.assert_allclose(pd.volumes, vol, rtol=1e-9, atol=1e-12)
    ok = vol > 1e-9
    np.testing.assert_allclose(pd.centroids[ok], cen[ok], atol=1e-9)
    ref = {k: v for k, v in facets.items() if v > 1e-9}
    got = {tuple(p): m for p, m in zip(pd.pairs.tolist(), pd.facet_measures)}
    assert set(ref) == {k for k, v in got.items() if v > 1e-9}
    for k, v in ref.items():
        np.testing.assert_allclose(got[k], v, rtol=1e-8)
    for i in np.flatnonzero(ok)[:5]:
        np.testing.assert_allclose(pd.cell(int(i)).area, pd.volumes[i], rtol=1e-12)


def test_disk_cells_match_reference():
    dom = Domain.disk([0, 0], 1.0, resolution=64)
    rng = np.random.default_rng(8)
    y = rng.random((20, 2)) * 2 - 1
    h = voronoi_h(y)
    pd = power_diagram(y, h, dom)
    np.testing.assert_allclose(pd.volumes.sum(), dom.volume, rtol=1e-12)
    vol, _, _ = cells_reference(y, h, dom)
    np.testing.assert_allclose(pd.volumes, vol, rtol=1e-9, atol=1e-13)


def test_3d_box_matches_reference():
    rng = np.random.default_rng(9)
    y = rng.random((14, 3))
    h = voronoi_h(y) + 0.02 * rng.random(14)
    pd = power_diagram(y, h, UNIT3)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)
    vol, cen, facets = cells_reference(y, h, UNIT3)
    np.testing.assert_allclose(pd.volumes, vol, rtol=1e-9, atol=1e-13)
    ok = vol > 1e-9
    np.testing.assert_allclose(pd.centroids[ok], cen[ok], atol=1e-9)
    got = {tuple(p): m for p, m in zip(pd.pairs.tolist(), pd.facet_measures)}
    for k, v in facets.items():
        if v > 1e-9:
            np.testing.assert_allclose(got[k], v, rtol=1e-7)


def test_ball_and_mesh_domains_tile():
    import trimesh

    rng = np.random.default_rng(10)
    ball = Domain.ball([0, 0, 0], 1.0, subdivisions=2)
    y = rng.random((80, 3)) * 2 - 1
    pd = power_diagram(y, voronoi_h(y), ball)
    np.testing.assert_allclose(pd.volumes.sum(), ball.volume, rtol=1e-12)
    torus = Domain.mesh(trimesh.creation.annulus(0.5, 1.0, 1.0, sections=24))
    pd = power_diagram(y, voronoi_h(y), torus)
    np.testing.assert_allclose(pd.volumes.sum(), torus.volume, rtol=1e-11)
    assert np.all(pd.volumes >= 0)


def test_image_density_masses():
    # left half of the square has density 3, right half density 1: the mass of the left cell
    img = np.array([[3.0, 1.0]])
    dom = Domain.image(img, [0, 0], [1, 1])
    y = np.array([[0.25, 0.5], [0.75, 0.5]])
    pd = power_diagram(y, voronoi_h(y), dom)
    np.testing.assert_allclose(pd.volumes, [0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(pd.masses, [0.75, 0.25], atol=1e-15)
    # the facet lies on the pixel boundary: it is still a facet of the pair
    assert pd.pairs.tolist() == [[0, 1]]
    np.testing.assert_allclose(pd.facet_measures, [1.0], atol=1e-15)


# ------------------------------------------------------------------ Jacobian
def _fd_jacobian(y, h, dom, eps):
    n = len(h)
    J = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        J[:, j] = (power_diagram(y, h + e, dom).masses - power_diagram(y, h - e, dom).masses) / (2 * eps)
    return J


def test_hessian_matches_finite_differences_2d():
    rng = np.random.default_rng(11)
    y = rng.random((12, 2))
    h = voronoi_h(y) + 0.01 * rng.random(12)
    dom = Domain.polygon(shapely.Polygon([(0, 0), (1, 0), (1, 1), (0.5, 0.4), (0, 1)]))
    H = power_diagram(y, h, dom).hessian().toarray()
    J = _fd_jacobian(y, h, dom, 1e-6)
    np.testing.assert_allclose(H, J, atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    np.testing.assert_allclose(H.sum(axis=1), 0, atol=1e-14)
    off = H - np.diag(np.diag(H))
    assert np.all(off <= 0)


def test_hessian_matches_finite_differences_3d():
    rng = np.random.default_rng(12)
    y = rng.random((10, 3))
    h = voronoi_h(y) + 0.01 * rng.random(10)
    H = power_diagram(y, h, UNIT3).hessian().toarray()
    J = _fd_jacobian(y, h, UNIT3, 1e-6)
    np.testing.assert_allclose(H, J, atol=1e-6)
    np.testing.assert_allclose(H.sum(axis=1), 0, atol=1e-14)


def test_hessian_with_density():
    img = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0]])
    dom = Domain.image(img, [0, 0], [1.5, 1])
    rng = np.random.default_rng(13)
    y = rng.random((9, 2)) * [1.5, 1]
    h = voronoi_h(y)
    H = power_diagram(y, h, dom).hessian().toarray()
    np.testing.assert_allclose(H, _fd_jacobian(y, h, dom, 1e-6), atol=1e-6)


# ------------------------------------------------------------------ degenerate input
def test_collinear_targets_2d():
    y = np.column_stack([np.linspace(0.1, 0.9, 5), np.full(5, 0.5)])
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes, [0.2] * 5, rtol=1e-13)
    assert pd.pairs.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    np.testing.assert_allclose(pd.facet_measures, 1.0, rtol=1e-13)
    # collinear on a diagonal line
    y = np.column_stack([np.linspace(0.1, 0.9, 4)] * 2)
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-14)
    np.testing.assert_allclose(pd.volumes, pd.volumes[::-1], rtol=1e-12)


def test_coplanar_and_collinear_targets_3d():
    rng = np.random.default_rng(14)
    y = rng.random((20, 3))
    y[:, 2] = 0.3
    pd = power_diagram(y, voronoi_h(y), UNIT3)
    # cells are prisms over the 2D diagram of the projected targets
    pd2 = power_diagram(y[:, :2], voronoi_h(y[:, :2]), UNIT2)
    np.testing.assert_allclose(pd.volumes, pd2.volumes, rtol=1e-11, atol=1e-15)
    y = np.column_stack([np.linspace(0.1, 0.9, 4), np.full(4, 0.2), np.full(4, 0.7)])
    pd = power_diagram(y, voronoi_h(y), UNIT3)
    np.testing.assert_allclose(pd.volumes, [0.1 + 0.4 / 3, 0.8 / 3, 0.8 / 3, 0.1 + 0.4 / 3], rtol=1e-12)


def test_flat_lifted_points_hide_interior_targets():
    # h affine in y: u(x) = max <x + a, y_i> + c, only extreme targets have cells
    y = np.array([[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.5, 0.5]])
    a = np.array([-0.5, -0.5])
    pd = power_diagram(y, y @ a, UNIT2)
    assert pd.hidden[4] and pd.volumes[4] == 0
    np.testing.assert_allclose(pd.volumes[:4], 0.25, rtol=1e-13)


def test_targets_far_outside_and_huge_h():
    rng = np.random.default_rng(15)
    y = rng.random((30, 2)) * 1e3 + 1e4
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)
    y = rng.random((30, 2))
    pd = power_diagram(y, 1e9 * voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)
    pd = power_diagram(y, voronoi_h(y) * 1e-12, UNIT2)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)


def test_duplicates_raise():
    y = np.array([[0.1, 0.2], [0.5, 0.5], [0.1, 0.2]])
    with pytest.raises(ValueError, match="duplicate"):
        power_diagram(y, np.zeros(3), UNIT2)


@pytest.mark.parametrize(
    "y,h,match",
    [
        ([[0.1, np.nan]], [0.0], "NaN"),
        ([[0.1, 0.2]], [np.inf], "NaN or inf"),
        ([[0.1, 0.2, 0.3]], [0.0], "columns"),
        ([[0.1, 0.2]], [0.0, 1.0], "length"),
        ([0.1, 0.2, 0.3], [0.0], "2-D"),
    ],
)
def test_bad_input_raises(y, h, match):
    with pytest.raises(ValueError, match=match):
        power_diagram(y, h, UNIT2)


def test_bad_domain_raises():
    with pytest.raises(ValueError, match="domain"):
        power_diagram([[0.0, 0.0]], [0.0], "unit square")
    with pytest.raises(ValueError, match="dimension"):
        power_diagram([[0.0] * 4], [0.0], Domain.box([0] * 4, [1] * 4))


def test_cell_geometry_3d_and_facets():
    rng = np.random.default_rng(16)
    y = rng.random((30, 3))
    pd = power_diagram(y, voronoi_h(y), UNIT3)
    for i in range(5):
        m = pd.cell(i)
        np.testing.assert_allclose(m.volume, pd.volumes[i], rtol=1e-10)
    fg = pd.facets()
    areas = np.zeros(len(pd.pairs))
    for k, poly in zip(fg.pair_index, fg.polygons):
        c = poly.mean(axis=0)
        areas[k] += 0.5 * np.linalg.norm(np.cross(poly - c, np.roll(poly, -1, axis=0) - c).sum(axis=0))
    np.testing.assert_allclose(areas, pd.facet_measures, rtol=1e-10)


def test_facet_segments_2d():
    rng = np.random.default_rng(17)
    y = rng.random((40, 2))
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    fg = pd.facets()
    seg = fg.segments
    lengths = np.zeros(len(pd.pairs))
    np.add.at(lengths, fg.pair_index, np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1))
    np.testing.assert_allclose(lengths, pd.facet_measures, rtol=1e-12)
    # segment midpoints are equidistant (in power distance) from the two targets
    mid = seg.mean(axis=1)
    i, j = pd.pairs[fg.pair_index].T
    si = np.einsum("ij,ij->i", mid, y[i]) + pd.h[i]
    sj = np.einsum("ij,ij->i", mid, y[j]) + pd.h[j]
    np.testing.assert_allclose(si, sj, atol=1e-12)


def test_cell_index_validation():
    pd = power_diagram([[0.2, 0.2], [0.8, 0.8]], voronoi_h([[0.2, 0.2], [0.8, 0.8]]), UNIT2)
    with pytest.raises(ValueError, match="i must"):
        pd.cell(5)
    with pytest.raises(ValueError, match="i must"):
        pd.cell(0.5)


# ------------------------------------------------------------------ hypothesis fuzzing
def _check_tiling(pd, dom):
    np.testing.assert_allclose(pd.volumes.sum(), dom.volume, rtol=1e-12)
    assert np.all(pd.volumes >= 0)
    assert np.all(pd.volumes[pd.hidden] == 0)
    np.testing.assert_allclose(pd.masses.sum(), 1.0, rtol=1e-12)
    H = pd.hessian()
    np.testing.assert_allclose(np.asarray(H.sum(axis=1)).ravel(), 0, atol=1e-9 * max(1.0, abs(H).max()))


grid_points_2d = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pts=grid_points_2d, hs=st.lists(st.integers(-2, 2), min_size=25, max_size=25), scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_fuzz_degenerate_grids_2d(pts, hs, scale):
    # integer grids: cocircular quadruples, collinear rows, ties in h everywhere
    y = np.array(pts, dtype=float) / 6.0 * scale
    h = voronoi_h(y) + np.array(hs[: len(y)], dtype=float) * 0.01 * scale**2
    dom = Domain.box([0, 0], [scale, scale])
    _check_tiling(power_diagram(y, h, dom), dom)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pts=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=20, unique=True),
       hs=st.lists(st.integers(-1, 1), min_size=20, max_size=20))
def test_fuzz_degenerate_grids_3d(pts, hs):
    y = np.array(pts, dtype=float) / 3.0
    h = voronoi_h(y) + np.array(hs[: len(y)], dtype=float) * 0.02
    _check_tiling(power_diagram(y, h, UNIT3), UNIT3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31 - 1), angle=st.floats(0, np.pi))
def test_fuzz_collinear_against_reference(n, seed, angle):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.random(n)) * 2 - 1
    t = t[np.r_[True, np.diff(t) > 1e-6]]
    d = np.array([np.cos(angle), np.sin(angle)])
    y = 0.5 + 0.4 * t[:, None] * d
    h = voronoi_h(y) + 0.01 * rng.random(len(y))
    dom = Domain.polygon(shapely.Polygon([(0, 0), (1, 0), (1, 1), (0.6, 0.5), (0, 1)]))
    pd = power_diagram(y, h, dom)
    _check_tiling(pd, dom)
    vol, _, _ = cells_reference(y, h, dom)
    np.testing.assert_allclose(pd.volumes, vol, rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 10), seed=st.integers(0, 2**31 - 1), spread=st.sampled_from([0.0, 0.01, 0.3]))
def test_fuzz_random_against_reference_2d(n, seed, spread):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2)) * 1.4 - 0.2  # some targets outside the domain
    h = voronoi_h(y) + spread * rng.standard_normal(n)
    poly = shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.3, 0.3), (0.6, 0.3), (0.5, 0.6)]])
    dom = Domain.polygon(poly)
    pd = power_diagram(y, h, dom)
    _check_tiling(pd, dom)
    vol, _, _ = cells_reference(y, h, dom)
    np.testing.assert_allclose(pd.volumes, vol, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_large_random_tiling():
    rng = np.random.default_rng(18)
    y = rng.random((200_000, 2))
    pd = power_diagram(y, voronoi_h(y), UNIT2)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)
    y = rng.random((20_000, 3))
    pd = power_diagram(y, voronoi_h(y), UNIT3)
    np.testing.assert_allclose(pd.volumes.sum(), 1.0, rtol=1e-12)


def test_public_namespace():
    assert geomot.power_diagram is power_diagram
    assert "power_diagram" in geomot.__all__


# ------------------------------------------------------------------ kernels vs plain numpy
def test_simplex_adjacency_matches_numpy():
    from geomot.lifting import _simplex_adjacency

    rng = np.random.default_rng(19)
    n = 40
    simp = np.array([rng.choice(n, 3, replace=False) for _ in range(120)], dtype=np.int64)
    indptr, indices = _simplex_adjacency(simp, n)
    edges = {(int(a), int(b)) for s in simp for a in s for b in s if a != b}
    for i in range(n):
        expected = sorted(b for a, b in edges if a == i)
        assert indices[indptr[i]:indptr[i + 1]].tolist() == expected


def test_candidate_pieces_matches_brute_force():
    from geomot._clip import candidate_pieces

    rng = np.random.default_rng(20)
    for d in (2, 3):
        plo = rng.random((50, d))
        phi = plo + 0.3 * rng.random((50, d))
        clo = rng.random((80, d))
        chi = clo + 0.2 * rng.random((80, d))
        active = rng.random(80) < 0.8
        dlo, dhi = np.minimum(plo.min(0), clo.min(0)), np.maximum(phi.max(0), chi.max(0))
        for G in (1, 3, 7):
            ptr, piece = candidate_pieces(clo, chi, active, plo, phi, dlo, dhi, G)
            for i in range(80):
                expected = np.flatnonzero(np.all((clo[i] <= phi) & (plo <= chi[i]), axis=1)) if active[i] else []
                assert sorted(piece[ptr[i]:ptr[i + 1]].tolist()) == list(expected)


def test_regular_triangulation_is_delaunay_for_voronoi_weights():
    from scipy.spatial import Delaunay

    from geomot.power import regular_triangulation

    rng = np.random.default_rng(21)
    y = rng.random((300, 2))
    tri = regular_triangulation(y, voronoi_h(y))
    dl = Delaunay(y)
    ip, ix = dl.vertex_neighbor_vertices
    for i in range(300):
        assert sorted(ix[ip[i]:ip[i + 1]].tolist()) == tri.indices[tri.indptr[i]:tri.indptr[i + 1]].tolist()
    assert not tri.hidden.any() and tri.affine_dim == 2


def test_facets_subset_matches_full():
    rng = np.random.default_rng(22)
    for d, dom in ((2, Domain.polygon(shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.4, 0.4), (0.6, 0.4), (0.5, 0.6)]]))), (3, UNIT3)):
        y = rng.random((60, d))
        pd = power_diagram(y, voronoi_h(y), dom)
        full = pd.facets()
        sub = rng.choice(len(pd.pairs), 10, replace=False)
        part = pd.facets(sub)
        assert set(part.pair_index.tolist()) <= set(sub.tolist())
        for k in sub:
            a = [part.points[part.indptr[t]:part.indptr[t + 1]] for t in np.flatnonzero(part.pair_index == k)]
            b = [full.points[full.indptr[t]:full.indptr[t + 1]] for t in np.flatnonzero(full.pair_index == k)]
            assert len(a) == len(b) >= 1
            np.testing.assert_array_equal(np.vstack(a), np.vstack(b))
        with pytest.raises(ValueError, match="pair_index"):
            pd.facets([len(pd.pairs)])


def test_mesh_domain_cell_is_exact_intersection_and_facets_refuse():
    import trimesh

    torus = Domain.mesh(trimesh.creation.annulus(0.5, 1.0, 1.0, sections=16))
    rng = np.random.default_rng(23)
    y = rng.random((12, 3)) * 2 - 1
    pd = power_diagram(y, voronoi_h(y), torus)
    i = int(np.argmax(pd.volumes))
    np.testing.assert_allclose(pd.cell(i).volume, pd.volumes[i], rtol=1e-8)
    with pytest.raises(ValueError, match="mesh domain"):
        pd.facets()


def test_hessian_kernel_matches_coo_assembly():
    import scipy.sparse as sps

    rng = np.random.default_rng(24)
    y = rng.random((200, 2))
    pd = power_diagram(y, voronoi_h(y) + 1e-3 * rng.random(200), UNIT2)
    p = pd.pairs
    w = pd.facet_masses / np.linalg.norm(y[p[:, 0]] - y[p[:, 1]], axis=1)
    rows = np.concatenate([p[:, 0], p[:, 1], p[:, 0], p[:, 1]])
    cols = np.concatenate([p[:, 1], p[:, 0], p[:, 0], p[:, 1]])
    ref = sps.csr_matrix((np.concatenate([-w, -w, w, w]), (rows, cols)), shape=(200, 200))
    H = pd.hessian()
    assert H.has_sorted_indices
    np.testing.assert_allclose(H.toarray(), ref.toarray(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("dim", [2, 3])
def test_weights_relative_to_voronoi_keep_close_targets_exact(dim):
    # targets 1e-7 apart: their common facet depends on h_i - h_j, which h = phi - |y|^2/2
    # holds only to eps |y|^2 (a plane shift of eps |y|^2 / 1e-7).  The kernels work with
    # phi = h + |y|^2/2, so a diagram given phi is translation invariant to rounding level
    # (phi is translation invariant up to a constant), far below the h-based error.
    from geomot.power import _power_diagram

    rng = np.random.default_rng(7)
    n = 4000 if dim == 2 else 1500
    y = rng.random((n, dim))
    y[:100] = y[100:200] + 1e-7 * rng.standard_normal((100, dim))
    shift = 4.0
    y = (y + shift) - shift  # representable both here and shifted by 4: the same geometry
    phi = 1e-15 * rng.standard_normal(n)  # tiny, not representable next to |y|^2 / 2
    dom = Domain.box(np.zeros(dim), np.ones(dim))
    dom_t = Domain.box(np.full(dim, shift), np.full(dim, shift + 1.0))
    a = _power_diagram(y, None, dom, wphi=phi).masses
    b = _power_diagram(y + shift, None, dom_t, wphi=phi).masses
    assert np.all(a > 0)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=0)
    # the same diagram given h: the translated copy is off by far more (documents the reason)
    half = 0.5 * np.einsum("ij,ij->i", y, y)
    half_t = 0.5 * np.einsum("ij,ij->i", y + shift, y + shift)
    c = _power_diagram(y + shift, phi - half_t, dom_t).masses
    assert np.max(np.abs(c - a) / a) > 1e3 * np.max(np.abs(b - a) / a)
    np.testing.assert_allclose(_power_diagram(y, phi - half, dom).masses.sum(), 1.0, rtol=1e-12)


def test_flipped_triangulation_equals_a_new_hull():
    # the Newton solver repairs the last triangulation by edge flips instead of a new hull:
    # the result must be the regular triangulation of the new weights, hence the same diagram
    from geomot.power import _flipped_triangulation, _power_diagram, _regular_triangulation

    rng = np.random.default_rng(11)
    n = 3000
    y = rng.random((n, 2))
    half = 0.5 * np.einsum("ij,ij->i", y, y)
    prev = _regular_triangulation(y, -half)
    # a change of the weights of ~0.2 x the squared distance to the nearest neighbour
    from scipy.spatial import cKDTree

    r_nn = cKDTree(y).query(y, k=2)[0][:, 1]
    wphi = 0.2 * r_nn ** 2 * rng.uniform(-1, 1, n)
    flipped, status = _flipped_triangulation(prev, y, wphi)
    assert status == 0
    fresh = _regular_triangulation(y, wphi - half)
    assert flipped is not None and not fresh.hidden.any()
    np.testing.assert_array_equal(flipped.indptr, fresh.indptr)
    np.testing.assert_array_equal(flipped.indices, fresh.indices)
    a = _power_diagram(y, None, UNIT2, triangulation=flipped, wphi=wphi)
    b = _power_diagram(y, None, UNIT2, triangulation=fresh, wphi=wphi)
    np.testing.assert_array_equal(a.masses, b.masses)
    np.testing.assert_allclose(a.volumes.sum(), 1.0, rtol=1e-13)
    # boxes around the cells (used on multi-piece domains) agree too
    lo_a, hi_a = flipped.cell_boxes(y, wphi)
    lo_b, hi_b = fresh.cell_boxes(y, wphi)
    np.testing.assert_array_equal(np.isfinite(lo_a), np.isfinite(lo_b))
    np.testing.assert_allclose(lo_a[np.isfinite(lo_a)], lo_b[np.isfinite(lo_b)], rtol=0, atol=1e-12)
    # chained: the repaired triangulation is itself a valid start
    w2 = wphi + 0.1 * r_nn ** 2 * rng.uniform(-1, 1, n)
    again, _ = _flipped_triangulation(flipped, y, w2)
    ref = _regular_triangulation(y, w2 - half)
    assert again is not None
    np.testing.assert_array_equal(again.indices, ref.indices)


def test_flipped_triangulation_declines_when_a_target_must_hide():
    from geomot.power import _flipped_triangulation, _regular_triangulation

    rng = np.random.default_rng(12)
    y = rng.random((500, 2))
    half = 0.5 * np.einsum("ij,ij->i", y, y)
    prev = _regular_triangulation(y, -half)
    wphi = np.zeros(500)
    inner = int(np.argmin(np.sum((y - 0.5) ** 2, axis=1)))
    wphi[inner] = -1.0  # its cell vanishes: only a new hull can drop the vertex
    assert _regular_triangulation(y, wphi - half).hidden[inner]
    from geomot._flip import STATUS_STUCK

    assert _flipped_triangulation(prev, y, wphi) == (None, STATUS_STUCK)
    # stuck flips <=> a hidden target: random weight changes from small to large
    seen = set()
    for k, scale in enumerate(np.geomspace(1e-5, 1e-2, 12)):
        w = scale * np.random.default_rng(100 + k).standard_normal(500)
        out, status = _flipped_triangulation(prev, y, w)
        ref = _regular_triangulation(y, w - half)
        assert (status == STATUS_STUCK) == bool(ref.hidden.any())
        if out is not None:
            np.testing.assert_array_equal(out.indices, ref.indices)
        seen.add(status)
    assert seen == {0, STATUS_STUCK}
    # not applicable: a 3D triangulation with flat tetrahedra inside (h = 0 lifts the targets
    # onto a hyperplane: qhull's split of that one facet), collinear targets
    y3 = rng.random((200, 3))
    assert _flipped_triangulation(_regular_triangulation(y3, np.zeros(200)), y3, np.zeros(200))[0] is None
    yl = np.column_stack([np.linspace(0, 1, 20), np.linspace(0, 1, 20)])
    assert _flipped_triangulation(_regular_triangulation(yl, np.zeros(20)), yl, np.zeros(20))[0] is None


def test_cells_are_valid_polygons_when_half_planes_cross_at_corners():
    # h = 0 hides most targets and sends many bisectors through the box corners: the clipped
    # rings carry vertices a few ulps apart (a self-intersecting sliver before the fix)
    box = Domain.box([0, 0], [1, 1])
    for seed in range(10):
        y = np.random.default_rng(seed).random((50, 2))
        pd = power_diagram(y, np.zeros(50), box)
        for i in np.flatnonzero(pd.volumes > 0):
            cell = pd.cell(int(i))
            assert cell.is_valid, (seed, i)
            assert abs(cell.area - pd.volumes[i]) <= 1e-14
    from geomot.brenier import BrenierPotential

    surf = BrenierPotential(y, np.zeros(50)).graph(box)  # raised shapely's GEOSException before
    assert set(np.unique(surf.cell_data["target"])) == set(np.flatnonzero(pd.volumes > 0))
