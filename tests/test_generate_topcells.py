"""PiecewiseLinearMap in any dimension (the top-cells construction) and continuous_map(kind='mlp')."""

import warnings
import numpy as np
import pytest

import geomot
from geomot import Domain, shapes
from geomot._gaps import TargetGaps, spacing_constant, threshold_nd
from geomot.generate import PiecewiseLinearMap, continuous_map, off_support_fraction
from geomot.result import OTResult
from geomot.singular import default_threshold, local_spacing

TWO = shapes.two_half_disks()


@pytest.fixture(scope="module")
def halves():
    return geomot.solve_ot(Domain.box([0, 0], [2, 1]), shapes.sample(TWO, 1000, seed=0), tol=1e-6)


def _modes_mc(d, n_mode=40, seed=0):
    """A Monte-Carlo-like result by hand: two tight modes in [0, 1]^d, Voronoi cells."""
    rng = np.random.default_rng(seed)
    y = np.vstack([rng.normal(0.25, 0.02, (n_mode, d)), rng.normal(0.75, 0.02, (n_mode, d))])
    n = len(y)
    return OTResult(domain=Domain.box([0.0] * d, [1.0] * d), y=y, nu=np.full(n, 1 / n),
                    h=-0.5 * np.einsum("ij,ij->i", y, y), masses=np.full(n, 1 / n), converged=True,
                    iterations=1, history=[0.0], method="montecarlo")


def test_criterion_in_any_dimension_is_singular_sets_in_2d_and_3d():
    assert spacing_constant(2) == pytest.approx(2.0) and spacing_constant(3) == pytest.approx(1.805183582749493)
    for n, d in ((300, 2), (3000, 2), (1500, 3)):
        assert threshold_nd(n, d) == pytest.approx(default_threshold(n, d), rel=1e-12)
    y = np.random.default_rng(0).random((200, 2))
    np.testing.assert_allclose(TargetGaps(y).local_scale, local_spacing(y, 16))
    # Poisson spacing in 6D: ell ~ lambda^(-1/6) for uniform points in the unit cube
    y6 = np.random.default_rng(1).random((4000, 6))
    ell = TargetGaps(y6).local_scale
    assert np.median(ell) == pytest.approx(4000 ** (-1 / 6), rel=0.25)
    with pytest.raises(ValueError, match="at least 32"):
        TargetGaps(y[:20])


def test_top_cells_on_an_exact_2d_result_is_close_to_the_delaunay_map(halves):
    g = PiecewiseLinearMap(halves)
    t = PiecewiseLinearMap(halves, construction="top-cells", seed=0)
    assert g.construction == "delaunay" and t.construction == "top-cells"
    assert t.triangulation is None and t.rejected is None and t.singular is not None
    x = halves.domain.sample(4000, seed=3)
    a, b = g(x), t(x)
    ok = np.isfinite(a[:, 0]) & np.isfinite(b[:, 0])
    assert ok.mean() > 0.95
    spacing = np.median(t.singular.local_scale)
    assert np.median(np.linalg.norm(a[ok] - b[ok], axis=1)) < 0.5 * spacing
    # the estimated centroids are close to the exact ones
    exact = halves.diagram.centroids[t.cells]
    assert np.median(np.linalg.norm(t.centroids - exact, axis=1)) < 0.2 * spacing
    assert off_support_fraction(t.sample(3000, seed=1), TWO, tol=0.01) < 0.005


@pytest.mark.parametrize("d", [3, 6])
def test_monte_carlo_result_any_dimension_avoids_the_gap(d):
    res = _modes_mc(d)
    aware = PiecewiseLinearMap(res, seed=0, n_samples=20000)
    naive = PiecewiseLinearMap(res, avoid_singular=False, seed=0, n_samples=20000)
    assert aware.construction == "top-cells" and isinstance(aware.singular, TargetGaps)
    x = aware.sample(2000, seed=1)
    assert x.shape == (2000, d) and np.all(np.isfinite(x))
    dist = np.minimum(np.linalg.norm(x - 0.25, axis=1), np.linalg.norm(x - 0.75, axis=1))
    assert dist.max() < 0.2  # every sample in a mode
    xn = naive(res.domain.sample(4000, seed=2))
    dn = np.minimum(np.linalg.norm(xn - 0.25, axis=1), np.linalg.norm(xn - 0.75, axis=1))
    assert (dn > 0.2).mean() > 0.002  # the naive map interpolates across the gap
    # along the diagonal: a band around the crossing between the modes is rejected (NaN), the
    # rest lands in a mode
    t = np.linspace(0.0, 1.0, 2001)[:, None]
    g = aware(np.full((1, d), 0.1) + t * 0.8)
    bad = np.isnan(g[:, 0])
    assert 0 < bad.sum() < 400 and not bad[[0, -1]].any()
    dg = np.minimum(np.linalg.norm(g[~bad] - 0.25, axis=1), np.linalg.norm(g[~bad] - 0.75, axis=1))
    assert dg.max() < 0.2
    # both modes get half the samples
    assert abs(np.mean(np.linalg.norm(x - 0.25, axis=1) < np.linalg.norm(x - 0.75, axis=1)) - 0.5) < 0.05


def test_monte_carlo_solve_end_to_end():
    rng = np.random.default_rng(0)
    y = np.vstack([rng.normal(0.2, 0.03, (40, 4)), rng.normal(0.8, 0.03, (40, 4))])
    # (converged or not: the map is built from whatever heights the solver reached)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geomot.ConvergenceWarning)
        res = geomot.solve_ot(Domain.box([0] * 4, [1] * 4), y, method="montecarlo", seed=0, n_samples=10000,
                              max_iter=300, tol=0.3)
    x = PiecewiseLinearMap(res, seed=0).sample(500, seed=1)
    assert np.all(np.minimum(np.abs(x - 0.2), np.abs(x - 0.8)).max(axis=1) < 0.15)
    np.testing.assert_array_equal(PiecewiseLinearMap(res, seed=0).sample(50, seed=3),
                                  PiecewiseLinearMap(res, seed=0).sample(50, seed=3))


def test_construction_keywords(halves):
    with pytest.raises(ValueError, match="construction must be one of"):
        PiecewiseLinearMap(halves, construction="voronoi")
    with pytest.raises(ValueError, match="n_samples applies to construction='top-cells'"):
        PiecewiseLinearMap(halves, n_samples=1000)
    with pytest.raises(ValueError, match="seed applies to construction='top-cells'"):
        PiecewiseLinearMap(halves, seed=0)
    with pytest.raises(ValueError, match="n_samples"):
        PiecewiseLinearMap(halves, construction="top-cells", n_samples=10)
    res = _modes_mc(3)
    with pytest.raises(ValueError, match="singular"):
        PiecewiseLinearMap(res, singular=object())
    with pytest.raises(ValueError, match="singular was computed for"):
        PiecewiseLinearMap(res, singular=TargetGaps(np.random.default_rng(0).random((40, 3))))
    g = PiecewiseLinearMap(res, seed=0, n_samples=5000)
    with pytest.raises(ValueError, match="x"):
        g(np.zeros((2, 2)))
    assert g([]).shape == (0, 3) and g.sample(0).shape == (0, 3)


def test_mlp_continuous_generator_fills_the_gap(halves):
    f = continuous_map(halves, "mlp", seed=0, n_samples=5000)
    assert f.kind == "mlp" and f.model is not None
    pts = f.sample(3000, seed=1)
    assert pts.shape == (3000, 2)
    assert off_support_fraction(pts, TWO, tol=0.01) > 0.03  # continuous: it sweeps across the gap
    # it regresses the map: its images follow T(x) = y_argmax
    x = halves.domain.sample(2000, seed=2)
    tx = halves.y[halves.potential.index(x)]
    for k in range(2):
        assert np.corrcoef(f(x)[:, k], tx[:, k])[0, 1] > 0.9
    with pytest.raises(ValueError, match="hidden"):
        continuous_map(halves, "mlp", hidden=(0,))
    with pytest.raises(ValueError, match="hidden applies to kind='mlp'"):
        continuous_map(halves, "rbf", hidden=(8,))
    with pytest.raises(ValueError, match="n_samples applies to kind='mlp'"):
        continuous_map(halves, "rbf", n_samples=100)


def test_continuous_maps_of_monte_carlo_results():
    res = _modes_mc(3)
    for kind in ("rbf", "poly", "mlp"):
        f = continuous_map(res, kind, seed=0, n_samples=5000)
        assert f.sample(100, seed=0).shape == (100, 3)
