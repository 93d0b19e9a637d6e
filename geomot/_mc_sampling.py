"""Sampling streams of the Monte-Carlo solver: where the samples of every batch come from.

A batch of ``N`` samples is cut into chunks of :data:`CHUNK` samples (the last one shorter);
each chunk has its own seed, a :class:`numpy.random.SeedSequence` spawned for it,

.. code-block:: text

    root = SeedSequence of seed          (spawned from the seed's generator)
    ├── start                            (the sample that sets the default start)
    ├── batch 1 ── chunk 1, chunk 2, ... (SeedSequence.spawn)
    ├── batch 2 ── chunk 1, ...
    ...

and whoever counts a chunk draws its samples from that seed.  So a dask worker draws its own
samples (only the seeds go to it and only counts come back), and the samples -- hence the run --
do not depend on how many workers there are or which chunk each one counts: the in-process
path counts the same chunks from the same seeds.

Three samplers, one small class each (:func:`make_sampler` picks one by name):

``"random"``
    i.i.d. points of the source measure, :meth:`geomot.Domain.sample`, any domain.
``"sobol"``
    scrambled Sobol' points (``scipy.stats.qmc.Sobol``, Owen scrambling, a fresh
    scramble per chunk), boxes only: randomised quasi-Monte Carlo, unbiased, with a variance
    that falls faster than :math:`1/N` for smooth integrands (in low dimension).  Batches are
    rounded up to powers of two below :data:`CHUNK` (the balance of the nets needs them).
``"device"``
    uniform points of a box drawn by the backend's own array module
    (:meth:`geomot._backend.Backend.uniform`): with CuPy they are drawn on the GPU and never
    cross the bus.

Every sampler returns points in the frame of the problem (:mod:`geomot.frame`).

References
----------
A. B. Owen, *Scrambled net variance for integrals of smooth functions*, Ann. Statist. 25
(1997); NumPy, *Parallel random number generation* (``SeedSequence.spawn``).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK", "SAMPLERS", "SampleStreams", "make_sampler", "box_of"]

#: samples per chunk: the unit of work of a worker and of one seed
CHUNK = 2**16
#: sampler names (``"auto"`` picks one)
SAMPLERS = ("auto", "random", "sobol", "device")


def box_of(domain):
    """``(lo, hi)`` when ``domain`` is an axis-aligned box of uniform density, else None.

    Asked of the domain's pieces (one convex piece with no half-spaces is its bounding box),
    not of its kind.
    """
    pieces = domain.pieces
    if domain.is_uniform and len(pieces.lo) == 1 and int(pieces.indptr[-1]) == 0 and pieces.sign[0] > 0:
        return np.array(pieces.lo[0], dtype=np.float64), np.array(pieces.hi[0], dtype=np.float64)
    return None


class SampleStreams:
    """The seeds of a run: one for the start, then one per chunk of every batch.

    Parameters
    ----------
    rng : numpy.random.Generator
        The run's seed; its :class:`~numpy.random.SeedSequence` is spawned (so the same
        generator passed twice gives two different runs, and ``seed=4`` and
        ``numpy.random.default_rng(4)`` the same one).
    """

    def __init__(self, rng):
        seq = getattr(rng.bit_generator, "seed_seq", None)
        if not isinstance(seq, np.random.SeedSequence):  # a generator seeded the legacy way
            seq = np.random.SeedSequence(rng.integers(0, 2**63, size=4))
        self.root = seq.spawn(1)[0]
        self.start = self.root.spawn(1)[0]

    def batch(self, n_samples):
        """Chunks ``[(SeedSequence, m), ...]`` of the next batch of ``n_samples`` samples."""
        sizes = [CHUNK] * (n_samples // CHUNK)
        if n_samples % CHUNK:
            sizes.append(n_samples % CHUNK)
        seeds = self.root.spawn(1)[0].spawn(len(sizes))
        return list(zip(seeds, sizes))


@dataclass(frozen=True)
class _DomainSampler:
    """i.i.d. points of the source measure (``Domain.sample``), moved to the frame."""

    name = "random"
    domain: object
    frame: object

    def round_size(self, n):
        return int(n)

    def draw(self, be, seed, m):
        x = self.domain.sample(int(m), seed=np.random.default_rng(seed))
        return be.asarray(self.frame.to_source(x))


@dataclass(frozen=True)
class _SobolSampler:
    """Scrambled Sobol' points of a box (frame corners ``lo``, ``hi``)."""

    name = "sobol"
    lo: np.ndarray
    hi: np.ndarray

    def round_size(self, n):
        n = int(n)
        if n >= CHUNK:
            return -(-n // CHUNK) * CHUNK
        return 1 << max(0, (n - 1).bit_length())

    def draw(self, be, seed, m):
        from scipy.stats import qmc

        m = int(m)
        engine = qmc.Sobol(self.lo.shape[0], scramble=True, rng=np.random.default_rng(seed))
        u = engine.random_base2((m - 1).bit_length()) if m & (m - 1) == 0 else engine.random(m)
        return be.asarray(self.lo + u * (self.hi - self.lo))


@dataclass(frozen=True)
class _DeviceSampler:
    """Uniform points of a box drawn by the backend's array module (on the GPU for CuPy)."""

    name = "device"
    lo: np.ndarray
    hi: np.ndarray

    def round_size(self, n):
        return int(n)

    def draw(self, be, seed, m):
        return be.uniform(int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1)), m, self.lo, self.hi)


def make_sampler(name, domain, frame, backend):
    """The sampler called ``name`` for ``domain`` in ``frame`` (``"auto"``: ``"device"`` for
    the CuPy backend on a box, else ``"random"``); ValueError naming ``sampler`` when it
    cannot sample this domain."""
    if not isinstance(name, str) or name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")
    box = box_of(domain)
    if name == "auto":
        name = "device" if backend == "cupy" and box is not None else "random"
    if name == "random":
        return _DomainSampler(domain, frame)
    if box is None:
        raise ValueError(f"sampler={name!r} needs a box domain (uniform density on [lo, hi]); this domain is not "
                         f"one: use sampler='random'")
    lo, hi = frame.to_source(np.stack(box))
    return (_SobolSampler if name == "sobol" else _DeviceSampler)(lo, hi)
