"""Real data in a latent space: scikit-learn's handwritten digits, encoded, decoded and judged.

The article's claim is about generative models of real data: the latent codes of a data set
form clusters (its figure 1: ten clusters of MNIST digits in a t-SNE embedding), a generator
is a map from a simple latent measure onto the codes, and a decoder turns codes back into
images.  This module gives geomot such data without any download (``pip install geomot[ml]``):

* :func:`load_digits` -- the 1,797 8x8 digits bundled with scikit-learn (10 classes);
* :func:`encode_digits` -- codes in the unit cube, by an encoder (:data:`ENCODERS`):
  ``"tsne"`` (2D t-SNE, as in the article; the default), ``"pca"`` or ``"autoencoder"``
  (a scikit-learn MLP's bottleneck), and a :class:`LatentDigits` that decodes codes to images
  (k-nearest-neighbour regression), classifies images (a logistic regression trained on the
  real digits, independent of the latent space) and says which codes are off the data manifold;
* :func:`separation` -- how well the codes of different classes are separated (k-NN purity and
  the singular-set emptiness criterion across and within classes).

Why t-SNE.  Measured with :func:`separation` on the 1,797 digits (``benchmarks/
bench_mode_collapse.py --encoders``): a PCA or an MLP-autoencoder bottleneck of dimension 8
keeps the classes apart for a classifier (k-NN purity 0.92 and 0.90) but not in space -- only
7.5 % and 4.5 % of the segments between two codes of different classes cross an empty ball wider
than the threshold (median scores 2.7 and 2.5, threshold 3.67), so no singular set separates
the digits there and no generator can show mode collapse; the 2D t-SNE codes form ten clusters
(k-NN purity 0.98) with empty space between them: 94 % of the cross-class segments are singular
(median score 10.3, threshold 5.25), 7.8 % of the within-class ones (a few digits form two
sub-clusters).  The latent transport is then exact 2D Newton.  The table is in
``docs/mode_collapse_benchmarks.md``.

t-SNE has no out-of-sample transform and takes seconds; its codes are cached in
``$GEOMOT_CACHE`` (default ``~/.cache/geomot``; ``cache=False`` or ``GEOMOT_CACHE=""`` turn
the cache off), keyed by everything they depend on.
"""

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from ._ml import require_sklearn, single_threaded
from ._validate import as_points, as_positive_int, readonly

__all__ = ["Digits", "LatentDigits", "Separation", "ENCODERS", "load_digits", "encode_digits",
           "separation", "off_manifold_radius"]

#: number of classes (digits 0-9) and pixels of the bundled data set
N_CLASSES = 10
IMAGE_SHAPE = (8, 8)
#: a class needs at least this many images (t-SNE's perplexity and the local spacing need them)
MIN_PER_CLASS = 10
#: codes are scaled into [MARGIN, 1 - MARGIN]^d (a box inside the unit cube)
MARGIN = 0.05
#: neighbours of the k-NN decoder and of the k-NN purity
DECODER_NEIGHBORS = 8
PURITY_NEIGHBORS = 10
#: a code is off the data manifold beyond this quantile of the codes' nearest-neighbour distances
OFF_MANIFOLD_QUANTILE = 0.99


@dataclass(frozen=True, eq=False)
class Digits:
    """Handwritten digits: images in [0, 1] and their classes.

    Attributes
    ----------
    images : (N, 64) float64
        Pixel intensities in [0, 1] (scikit-learn's 0..16 divided by 16), rows of 8x8 images.
    labels : (N,) int64
        The digit of each image, in ``range(n_classes)``.
    n_classes : int

    Example
    -------
    >>> d = load_digits(100)
    >>> len(d), d.image_shape, d.images[0].reshape(d.image_shape).shape
    (100, (8, 8), (8, 8))
    """

    images: np.ndarray
    labels: np.ndarray
    n_classes: int

    @property
    def image_shape(self):
        """``(8, 8)``: the shape of one image (rows of :attr:`images` reshape to it)."""
        return IMAGE_SHAPE

    def __len__(self):
        return int(self.labels.shape[0])


def load_digits(n=None, *, n_classes=N_CLASSES, seed=0):
    """The handwritten digits bundled with scikit-learn (no download).

    Parameters
    ----------
    n : int, optional
        Number of images: all of the chosen classes (default), or a subset of ``n`` with an
        equal share per class (seeded), at least ``10 * n_classes``.
    n_classes : int
        The digits ``0 .. n_classes - 1`` (2 to 10).
    seed : None, int or numpy.random.Generator
        Seeds the subset.

    Returns
    -------
    Digits

    Raises
    ------
    ValueError
        ``n_classes`` not in 2..10, or ``n`` too small or larger than the data.
    ImportError
        scikit-learn is not installed (``pip install geomot[ml]``).

    Example
    -------
    >>> d = load_digits()
    >>> d.images.shape, d.n_classes, float(d.images.max())
    ((1797, 64), 10, 1.0)
    >>> len(load_digits(200, n_classes=4, seed=0)), sorted(set(load_digits(200, n_classes=4).labels.tolist()))
    (200, [0, 1, 2, 3])
    """
    from ._validate import as_rng

    require_sklearn("geomot.latent.load_digits")
    from sklearn.datasets import load_digits as _load

    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or not 2 <= n_classes <= N_CLASSES:
        raise ValueError(f"n_classes must be an integer from 2 to {N_CLASSES}, got {n_classes!r}")
    n_classes = int(n_classes)
    data = _load()
    keep = data.target < n_classes
    images = np.asarray(data.data[keep], dtype=np.float64) / 16.0
    labels = np.asarray(data.target[keep], dtype=np.int64)
    if n is not None:
        n = as_positive_int(n, "n")
        if n < MIN_PER_CLASS * n_classes:
            raise ValueError(f"n must be at least {MIN_PER_CLASS * n_classes} ({MIN_PER_CLASS} images per "
                             f"class, {n_classes} classes), got {n}")
        if n > labels.size:
            raise ValueError(f"n must be at most {labels.size} (the images of {n_classes} classes), got {n}")
        if n < labels.size:
            rng = as_rng(seed)
            share = [n // n_classes + (1 if c < n % n_classes else 0) for c in range(n_classes)]
            pick = np.concatenate([rng.choice(np.flatnonzero(labels == c), share[c], replace=False)
                                   for c in range(n_classes)])
            pick.sort()
            images, labels = images[pick], labels[pick]
    return Digits(readonly(images), readonly(labels), n_classes)


# ----------------------------------------------------------------------------- encoders
class _Encoder:
    """One way to map images to codes: ``fit_transform(images, dim, seed) -> (N, dim)``."""

    name: ClassVar[str] = ""
    cached: ClassVar[bool] = False

    @classmethod
    def check_dim(cls, dim):
        raise NotImplementedError

    @classmethod
    def fit_transform(cls, images, dim, seed):
        raise NotImplementedError


class _TSNE(_Encoder):
    """t-SNE (van der Maaten and Hinton 2008) of the images, as in the article's figure 1."""

    name = "tsne"
    cached = True
    #: scikit-learn's defaults but 500 iterations (the clusters are formed by then: k-NN purity
    #: 0.973 at 500 and at 1000 on the digits, in half the time)
    PERPLEXITY = 30.0
    MAX_ITER = 500

    @classmethod
    def check_dim(cls, dim):
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3 for encoder='tsne' (Barnes-Hut t-SNE), got {dim}")

    @classmethod
    def fit_transform(cls, images, dim, seed):
        from sklearn.manifold import TSNE

        perplexity = min(cls.PERPLEXITY, (images.shape[0] - 1) / 3.0)
        return TSNE(dim, perplexity=perplexity, init="pca", max_iter=cls.MAX_ITER,
                    random_state=seed).fit_transform(images)


class _PCA(_Encoder):
    """Principal components of the images (linear)."""

    name = "pca"

    @classmethod
    def check_dim(cls, dim):
        if not 2 <= dim <= IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
            raise ValueError(f"dim must be from 2 to 64 for encoder='pca', got {dim}")

    @classmethod
    def fit_transform(cls, images, dim, seed):
        from sklearn.decomposition import PCA

        return PCA(dim, random_state=seed).fit_transform(images)


class _Autoencoder(_Encoder):
    """The bottleneck of an MLP trained to reproduce the images (64 -> 128 -> dim -> 128 -> 64)."""

    name = "autoencoder"
    HIDDEN = 128

    @classmethod
    def check_dim(cls, dim):
        if not 2 <= dim <= 32:
            raise ValueError(f"dim must be from 2 to 32 for encoder='autoencoder', got {dim}")

    @classmethod
    def fit_transform(cls, images, dim, seed):
        from sklearn.neural_network import MLPRegressor

        net = MLPRegressor(hidden_layer_sizes=(cls.HIDDEN, dim, cls.HIDDEN), activation="relu",
                           max_iter=400, random_state=seed).fit(images, images)
        a = images
        for w, b in zip(net.coefs_[:2], net.intercepts_[:2]):
            a = np.maximum(a @ w + b, 0.0)
        return a


#: the encoders of :func:`encode_digits`, by name
ENCODERS = {e.name: e for e in (_TSNE, _PCA, _Autoencoder)}


def _cache_dir():
    env = os.environ.get("GEOMOT_CACHE")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "geomot"


def _cached_codes(encoder, images, dim, seed, cache):
    """The encoder's codes, read from / written to the cache when the encoder is slow."""
    import sklearn

    path = None
    if cache and encoder.cached:
        folder = _cache_dir()
        if folder is not None:
            key = hashlib.sha256()
            for part in (encoder.name, getattr(encoder, "PERPLEXITY", ""), getattr(encoder, "MAX_ITER", ""),
                         dim, seed, sklearn.__version__, np.__version__):
                key.update(repr(part).encode())
            key.update(np.ascontiguousarray(images).tobytes())
            path = folder / f"codes-{encoder.name}-{key.hexdigest()[:20]}.npy"
            try:
                codes = np.load(path, allow_pickle=False)
                if codes.shape == (images.shape[0], dim) and np.all(np.isfinite(codes)):
                    return codes
            except (OSError, ValueError):
                pass
    with single_threaded():
        codes = np.asarray(encoder.fit_transform(images, dim, seed), dtype=np.float64)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, codes)
            os.replace(tmp, path)
        except OSError:  # a read-only home: no cache
            pass
    return codes


def _unit_box(codes):
    """Codes scaled (one factor for all axes) and centred into ``[MARGIN, 1 - MARGIN]^d``."""
    lo, hi = codes.min(axis=0), codes.max(axis=0)
    span = float(np.max(hi - lo))
    if not span > 0:
        raise ValueError("the encoder gave identical codes for every image")
    return 0.5 + (codes - 0.5 * (lo + hi)) * ((1.0 - 2.0 * MARGIN) / span)


def off_manifold_radius(codes, quantile=OFF_MANIFOLD_QUANTILE):
    """The ``quantile`` of the codes' nearest-neighbour distances (the off-manifold radius).

    Example
    -------
    >>> import numpy as np
    >>> off_manifold_radius(np.arange(10.0)[:, None] * [1.0, 0.0])
    1.0
    """
    from scipy.spatial import cKDTree

    codes = as_points(codes, "codes", min_rows=2)
    dist, _ = cKDTree(codes).query(codes, k=2)
    return float(np.quantile(dist[:, 1], quantile))


@dataclass(frozen=True, eq=False)
class LatentDigits:
    """Digits with their codes, a decoder, an independent classifier and an off-manifold test.

    Attributes
    ----------
    digits : Digits
    codes : (N, d) float64
        The codes, scaled into ``[0.05, 0.95]^d`` (the unit cube is the natural source).
    encoder : str
    off_radius : float
        The 99th percentile of the codes' nearest-neighbour distances: a code farther than
        this from every data code is *off the data manifold* (:meth:`off_manifold`).

    Example
    -------
    >>> import numpy as np
    >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
    >>> lat.decode(lat.codes[:3]).shape, bool((lat.classify(lat.digits.images) == lat.labels).mean() > 0.95)
    ((3, 64), True)
    >>> lat.off_manifold(np.array([[5.0, 5.0]])).tolist()
    [True]
    """

    digits: Digits
    codes: np.ndarray
    encoder: str
    off_radius: float
    _tree: object = field(repr=False)

    @property
    def dim(self):
        """The latent dimension ``d``."""
        return int(self.codes.shape[1])

    @property
    def labels(self):
        """(N,) int64: the digit of each code (``digits.labels``)."""
        return self.digits.labels

    @cached_property
    def _decoder(self):
        from sklearn.neighbors import KNeighborsRegressor

        with single_threaded():
            return KNeighborsRegressor(DECODER_NEIGHBORS).fit(self.codes, self.digits.images)

    @cached_property
    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        with single_threaded():
            return LogisticRegression(max_iter=2000).fit(self.digits.images, self.digits.labels)

    def decode(self, codes):
        """(m, d) codes -> (m, 64) images in [0, 1]: the mean image of the ``DECODER_NEIGHBORS`` (8)
        nearest data codes (k-NN regression: instant to train, and a code between two clusters
        decodes to a blend of both).

        Example
        -------
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> img = lat.decode(lat.codes[:2])
        >>> img.shape, bool(img.min() >= 0.0 and img.max() <= 1.0)
        ((2, 64), True)
        """
        codes = as_points(codes, "codes", dim=self.dim, dim_of="the latent space")
        with single_threaded():
            return np.clip(self._decoder.predict(codes), 0.0, 1.0)

    def classify(self, images):
        """(m, 64) images -> (m,) digits, by a logistic regression trained on the real digits.

        Example
        -------
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> bool((lat.classify(lat.digits.images[:50]) == lat.labels[:50]).mean() > 0.9)
        True
        """
        images = as_points(images, "images", dim=IMAGE_SHAPE[0] * IMAGE_SHAPE[1], dim_of="an 8x8 image")
        with single_threaded():
            return self._classifier.predict(images).astype(np.int64)

    def class_probabilities(self, images):
        """(m, n_classes) the classifier's probabilities (rows sum to 1).

        Example
        -------
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> p = lat.class_probabilities(lat.digits.images[:3])
        >>> p.shape, bool(abs(p.sum(axis=1) - 1).max() < 1e-9)
        ((3, 10), True)
        """
        images = as_points(images, "images", dim=IMAGE_SHAPE[0] * IMAGE_SHAPE[1], dim_of="an 8x8 image")
        with single_threaded():
            return self._classifier.predict_proba(images)

    def distance_to_data(self, codes):
        """(m,) distance of each code to the nearest data code.

        Example
        -------
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> lat.distance_to_data(lat.codes[:2]).tolist()
        [0.0, 0.0]
        """
        codes = as_points(codes, "codes", dim=self.dim, dim_of="the latent space")
        return self._tree.query(codes, k=1)[0]

    def off_manifold(self, codes):
        """(m,) bool: farther from every data code than :attr:`off_radius`.

        Example
        -------
        >>> import numpy as np
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> lat.off_manifold(np.vstack([lat.codes[:1], [[3.0, 3.0]]])).tolist()
        [False, True]
        """
        return self.distance_to_data(codes) > self.off_radius

    def nearest_label(self, codes):
        """(m,) the class of the nearest data code (the cluster a code lies in).

        Example
        -------
        >>> lat = encode_digits(load_digits(200), encoder="pca", dim=2)
        >>> bool((lat.nearest_label(lat.codes) == lat.labels).all())
        True
        """
        codes = as_points(codes, "codes", dim=self.dim, dim_of="the latent space")
        return self.digits.labels[self._tree.query(codes, k=1)[1]]


def encode_digits(digits=None, *, encoder="tsne", dim=2, seed=0, cache=True):
    """Codes of the digits in the unit cube, by one of :data:`ENCODERS`.

    Parameters
    ----------
    digits : Digits, optional
        Default: :func:`load_digits` () (all 1,797).
    encoder : {"tsne", "pca", "autoencoder"}
    dim : int
        Latent dimension (t-SNE: 2 or 3; PCA: 2..64; autoencoder: 2..32).
    seed : int
        Seeds the encoder.
    cache : bool
        Read and write t-SNE codes in the cache folder (see the module notes).

    Returns
    -------
    LatentDigits

    Example
    -------
    >>> lat = encode_digits(load_digits(300, seed=0), encoder="pca", dim=4)
    >>> lat.codes.shape, bool(lat.codes.min() > 0.049 and lat.codes.max() < 0.951)
    ((300, 4), True)
    >>> bool((lat.classify(lat.digits.images) == lat.labels).mean() > 0.9)
    True
    """
    from scipy.spatial import cKDTree

    require_sklearn("geomot.latent.encode_digits")
    if digits is None:
        digits = load_digits()
    if not isinstance(digits, Digits):
        raise ValueError(f"digits must be a geomot.latent.Digits (from load_digits), got {type(digits).__name__}")
    if not isinstance(encoder, str) or encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {sorted(ENCODERS)}, got {encoder!r}")
    kind = ENCODERS[encoder]
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ValueError(f"dim must be an integer latent dimension, got {dim!r}")
    dim = int(dim)
    kind.check_dim(dim)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer (the encoders take an integer seed), got {seed!r}")
    codes = readonly(_unit_box(_cached_codes(kind, digits.images, dim, int(seed), bool(cache))))
    return LatentDigits(digits, codes, encoder, off_manifold_radius(codes), cKDTree(codes))


@dataclass(frozen=True)
class Separation:
    """How well codes of different classes are separated (see :func:`separation`).

    Attributes
    ----------
    knn_purity : float
        Mean share of each code's 10 nearest codes that have its class.
    cross_singular, within_singular : float
        Shares of random code pairs of different classes / of the same class whose segment
        crosses empty target space by the singular-set emptiness criterion.
    cross_score, within_score : float
        Median emptiness scores of those pairs (in local spacings).
    threshold : float
        The criterion's threshold.
    dim : int

    Example
    -------
    >>> import numpy as np
    >>> codes = np.r_[np.random.default_rng(0).random((40, 2)), 5 + np.random.default_rng(1).random((40, 2))]
    >>> s = separation(codes, np.repeat([0, 1], 40), n_pairs=100)
    >>> s.cross_singular, s.dim
    (1.0, 2)
    """

    knn_purity: float
    cross_singular: float
    within_singular: float
    cross_score: float
    within_score: float
    threshold: float
    dim: int


def separation(codes, labels, *, n_pairs=2000, seed=0):
    """Measure the separation of labelled codes: k-NN purity and the emptiness criterion.

    Parameters
    ----------
    codes : (N, d) array_like
    labels : (N,) array_like
    n_pairs : int
        Random pairs drawn across classes and within classes.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    Separation

    Notes
    -----
    The emptiness score of a pair is that of :func:`geomot.singular.emptiness_scores`, over the
    local spacing and threshold of :class:`geomot._gaps.TargetGaps` (``singular_set``'s own in
    2D/3D, the same formulas in ``d`` dimensions): the question a singular-aware generator asks
    of two cells.  Ten well-separated clusters give ``cross_singular`` near 1 and
    ``within_singular`` near 0.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> codes = np.vstack([rng.normal(0, 0.05, (50, 2)), rng.normal(1, 0.05, (50, 2))])
    >>> s = separation(codes, np.repeat([0, 1], 50), n_pairs=200)
    >>> s.knn_purity, s.cross_singular, s.within_singular
    (1.0, 1.0, 0.0)
    """
    from scipy.spatial import cKDTree

    from ._gaps import N_PROBE, TargetGaps
    from ._validate import as_rng
    from .singular import emptiness_scores

    codes = as_points(codes, "codes")
    labels = np.asarray(labels)
    if labels.shape != (codes.shape[0],):
        raise ValueError(f"labels must have one entry per code, shape ({codes.shape[0]},), got {labels.shape}")
    if np.unique(labels).size < 2:
        raise ValueError("labels must hold at least 2 classes")
    n_pairs = as_positive_int(n_pairs, "n_pairs")
    rng = as_rng(seed)
    _, nb = cKDTree(codes).query(codes, k=PURITY_NEIGHBORS + 1)
    purity = float(np.mean(labels[nb[:, 1:]] == labels[:, None]))
    gaps = TargetGaps(codes)
    i = rng.integers(codes.shape[0], size=8 * n_pairs)
    j = rng.integers(codes.shape[0], size=8 * n_pairs)
    ok = i != j
    cross = np.flatnonzero(ok & (labels[i] != labels[j]))[:n_pairs]
    within = np.flatnonzero(ok & (labels[i] == labels[j]))[:n_pairs]
    sc_c, sc_w = (emptiness_scores(codes, np.column_stack([i[p], j[p]]), gaps.local_scale, N_PROBE,
                                   tree=gaps._tree) for p in (cross, within))
    tau = gaps.threshold
    return Separation(purity, float(np.mean(sc_c > tau)), float(np.mean(sc_w > tau)),
                      float(np.median(sc_c)), float(np.median(sc_w)), tau, int(codes.shape[1]))
