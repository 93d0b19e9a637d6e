"""Issue 14 (never silently wrong), domain part: degenerate sizes refused up front, sane tiny and
huge domains exact at any scale and offset, hostile input refused with named errors, meshes
checked for self-intersection / overlap / nesting, sampling loops bounded."""

import time

import numpy as np
import pytest
import shapely
import shapely.affinity as aff
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from geomot import _decompose as dec
from geomot._solid_check import check_solid
from geomot.domain import Domain

HOLE = shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1.0, 0.75))
ANNULUS = trimesh.creation.annulus(r_min=0.4, r_max=1.0, height=0.5)


def box_mesh(extents=(2, 2, 2), shift=(0, 0, 0), inward=False):
    m = trimesh.creation.box(extents=extents)
    m.apply_translation(shift)
    if inward:
        m.invert()
    return m


def concat(*meshes):
    return trimesh.util.concatenate(list(meshes))


# ----------------------------------------------------------------------------- degenerate sizes
DEGENERATE = {
    "box_tiny": (lambda: Domain.box([0, 0], [1e-200] * 2), "lo=.*hi=.*volume is 0 .*too small"),
    "box_huge": (lambda: Domain.box([0, 0], [1e200] * 2), "lo=.*hi=.*volume is inf .*too large"),
    "box_side_overflows": (lambda: Domain.box([-1e308], [1e308]), "hi - lo overflows"),
    "box_3d_tiny": (lambda: Domain.box([0, 0, 0], [1e-110] * 3), "volume is 0 .*too small"),
    "disk_tiny": (lambda: Domain.disk([0, 0], 1e-200), "radius=1e-200.*area is 0 .*too small"),
    "disk_huge": (lambda: Domain.disk([0, 0], 1e200), "radius=1e.200.*area is inf .*too large"),
    "disk_rounded_away": (lambda: Domain.disk([1e8, 0], 1e-9), "radius=.*cannot be represented"),
    "ball_1e-150": (lambda: Domain.ball([0, 0, 0], 1e-150), "radius=1e-150.*volume is 0 .*too small"),
    "ball_1e200": (lambda: Domain.ball([0, 0, 0], 1e200), "radius=.*volume is inf .*too large"),
    "image_mass_inf": (lambda: Domain.image(np.full((2, 2), 1e308), [0, 0], [2, 2]),
                       "values.*total mass .* is inf .*too large"),
    "image_mass_tiny": (lambda: Domain.image(np.full((2, 2), 1e-310), [0, 0], [1, 1]),
                        "values.*total mass .*too small"),
    "image_pixel_tiny": (lambda: Domain.image(np.ones((1000, 1000)), [0, 0], [1e-152, 1e-152]),
                         "pixel volume .*too small"),
    "polygon_1e200": (lambda: Domain.polygon(shapely.box(0, 0, 1e200, 1e200)), "geom.*area is inf"),
    "polygon_1e-200": (lambda: Domain.polygon(shapely.box(0, 0, 1e-200, 1e-200)), "geom.*area is 0"),
    "polygon_density": (lambda: Domain.polygon(shapely.box(0, 0, 2, 2), density=1e308),
                        "density=1e.308.*total mass is inf"),
    "triangulation_1e200": (lambda: Domain.triangulation([[0, 0], [1e200, 0], [0, 1e200]], [[0, 1, 2]]),
                            "vertices.*area is inf"),
    "triangulation_1e-200": (lambda: Domain.triangulation([[0, 0], [1e-200, 0], [0, 1e-200]], [[0, 1, 2]]),
                             "vertices.*area is 0"),
    "triangulation_density": (lambda: Domain.triangulation([[0, 0], [2, 0], [0, 2]], [[0, 1, 2]], [1e308]),
                              "density.*total mass is inf"),
    "mesh_1e200": (lambda: Domain.mesh(trimesh.Trimesh(1e200 * box_mesh().vertices, box_mesh().faces,
                                                       process=False)), "mesh.*volume is inf"),
    "mesh_1e-120": (lambda: Domain.mesh(trimesh.Trimesh(1e-120 * box_mesh().vertices, box_mesh().faces,
                                                        process=False)), "mesh.*volume is 0"),
    "disk_resolution": (lambda: Domain.disk([0, 0], 1.0, resolution=10 ** 9), "resolution must be at most"),
    "ball_subdivisions": (lambda: Domain.ball([0, 0, 0], 1.0, subdivisions=12), "subdivisions must be at most"),
}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_degenerate_domains_are_refused_naming_the_argument(name):
    make, match = DEGENERATE[name]
    t = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        make()
    assert time.perf_counter() - t < 10  # up front, not after a huge allocation


# ----------------------------------------------------------------------------- hostile input
HOSTILE = {
    "box_complex_lo": (lambda: Domain.box(np.array([0, 1j]), [1, 1]), TypeError, "lo must be real"),
    "box_complex_list": (lambda: Domain.box([0, 0], [1, 1 + 0j]), TypeError, "hi must be real"),
    "disk_complex_radius": (lambda: Domain.disk([0, 0], np.complex128(1 + 1j)), TypeError, "radius must be real"),
    "disk_complex_center": (lambda: Domain.disk(np.array([0, 0j]), 1.0), TypeError, "center must be real"),
    "ball_complex_radius": (lambda: Domain.ball([0, 0, 0], 1j), TypeError, "radius must be real"),
    "image_complex": (lambda: Domain.image(np.array([[1 + 1j]]), [0, 0], [1, 1]), TypeError, "values must be real"),
    "triangulation_complex": (lambda: Domain.triangulation(np.array([[0, 0], [1, 0], [0, 1j]]), [[0, 1, 2]]),
                              TypeError, "vertices must be real"),
    "triangulation_complex_density": (lambda: Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]],
                                                                   np.array([1j])), TypeError, "density must be real"),
    "triangulation_bool": (lambda: Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[True, False, True]]),
                           TypeError, "triangles must be integer"),
    "triangulation_huge_index": (lambda: Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 1e30]]),
                                 ValueError, "triangles has indices outside"),
    "polygon_complex_density": (lambda: Domain.polygon(shapely.box(0, 0, 1, 1), density=np.complex128(2)),
                                TypeError, "density must be real"),
    "polygon_merge_str": (lambda: Domain.polygon(shapely.box(0, 0, 1, 1), merge="no"), TypeError, "merge"),
    "image_origin_list": (lambda: Domain.image([[1.0]], [0, 0], [1, 1], origin=["upper"]), ValueError, "origin"),
    "box_nan": (lambda: Domain.box([0, np.nan], [1, 1]), ValueError, "lo contains NaN"),
    "box_2d_lo": (lambda: Domain.box([[0, 0]], [[1, 1]]), ValueError, "lo must be 1-D"),
    "ball_center_shape": (lambda: Domain.ball([0, 0], 1.0), ValueError, "center must have 3"),
    "mesh_not_trimesh": (lambda: Domain.mesh(np.zeros((4, 3))), ValueError, "mesh must be a trimesh"),
    "contains_complex": (lambda: Domain.box([0, 0], [1, 1]).contains(np.array([[0.5 + 1j, 0.5]])),
                         TypeError, "x must be real"),
    "indicator_1d": (lambda: Domain.box([0, 0], [1, 1]).pieces.indicator(np.array([0.5, 0.5])),
                     ValueError, "x must be a 2-D"),
    "indicator_columns": (lambda: Domain.disk([0, 0], 1.0).pieces.indicator(np.zeros((2, 3))),
                          ValueError, "x must have 2 columns"),
    "indicator_complex": (lambda: Domain.disk([0, 0], 1.0).pieces.indicator(np.zeros((2, 2), complex)),
                          TypeError, "x must be real"),
    "indicator_nan": (lambda: Domain.disk([0, 0], 1.0).pieces.indicator([[np.nan, 0.0]]),
                      ValueError, "x contains NaN"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gets_a_named_error(name):
    make, exc, match = HOSTILE[name]
    with pytest.raises(exc, match=match):
        make()


def test_no_input_is_mutated_on_error():
    lo, hi = np.zeros(2), np.full(2, 1e-200)
    values = np.full((2, 2), 1e308)
    V = np.array([[0, 0], [1e200, 0], [0, 1e200]], dtype=float)
    T = np.array([[0, 1, 2]])
    mesh = concat(box_mesh(), box_mesh(shift=(1, 0, 0)))
    before = [a.copy() for a in (lo, hi, values, V, T, mesh.vertices, mesh.faces)]
    for make in (lambda: Domain.box(lo, hi), lambda: Domain.image(values, lo, [2, 2]),
                 lambda: Domain.triangulation(V, T), lambda: Domain.mesh(mesh)):
        with pytest.raises(ValueError):
            make()
    for a, b in zip((lo, hi, values, V, T, mesh.vertices, mesh.faces), before):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- sane sizes work
def make_kind(kind, s, t):
    """The fixture domain of a kind scaled by s and moved by t (3,) (first d entries used)."""
    if kind == "box":
        return Domain.box(t + s * np.array([0, 0, 0.0]), t + s * np.array([1, 2, 3.0]))
    if kind == "disk":
        return Domain.disk(t[:2] + s * np.array([0.1, 0.2]), 0.7 * s, 33)
    if kind == "ball":
        return Domain.ball(t + s * np.array([0, 0, 1.0]), 0.5 * s, 2)
    if kind == "polygon":
        return Domain.polygon(aff.translate(aff.scale(HOLE, s, s, origin=(0, 0)), t[0], t[1]))
    if kind == "image":
        return Domain.image([[1.0, 0, 2], [3, 4, 0]], t[:2], t[:2] + s * np.array([3, 2.0]))
    if kind == "triangulation":
        return Domain.triangulation(t[:2] + s * np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0.0]]),
                                    [[0, 1, 2], [0, 3, 2], [1, 4, 2]], [1.0, 3, 0])
    assert kind == "mesh"
    return Domain.mesh(trimesh.Trimesh(t + s * np.asarray(ANNULUS.vertices), ANNULUS.faces, process=False))


KINDS = ["box", "disk", "ball", "polygon", "image", "triangulation", "mesh"]
SCALES = [1e-10, 1e-6, 1e8, 1e10]


def _stable_points(U, n=1500, seed=0):
    """Points around the unit domain whose classification does not change under 1e-6 moves."""
    rng = np.random.default_rng(seed)
    b = U.bounds
    xu = rng.uniform(b[0] - 0.1, b[1] + 0.1, (n, U.dim))
    cu = U.contains(xu)
    stable = np.ones(n, dtype=bool)
    for _ in range(4):
        stable &= U.contains(xu + rng.normal(size=xu.shape) * 1e-6) == cu
    return xu[stable], cu[stable]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("offset", [0.0, 1e8])
def test_sane_tiny_and_huge_domains_are_exact(kind, scale, offset):
    U = make_kind(kind, 1.0, np.zeros(3))
    t = offset * scale * np.array([1.0, -0.7, 0.3])
    D = make_kind(kind, scale, t)
    d = U.dim
    # offsets of 1e8 sizes round the given coordinates to ~1e-8 of the size: that is the limit
    rtol = 1e-12 if offset == 0 else 5e-8
    assert D.volume == pytest.approx(scale ** d * U.volume, rel=rtol)
    assert D.total_mass == pytest.approx(scale ** d * U.total_mass, rel=rtol)
    xu, cu = _stable_points(U)
    x = t[:d] + scale * xu
    assert 0 < cu.sum() < len(cu)
    np.testing.assert_array_equal(D.contains(x), cu)
    np.testing.assert_array_equal(D.pieces.indicator(x), U.pieces.indicator(xu))
    assert np.all(np.isfinite(D.pieces.normals))
    y = D.sample(400, seed=1)
    assert D.contains(y).all()
    np.testing.assert_allclose((y - t[:d]) / scale, U.sample(400, seed=1), rtol=0, atol=10 * rtol + 1e-13)
    c, r = D.inscribed_ball()
    cu_, ru = U.inscribed_ball()
    np.testing.assert_allclose((c - t[:d]) / scale, cu_, rtol=0, atol=10 * rtol + 1e-13)
    assert r / scale == pytest.approx(ru, rel=10 * rtol + 1e-13)
    assert D.contains(c[None])[0]


@pytest.mark.parametrize("radius", [1e-6, 1e-10, 1e8, 1e10])
def test_ball_of_any_radius_is_the_unit_polytope(radius):
    # issue 14: radius 1e-6 had NaN face normals, a wrong contains and a sample that never ended
    U = Domain.ball([0, 0, 0], 1.0)
    D = Domain.ball([0, 0, 0], radius)
    assert np.all(np.isfinite(D.pieces.normals)) and D.pieces.normals.shape == U.pieces.normals.shape
    np.testing.assert_allclose(D.pieces.normals, U.pieces.normals, atol=1e-12)
    np.testing.assert_allclose(D.pieces.offsets / radius, U.pieces.offsets, atol=1e-12)
    assert D.volume == pytest.approx(radius ** 3 * U.volume, rel=1e-12)
    assert D.contains([[0, 0, 0], [0.9 * radius, 0, 0]]).all()
    assert not D.contains([[1.01 * radius, 0, 0]]).any()
    t = time.perf_counter()
    x = D.sample(10, seed=0)
    assert time.perf_counter() - t < 5 and D.contains(x).all()


def test_ball_is_one_halfspace_per_face_at_every_subdivision():
    # trimesh's facet merging (absolute tolerance) merged non-coplanar faces from subdivisions 6 on
    D = Domain.ball([0, 0, 0], 1.0, subdivisions=6)
    assert D.pieces.normals.shape == (20 * 4 ** 6, 3)
    x = D.sample(2000, seed=0)
    assert D.contains(x).all() and not D.contains(1.001 * x / np.linalg.norm(x, axis=1)[:, None]).any()


def test_translated_merged_polygon_keeps_its_area():
    # the shoelace on absolute coordinates gave area 0.0 for this shape at offset 1e8
    g = aff.translate(shapely.Point(0, 0).buffer(1, 16).difference(shapely.box(-0.3, -0.3, 0.3, 0.3)), 1e8, 1e8)
    D = Domain.polygon(g)
    assert D.volume == pytest.approx(g.area, rel=1e-8)
    np.testing.assert_allclose(D.piece_volumes.sum(), g.area, rtol=1e-8)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["box2", "box3", "polygon"]), log_scale=st.floats(-10, 10),
       offset=st.floats(-1e8, 1e8), seed=st.integers(0, 2 ** 16))
def test_random_boxes_and_polygons_under_scaling_and_translation(kind, log_scale, offset, seed):
    rng = np.random.default_rng(seed)
    s = 10.0 ** log_scale
    if kind == "polygon":  # a random star-shaped polygon about the origin
        k = int(rng.integers(5, 12))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.3, 1.0, k)
        g = shapely.Polygon(np.c_[rad * np.cos(ang), rad * np.sin(ang)])
        if not g.is_valid or g.area < 1e-3:
            return
        t = offset * s * rng.uniform(-1, 1, 2)
        U = Domain.polygon(g)
        D = Domain.polygon(aff.translate(aff.scale(g, s, s, origin=(0, 0)), *t))
        exact = g.area
    else:
        d = 2 if kind == "box2" else 3
        lo = rng.uniform(-1, 1, d)
        hi = lo + rng.uniform(0.2, 2, d)
        t = offset * s * rng.uniform(-1, 1, d)
        U = Domain.box(lo, hi)
        D = Domain.box(t + s * lo, t + s * hi)
        exact = float(np.prod(hi - lo))
    rtol = 1e-10 if offset == 0 else 5e-7 * max(abs(offset), 1) / 1e8 + 1e-10
    assert D.volume == pytest.approx(s ** D.dim * exact, rel=rtol)
    xu, cu = _stable_points(U, n=400, seed=seed)
    np.testing.assert_array_equal(D.contains(t + s * xu), cu)
    y = D.sample(200, seed=seed)
    assert D.contains(y).all()
    assert U.contains((y - t) / s).mean() > 0.99


# ----------------------------------------------------------------------------- meshes
BAD_MESHES = {
    # issue 14: volume 16 for a union of 12, and solve masses disagreeing with sample / contains
    "overlapping_boxes": (concat(box_mesh(), box_mesh(shift=(1, 0, 0))), "overlap in a common plane"),
    "duplicated_shell": (concat(box_mesh(), box_mesh()), "overlap in a common plane"),
    "nested_outward": (concat(box_mesh(), box_mesh((1, 1, 1))), "winding number is 2"),
    "inward_alone": (concat(box_mesh(), box_mesh((1, 1, 1), (5, 0, 0), inward=True)), "winding number is -1"),
    "crossing_rotated_box": (concat(box_mesh(), box_mesh((1, 1, 1)).apply_transform(
        trimesh.transformations.rotation_matrix(0.3, [1, 1, 0])).apply_translation([0.9, 0, 0])),
        "intersects itself"),
    "overlapping_spheres": (concat(trimesh.creation.icosphere(3),
                                   trimesh.creation.icosphere(3).apply_translation([1, 0.3, 0.2])),
                            "intersects itself"),
}


def _pushed_vertex_box(target):
    m = box_mesh()
    v = m.vertices.copy()
    v[np.argmax(v.sum(axis=1))] = target
    return trimesh.Trimesh(v, m.faces, process=False)


BAD_MESHES["vertex_pushed_through"] = (_pushed_vertex_box([-1.5, 0.5, 0.5]), "intersects itself")  # w = -1 beyond


@pytest.mark.parametrize("name", list(BAD_MESHES))
def test_meshes_that_bound_no_solid_are_refused(name):
    mesh, match = BAD_MESHES[name]
    assert mesh.is_watertight and mesh.is_winding_consistent  # the old checks let them through
    with pytest.raises(ValueError, match=match):
        Domain.mesh(mesh)


GOOD_MESHES = {
    "cavity": (concat(box_mesh(), box_mesh((1, 1, 1), inward=True)), 8 - 1),
    "cavity_with_island": (concat(box_mesh(), box_mesh((1, 1, 1), inward=True), box_mesh((0.4,) * 3)),
                           8 - 1 + 0.064),
    "touching_boxes": (concat(box_mesh(), box_mesh(shift=(2, 0, 0))), 16),
    "disjoint_boxes": (concat(box_mesh(), box_mesh(shift=(5, 0, 0))), 16),
    "dented_box": (_pushed_vertex_box([-0.5, -0.4, -0.3]), None),
    "annulus": (ANNULUS, None),
    "torus": (trimesh.creation.torus(1, 0.3), None),
}


@pytest.mark.parametrize("name", list(GOOD_MESHES))
def test_valid_meshes_keep_working(name):
    mesh, vol = GOOD_MESHES[name]
    D = Domain.mesh(mesh)
    assert D.volume == pytest.approx(mesh.volume if vol is None else vol, rel=1e-12)
    # sample and contains agree with the volume: the fraction of the box inside is the volume's
    b = D.bounds
    x = np.random.default_rng(0).uniform(b[0], b[1], (20000, 3))
    frac = D.contains(x).mean()
    box = np.prod(b[1] - b[0])
    assert abs(frac - D.volume / box) < 5 * np.sqrt(0.25 / len(x))
    y = D.sample(500, seed=0)
    assert D.contains(y).all()


def test_cavity_is_excluded_from_contains_and_sample():
    D = Domain.mesh(GOOD_MESHES["cavity"][0])
    assert D.contains([[0.8, 0, 0]])[0] and not D.contains([[0.2, 0.1, 0]])[0]
    y = D.sample(2000, seed=1)
    assert not np.any(np.all(np.abs(y) < 0.5, axis=1))


def test_bunny_passes_the_solid_check_quickly():
    from geomot.shapes import bunny

    m = bunny()
    check_solid(m.vertices, m.faces)  # warm-up (imports)
    t = time.perf_counter()
    check_solid(m.vertices, m.faces)
    assert time.perf_counter() - t < 5.0  # ~0.3-0.6 s for its 16k faces on a loaded 2-core machine


def test_scaled_and_moved_meshes_pass_the_solid_check():
    for s, t in ((1e-10, 0.0), (1e10, 0.0), (1.0, 1e8), (1e-6, 1e2)):
        V = t + s * np.asarray(ANNULUS.vertices)
        check_solid(V, ANNULUS.faces)
        bad = concat(box_mesh(), box_mesh((1, 1, 1)))
        with pytest.raises(ValueError, match="winding number is 2"):
            check_solid(t + s * bad.vertices, bad.faces)


# ----------------------------------------------------------------------------- bounded sampling
def test_rejection_sampling_never_hangs():
    rng = np.random.default_rng(0)
    bounds = np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(RuntimeError, match="contains and volume disagree"):
        dec.rejection_sample(lambda x: np.zeros(len(x), dtype=bool), bounds, 0.5, 100, rng)
    with pytest.raises(ValueError, match="fills only"):
        dec.rejection_sample(lambda x: np.ones(len(x), dtype=bool), bounds, 1e-12, 100, rng)
    x = dec.rejection_sample(lambda x: x[:, 0] < 0.25, bounds, 0.25, 1000, rng)
    assert x.shape == (1000, 2) and np.all(x[:, 0] < 0.25)


def test_ball_sampling_against_the_mesh_of_the_same_polytope():
    # issue 14 point 8: Domain.ball(...).sample(10**5) took 4.3 s against 0.6 s for the mesh
    B = Domain.ball([0, 0, 0], 1.0)
    M = Domain.mesh(B.geometry)
    assert M.volume == pytest.approx(B.volume, rel=1e-12)
    t0 = time.perf_counter()
    xb = B.sample(10 ** 5, seed=1)
    t1 = time.perf_counter()
    xm = M.sample(10 ** 5, seed=1)
    t2 = time.perf_counter()
    assert t1 - t0 < t2 - t1
    assert M.contains(xb[:5000]).all() and B.contains(xm[:5000]).all()
