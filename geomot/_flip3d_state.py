"""The flip state of a 3D regular triangulation, for :func:`geomot.lifting._flipped_triangulation`.

From qhull's tetrahedra to what the 2-3 / 3-2 flips of :mod:`geomot._flip3d` start from:
positive tetrahedra in a spatial order, their neighbours, adjacency and hull triangles, with
the flat tetrahedra that lie in a face of conv(y) dropped (:func:`_without_boundary_flats`);
``()`` when no flips apply.
"""

import numpy as np

from ._simplices import _simplex_adjacency
from ._tol import scale_of, tol


def _flip_state_3d(previous, y):
    """``(tet, nbr, indptr, indices, top)`` of a qhull triangulation, or ``()`` (no flips).

    Positive tetrahedra and their neighbours (``nbr[t, k]`` across the triangle opposite
    ``tet[t, k]``, -1 on the convex hull), their adjacency (qhull's unless flat tetrahedra
    were dropped) and hull triangles.  qhull's split of a degenerate facet may leave flat
    tetrahedra: no flips from there, unless they lie in a face of conv(y)
    (:func:`_without_boundary_flats`).
    """
    from . import _flip3d

    n = y.shape[0]
    simp = np.ascontiguousarray(previous.simplices, dtype=np.int64)
    tet = _without_boundary_flats(simp, y)
    if tet is None:
        return ()
    tet = _spatially_sorted(tet, y)
    nbr = _flip3d.tet_neighbors(tet, n)
    if not _flip3d.orient_positive(tet, nbr, y):
        return ()
    if tet.shape[0] == simp.shape[0]:
        indptr, indices = previous.indptr, previous.indices
    else:  # without the flat tetrahedra's edges (zero facet measure)
        indptr, indices = _simplex_adjacency(tet, n)
    return tet, nbr, indptr, indices, _hull_triangles_3d(tet, nbr, n)


def _hull_triangles_3d(tet, nbr, n):
    """The convex-hull triangles with the extra point ``n`` above the targets: their vertices
    have unbounded cells (what :meth:`RegularTriangulation.cell_boxes` reads from qhull's
    non-lower facets)."""
    from . import _flip3d

    bnd = _flip3d.boundary_faces(tet, nbr)
    return np.column_stack([bnd, np.full(bnd.shape[0], n, dtype=np.int64)])


def _spatially_sorted(tet, y):
    """The rows of ``tet (s, 4)`` sorted by the cell of their centroid in a grid of about 32
    tetrahedra per cell (row-major): neighbours get close indices, which makes the passes of
    :mod:`geomot._flip3d` over the triangles about twice faster at 1e5 targets (qhull's
    order is its insertion order, spatially random)."""
    cen = y[tet[:, 0]] + y[tet[:, 1]] + y[tet[:, 2]] + y[tet[:, 3]]
    lo = cen.min(axis=0)
    span = np.ptp(cen, axis=0)
    span[span == 0] = 1.0
    g = max(1, int(round((tet.shape[0] / 32.0) ** (1.0 / 3.0))))
    q = np.minimum(((cen - lo) / span * g).astype(np.int64), g - 1)
    return np.ascontiguousarray(tet[np.argsort((q[:, 0] * g + q[:, 1]) * g + q[:, 2], kind="stable")])


#: at most this many distinct planes of flat tetrahedra are tested against conv(y)
_MAX_FLAT_PLANES = 64


def _without_boundary_flats(tet, y):
    """The tetrahedra ``tet (s, 4)`` less the flat ones that lie in a face of conv(y); None
    when other flat ones remain (or too many planes to test).

    Targets on a face of conv(y) (a grid's sides) lift to a *vertical* facet of the lifted
    hull, which rounding may count among the lower ones: qhull's split of it is flat
    tetrahedra in that face, glued to nothing on the outside.  Without them the others still
    tetrahedralize conv(y) (their triangles in the face are the lower chain of the face's
    lifted targets).  Flat tetrahedra elsewhere glue the inconsistent splits of a merged
    facet (cospherical targets): without them the tetrahedra would not be face-to-face.
    """
    from . import _flip3d

    flat = _flip3d.flat_tetrahedra(tet, y)
    if not flat.any():
        return tet
    q = y[tet[flat]]  # (f, 4, 3)
    # the normal of each flat tetrahedron: the largest cross product of its edges from vertex 0
    e = q[:, 1:] - q[:, :1]
    cands = np.stack([np.cross(e[:, 0], e[:, 1]), np.cross(e[:, 0], e[:, 2]), np.cross(e[:, 1], e[:, 2])], axis=1)
    best = np.argmax(np.linalg.norm(cands, axis=2), axis=1)
    nrm = cands[np.arange(len(best)), best]
    length = np.linalg.norm(nrm, axis=1)
    # four collinear points have no plane of their own: they must lie in one of the others'
    line = length <= 1e-9 * np.max(np.einsum("ijk,ijk->ij", e, e), axis=1)
    on_line, q = q[line], q[~line]
    if q.shape[0] == 0:
        return None
    nrm = nrm[~line] / length[~line, None]
    # one orientation per plane: the largest component positive
    sign = np.sign(nrm[np.arange(len(nrm)), np.argmax(np.abs(nrm), axis=1)])
    nrm *= sign[:, None]
    off = np.einsum("ij,ij->i", nrm, q[:, 0])
    reach = tol.rank * scale_of(y)
    key = np.column_stack([np.round(nrm / 1e-9), np.round(off / max(reach, 1e-300))])
    planes, inverse = np.unique(key, axis=0, return_inverse=True)
    if planes.shape[0] > _MAX_FLAT_PLANES:
        return None
    inverse = inverse.ravel()
    for p in range(planes.shape[0]):
        first = int(np.argmax(inverse == p))
        dist = y @ nrm[first] - off[first]
        if dist.max() > reach and dist.min() < -reach:  # targets on both sides: not a face
            return None
        # every flat tetrahedron of this plane lies in it
        members = q[inverse == p].reshape(-1, 3)
        if np.abs(members @ nrm[first] - off[first]).max() > reach:
            return None
        if on_line.shape[0]:
            inside = np.all(np.abs(on_line @ nrm[first] - off[first]) <= reach, axis=1)
            on_line = on_line[~inside]
    if on_line.shape[0]:
        return None
    return np.ascontiguousarray(tet[~flat])
