"""Tests for geomot.shapes: exact areas, symmetry, stored WKT files, bunny loading, sampling."""

from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from geomot import shapes
from geomot.domain import Domain

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WATERTIGHT = SHARED / "bunny_watertight.ply"
OPEN = SHARED / "bunny_stanford_open.ply"


def ngon_area(r, N):
    return N / 2 * r * r * np.sin(2 * np.pi / N)


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_shapes_valid_oriented(name):
    g = shapes.SHAPES[name](resolution=64)
    assert g.is_valid and g.area > 0
    for p in shapely.get_parts(g):
        assert p.exterior.is_ccw
        assert all(not r.is_ccw for r in p.interiors)


def test_two_half_disks_geometry():
    N, r, gap = 64, 1.5, 0.4
    g = shapes.two_half_disks(radius=r, gap=gap, center=(1.0, 0.5), resolution=N)
    left, right = sorted(g.geoms, key=lambda p: p.centroid.x)
    # each half of the regular N-gon has half its area; equal components
    assert left.area == pytest.approx(ngon_area(r, N) / 2, rel=1e-12)
    assert right.area == pytest.approx(left.area, rel=1e-12)
    # flat sides face each other across the gap, symmetric about x = 1
    assert left.bounds[2] == pytest.approx(1.0 - gap / 2, abs=1e-15)
    assert right.bounds[0] == pytest.approx(1.0 + gap / 2, abs=1e-15)
    mirrored = shapely.affinity.scale(left, xfact=-1, yfact=1, origin=(1.0, 0.5))
    assert mirrored.symmetric_difference(right).area < 1e-12
    assert g.bounds == pytest.approx((1 - gap / 2 - r, 0.5 - r, 1 + gap / 2 + r, 0.5 + r), abs=1e-14)
    # the convex hull minus the shape is the gap rectangle
    assert g.convex_hull.area - g.area == pytest.approx(gap * 2 * r, rel=1e-12)


def test_annulus_area_and_hole():
    N = 128
    g = shapes.annulus(0.3, 1.2, resolution=N)
    assert g.area == pytest.approx(ngon_area(1.2, N) - ngon_area(0.3, N), rel=1e-12)
    assert not g.contains(shapely.Point(0, 0))
    assert g.contains(shapely.Point(0.7, 0))
    with pytest.raises(ValueError, match="r_in must be < r_out"):
        shapes.annulus(1.0, 0.5)
    with pytest.raises(ValueError, match="r_in"):
        shapes.annulus(0.0, 1.0)


def test_disk_with_hole():
    N = 64
    g = shapes.disk_with_hole(radius=1.0, hole_radius=0.3, hole_center=(0.2, 0.1), resolution=N)
    assert g.area == pytest.approx(ngon_area(1.0, N) - ngon_area(0.3, N), rel=1e-12)
    assert not g.contains(shapely.Point(0.2, 0.1))
    assert len(g.interiors) == 1
    with pytest.raises(ValueError, match="hole"):
        shapes.disk_with_hole(hole_radius=0.8, hole_center=(0.5, 0))


def test_dumbbell():
    N = 64
    r, s, w = 1.0, 3.0, 0.2
    g = shapes.dumbbell(radius=r, separation=s, bar_width=w, resolution=N)
    assert g.geom_type == "Polygon" and len(g.interiors) == 0
    # two disks plus the bar between them (the bar's ends inside the disks are not counted twice)
    bar_out = shapely.box(-s / 2, -w / 2, s / 2, w / 2).difference(
        shapely.unary_union([shapely.Polygon(shapes._circle(np.array(c), r, N))
                             for c in ((-s / 2, 0), (s / 2, 0))]))
    assert g.area == pytest.approx(2 * ngon_area(r, N) + bar_out.area, rel=1e-12)
    assert bar_out.area == pytest.approx(w * (s - 2 * r), rel=0.01)
    # the midline x = 0 meets the shape only in the bar
    mid = g.intersection(shapely.LineString([(0, -2), (0, 2)]))
    assert mid.length == pytest.approx(w, rel=1e-12)
    with pytest.raises(ValueError, match="separation"):
        shapes.dumbbell(separation=1.5)
    with pytest.raises(ValueError, match="bar_width"):
        shapes.dumbbell(bar_width=2.5)


def test_notched_disk():
    K = 4
    g = shapes.notched_disk(notches=K, notch_depth=0.3, hole_radius=0.2, resolution=128)
    assert len(g.interiors) == 1
    hull = g.convex_hull
    # the hull minus the shape: the hole and K notches -> K + 1 components
    missing = shapely.get_parts(hull.difference(g).buffer(-1e-9))
    assert len(missing) == K + 1
    # notch k is centred on the ray of angle pi/2 + 2 pi k / K, of depth 0.3
    for k in range(K):
        th = np.pi / 2 + 2 * np.pi * k / K
        u = np.array([np.cos(th), np.sin(th)])
        assert not g.contains(shapely.Point(*(0.85 * u)))
        assert g.contains(shapely.Point(*(0.65 * u)))
    with pytest.raises(ValueError, match="notch"):
        shapes.notched_disk(notches=8, notch_width=1.5)
    with pytest.raises(ValueError, match="hole_radius"):
        shapes.notched_disk(hole_radius=0.7, notch_depth=0.5)


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_stored_files_equal_generators(name):
    stored = shapes.load_shape(name)
    gen = shapes.SHAPES[name]()
    assert stored.geom_type == gen.geom_type
    np.testing.assert_array_equal(shapely.get_coordinates(stored), shapely.get_coordinates(gen))
    assert stored.equals_exact(gen, 0.0)


def test_write_shape_files_round_trip(tmp_path):
    paths = shapes.write_shape_files(tmp_path / "sub")
    assert sorted(p.stem for p in paths) == sorted(shapes.SHAPES)
    for p in paths:
        # identical to the committed files
        assert p.read_text() == (shapes.DATA_DIR / p.name).read_text()
    with pytest.raises(ValueError, match="name"):
        shapes.load_shape("torus")
    with pytest.raises(FileNotFoundError):
        shapes.load_shape("annulus", directory=tmp_path)


def test_resolution_validation():
    with pytest.raises(ValueError, match="resolution"):
        shapes.annulus(resolution=2)
    with pytest.raises(ValueError, match="resolution"):
        shapes.two_half_disks(resolution=4.5)
    with pytest.raises(ValueError, match="center"):
        shapes.two_half_disks(center=(0, 0, 0))


# ----------------------------------------------------------------------------- sample
def test_sample_polygon_uniform():
    g = shapes.annulus(0.5, 1.0, resolution=256)
    n = 20000
    x = shapes.sample(g, n, seed=0)
    r = np.linalg.norm(x, axis=1)
    assert np.all(r >= 0.5 * np.cos(np.pi / 256) - 1e-12) and np.all(r <= 1.0 + 1e-12)
    # uniform annulus: |x|^2 uniform on [1/4, 1] -> mean 5/8, variance (3/4)^2 / 12
    assert abs((r ** 2).mean() - 0.625) < 5 * 0.75 / np.sqrt(12 * n)
    np.testing.assert_array_equal(x, shapes.sample(g, n, seed=np.random.default_rng(0)))


def test_sample_two_half_disks_balanced():
    g = shapes.two_half_disks()
    n = 10000
    x = shapes.sample(g, n, seed=1)
    assert Domain.polygon(g).contains(x).all()
    frac = np.mean(x[:, 0] > 0)
    assert abs(frac - 0.5) < 5 * 0.5 / np.sqrt(n)


def test_sample_mesh_and_domain():
    m = trimesh.creation.box(extents=(2, 1, 1))
    x = shapes.sample(m, 2000, seed=0)
    assert x.shape == (2000, 3) and np.all(np.abs(x) <= [1, 0.5, 0.5])
    D = Domain.box([0, 0], [1, 1])
    np.testing.assert_array_equal(shapes.sample(D, 5, seed=3), D.sample(5, seed=3))
    with pytest.raises(ValueError, match="shape"):
        shapes.sample(shapely.Point(0, 0), 10)


@settings(max_examples=10, deadline=None)
@given(st.floats(0.1, 0.8), st.integers(8, 64))
def test_sample_inside_annulus(r_in, res):
    g = shapes.annulus(r_in, 1.0, resolution=res)
    x = shapes.sample(g, 200, seed=0)
    assert np.all(shapely.intersects_xy(g.buffer(1e-9), x[:, 0], x[:, 1]))


# ----------------------------------------------------------------------------- bunny
@pytest.mark.skipif(not WATERTIGHT.is_file(), reason="shared bunny data not available")
def test_bunny_default_path_and_rescale():
    raw = shapes.bunny(rescale=False)
    assert raw.is_watertight and raw.volume == pytest.approx(7.5e-4, rel=0.01)
    m = shapes.bunny()
    assert m.is_watertight and m.is_volume
    v = np.asarray(m.vertices)
    assert np.linalg.norm(v, axis=1).max() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose((v.min(0) + v.max(0)) / 2, 0, atol=1e-12)
    # volume scales with the cube of the scale factor
    rv = np.asarray(raw.vertices)
    s = np.linalg.norm(rv - (rv.min(0) + rv.max(0)) / 2, axis=1).max()
    assert m.volume == pytest.approx(raw.volume / s ** 3, rel=1e-10)


@pytest.mark.skipif(not WATERTIGHT.is_file(), reason="shared bunny data not available")
def test_bunny_domain_volume_and_tiling():
    m = shapes.bunny()
    D = Domain.mesh(m)
    assert D.volume == pytest.approx(m.volume, rel=1e-10)
    assert np.any(D.pieces.sign < 0)
    x = np.random.default_rng(0).uniform(-1, 1, size=(300, 3))
    cover = D.pieces.indicator(x).astype(float) @ D.pieces.sign
    np.testing.assert_array_equal(cover, D.contains(x).astype(float))
    np.testing.assert_array_equal(D.contains(x), m.contains(x))
    y = shapes.sample(m, 500, seed=0)
    assert D.contains(y).all()


@pytest.mark.skipif(not WATERTIGHT.is_file(), reason="shared bunny data not available")
def test_bunny_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOMOT_DATA", str(SHARED))
    assert shapes.bunny().is_watertight
    monkeypatch.setenv("GEOMOT_DATA", str(WATERTIGHT))
    assert shapes.bunny().is_watertight


def test_bunny_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="path="):
        shapes.bunny(path=tmp_path / "nothing.ply")


@pytest.mark.skipif(not OPEN.is_file(), reason="shared open bunny not available")
def test_bunny_open_mesh_rejected():
    with pytest.raises(ValueError, match="not watertight"):
        shapes.bunny(path=OPEN)
    with pytest.raises(ValueError, match="not watertight"):
        Domain.mesh(trimesh.load(str(OPEN), force="mesh"))


# ----------------------------------------------------------------------------- package data
def test_shape_files_are_package_data():
    from importlib import resources

    assert shapes.DATA_DIR == resources.files("geomot") / "data" / "shapes"
    pkg = Path(shapes.__file__).resolve().parent
    assert Path(shapes.DATA_DIR).resolve() == pkg / "data" / "shapes"
    for name in shapes.SHAPES:
        assert (shapes.DATA_DIR / f"{name}.wkt").is_file()
    # the repository's top-level data/shapes is the same folder (a link), not a second copy
    top = Path(__file__).resolve().parents[1] / "data" / "shapes"
    if top.exists():
        assert top.is_symlink() and top.resolve() == pkg / "data" / "shapes"


def test_load_shape_from_a_zipped_resource(tmp_path):
    """A traversable that is not a file system path (a zipped package) is read as well."""
    import zipfile

    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in shapes.SHAPES:
            zf.writestr(f"shapes/{name}.wkt", (shapes.DATA_DIR / f"{name}.wkt").read_text())
    with zipfile.ZipFile(archive) as zf:
        folder = zipfile.Path(zf, "shapes/")
        for name, fn in shapes.SHAPES.items():
            assert shapes.load_shape(name, directory=folder).equals_exact(fn(), 0.0)
        with pytest.raises(FileNotFoundError, match="annulus.wkt not found"):
            shapes.load_shape("annulus", directory=zipfile.Path(zf, "elsewhere/"))


def test_bunny_packaged_copy_is_found_alone(monkeypatch):
    """Without GEOMOT_DATA (and with no ../shared beside the package) the packaged copy is read."""
    monkeypatch.delenv("GEOMOT_DATA", raising=False)
    pkg = Path(shapes.__file__).resolve().parent
    candidates = shapes._bunny_candidates()
    assert [Path(p).resolve() for p in candidates] == [pkg / "data" / "bunny_watertight.ply"]
    assert not any("shared" in Path(p).parts for p in candidates)
    raw = shapes.bunny(rescale=False)
    assert raw.is_watertight and len(raw.faces) == 16372
    assert raw.volume == pytest.approx(7.5e-4, rel=0.01)
    if WATERTIGHT.is_file():  # the same scan as the shared data, byte for byte
        assert (pkg / "data" / "bunny_watertight.ply").read_bytes() == WATERTIGHT.read_bytes()


def test_bunny_packaged_copy_read_through_importlib_resources(monkeypatch, tmp_path):
    """The packaged copy is opened with importlib.resources.as_file (works for a zipped package too)."""
    import zipfile

    monkeypatch.delenv("GEOMOT_DATA", raising=False)
    archive = tmp_path / "geomot.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/bunny_watertight.ply", shapes._PACKAGED_BUNNY.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        monkeypatch.setattr(shapes, "_PACKAGED_BUNNY", zipfile.Path(zf, "data/bunny_watertight.ply"))
        m = shapes.bunny()
    assert m.is_watertight and len(m.faces) == 16372
    assert np.linalg.norm(np.asarray(m.vertices), axis=1).max() == pytest.approx(1.0, rel=1e-12)


def test_geomot_data_and_path_take_precedence(monkeypatch, tmp_path):
    box = trimesh.creation.box(extents=(2.0, 1.0, 1.0))  # volume 2: not the bunny's 7.5e-4
    (tmp_path / "mine").mkdir()
    box.export(tmp_path / "mine" / "bunny_watertight.ply")
    box.export(tmp_path / "other.ply")
    monkeypatch.setenv("GEOMOT_DATA", str(tmp_path / "mine"))  # a folder
    assert shapes.bunny(rescale=False).volume == pytest.approx(2.0, rel=1e-12)
    monkeypatch.setenv("GEOMOT_DATA", str(tmp_path / "other.ply"))  # the file itself
    assert shapes.bunny(rescale=False).volume == pytest.approx(2.0, rel=1e-12)
    monkeypatch.setenv("GEOMOT_DATA", str(tmp_path / "empty"))  # nothing there: the packaged copy
    assert shapes.bunny(rescale=False).volume == pytest.approx(7.5e-4, rel=0.01)
    monkeypatch.delenv("GEOMOT_DATA")
    assert shapes.bunny(path=tmp_path / "other.ply", rescale=False).volume == pytest.approx(2.0, rel=1e-12)
