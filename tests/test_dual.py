"""Interior power cells integrated from the triangulation (geomot._dual) against the clipping."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geomot
from geomot import _clip, _dual, power
from geomot._clip_ref import dual_cells_reference
from geomot._tol import scale_of, tol

BOX = geomot.Domain.box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
SQUARE = geomot.Domain.box([0.0, 0.0], [1.0, 1.0])


def _kernel_args(pd):
    tri = pd.triangulation
    pc = pd._space.pieces
    return tri, pc, np.asarray(pd._yf), np.asarray(pd._wphi)


def _clipped(pd):
    """Every cell clipped (no cell skipped): the reference outputs."""
    tri, pc, yf, wphi = _kernel_args(pd)
    kernel = _clip.integrate_cells_2d if pd.dim == 2 else _clip.integrate_cells_3d
    return kernel(yf, wphi, tri.indptr, tri.indices, pd._cand_ptr, pd._cand_piece,
                                    pc.normals, pc.offsets, pc.indptr, pc.lo, pc.hi, pc.sign, pc.density,
                                    pd._eps, pd._clo, pd._chi, np.zeros(pd.n, dtype=bool))


def _dual_only(pd):
    """The fast kernel's outputs alone (no cell done when it does not apply)."""
    tri, pc, yf, wphi = _kernel_args(pd)
    out = power._dual_cells(yf, wphi, tri, pc, scale_of(pd._space.bounds), pd._cand_ptr, pd._cand_piece)
    if out is None:
        n, d = yf.shape
        nnz = tri.indices.shape[0]
        out = (np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n), np.zeros((n, d)), np.zeros(nnz), np.zeros(nnz))
    return out


def _split(cq):
    """(centres, signed shapes, rounding estimates) of a packed ``power_centres_*d`` array."""
    d = cq.shape[1] - 2
    return cq[:, :d], cq[:, d], cq[:, d + 1]


def _assert_close(a, b, rows, rtol=1e-12):
    """All six outputs of two integrations equal to ``rtol`` (moments relative to mass times the
    domain's size, facet values relative to the cell's total facet measure / mass)."""
    vol_a, mass_a, mom_a, fl_a, fm_a, st_a = a
    vol_b, mass_b, mom_b, fl_b, fm_b, st_b = b
    np.testing.assert_array_equal(st_a, st_b)
    assert np.all(np.abs(vol_a - vol_b) <= rtol * np.abs(vol_b))
    assert np.all(np.abs(mass_a - mass_b) <= rtol * np.abs(mass_b))
    size = 1.0 + np.abs(mom_b).max(axis=1) / np.where(mass_b > 0, mass_b, 1.0)
    assert np.all(np.abs(mom_a - mom_b).max(axis=1) <= rtol * np.abs(mass_b) * size)
    tot_l = np.bincount(rows, np.abs(fl_b), minlength=vol_b.size)[rows]
    tot_m = np.bincount(rows, np.abs(fm_b), minlength=vol_b.size)[rows]
    assert np.all(np.abs(fl_a - fl_b) <= rtol * tot_l)
    assert np.all(np.abs(fm_a - fm_b) <= rtol * tot_m)


def _check(y, h, dom):
    """The diagram's integrals (fast path where it applies) equal the clipping of every cell."""
    pd = geomot.power_diagram(y, h, dom)
    rows = np.repeat(np.arange(pd.n), np.diff(pd.triangulation.indptr))
    got = (pd._moments, pd._slot_measure, pd._slot_mass)
    ref = _clipped(pd)
    vol_scale = pd._space.volume_scale if pd.frame.source_scale != 1.0 else 1.0
    np.testing.assert_allclose(pd.volumes, np.maximum(ref[0], 0.0) * vol_scale, rtol=1e-12, atol=0)
    np.testing.assert_allclose(pd.masses * pd._space.total_mass, np.maximum(ref[1], 0.0), rtol=1e-12, atol=0)
    # the fast kernel alone against the clipping, on the cells it did
    out = _dual_only(pd)
    done = out[0]
    np.testing.assert_array_equal(done, pd._fast)
    sl = done[rows]
    fast = (out[1][done], out[2][done], out[3][done], out[4][sl], out[5][sl], np.zeros(done.sum(), dtype=np.int64))
    clip = (ref[0][done], ref[1][done], ref[2][done], ref[3][sl], ref[4][sl], ref[5][done])
    _assert_close(fast, clip, np.searchsorted(np.flatnonzero(done), rows[sl]))
    # the merged outputs the diagram keeps
    _assert_close((ref[0], ref[1]) + got + (ref[5],), ref, rows)
    return pd


def test_uniform_cube_most_cells_fast():
    rng = np.random.default_rng(0)
    y = rng.random((2000, 3))
    pd = _check(y, -0.5 * (y**2).sum(axis=1), BOX)
    assert pd._fast.mean() > 0.5
    assert np.isclose(pd.volumes.sum(), 1.0, rtol=1e-12)


def test_random_weights_in_box():
    rng = np.random.default_rng(1)
    y = rng.random((1500, 3))
    h = -0.5 * (y**2).sum(axis=1) + 2e-4 * rng.standard_normal(1500)
    pd = _check(y, h, geomot.Domain.box([-0.2, 0.1, 0.0], [1.3, 0.9, 1.1]))
    assert pd._fast.mean() > 0.3


def test_hidden_cells():
    rng = np.random.default_rng(2)
    y = rng.random((800, 3))
    h = -0.5 * (y**2).sum(axis=1)
    h[:40] -= 0.05  # their planes are far below: hidden targets
    pd = _check(y, h, BOX)
    assert pd.hidden.sum() > 0 and not np.any(pd._fast & pd.hidden)
    assert pd._fast.sum() > 100


def test_degenerate_lattice_falls_back():
    # cospherical 4x4x4 grid with Voronoi weights: qhull splits the cubes into tetrahedra
    # sharing their power centre, some of them flat
    g = (np.arange(4) + 0.5) / 4
    y = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    pd = _check(y, -0.5 * (y**2).sum(axis=1), BOX)
    np.testing.assert_allclose(pd.volumes, 1.0 / 64, rtol=1e-12)
    q = _dual.power_centres_3d(pd.triangulation.simplices, np.asarray(pd._yf), np.asarray(pd._wphi))[:, 3]
    flat = np.abs(q) < tol.dual_shape
    touched = np.zeros(pd.n, dtype=bool)
    touched[pd.triangulation.simplices[flat].ravel()] = True
    assert not np.any(pd._fast & touched)


def test_nonbox_domain_no_fast_cells():
    rng = np.random.default_rng(3)
    y = rng.random((400, 3)) * 1.2 - 0.6
    pd = _check(y, -0.5 * (y**2).sum(axis=1), geomot.Domain.ball([0.0, 0.0, 0.0], 1.0, 1))
    assert not pd._fast.any()


def test_lower_dimensional_targets_are_clipped():
    rng = np.random.default_rng(7)
    y = np.column_stack([rng.random((200, 2)), np.full(200, 0.5)])  # coplanar: no tetrahedra
    pd = _check(y, -0.5 * (y**2).sum(axis=1), BOX)
    assert not pd._fast.any() and np.isclose(pd.volumes.sum(), 1.0, rtol=1e-12)
    y = np.column_stack([rng.random(40), np.full(40, 0.5)])  # collinear in 2D
    pd = _check(y, -0.5 * (y**2).sum(axis=1), SQUARE)
    assert not pd._fast.any() and np.isclose(pd.volumes.sum(), 1.0, rtol=1e-12)


def test_mesh_domain():
    trimesh = pytest.importorskip("trimesh")
    rng = np.random.default_rng(4)
    y = rng.random((300, 3)) - 0.5
    dom = geomot.Domain.mesh(trimesh.creation.box(extents=[1.0, 1.0, 1.0]))
    pd = _check(y, -0.5 * (y**2).sum(axis=1), dom)
    assert np.isclose(pd.volumes.sum(), 1.0, rtol=1e-10)


def test_nonuniform_image_density():
    rng = np.random.default_rng(5)
    img = rng.random((3, 3, 3)) + 0.5
    dom = geomot.Domain.image(img, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    y = rng.random((3000, 3))
    pd = _check(y, -0.5 * (y**2).sum(axis=1), dom)
    # cells inside one voxel are integrated from the triangulation, the others clipped
    assert 0.2 < pd._fast.mean() < 1.0


def test_fast_against_numpy_reference():
    rng = np.random.default_rng(6)
    y = rng.random((300, 3))
    h = -0.5 * (y**2).sum(axis=1) + 1e-3 * rng.standard_normal(300)
    pd = geomot.power_diagram(y, h, BOX)
    tri, _, yf, wphi = _kernel_args(pd)
    done, vol, _, mom, flen, _ = _dual_only(pd)
    cells = np.flatnonzero(done)
    assert cells.size > 20
    rvol, rmom, rfac = dual_cells_reference(yf, wphi, tri.simplices, cells)
    np.testing.assert_allclose(vol[cells], rvol, rtol=1e-11)
    np.testing.assert_allclose(mom[cells], rmom, rtol=1e-11, atol=1e-11 * np.abs(rmom).max())
    for r, i in enumerate(cells):
        row = slice(tri.indptr[i], tri.indptr[i + 1])
        ref = np.array([rfac[(i, j)] for j in tri.indices[row]])
        np.testing.assert_allclose(flen[row], ref, rtol=0, atol=1e-11 * ref.sum())


def test_power_centres_and_slot_lookup():
    # one regular-ish tetrahedron with Voronoi weights: its centre is the circumcentre
    y = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    cen, q, err = _split(_dual.power_centres_3d(np.array([[0, 1, 2, 3]]), y, np.zeros(4)))
    np.testing.assert_allclose(cen[0], [0.5, 0.5, 0.5], rtol=1e-15)
    assert q[0] > 0 and np.isfinite(err[0])
    cen2, q, _ = _split(_dual.power_centres_3d(np.array([[0, 2, 1, 3]]), y, np.zeros(4)))
    assert q[0] < 0  # odd permutation: the orientation flips
    np.testing.assert_array_equal(cen2, cen)  # the same vertex set: the same bits
    _, q, err = _split(_dual.power_centres_3d(np.array([[0, 1, 2, 3]]), np.array(
        [[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]), np.zeros(4)))
    assert q[0] == 0 and np.isinf(err[0])  # flat
    row = np.array([3, 8, 9, 20, 41])
    keys = np.empty(16, dtype=np.int64)
    vals = np.empty(16, dtype=np.int64)
    _dual._hash_row(keys, vals, row, 0, row.size)
    assert [_dual._slot_of(keys, vals, j) for j in (3, 8, 9, 20, 41, 4, 0)] == [0, 1, 2, 3, 4, -1, -1]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(12, 80), noise=st.sampled_from([0.0, 1e-3, 1e-2]))
def test_hypothesis_fast_equals_clipping(seed, n, noise):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 3))
    _check(y, -0.5 * (y**2).sum(axis=1) + noise * rng.standard_normal(n), BOX)


# ----------------------------------------------------------------------------- 2D
def test_2d_uniform_square_most_cells_fast():
    rng = np.random.default_rng(10)
    y = rng.random((3000, 2))
    pd = _check(y, -0.5 * (y**2).sum(axis=1), SQUARE)
    assert pd._fast.mean() > 0.8
    assert np.isclose(pd.volumes.sum(), 1.0, rtol=1e-12)


def test_2d_random_weights_and_hidden_cells():
    rng = np.random.default_rng(11)
    y = rng.random((2000, 2))
    h = -0.5 * (y**2).sum(axis=1) + 1e-4 * rng.standard_normal(2000)
    h[:30] -= 0.05
    pd = _check(y, h, geomot.Domain.box([-0.1, 0.2], [1.2, 0.9]))
    assert pd.hidden.sum() > 0 and not np.any(pd._fast & pd.hidden)
    assert pd._fast.mean() > 0.5


def test_2d_cocircular_grid_falls_back():
    # a 6x6 grid with Voronoi weights: qhull splits every square into two triangles sharing
    # their power centre (the square's centre); zero-length edges on the diagonals
    g = (np.arange(6) + 0.5) / 6
    y = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    pd = _check(y, -0.5 * (y**2).sum(axis=1), SQUARE)
    np.testing.assert_allclose(pd.volumes, 1.0 / 36, rtol=1e-12)


def test_2d_polygon_and_image_domains():
    shapely = pytest.importorskip("shapely")
    rng = np.random.default_rng(12)
    y = rng.random((600, 2))
    h = -0.5 * (y**2).sum(axis=1)
    hexagon = shapely.Polygon([(0.5 + 0.6 * np.cos(a), 0.5 + 0.6 * np.sin(a)) for a in np.arange(6) * np.pi / 3])
    pd = _check(y, h, geomot.Domain.polygon(hexagon))
    assert not pd._fast.any()  # triangle pieces: half-spaces of their own
    img = rng.random((4, 4)) + 0.5
    pd = _check(y, h, geomot.Domain.image(img, [0.0, 0.0], [1.0, 1.0]))
    assert 0.2 < pd._fast.mean() < 1.0


def test_2d_fast_against_numpy_reference():
    rng = np.random.default_rng(13)
    y = rng.random((300, 2))
    h = -0.5 * (y**2).sum(axis=1) + 1e-3 * rng.standard_normal(300)
    pd = geomot.power_diagram(y, h, SQUARE)
    tri, _, yf, wphi = _kernel_args(pd)
    done, vol, _, mom, flen, _ = _dual_only(pd)
    cells = np.flatnonzero(done)
    assert cells.size > 100
    rvol, rmom, rfac = dual_cells_reference(yf, wphi, tri.simplices, cells)
    np.testing.assert_allclose(vol[cells], rvol, rtol=1e-11)
    np.testing.assert_allclose(mom[cells], rmom, rtol=1e-11, atol=1e-11 * np.abs(rmom).max())
    for i in cells:
        row = slice(tri.indptr[i], tri.indptr[i + 1])
        ref = np.array([rfac[(i, j)] for j in tri.indices[row]])
        np.testing.assert_allclose(flen[row], ref, rtol=0, atol=1e-11 * ref.sum())


def test_2d_power_centres():
    y = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    cen, q, err = _split(_dual.power_centres_2d(np.array([[0, 1, 2], [0, 2, 1]]), y, np.array([0.0, 0.0, 1.0])))
    # Voronoi of the triangle moved by the weight of vertex 2: <x, y_2 - y_0> = 0 - 1 + 2
    np.testing.assert_allclose(cen[0], [1.0, 0.5], rtol=1e-15)
    np.testing.assert_array_equal(cen[0], cen[1])  # the same vertex set: the same bits
    assert q[0] > 0 > q[1] and np.all(np.isfinite(err))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(8, 120), noise=st.sampled_from([0.0, 1e-3, 1e-2]))
def test_2d_hypothesis_fast_equals_clipping(seed, n, noise):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2))
    _check(y, -0.5 * (y**2).sum(axis=1) + noise * rng.standard_normal(n), SQUARE)
