"""The connected pieces ``Gamma_0, Gamma_1, ...`` of a singular set, and the order of its pairs.

Two selected pairs belong to one piece when their shared facets touch in source space (a vertex
within ``merge_distance`` of one of the other's); the pieces are sorted by total facet measure
(then by size), the pairs by piece, then by score.  Only the facets of the selected pairs are
clipped (:meth:`geomot.power.PowerDiagram.facets` of those pairs).  Used by
:func:`geomot.singular.singular_set`, which puts the result together.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._tol import scale_of
from ._validate import readonly


@dataclass(frozen=True, eq=False)
class _Grouping:
    """The selected pairs grouped into pieces (arrays writeable; the caller freezes them)."""

    order: np.ndarray               # (k,) index into sel of the pair at each sorted position
    components: list                # (k_c,) int64 read-only index arrays into the sorted pairs
    component_measures: np.ndarray  # (len(components),) total facet measure, descending
    facet_measures: np.ndarray      # (k,) facet measure of each sorted pair
    segments: np.ndarray            # 2D: (k', 2, d) facet pieces; 3D: (0, 2, d)
    segment_pair: np.ndarray        # (k',) index into the sorted pairs
    polygons: list                  # 3D: the facet polygons; 2D: []
    polygon_pair: np.ndarray        # (len(polygons),) index into the sorted pairs


def _group_facets(diagram, pairs, measures, sel, sc, merge_distance, d):
    """Facet geometry, connected components and ordering of the ``k >= 1`` pairs ``pairs[sel]``
    (scores ``sc``, facet measures ``measures[sel]``) of ``diagram`` in dimension ``d``."""
    k = sel.size
    piece_pair, indptr, pts = _selected_facets(diagram, pairs, sel)
    pieces = np.arange(piece_pair.size)
    counts = indptr[1:] - indptr[:-1]
    vert = pts
    vert_owner = np.repeat(piece_pair, counts)

    # connected components: pairs whose facets share a vertex (or come within merge_distance)
    labels = np.arange(k)
    if vert.shape[0]:
        tol = max(merge_distance, 1e-8 * scale_of(vert))
        close = cKDTree(vert).query_pairs(tol, output_type="ndarray")
        a = vert_owner[close[:, 0]] if close.size else np.zeros(0, np.int64)
        b = vert_owner[close[:, 1]] if close.size else np.zeros(0, np.int64)
        g = coo_matrix((np.ones(a.size), (a, b)), shape=(k, k))
        _, labels = connected_components(g, directed=False)
    fmeas = measures[sel]
    ncomp = int(labels.max()) + 1
    cmeas = np.bincount(labels, weights=fmeas, minlength=ncomp)
    csize = np.bincount(labels, minlength=ncomp)
    corder = np.lexsort((-csize, -cmeas))  # measure desc, then size desc
    rank = np.empty(ncomp, np.int64)
    rank[corder] = np.arange(ncomp)
    lab = rank[labels]
    order = np.lexsort((-sc, lab))  # by component, then score desc
    new_pos = np.empty(k, np.int64)
    new_pos[order] = np.arange(k)
    lab_sorted = lab[order]
    bounds = np.searchsorted(lab_sorted, np.arange(ncomp + 1))
    components = [readonly(np.arange(bounds[c], bounds[c + 1], dtype=np.int64))
                  for c in range(ncomp)]

    owner_sorted = new_pos[piece_pair[pieces]]
    porder = np.argsort(owner_sorted, kind="stable")
    pieces = pieces[porder]
    owner_sorted = owner_sorted[porder]
    if d == 2:
        segs = pts[indptr[pieces][:, None] + np.arange(2)[None, :]]
        polygons = []
        polygon_pair = np.zeros(0, np.int64)
        segment_pair = owner_sorted
    else:
        segs = np.zeros((0, 2, d))
        segment_pair = np.zeros(0, np.int64)
        polygons = [readonly(pts[indptr[p]:indptr[p + 1]].copy()) for p in pieces]
        polygon_pair = owner_sorted
    return _Grouping(order=order, components=components, component_measures=cmeas[corder],
                     facet_measures=fmeas[order], segments=segs, segment_pair=segment_pair,
                     polygons=polygons, polygon_pair=polygon_pair)


def _selected_facets(diagram, pairs, sel):
    """Facet pieces of the pairs ``pairs[sel]`` only: ``(owner (s,), indptr (s+1,), points)``.

    ``owner`` indexes ``sel``.  ``diagram.facets(sel)`` clips only the cells of the selected
    pairs, so this costs a fraction of a full ``diagram.facets()``.
    """
    sel = np.asarray(sel, dtype=np.int64)
    fg = diagram.facets(sel)
    pos = np.full(pairs.shape[0], -1, dtype=np.int64)
    pos[sel] = np.arange(sel.size)
    return (pos[np.asarray(fg.pair_index, dtype=np.int64)], np.asarray(fg.indptr, dtype=np.int64),
            np.asarray(fg.points, dtype=np.float64))
