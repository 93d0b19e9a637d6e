"""Convex pieces: the H-representation through which every exact computation sees a domain.

.. math::

    \\mathbf 1_\\Omega = \\sum_p s_p\\, \\mathbf 1_{K_p} \\quad\\text{a.e.},\\qquad
    \\mu(S) = \\sum_p s_p\\, \\rho_p\\, |S \\cap K_p|,

with convex pieces :math:`K_p`, signs :math:`s_p = \\pm 1` and densities :math:`\\rho_p \\ge 0`.
Public as ``geomot.ConvexPieces`` / ``geomot.domain.ConvexPieces``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._tol import tol

__all__ = ["ConvexPieces", "frozen", "box_pieces"]


def frozen(a, dtype):
    """A C-contiguous read-only copy of ``a`` (0-d stays 0-d)."""
    a = np.array(a, dtype=dtype, copy=True, order="C")
    a.flags.writeable = False
    return a


# ----------------------------------------------------------------------------------------------
# ConvexPieces
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConvexPieces:
    """Convex pieces of a domain in H-representation (CSR over half-spaces).

    Parameters
    ----------
    normals : (H, d) float64
        Outward unit normals of all half-spaces of all pieces.
    offsets : (H,) float64
        Piece ``p`` is :math:`\\{x \\in [lo_p, hi_p] : n_k \\cdot x \\le o_k,\\;
        k \\in [indptr_p, indptr_{p+1})\\}`.
    indptr : (P+1,) int64
        CSR pointer into ``normals``/``offsets``; a box piece has no half-spaces.
    lo, hi : (P, d) float64
        Tight bounding box of each piece.
    sign : (P,) float64
        ``+1``, or ``-1`` for the negative tetrahedra of a signed cone decomposition.
    density : (P,) float64
        Source density on each piece (``>= 0``).

    Notes
    -----
    All arrays are C-contiguous read-only copies.  The Lebesgue measure of a set :math:`S` is

    .. math:: |S| = \\sum_p s_p\\, |S \\cap K_p|.

    Example
    -------
    >>> from geomot import Domain
    >>> Domain.box([0, 0], [2, 1]).pieces.num_pieces
    1
    """

    normals: np.ndarray
    offsets: np.ndarray
    indptr: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sign: np.ndarray
    density: np.ndarray

    def __post_init__(self):
        for name, dtype in (("normals", np.float64), ("offsets", np.float64), ("indptr", np.int64),
                            ("lo", np.float64), ("hi", np.float64), ("sign", np.float64),
                            ("density", np.float64)):
            object.__setattr__(self, name, frozen(getattr(self, name), dtype))
        lo, hi = self.lo, self.hi
        if lo.ndim != 2 or hi.shape != lo.shape:
            raise ValueError(f"lo and hi must be (P, d) arrays of equal shape, got {lo.shape}, {hi.shape}")
        P, d = lo.shape
        H = self.offsets.shape[0]
        if self.normals.ndim != 2 or self.normals.shape != (H, d) or self.offsets.ndim != 1:
            raise ValueError(f"normals must be (H, {d}) and offsets (H,), got {self.normals.shape}, "
                             f"{self.offsets.shape}")
        if self.indptr.shape != (P + 1,) or self.indptr[0] != 0 or self.indptr[-1] != H \
                or np.any(np.diff(self.indptr) < 0):
            raise ValueError(f"indptr must be a non-decreasing (P+1,) = ({P + 1},) CSR pointer "
                             f"from 0 to H = {H}")
        if self.sign.shape != (P,) or self.density.shape != (P,):
            raise ValueError(f"sign and density must be (P,) = ({P},), got {self.sign.shape}, "
                             f"{self.density.shape}")

    def _slack(self):
        """Tolerance of ``n . x <= o`` (see :meth:`indicator`)."""
        return _slack_of(self.lo, self.hi)

    @property
    def dim(self):
        """Dimension ``d``."""
        return self.lo.shape[1]

    @property
    def num_pieces(self):
        """Number of pieces ``P``."""
        return self.lo.shape[0]

    def indicator(self, x):
        """(n, P) bool: ``x[i]`` lies in the closed piece ``p``.

        Parameters
        ----------
        x : (n, d) array_like
            Points, real and finite, one per row (a single point is ``[[x0, x1]]``).

        Notes
        -----
        A half-space :math:`n_k \\cdot x \\le o_k` is met within the slack

        .. math:: \\texttt{tol.clip}\\, L + \\texttt{tol.rounding}\\,\\varepsilon \\sqrt d\\, M,

        :math:`L` the largest extent and :math:`M` the largest coordinate of the pieces: relative
        to the size, plus the rounding of offsets and products far from the origin (the same
        answer for the domain at any scale and offset).

        Example
        -------
        >>> from geomot import Domain
        >>> Domain.box([0, 0], [1, 1]).pieces.indicator(np.array([[0.5, 0.5]])).tolist()
        [[True]]
        """
        from ._domain_args import real_points

        x = real_points(x, "x", self.dim)
        out = np.all((x[:, None, :] >= self.lo[None]) & (x[:, None, :] <= self.hi[None]), axis=2)
        if self.offsets.shape[0]:
            slack = self._slack()
            viol = (x @ self.normals.T) > (self.offsets + slack)[None, :]  # (n, H)
            counts = np.diff(self.indptr)
            nz = counts > 0
            bad = np.logical_or.reduceat(viol, self.indptr[:-1][nz], axis=1)  # (n, #nonempty)
            out[:, nz] &= ~bad
        return out


def _slack_of(lo, hi):
    L = float(np.max(hi.max(axis=0) - lo.min(axis=0)))
    M = max(float(np.abs(hi).max()), float(np.abs(lo).max()))
    return tol.clip * L + tol.rounding * np.finfo(np.float64).eps * np.sqrt(lo.shape[1]) * M


def box_pieces(lo, hi, density=None):
    """Axis-aligned boxes ``lo``, ``hi`` (P, d) (or (d,)) -> ConvexPieces without half-spaces."""
    lo = np.atleast_2d(lo)
    hi = np.atleast_2d(hi)
    P, d = lo.shape
    dens = np.ones(P) if density is None else density
    return ConvexPieces(np.zeros((0, d)), np.zeros(0), np.zeros(P + 1, np.int64), lo, hi,
                        np.ones(P), dens)
