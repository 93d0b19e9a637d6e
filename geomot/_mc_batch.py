"""One batch of the Monte-Carlo solver: what a worker computes from its chunks, and the sum.

For the heights ``h'`` (frame) of an iteration, a task draws the samples of its chunks
(:mod:`geomot._mc_sampling`) and returns, summed over them,

* ``counts`` (n,): samples per cell, :math:`\\#\\{x : \\sigma_1(x) = i\\}`;
* with ``delta``: the *near-facet pairs* -- for the samples whose two best scores differ by
  less than ``delta`` (the gap :math:`s_{\\sigma_1} - s_{\\sigma_2}`, :mod:`geomot._backend`),
  the pair :math:`\\{\\sigma_1, \\sigma_2\\}` and how often it occurs (the Monte-Carlo Hessian,
  :mod:`geomot._mc_optim`); about ``K`` of them per batch, whatever ``N``;
* with ``probe`` (cells that were empty): :math:`\\max_x s_c(x) - s_{\\sigma_1}(x)` for each
  probed cell ``c`` -- how far its height is from winning one sample.

All of it is O(n) per task however many samples it draws: only seeds go to a worker and
only these statistics come back.  Counts are integers held exactly in float64 and margins are
maxima, so the sum over tasks does not depend on how the chunks were grouped: a cluster of
any size gives bitwise the in-process result.
"""

from dataclasses import dataclass

import numpy as np

from . import _backend

__all__ = ["BatchSpec", "BatchStats", "batch_task", "evaluate_batch"]


@dataclass(frozen=True)
class BatchSpec:
    """What every task of a run needs (sent to a cluster once): sampler, frame targets, backend."""

    sampler: object
    yf: np.ndarray
    backend: str
    memory_budget: int


@dataclass(frozen=True)
class BatchStats:
    """Statistics of a batch (or part of one); see the module docstring."""

    counts: np.ndarray
    n_samples: int
    pair_keys: np.ndarray  # (k,) int64, sorted unique: i * n + j with i < j
    pair_counts: np.ndarray  # (k,) float64
    probe: np.ndarray  # (p,) int64 probed cells
    probe_margin: np.ndarray  # (p,) float64

    @property
    def near(self):
        """Number of near-facet samples."""
        return float(self.pair_counts.sum())

    @staticmethod
    def combine(parts):
        """The statistics of the union of the parts' samples."""
        parts = list(parts)
        counts = np.zeros_like(parts[0].counts)
        for p in parts:
            counts = counts + p.counts
        keys = np.concatenate([p.pair_keys for p in parts])
        vals = np.concatenate([p.pair_counts for p in parts])
        keys, vals = _sum_by_key(keys, vals)
        margin = parts[0].probe_margin
        for p in parts[1:]:
            margin = np.maximum(margin, p.probe_margin)
        return BatchStats(counts, sum(p.n_samples for p in parts), keys, vals, parts[0].probe, margin)


def _sum_by_key(keys, vals, xp=np):
    if keys.size == 0:
        return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.float64)
    uniq, inverse = xp.unique(keys, return_inverse=True)
    return uniq.astype(xp.int64), xp.bincount(inverse.ravel(), weights=vals, minlength=uniq.shape[0]).astype(xp.float64)


def _probe_margins(xp, x, yf, h, value, probe, budget):
    """``max_x s_c(x) - value(x)`` over the rows of ``x`` for each probed cell ``c``."""
    out = xp.full(probe.shape[0], -xp.inf)
    if x.shape[0] == 0 or probe.shape[0] == 0:
        return out
    yp = yf[probe]
    hp = h[probe]
    rows, cols = _backend.block_shape(x.shape[0], probe.shape[0], budget)
    for r0 in range(0, x.shape[0], rows):
        r1 = min(x.shape[0], r0 + rows)
        for c0 in range(0, probe.shape[0], cols):
            c1 = min(probe.shape[0], c0 + cols)
            s = x[r0:r1] @ yp[c0:c1].T
            s += hp[c0:c1]
            s -= value[r0:r1, None]
            out[c0:c1] = xp.maximum(out[c0:c1], s.max(axis=0))
    return out


def batch_task(chunks, spec, h, delta=None, probe=None):
    """Statistics of the samples of ``chunks`` (``[(SeedSequence, m), ...]``): the worker's task.

    ``spec`` a :class:`BatchSpec`, ``h`` (n,) frame heights, ``delta`` the near-facet gap
    (None: counts only), ``probe`` (p,) cells whose margins are wanted.  Returns a
    :class:`BatchStats` of numpy arrays.
    """
    be = _backend.get_backend(name=spec.backend)
    xp = be.xp
    n = spec.yf.shape[0]
    yf = be.asarray(spec.yf)
    hd = be.asarray(h)
    probe = np.zeros(0, dtype=np.int64) if probe is None else np.asarray(probe, dtype=np.int64)
    probe_d = be.asarray(probe, dtype=np.int64)
    parts = []
    for seed, m in chunks:
        x = spec.sampler.draw(be, seed, m)
        need_value = delta is not None or probe.size
        if delta is None:
            first, value = be.argmax_scores(x, yf, hd, memory_budget=spec.memory_budget)
            keys = xp.zeros(0, dtype=xp.int64)
            vals = xp.zeros(0, dtype=xp.float64)
        else:
            first, second, value, gap = be.top2_scores(x, yf, hd, memory_budget=spec.memory_budget)
            near = gap < delta
            a = first[near]
            b = second[near]
            keys, vals = _sum_by_key(xp.minimum(a, b) * n + xp.maximum(a, b), xp.ones(a.shape[0]), xp)
        counts = be.cell_masses(first, n)
        margin = (_probe_margins(xp, x, yf, hd, value, probe_d, spec.memory_budget) if need_value and probe.size
                  else xp.full(probe.shape[0], -xp.inf))
        parts.append(BatchStats(np.asarray(be.to_numpy(counts), dtype=np.float64), int(m),
                                np.asarray(be.to_numpy(keys), dtype=np.int64),
                                np.asarray(be.to_numpy(vals), dtype=np.float64), probe,
                                np.asarray(be.to_numpy(margin), dtype=np.float64)))
    return BatchStats.combine(parts)


def _n_tasks(client):
    try:
        workers = client.ncores()
        k = sum(int(v) for v in workers.values())
    except Exception:  # not a dask client, or no scheduler information
        k = 4
    return max(1, 2 * k)


class Evaluator:
    """Runs the batches of one solve, in process or on a dask cluster.

    With a client the spec is scattered to every worker once (when the client can scatter);
    each batch is then ``client.map`` over groups of chunks, with ``h``, ``delta`` and
    ``probe`` (O(n)) as the only per-batch data, and one ``client.gather``.
    """

    def __init__(self, spec, client=None):
        self.spec = spec
        self.client = client
        self._spec_ref = spec
        if client is not None and callable(getattr(client, "scatter", None)):
            # a key of its own (hash=False): a content key would be shared with the previous
            # solve's spec, which the scheduler may still be releasing (lost-dependency race)
            self._spec_ref = client.scatter(spec, broadcast=True, hash=False)

    def __call__(self, chunks, h, delta=None, probe=None):
        if self.client is None:
            return batch_task(chunks, self.spec, h, delta, probe)
        k = min(len(chunks), _n_tasks(self.client))
        groups = [list(g) for g in np.array_split(np.arange(len(chunks)), k) if len(g)]
        groups = [[chunks[i] for i in g] for g in groups]
        futures = self.client.map(batch_task, groups, spec=self._spec_ref, h=np.asarray(h), delta=delta,
                                  probe=probe, pure=False)
        return BatchStats.combine(self.client.gather(futures))


def evaluate_batch(spec, chunks, h, delta=None, probe=None, client=None):
    """One batch's :class:`BatchStats` (a convenience over :class:`Evaluator`)."""
    return Evaluator(spec, client)(chunks, h, delta, probe)
