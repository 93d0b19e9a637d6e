"""Real data: the digits, their encoders, decoder, classifier and separation; the mixtures."""

import importlib.util

import numpy as np
import pytest

from geomot import latent, mixtures
from geomot.latent import encode_digits, load_digits, separation


@pytest.fixture(scope="module")
def small():
    return load_digits(300, seed=0)


def test_load_digits_subsets_and_bad_input():
    d = load_digits()
    assert d.images.shape == (1797, 64) and d.labels.shape == (1797,) and d.n_classes == 10
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    s = load_digits(205, n_classes=5, seed=1)
    assert len(s) == 205 and sorted(set(s.labels.tolist())) == [0, 1, 2, 3, 4]
    assert np.bincount(s.labels).tolist() == [41] * 5
    with pytest.raises(ValueError, match="n_classes"):
        load_digits(n_classes=11)
    with pytest.raises(ValueError, match="n_classes"):
        load_digits(n_classes=1)
    with pytest.raises(ValueError, match="n must be at least 100"):
        load_digits(99)
    with pytest.raises(ValueError, match="n must be at most 1797"):
        load_digits(2000)


def test_missing_sklearn_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install geomot\[ml\]"):
        load_digits()
    import geomot
    from geomot.generate import continuous_map

    res = geomot.solve_ot(geomot.Domain.box([0, 0], [1, 1]), np.random.default_rng(0).random((40, 2)))
    with pytest.raises(ImportError, match=r"geomot\[ml\]"):
        continuous_map(res, "mlp")


def test_encoders_bad_input(small):
    with pytest.raises(ValueError, match="encoder"):
        encode_digits(small, encoder="umap")
    with pytest.raises(ValueError, match="dim must be 2 or 3"):
        encode_digits(small, encoder="tsne", dim=8)
    with pytest.raises(ValueError, match="dim must be from 2 to 64"):
        encode_digits(small, encoder="pca", dim=65)
    with pytest.raises(ValueError, match="dim"):
        encode_digits(small, encoder="pca", dim=2.5)
    with pytest.raises(ValueError, match="digits"):
        encode_digits(np.zeros((10, 64)))


def test_tsne_codes_are_cached_and_separate_the_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOMOT_CACHE", str(tmp_path))
    small = load_digits(900, seed=0)  # 90 per class (at 30 per class the gaps are ~3 spacings wide)
    lat = encode_digits(small, encoder="tsne", dim=2, seed=0)
    files = list(tmp_path.glob("codes-tsne-*.npy"))
    assert len(files) == 1
    again = encode_digits(small, encoder="tsne", dim=2, seed=0)
    np.testing.assert_array_equal(again.codes, lat.codes)  # read back
    np.save(files[0], np.zeros((3, 2)))  # a damaged cache entry is recomputed, not trusted
    np.testing.assert_allclose(encode_digits(small, seed=0).codes, lat.codes, atol=1e-6)
    assert lat.codes.min() > 0.049 and lat.codes.max() < 0.951
    sep = separation(lat.codes, lat.labels, n_pairs=500)
    assert sep.knn_purity > 0.93 and sep.cross_singular > 0.6 and sep.within_singular < 0.2
    assert sep.cross_score > sep.threshold > sep.within_score
    # a linear encoder does not separate them in space
    pca = encode_digits(small, encoder="pca", dim=8)
    sep8 = separation(pca.codes, pca.labels, n_pairs=500)
    assert sep8.dim == 8 and sep8.knn_purity > 0.8 and sep8.cross_singular < 0.2


def test_decoder_classifier_and_off_manifold(small):
    lat = encode_digits(small, encoder="pca", dim=8)
    assert (lat.classify(small.images) == small.labels).mean() > 0.95  # trained on the real digits
    images = lat.decode(lat.codes)
    assert images.shape == (300, 64) and images.min() >= 0 and images.max() <= 1
    # the decoded images of the codes are the digits' neighbours' mean: mostly the same digit
    assert (lat.classify(images) == lat.labels).mean() > 0.75
    assert np.allclose(lat.class_probabilities(images).sum(axis=1), 1.0)
    assert lat.off_manifold(lat.codes).mean() <= 0.011  # the 99th percentile, by construction
    assert lat.off_manifold(lat.codes + 0.0).sum() == (lat.distance_to_data(lat.codes) > lat.off_radius).sum()
    far = np.full((1, 8), 5.0)
    assert lat.off_manifold(far)[0] and lat.nearest_label(lat.codes[:5]).tolist() == lat.labels[:5].tolist()
    with pytest.raises(ValueError, match="codes"):
        lat.decode(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="images"):
        lat.classify(np.zeros((2, 10)))


def test_separation_bad_input():
    with pytest.raises(ValueError, match="labels"):
        separation(np.random.default_rng(0).random((40, 2)), np.zeros(39))
    with pytest.raises(ValueError, match="2 classes"):
        separation(np.random.default_rng(0).random((40, 2)), np.zeros(40))


# ----------------------------------------------------------------------------- mixtures
def test_mixture_metrics_known_answers():
    ring = mixtures.ring()
    assert ring.radius == pytest.approx(3 * ring.sigma)
    good = mixtures.mode_metrics(ring.sample(2500, seed=0), ring)
    assert good.modes_covered == 8 and good.high_quality > 0.98 and good.kl < 1e-3
    # half the samples halfway between two modes: low quality, still 8 modes
    mid = 0.5 * (ring.centers + np.roll(ring.centers, 1, axis=0))
    mixed = np.vstack([ring.sample(1250, seed=1), np.repeat(mid, 157, axis=0)[:1250]])
    r = mixtures.mode_metrics(mixed, ring)
    assert r.high_quality == pytest.approx(good.high_quality / 2, abs=0.02) and r.modes_covered == 8
    # two modes only: KL = log(8 / 2)
    two = ring.sample(2400, seed=2)
    two = two[np.isin(ring.labels(two), [0, 1])]
    r2 = mixtures.mode_metrics(two, ring)
    assert r2.modes_covered == 2 and r2.kl == pytest.approx(np.log(4), abs=0.01)
    assert mixtures.mode_metrics(np.full((10, 2), 100.0), ring).kl == np.inf
    g = mixtures.grid()
    assert g.n_modes == 25 and mixtures.mode_metrics(g.sample(2500, seed=0), g).modes_covered == 25
    h = mixtures.high_dim()
    assert h.dim == 16 and mixtures.mode_metrics(h.sample(2500, seed=0), h).high_quality > 0.97
    with pytest.raises(ValueError, match="k must be at most"):
        mixtures.high_dim(k=20, d=16)
    with pytest.raises(ValueError, match="mixture"):
        mixtures.mode_metrics(np.zeros((3, 2)), "ring")
    with pytest.raises(ValueError, match="points"):
        mixtures.mode_metrics(np.zeros((3, 3)), ring)


def test_cli_skips_a_real_data_figure_without_sklearn(monkeypatch, tmp_path, capsys):
    from geomot.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert main(["reproduce", "fig1", "--quick", "--out", str(tmp_path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "fig1 skipped" in err and "pip install geomot[ml]" in err
