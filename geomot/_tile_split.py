"""k-d tiles of the targets for :func:`geomot._tiles.tiled_lower_hull` (numba kernels).

The split at quantiles of a coordinate (:func:`_kd_tiling`, the boxes partition
:math:`\\mathbb{R}^k`), the Z-order of each tile's targets (neighbours in space are neighbours
in memory), the least-squares gradient of the weights per tile (the choice of anchor) and the
gathering of the targets of a box (a tile's halo, a repair box).
"""

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True, eq=False)
class _Tiling:
    """``T`` tiles: own targets ``perm[start[i]:start[i+1]]``, box ``lo[i] <= x < hi[i]``
    (+-inf on the outer sides), bounding box of the own targets ``plo, phi``, tile of each
    target ``owner (n,)``; the split tree (``axis``, ``split``, children ``left``/``right``,
    a leaf ``-1 - tile``) locates points."""

    perm: np.ndarray
    start: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    plo: np.ndarray
    phi: np.ndarray
    owner: np.ndarray
    axis: np.ndarray
    split: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def count(self):
        return self.lo.shape[0]

    def own(self, i):
        return self.perm[self.start[i]:self.start[i + 1]]

    def in_tile_order(self):
        """The same tiles with the targets renumbered in tile order (``perm`` the identity)."""
        return _Tiling(np.arange(self.perm.size), self.start, self.lo, self.hi, self.plo, self.phi,
                       self.owner[self.perm], self.axis, self.split, self.left, self.right)

    def locate(self, c):
        """(m,) tile whose box holds each point ``c (m, k)``."""
        node = np.zeros(c.shape[0], dtype=np.int64)
        inner = node >= 0
        while inner.any():
            i = np.flatnonzero(inner)
            nd = node[i]
            go_left = c[i, self.axis[nd]] < self.split[nd]
            node[i] = np.where(go_left, self.left[nd], self.right[nd])
            inner = node >= 0
        return -1 - node


def _kd_tiling(t, leaf):
    """Split the rows of ``t (n, k)`` into ``ceil(n / leaf)`` boxes of as many targets each, at
    quantiles of a coordinate (across the widest side of the box first; a box to be split
    into ``L`` tiles is cut at its ``floor(L/2) / L`` quantile).  The split value is a target's coordinate:
    targets with ``x < split`` go left, the others right (grid rows lie on box sides, never the
    centres of grid cells, which are the power vertices that decide ownership)."""
    n, k = t.shape
    inf = np.full(k, np.inf)
    axis, split, left, right = [], [], [], []
    leaves = []
    perm = np.arange(n)
    tw = t.copy()  # the coordinates in the order of perm (the splits then stream through memory)
    stack = [(0, n, -inf, inf, -1, 0, max(1, -(-n // max(1, leaf))))]  # (segment, box, parent, side, tiles)

    def link(parent, side, ref):
        if parent >= 0:
            (left if side == 0 else right)[parent] = ref

    gmin, gmax = t.min(axis=0), t.max(axis=0)
    while stack:
        a, b, lo, hi, parent, side, L = stack.pop()
        ax, m, sv = -1, -1, 0.0
        if L > 1:
            # the widest side of the box (within the targets' bounding box): no pass over
            # the targets, which would cost more than the split itself
            ext = np.minimum(hi, gmax) - np.maximum(lo, gmin)
            for c in np.argsort(-ext, kind="stable"):
                m, sv = _split_segment(tw, perm, a, b, int(c), ((b - a) * (L // 2)) // L)
                if m >= 0:
                    ax = int(c)
                    break
        if ax < 0:  # small enough (or every target of the box at one point): a tile
            link(parent, side, -1 - len(leaves))
            leaves.append((a, b, lo, hi))
            continue
        node = len(axis)
        axis.append(ax)
        split.append(sv)
        left.append(0)
        right.append(0)
        link(parent, side, node)
        hl, lr = hi.copy(), lo.copy()
        hl[ax] = sv
        lr[ax] = sv
        # (the tiles go to the two sides in proportion to their targets: ties of coordinates
        # can move the split away from the quantile)
        Ll = min(L - 1, max(1, int(round(L * (m - a) / (b - a)))))
        stack.append((m, b, lr, hi, node, 1, L - Ll))
        stack.append((a, m, lo, hl, node, 0, Ll))
    if not axis:  # one tile: a root that is a leaf
        axis, split, left, right = [0], [np.inf], [-1], [-1]
    start = np.array([lf[0] for lf in leaves] + [n], dtype=np.int64)
    plo, phi, owner = _segment_boxes(t, perm, start)
    return _Tiling(perm, start, np.array([lf[2] for lf in leaves]), np.array([lf[3] for lf in leaves]),
                   plo, phi, owner, np.array(axis, dtype=np.int64), np.array(split),
                   np.array(left, dtype=np.int64), np.array(right, dtype=np.int64))


@njit(cache=True, nogil=True)
def _split_segment(tw, perm, a, b, axis, rank):
    """Reorder ``perm[a:b]`` and the rows ``tw[a:b]`` (the targets' coordinates in the order of
    ``perm``) so that the targets with coordinate ``axis`` below the split value come first.
    The split value is a target's coordinate of about rank ``rank`` (the quantile of a regular
    sample of at most 8192 targets: balance need not be exact) or, when no target is below it,
    the next larger one.  Returns ``(m, split)``, ``m`` the first target not below (-1 when
    all coordinates are equal)."""
    size = b - a
    step = max(1, size // 8192)
    sample = tw[a:b:step, axis].copy()
    r = min(max((rank * sample.size) // size, 0), sample.size - 1)
    sv = np.partition(sample, r)[r]
    m = _partition_below(tw, perm, a, b, axis, sv)
    if m == a:  # nothing below the sampled value: split below the next larger one
        nxt = np.inf
        for i in range(a, b):
            v = tw[i, axis]
            if sv < v < nxt:
                nxt = v
        if nxt == np.inf:
            return -1, 0.0
        sv = nxt
        m = _partition_below(tw, perm, a, b, axis, sv)
    return m, sv


@njit(cache=True, nogil=True)
def _partition_below(tw, perm, a, b, axis, sv):
    """In place (Hoare): the rows of ``tw[a:b]`` (and ``perm``) with coordinate ``axis`` below
    ``sv`` first; returns the first row not below.  (The order within a side does not matter:
    the tiles are Z-ordered later.)"""
    k = tw.shape[1]
    i, j = a, b - 1
    while True:
        while i <= j and tw[i, axis] < sv:
            i += 1
        while i <= j and not (tw[j, axis] < sv):
            j -= 1
        if i >= j:
            return i
        perm[i], perm[j] = perm[j], perm[i]
        for c in range(k):
            tmp = tw[i, c]
            tw[i, c] = tw[j, c]
            tw[j, c] = tmp
        i += 1
        j -= 1


@njit(cache=True, nogil=True)
def _segment_boxes(t, perm, start):
    """Bounding boxes of the targets of each tile and the tile of each target."""
    n, k = t.shape
    T = start.size - 1
    plo = np.full((T, k), np.inf)
    phi = np.full((T, k), -np.inf)
    owner = np.empty(n, dtype=np.int32)
    for i in range(T):
        for p in range(start[i], start[i + 1]):
            v = perm[p]
            owner[v] = i
            for c in range(k):
                plo[i, c] = min(plo[i, c], t[v, c])
                phi[i, c] = max(phi[i, c], t[v, c])
    return plo, phi, owner


@njit(cache=True, nogil=True)
def _z_order_tiles(t, perm, start):
    """Sort each tile's slice of ``perm`` along a Z-order (Morton) curve of its bounding box,
    in place (16 bits per axis)."""
    n, k = t.shape
    bits = 16 if k <= 3 else 48 // k
    top = float((1 << bits) - 1)
    for i in range(start.size - 1):
        a, b = start[i], start[i + 1]
        if b - a < 2:
            continue
        lo = np.full(k, np.inf)
        hi = np.full(k, -np.inf)
        for p in range(a, b):
            for c in range(k):
                v = t[perm[p], c]
                lo[c] = min(lo[c], v)
                hi[c] = max(hi[c], v)
        code = np.zeros(b - a, dtype=np.uint64)
        for p in range(a, b):
            cc = np.uint64(0)
            for c in range(k):
                span = hi[c] - lo[c]
                q = np.uint64(0) if span <= 0 else np.uint64((t[perm[p], c] - lo[c]) / span * top)
                for bit in range(bits):
                    cc |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(bit * k + c)
            code[p - a] = cc
        order = np.argsort(code, kind="mergesort")
        perm[a:b] = perm[a:b][order]


@njit(cache=True, nogil=True)
def _tile_gradients(t, w, start):
    """(T, k): the gradient of the least-squares plane of ``w`` over each tile's targets."""
    n, k = t.shape
    T = start.size - 1
    out = np.zeros((T, k))
    for i in range(T):
        a, b = start[i], start[i + 1]
        if b - a <= k + 1:
            continue
        mean = np.zeros(k)
        wm = 0.0
        for p in range(a, b):
            wm += w[p]
            for c in range(k):
                mean[c] += t[p, c]
        mean /= b - a
        wm /= b - a
        G = np.zeros((k, k))
        r = np.zeros(k)
        for p in range(a, b):
            for c in range(k):
                dc = t[p, c] - mean[c]
                r[c] += dc * (w[p] - wm)
                for e in range(k):
                    G[c, e] += dc * (t[p, e] - mean[e])
        if abs(np.linalg.det(G)) > 0.0:
            out[i] = np.linalg.solve(G, r)
    return out


@njit(cache=True, nogil=True)
def _gather_box(t, start, tiles, lo, hi):
    """The targets (in tile order) of the given tiles that lie in the closed box ``lo, hi``."""
    k = t.shape[1]
    count = 0
    for pass_ in range(2):
        if pass_ == 1:
            out = np.empty(count, dtype=np.int64)
            count = 0
        for j in tiles:
            for p in range(start[j], start[j + 1]):
                inside = True
                for c in range(k):
                    if not (lo[c] <= t[p, c] <= hi[c]):
                        inside = False
                        break
                if inside:
                    if pass_ == 1:
                        out[count] = p
                    count += 1
    return out
