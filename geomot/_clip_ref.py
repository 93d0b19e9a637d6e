"""Plain reference versions of the clipping / integration kernels (shapely and scipy only).

Slow and simple on purpose: every cell is built from scratch as the intersection of
half-planes (2D, shapely) or half-spaces (3D, ``scipy.spatial.HalfspaceIntersection``) with
each convex piece, using *all* other targets (no triangulation), so that the tests compare
the numba kernels and the lifted-hull combinatorics against an independent computation.
Uniform, unsigned pieces only.  :func:`dual_cells_reference` is the twin of
:mod:`geomot._dual` (interior cells as convex hulls of the power centres of the triangulation).
"""

import numpy as np

__all__ = ["cells_reference", "dual_cells_reference"]


def _piece_polygon_2d(pc, p):
    import shapely

    lo, hi = pc.lo[p], pc.hi[p]
    poly = shapely.box(lo[0], lo[1], hi[0], hi[1])
    for k in range(pc.indptr[p], pc.indptr[p + 1]):
        poly = _clip_halfplane(poly, pc.normals[k], pc.offsets[k])
    return poly


def _clip_halfplane(poly, a, b):
    """poly ∩ {x : <x, a> <= b} with a large quadrilateral as the half-plane."""
    import shapely

    if poly.is_empty:
        return poly
    a = np.asarray(a, dtype=float)
    na = np.linalg.norm(a)
    a = a / na
    b = b / na
    minx, miny, maxx, maxy = poly.bounds
    R = 4.0 * (abs(minx) + abs(miny) + abs(maxx) + abs(maxy) + abs(b) + 1.0)
    foot = a * b
    t = np.array([-a[1], a[0]])
    quad = shapely.Polygon([foot + R * t, foot - R * t, foot - R * t - R * a, foot + R * t - R * a])
    return poly.intersection(quad)


def _edge_length_on_line(poly, a, b, rtol=1e-9):
    """Total length of the boundary edges of ``poly`` lying on the line <x, a> = b."""
    if poly.is_empty:
        return 0.0
    a = np.asarray(a, dtype=float)
    na = np.linalg.norm(a)
    a, b = a / na, b / na
    geoms = getattr(poly, "geoms", [poly])
    total = 0.0
    for g in geoms:
        if g.geom_type != "Polygon" or g.area == 0:
            continue
        scale = max(np.ptp(np.asarray(g.exterior.coords), axis=0).max(), 1e-300)
        for ring in [g.exterior, *g.interiors]:
            c = np.asarray(ring.coords)
            on = np.abs(c @ a - b) <= rtol * scale
            both = on[:-1] & on[1:]
            total += np.linalg.norm(c[1:][both] - c[:-1][both], axis=1).sum()
    return total


def cells_reference(y, h, domain):
    """Volumes (n,), centroids (n, d) and facet measures {(i, j): measure} by brute force.

    Parameters
    ----------
    y : (n, d) ndarray, h : (n,) ndarray, domain : Domain (uniform, unsigned pieces)
    """
    y = np.asarray(y, dtype=float)
    h = np.asarray(h, dtype=float)
    n, d = y.shape
    pc = domain.pieces
    vol = np.zeros(n)
    mom = np.zeros((n, d))
    facets = {}
    for p in range(pc.lo.shape[0]):
        if d == 2:
            piece = _piece_polygon_2d(pc, p)
            cells = []
            for i in range(n):
                cell = piece
                for j in range(n):
                    if j != i:
                        cell = _clip_halfplane(cell, y[j] - y[i], h[i] - h[j])
                cells.append(cell)
                if not cell.is_empty and cell.area > 0:
                    vol[i] += cell.area
                    mom[i] += cell.area * np.array(cell.centroid.coords[0])
            for i in range(n):
                for j in range(i + 1, n):
                    length = _edge_length_on_line(cells[i], y[j] - y[i], h[i] - h[j])
                    if length > 0:
                        facets[(i, j)] = facets.get((i, j), 0.0) + length
        else:
            _reference_3d(y, h, pc, p, vol, mom, facets)
    with np.errstate(invalid="ignore", divide="ignore"):
        cen = mom / vol[:, None]
    cen[vol <= 0] = np.nan
    return vol, cen, facets


def _reference_3d(y, h, pc, p, vol, mom, facets):
    from scipy.optimize import linprog
    from scipy.spatial import ConvexHull, HalfspaceIntersection

    n = y.shape[0]
    lo, hi = pc.lo[p], pc.hi[p]
    box_A = np.vstack([np.eye(3), -np.eye(3)])
    box_b = np.concatenate([hi, -lo])
    pA = pc.normals[pc.indptr[p]:pc.indptr[p + 1]]
    pb = pc.offsets[pc.indptr[p]:pc.indptr[p + 1]]
    for i in range(n):
        others = np.array([j for j in range(n) if j != i], dtype=int)
        A = np.vstack([box_A, pA, y[others] - y[i]]) if n > 1 else np.vstack([box_A, pA])
        b = np.concatenate([box_b, pb, h[i] - h[others]]) if n > 1 else np.concatenate([box_b, pb])
        nrm = np.linalg.norm(A, axis=1)
        A = A / nrm[:, None]
        b = b / nrm
        # Chebyshev centre: an interior point, if the cell has volume
        res = linprog(np.r_[0, 0, 0, -1.0], A_ub=np.column_stack([A, np.ones(len(A))]), b_ub=b,
                      bounds=[(None, None)] * 3 + [(0, None)], method="highs")
        if res.status != 0 or res.x[3] <= 1e-12:
            continue
        c = res.x[:3]
        hs = HalfspaceIntersection(np.column_stack([A, -b]), c)
        verts = hs.intersections
        hull = ConvexHull(verts)
        vol[i] += hull.volume
        # centroid of the convex hull via a fan of tetrahedra from c
        tets = verts[hull.simplices]
        v6 = np.einsum("ij,ij->i", tets[:, 0] - c, np.cross(tets[:, 1] - c, tets[:, 2] - c))
        cen = (tets.sum(axis=1) + c) / 4.0
        mom[i] += (np.abs(v6)[:, None] * cen).sum(axis=0) / 6.0
        if n > 1:
            fA = A[6 + len(pA):]
            fb = b[6 + len(pA):]
            scale = np.ptp(verts, axis=0).max()
            for k, j in enumerate(others):
                if j < i:
                    continue
                on = np.abs(verts @ fA[k] - fb[k]) <= 1e-9 * max(scale, 1e-300)
                pts = verts[on]
                if len(pts) < 3:
                    continue
                a = fA[k]
                u = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
                u /= np.linalg.norm(u)
                v = np.cross(a, u)
                q = np.column_stack([pts @ u, pts @ v])
                try:
                    area = ConvexHull(q).volume
                except Exception:
                    continue
                if area > 0:
                    facets[(i, j)] = facets.get((i, j), 0.0) + area


def dual_cells_reference(y, wphi, simp, cells):
    """Numpy twin of :mod:`geomot._dual`: interior cells as hulls of their power centres.

    Parameters
    ----------
    y : (n, d) ndarray (d = 2, 3), wphi : (n,) ndarray (:math:`h + |y|^2/2`), simp : (s, d+1)
        int ndarray (the lower simplices), cells : (c,) int ndarray (bounded cells, e.g. those
        :func:`geomot._dual.integrate_dual_3d` did).

    Returns
    -------
    vol (c,), mom (c, d) (first moments, unit density), facets {(i, j): measure} for every
    neighbour ``j`` of every cell ``i``: the convex hull of the power centres of the simplices
    around ``i`` (``scipy.spatial.ConvexHull``) and, per edge ``(i, j)``, in 3D the 2D hull of
    those around the edge projected on the facet's plane (0 when they are not spread in 2D),
    in 2D the distance between the two.
    """
    from scipy.spatial import ConvexHull, QhullError

    y = np.asarray(y, dtype=float)
    wphi = np.asarray(wphi, dtype=float)
    simp = np.asarray(simp)
    d = y.shape[1]
    # power centre c = y_0 + z with <z, y_r - y_0> = wphi_0 - wphi_r + |y_r - y_0|^2 / 2
    a = y[simp[:, 1:]] - y[simp[:, :1]]
    b = wphi[simp[:, :1]] - wphi[simp[:, 1:]] + 0.5 * np.einsum("sij,sij->si", a, a)
    cen = y[simp[:, 0]] + np.linalg.solve(a, b[..., None])[..., 0]
    vol = np.zeros(len(cells))
    mom = np.zeros((len(cells), d))
    facets = {}
    for r, i in enumerate(cells):
        star = np.flatnonzero(np.any(simp == i, axis=1))
        pts = cen[star]
        hull = ConvexHull(pts)
        vol[r] = hull.volume
        c = pts.mean(axis=0)
        # centroid: a fan of simplices from the mean over the hull's boundary facets
        sim = pts[hull.simplices] - c
        v = np.abs(np.linalg.det(sim))
        mom[r] = (v[:, None] * (sim.sum(axis=1) / (d + 1) + c)).sum(axis=0) / np.prod(np.arange(1, d + 1))
        for j in np.unique(simp[star]):
            if j == i:
                continue
            ring = cen[star[np.any(simp[star] == j, axis=1)]]
            if d == 2:
                facets[(int(i), int(j))] = float(np.linalg.norm(ring[1] - ring[0]))
                continue
            nrm = (y[j] - y[i]) / np.linalg.norm(y[j] - y[i])
            u = np.cross(nrm, [1.0, 0.0, 0.0] if abs(nrm[0]) < 0.9 else [0.0, 1.0, 0.0])
            u /= np.linalg.norm(u)
            q = np.column_stack([ring @ u, ring @ np.cross(nrm, u)])
            try:
                area = ConvexHull(q).volume
            except QhullError:  # the centres are not spread in 2D: a facet of zero area
                area = 0.0
            facets[(int(i), int(j))] = area
    return vol, mom, facets
