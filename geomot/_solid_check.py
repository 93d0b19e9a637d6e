"""Is a watertight, consistently wound triangle mesh the boundary of a solid?

:meth:`geomot.Domain.mesh` decomposes the solid into signed cone tetrahedra, exact when the
mesh's winding number

.. math:: w(x) = \\sum_f \\operatorname{sign}(T_f)\\,\\mathbf 1_{T_f}(x)

is the indicator of the solid, i.e. :math:`w \\in \\{0, 1\\}` everywhere.  A watertight mesh
with outward normals can break that in three ways, refused here with a message that says which:

* it **intersects itself** (or two of its shells cross): some edge crosses a face it is not
  incident to (:math:`w` takes the values 2 or -1 beyond the crossing);
* two faces **overlap in a common plane with the same orientation** (the degenerate form of the
  above: two boxes sharing part of a face plane, a shell given twice); across such a face
  :math:`w` jumps by 2.  Coplanar faces of opposite orientation (two solids touching, a wall of
  zero thickness) are allowed: :math:`w` does not change across them;
* its shells are **nested with the wrong orientation**: an outward shell inside an outward shell
  (:math:`w = 2` inside) or an inward shell outside every outward one (:math:`w = -1`).  An
  inward-oriented shell inside an outward one is a cavity and is fine.

The first two are found by pairs of faces whose bounding boxes meet (an R-tree, ``rtree``, the
library trimesh uses for the same purpose), then vectorised exact-in-general-position tests in a
unit frame with the relative tolerance ``tol.flat`` (a touch at a point, an edge lying in a face,
coplanar faces touching along an edge are not crossings).  The third samples the winding number
on both sides of the largest faces of each shell (only when there are several shells).  Not
detected: a single shell folded onto itself in a common plane with opposite orientation (a
zero-thickness fin), which is harmless for volumes.
"""

from __future__ import annotations

import numpy as np

from ._tol import tol

__all__ = ["check_solid"]

#: faces per shell whose two sides are probed for the winding number
_PROBES_PER_SHELL = 4


def check_solid(vertices, faces, name="mesh"):
    """Raise ``ValueError`` unless the closed mesh (V (m, 3), F (F, 3)) bounds a solid.

    The mesh must already be watertight and consistently wound with positive volume.

    Example
    -------
    >>> import trimesh
    >>> a = trimesh.creation.box()
    >>> check_solid(a.vertices, a.faces) is None
    True
    >>> b = a.copy().apply_translation([0.5, 0, 0])
    >>> both = trimesh.util.concatenate([a, b])
    >>> check_solid(both.vertices, both.faces)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: mesh is not the boundary of a solid: faces ... overlap in a common plane with the same orientation ...
    """
    V = np.asarray(vertices, dtype=np.float64)
    F = np.asarray(faces, dtype=np.int64)
    lo, hi = V.min(axis=0), V.max(axis=0)
    U = (V - 0.5 * (lo + hi)) / max(float(np.max(hi - lo)), 1e-300)  # unit frame: |U| <= 1/2
    tri = U[F]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area2 = np.linalg.norm(n, axis=1)
    ok = area2 > tol.flat * np.max(np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2), axis=1) ** 2
    unit_n = np.zeros_like(n)
    unit_n[ok] = n[ok] / area2[ok, None]
    i, j = _candidate_pairs(tri, ok)
    shared = (F[i][:, :, None] == F[j][:, None, :]).sum(axis=(1, 2))
    keep = shared < 3
    i, j, shared = i[keep], j[keep], shared[keep]

    bad = _crossing(tri, unit_n, i, j, shared)
    if bad is not None:
        raise ValueError(f"{name} intersects itself: an edge of face {bad[0]} crosses face {bad[1]} "
                         f"(self-intersecting surface, or shells that cross); repair it first, e.g. "
                         f"into the union of its parts with trimesh.boolean.union(mesh.split()) "
                         f"(manifold3d)")
    bad = _coplanar_overlap(tri, unit_n, i, j)
    if bad is not None:
        raise ValueError(f"{name} is not the boundary of a solid: faces {bad[0]} and {bad[1]} overlap "
                         f"in a common plane with the same orientation (self-overlapping or "
                         f"duplicated shells); merge overlapping parts into their union first "
                         f"(e.g. trimesh.boolean.union(mesh.split()))")
    _check_nesting(U, F, tri, unit_n, area2, ok, name)
    return None


def _candidate_pairs(tri, ok):
    """Pairs (i < j) of non-degenerate faces whose bounding boxes meet (R-tree bulk query)."""
    from rtree import index

    ids = np.flatnonzero(ok)
    pad = tol.flat  # unit frame: touching boxes are candidates too
    lo = tri[ids].min(axis=1) - pad
    hi = tri[ids].max(axis=1) + pad
    prop = index.Property(dimension=3)
    prop.leaf_capacity = prop.index_capacity = 32  # smaller nodes: ~1.5x faster bulk queries here
    tree = index.Index((np.arange(len(ids)), lo, hi), properties=prop)
    hit, counts = tree.intersection_v(lo, hi)
    a = np.repeat(np.arange(len(ids)), counts.astype(np.int64))
    hit = hit.astype(np.int64)
    m = a < hit
    return ids[a[m]], ids[hit[m]]


def _crossing(tri, unit_n, i, j, shared):
    """First (face, face) where an edge of one properly crosses the other, or None.

    Segment pq crosses triangle abc when p and q lie strictly on opposite sides of its plane and
    the crossing point strictly inside it (margins ``tol.flat`` in the unit frame).  Pairs
    sharing an edge cannot cross this way (every edge of one has an endpoint on the other).
    """
    sel = shared < 2
    i, j = i[sel], j[sel]
    if len(i) == 0:
        return None
    eps = tol.flat
    for e in range(3):
        for A, B in ((i, j), (j, i)):  # edge e of face A against face B
            p = tri[A, e]
            q = tri[A, (e + 1) % 3]
            t = tri[B]
            nB = unit_n[B]
            dp = np.einsum("kd,kd->k", nB, p - t[:, 0])
            dq = np.einsum("kd,kd->k", nB, q - t[:, 0])
            cand = (dp * dq < 0) & (np.minimum(np.abs(dp), np.abs(dq)) > eps)
            if not np.any(cand):
                continue
            k = np.flatnonzero(cand)
            s = dp[k] / (dp[k] - dq[k])
            x = p[k] + s[:, None] * (q[k] - p[k])
            tk, nk = t[k], nB[k]
            inside = np.ones(len(k), dtype=bool)
            for v in range(3):
                a, b = tk[:, v], tk[:, (v + 1) % 3]
                # signed distance of x from edge ab inside the face's plane (> 0: inner side)
                inward = np.cross(nk, b - a)
                inward /= np.maximum(np.linalg.norm(inward, axis=1, keepdims=True), 1e-300)
                inside &= np.einsum("kd,kd->k", inward, x - a) > eps
            if np.any(inside):
                w = int(np.argmax(inside))
                return int(A[k[w]]), int(B[k[w]])
    return None


def _coplanar_overlap(tri, unit_n, i, j):
    """First pair of faces lying in a common plane, same orientation, overlapping with area."""
    eps = tol.flat
    same = np.einsum("kd,kd->k", unit_n[i], unit_n[j]) > 1.0 - eps
    if not np.any(same):
        return None
    i, j = i[same], j[same]
    d = np.einsum("kd,kvd->kv", unit_n[i], tri[j] - tri[i][:, :1])
    flat = np.all(np.abs(d) <= eps, axis=1)
    if not np.any(flat):
        return None
    i, j = i[flat], j[flat]
    A, B, nrm = tri[i], tri[j], unit_n[i]
    overlap = np.ones(len(i), dtype=bool)
    for T in (A, B):
        for v in range(3):
            axis = np.cross(nrm, T[:, (v + 1) % 3] - T[:, v])
            axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-300)
            pa = np.einsum("kd,kvd->kv", axis, A)
            pb = np.einsum("kd,kvd->kv", axis, B)
            depth = np.minimum(pa.max(axis=1), pb.max(axis=1)) - np.maximum(pa.min(axis=1), pb.min(axis=1))
            overlap &= depth > eps
    if np.any(overlap):
        w = int(np.argmax(overlap))
        return int(i[w]), int(j[w])
    return None


def _check_nesting(U, F, tri, unit_n, area2, ok, name):
    """With several shells: the winding number on both sides of their largest faces is 0 or 1."""
    import trimesh

    from ._decompose import RayParity

    mesh = trimesh.Trimesh(U, F, process=False)
    labels = trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(F))
    K = int(labels.max()) + 1 if len(labels) else 1
    if K < 2:
        return
    probes, owner = [], []
    order = np.lexsort((-area2, labels))  # by shell, largest first
    start = np.searchsorted(labels[order], np.arange(K))
    for k in range(K):
        stop = start[k + 1] if k + 1 < K else len(order)
        faces = [f for f in order[start[k]:stop] if ok[f]][:_PROBES_PER_SHELL]
        for f in faces:
            c = tri[f].mean(axis=0)
            delta = 1e-3 * np.sqrt(area2[f])
            probes += [c + delta * unit_n[f], c - delta * unit_n[f]]
            owner += [k, k]
    w = RayParity(U, F).winding(np.array(probes))
    bad = (w < 0) | (w > 1)
    if np.any(bad):
        b = int(np.argmax(bad))
        k, wb = owner[b], int(w[b])
        why = ("an outward-oriented shell lies inside another outward one (nested shells: orient "
               "an inner shell inwards to make it a cavity, or drop it)" if wb > 1 else
               "an inward-oriented shell lies outside every outward one")
        raise ValueError(f"{name} is not the boundary of a solid: its winding number is {wb} next to "
                         f"shell {k} of {K}: {why}")
