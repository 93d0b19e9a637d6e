"""Tests for the per-kind structure behind geomot.Domain: the registry and the kind interface,
that a new kind is one registration, is_convex / pieces_disjoint per kind, the one polygon
triangulation shared with brenier, and exact ball sampling."""

import dataclasses
import pickle
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import shapely
import trimesh

import geomot
from geomot import _decompose
from geomot._domain_kind import DomainKind, register
from geomot._domain_kinds import KINDS
from geomot._pieces import box_pieces
from geomot.domain import Domain

# the abstract methods every kind must implement itself
INTERFACE = ("create", "from_arrays", "to_arrays", "contains", "sample", "inscribed_ball",
             "make_geometry", "repr_args")

HOLE = shapely.box(0, 0, 2, 1).difference(shapely.box(0.5, 0.25, 1.0, 0.75))
HEXAGON = shapely.Polygon([(np.cos(a), np.sin(a)) for a in np.arange(6) * np.pi / 3])
L = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])


def one_of_each():
    """kind name -> a domain of that kind."""
    return {
        "box": Domain.box([0, 0], [2, 1]),
        "polygon": Domain.polygon(HOLE),
        "disk": Domain.disk([0.1, 0.2], 0.7, resolution=33),
        "ball": Domain.ball([0, 0, 1], 0.5, subdivisions=1),
        "mesh": Domain.mesh(trimesh.creation.box(extents=(1, 2, 3))),
        "image": Domain.image([[1.0, 0.0], [0.5, 2.0]], [0, 0], [1, 1]),
        "triangulation": Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]], [2.0]),
    }


# ----------------------------------------------------------------------------- registry, interface
def test_registry_lists_every_kind_once_and_constructors_use_it():
    assert tuple(KINDS) == ("box", "polygon", "disk", "ball", "mesh", "image", "triangulation")
    for name, D in one_of_each().items():
        assert D.kind == name and type(D._impl) is KINDS[name]
        # every public constructor exists under the kind's name
        assert callable(getattr(Domain, name))


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_implements_the_whole_interface(name):
    cls = KINDS[name]
    assert issubclass(cls, DomainKind) and cls.name == name
    assert not cls.__abstractmethods__
    for method in INTERFACE:
        assert method in vars(cls), f"{cls.__name__} inherits {method} instead of implementing it"
    # typed, immutable state: a frozen dataclass, no untyped dict fields
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    for f in dataclasses.fields(cls):
        assert f.type not in (dict, "dict"), f"{cls.__name__}.{f.name} is an untyped dict"
    impl = one_of_each()[name]._impl
    with pytest.raises(dataclasses.FrozenInstanceError):
        impl.pieces = None
    for f in dataclasses.fields(cls):
        v = getattr(impl, f.name)
        if isinstance(v, np.ndarray):
            assert not v.flags.writeable, f"{cls.__name__}.{f.name} is writeable"


def test_from_arrays_and_repr_cover_every_registered_kind():
    with pytest.raises(ValueError, match="torus") as err:
        Domain.from_arrays({"kind": np.array("torus")})
    for name in KINDS:
        assert repr(name) in str(err.value)
    for name, D in one_of_each().items():
        E = Domain.from_arrays(D.to_arrays())
        assert E == D and E.kind == name
        r = repr(D)
        if r.startswith("Domain."):  # a constructor call: it evaluates back to the domain
            assert r.startswith(f"Domain.{name}(") and eval(r, {"Domain": Domain}) == D
        else:
            assert r.startswith(f"<Domain {name}: dim={D.dim}, pieces={D.pieces.num_pieces}")


@dataclass(frozen=True, eq=False, kw_only=True)
class _Cube(DomainKind):
    """A toy kind for the test below: the cube of half-width ``half`` around ``center``."""

    name: ClassVar[str] = "toy_cube"
    center: np.ndarray
    half: float

    @classmethod
    def create(cls, center, half):
        c = np.array(center, dtype=np.float64)
        h = float(half)
        if not h > 0:
            raise ValueError(f"half must be > 0, got {half!r}")
        return cls(center=c, half=h, pieces=box_pieces(c - h, c + h), piece_volumes=[(2 * h) ** len(c)])

    @classmethod
    def from_arrays(cls, get):
        return cls.create(get("center"), float(get("half")))

    def to_arrays(self):
        return {"center": self.center, "half": np.array(self.half)}

    def contains(self, x):
        return np.all(np.abs(x - self.center) <= self.half, axis=1)

    def sample(self, n, rng):
        return self.center + self.half * (2 * rng.random((n, self.dim)) - 1)

    def inscribed_ball(self):
        return self.center.copy(), self.half

    def make_geometry(self):
        return None

    def repr_args(self):
        return None



def test_a_new_kind_is_one_registration(tmp_path):
    assert "toy_cube" not in KINDS
    register(_Cube)
    try:
        D = Domain.from_arrays({"kind": np.array("toy_cube"), "center": np.array([1.0, 2.0, 3.0]),
                                "half": np.array(0.5)})
        assert D.kind == "toy_cube" and D.dim == 3 and D.volume == 1.0 and D.total_mass == 1.0
        assert D.is_convex and D.pieces_disjoint and D.is_uniform and D.geometry is None
        x = D.sample(500, seed=0)
        assert x.shape == (500, 3) and D.contains(x).all() and not D.contains([[0.0, 0.0, 0.0]])[0]
        with pytest.raises(ValueError, match="x must have 3 columns"):  # the facade checks input
            D.contains(np.zeros((2, 2)))
        c, r = D.inscribed_ball()
        np.testing.assert_array_equal(c, [1, 2, 3])
        assert r == 0.5
        assert repr(D).startswith("<Domain toy_cube: dim=3, pieces=1, volume=1")
        np.savez(tmp_path / "cube.npz", **D.to_arrays())
        with np.load(tmp_path / "cube.npz") as f:
            E = Domain.from_arrays(f)
        P = pickle.loads(pickle.dumps(D))
        assert E == D == P and hash(E) == hash(D) == hash(P)
        assert D != Domain.box([0.5, 1.5, 2.5], [1.5, 2.5, 3.5])  # same set, another kind
        with pytest.raises(ValueError, match="missing the entry 'half' for a toy_cube domain"):
            Domain.from_arrays({"kind": np.array("toy_cube"), "center": np.zeros(3)})
        with pytest.raises(ValueError, match="already registered"):
            register(_Cube)
        # the power diagram sees it through its pieces like any kind
        pd = geomot.power_diagram(np.array([[0.0, 0, 0], [1, 0, 0]]), np.zeros(2), D)
        assert pd.volumes.sum() == pytest.approx(1.0, rel=1e-12)
    finally:
        KINDS.pop("toy_cube")


def test_register_refuses_an_incomplete_kind():
    @dataclass(frozen=True, eq=False, kw_only=True)
    class Half(DomainKind):
        name: ClassVar[str] = "half"

        @classmethod
        def create(cls):
            return None

    with pytest.raises(TypeError, match="does not implement"):
        register(Half)
    assert "half" not in KINDS


# ----------------------------------------------------------------------------- properties
CONVEX = [
    (Domain.box([0.0], [1.0]), True),
    (Domain.box([0, 0], [2, 1]), True),
    (Domain.box(np.zeros(5), np.ones(5)), True),
    (Domain.disk([0, 0], 1.0, resolution=5), True),
    (Domain.ball([0, 0, 0], 1.0, subdivisions=1), True),
    (Domain.polygon(HEXAGON), True),  # merged into one convex piece
    (Domain.polygon(shapely.box(0, 0, 2, 1)), True),
    (Domain.polygon(HOLE), False),
    (Domain.polygon(L), False),
    (Domain.polygon(shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])), False),
    (Domain.polygon(shapely.box(0, 0, 2, 1), merge=False), False),  # convex, but not provably
    (Domain.mesh(trimesh.creation.box()), False),  # signed cones: never claimed convex
    (Domain.image([[3.0]], [0, 0], [1, 1]), True),
    (Domain.image([[1.0, 0.0], [0.0, 1.0]], [0, 0], [2, 2]), False),  # two pixels touching at a corner
    (Domain.triangulation([[0, 0], [1, 0], [0, 1]], [[0, 1, 2]]), True),
    (Domain.triangulation([[0, 0], [1, 0], [1, 1], [0, 1]], [[0, 1, 2], [0, 2, 3]], [1.0, 0.0]), True),
    (Domain.triangulation([[0, 0], [1, 0], [1, 1], [0, 1]], [[0, 1, 2], [0, 2, 3]]), False),
]


@pytest.mark.parametrize("D, convex", CONVEX, ids=lambda v: getattr(v, "kind", str(v)))
def test_is_convex_per_kind(D, convex):
    assert D.is_convex is convex
    if convex:  # a convex set holds every segment between its points
        x = D.sample(400, seed=1)
        t = np.random.default_rng(2).random((200, 1))
        assert D.contains(t * x[:200] + (1 - t) * x[200:]).all()


def test_is_convex_false_means_a_segment_leaves_the_domain_for_these():
    for D in (Domain.polygon(HOLE), Domain.polygon(L)):
        x = D.sample(2000, seed=3)
        mid = 0.5 * (x[:1000] + x[1000:])
        assert not D.contains(mid).all()


@pytest.mark.parametrize("name", list(KINDS))
def test_pieces_disjoint_per_kind(name):
    D = one_of_each()[name]
    assert D.pieces_disjoint is (name != "mesh")
    if D.pieces_disjoint:  # a partition: every point of the domain in one piece (a.e.)
        p = D.pieces
        count = p.indicator(D.sample(2000, seed=0)).sum(axis=1)
        assert np.all(p.sign == 1) and np.all(count >= 1) and np.mean(count == 1) > 0.99


def test_mesh_pieces_overlap_where_signs_cancel():
    # the reason a mesh is not pieces_disjoint (and power intersects its cells with the solid):
    # in the hole of an annulus, positive cones of the outer wall and negative cones of the
    # inner wall overlap and cancel
    D = Domain.mesh(trimesh.creation.annulus(r_min=0.4, r_max=1.0, height=0.5))
    x = np.array([[0.2, 0.0, 0.0], [0.0, -0.25, 0.1]])
    ind = D.pieces.indicator(x)
    assert not D.contains(x).any()
    assert np.all(ind.sum(axis=1) >= 2) and np.all(ind @ D.pieces.sign == 0)


def test_generate_hill_climbs_on_a_convex_polygon():
    # is_convex reaches PiecewiseLinearMap: the fast greedy argmax on a convex polygon agrees
    # with the certified argmax of the potential
    from geomot.generate import PiecewiseLinearMap

    D = Domain.polygon(HEXAGON)
    y = D.sample(40, seed=4)
    res = geomot.solve_ot(D, y, tol=1e-8)
    g = PiecewiseLinearMap(res, avoid_singular=False)
    assert g._impl._convex_domain
    x = D.sample(3000, seed=5)
    np.testing.assert_array_equal(g._impl._discrete_index(x), res.potential.index(x))


# ----------------------------------------------------------------------------- triangulation
def test_brenier_and_domain_share_one_polygon_triangulation():
    from geomot import brenier

    assert brenier._triangulate_polygon is _decompose.polygon_triangles
    D = Domain.polygon(HOLE, merge=False)
    t = _decompose.polygon_triangles(HOLE)
    np.testing.assert_array_equal(D._impl.tri_xy, t)
    np.testing.assert_array_equal(np.sort(D.pieces.lo, axis=0), np.sort(t.min(axis=1), axis=0))


@pytest.mark.parametrize("geom", [HOLE, L, HEXAGON, shapely.MultiPolygon([L, shapely.box(5, 5, 6, 7)]),
                                  shapely.Polygon([(0, 0), (1, 0), (2, 0), (2, 2), (0, 2)])])
def test_polygon_triangles_cover_exactly_ccw(geom):
    t = _decompose.polygon_triangles(geom)
    _, cross = _decompose.orient_ccw(t)
    assert t.shape[1:] == (3, 2) and np.all(cross > 0)
    assert _decompose.triangles_area(t).sum() == pytest.approx(geom.area, rel=1e-12)
    union = shapely.unary_union(shapely.polygons(t))
    assert union.symmetric_difference(geom).area < 1e-12 * geom.area


def test_polygon_triangles_of_empty_or_flat_input():
    assert _decompose.polygon_triangles(shapely.Polygon()).shape == (0, 3, 2)
    assert _decompose.polygon_triangles(shapely.MultiPolygon()).shape == (0, 3, 2)


def test_brenier_graph_facets_are_ccw():
    pytest.importorskip("pyvista")
    from geomot.brenier import BrenierPotential

    y = np.random.default_rng(6).random((10, 2)) * 2
    u = BrenierPotential(y, -0.5 * np.sum(y ** 2, axis=1))
    surf = u.graph(Domain.polygon(HOLE))
    pts = np.asarray(surf.points)[:, :2]
    _, cross = _decompose.orient_ccw(pts[np.asarray(surf.faces).reshape(-1, 4)[:, 1:]])
    assert np.all(cross > 0)  # upward normals on the whole graph


# ----------------------------------------------------------------------------- ball sampling
def test_ball_samples_uniform_in_the_polytope():
    c = np.array([0.5, -1.0, 2.0])
    D = Domain.ball(c, 2.0, subdivisions=1)
    n = 40000
    x = D.sample(n, seed=7)
    assert x.shape == (n, 3) and D.contains(x).all()
    # exact moments of the uniform measure on the polytope, from its centre cones:
    # E[x] = centroid, E[|x - c|^2] = sum_t vol_t (sum_i |v_i|^2 + |sum_i v_i|^2) / 20 / V
    impl = D._impl
    assert np.all(impl.cone_volumes > 0)
    assert impl.cone_volumes.sum() == pytest.approx(D.volume, rel=1e-12)
    v = impl.cones - c
    m2_t = (np.sum(v ** 2, axis=(1, 2)) + np.sum(v.sum(axis=1) ** 2, axis=1)) / 20
    m2 = float(np.sum(impl.cone_volumes * m2_t) / D.volume)
    r2 = np.sum((x - c) ** 2, axis=1)
    assert abs(r2.mean() - m2) < 5 * r2.std() / np.sqrt(n)
    np.testing.assert_allclose(x.mean(0), c, atol=5 * np.sqrt(4.0 / 5 / n))
    # octant masses: 1/8 each (the icosphere is symmetric under coordinate sign changes)
    octant = ((x - c) > 0) @ [1, 2, 4]
    frac = np.bincount(octant, minlength=8) / n
    assert np.all(np.abs(frac - 0.125) < 5 * np.sqrt(0.125 * 0.875 / n))
    np.testing.assert_array_equal(D.sample(5, seed=3), D.sample(5, seed=3))


def test_ball_sampling_is_not_slower_than_the_mesh():
    # issue 14 point 8: 1e5 ball samples took 4.3 s by rejection (0.6 s for the same mesh)
    B = Domain.ball([0, 0, 0], 1.0)
    M = Domain.mesh(B.geometry)
    B.sample(10, seed=0), M.sample(10, seed=0)
    t0 = time.perf_counter()
    B.sample(10 ** 5, seed=1)
    t1 = time.perf_counter()
    M.sample(10 ** 5, seed=1)
    t2 = time.perf_counter()
    assert t1 - t0 < t2 - t1
