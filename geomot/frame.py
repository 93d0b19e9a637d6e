"""Internal frames: every computation on O(1) coordinates, wherever the problem is and whatever its size.

A semi-discrete transport problem keeps its answer under a translation or a scaling of the
source and of the targets, but floating point does not: targets at :math:`10^8` carry
:math:`h \\approx -|y|^2/2 \\approx 10^{16}`, and a unit square scaled by :math:`10^{-14}`
meets absolute tolerances.  geomot therefore works in a *frame*: separate affine changes of
the source and the target coordinates,

.. math:: x = a + s\\, x', \\qquad y = b + t\\, y',

with :math:`a` the centre of the domain's bounding box, :math:`b` the centre of the targets'
bounding box (each rounded to a multiple of :math:`2^{-8}` times its scale) and :math:`s, t`
powers of two of the two half-extents (separate frames, unless the source is near the
targets: see below).  Then

.. math::
    \\langle x, y_i\\rangle + h_i = \\langle x, b\\rangle + s t\\,
    \\big(\\langle x', y'_i\\rangle + h'_i\\big), \\qquad
    h'_i = \\frac{h_i + \\langle a, y_i - b\\rangle}{s t},

and the first term does not depend on ``i``: the cells, in frame coordinates, are the cells
of the targets :math:`y'` with the heights :math:`h'`, and every argmax, mass and facet is
computed from O(1) numbers.  The kernels take the weights relative to the Voronoi diagram,
:math:`\\varphi' = h' + |y'|^2/2` (``docs/architecture.md``); for world weights
:math:`\\varphi = h + |y|^2/2`,

.. math::
    \\varphi'_i = \\frac{\\varphi_i}{s t} + \\frac{\\langle a - b, y'_i\\rangle}{s}
    + \\Big(1 - \\frac{t}{s}\\Big) \\frac{|y'_i|^2}{2} + \\text{const},

so the Voronoi diagram of the targets where the user put them (:math:`\\varphi = 0`) is
:meth:`Frame.voronoi_weights`, computed without forming :math:`|y|^2`.

The second and third terms are rounded target by target: the difference of two close
targets' weights carries an error :math:`\\epsilon (|a - b|/s + |1 - t/s|)` that does not shrink
with their distance, so the facet between targets :math:`\\delta` apart moves by that over
:math:`\\delta` (a transport near the Voronoi diagram has :math:`\\varphi' \\approx 0`: these
terms would be all its rounding).  When the source is near the targets -- centres within
``COMMON_RATIO`` (8) target scales, scales within a factor 8 -- the source therefore takes the
targets' frame, :math:`a = b`, :math:`s = t`: both terms vanish, the frame weights are
:math:`\\varphi / t^2` exactly, and the coordinates stay within a few units.  Far or much
larger or smaller sources keep their own frame (targets far from the source must not be
squeezed into a common one: their coordinates would carry :math:`|a - b|/s`).

Back in world units:
:math:`h_i = s t\\, h'_i - t \\langle a, y'_i\\rangle` (precise to the rounding of world
values of that size), volumes :math:`\\times s^d`, centroids :math:`a + s c'`, facet
measures :math:`\\times s^{d-1}`, :math:`\\partial m / \\partial h = (\\partial m / \\partial
h') / (s t)`.

Scales are powers of two and centres lie on a grid of their scale, so scaling a problem by a
power of two and translating it by an offset that moves the coordinates exactly (dyadic
coordinates) gives the *same* frame coordinates, bit for bit: the results are then exactly
invariant.  A frame is chosen from the domain's bounds and the targets once
(:meth:`Frame.of`); the target half (``b``, ``t``) depends on the targets only,
so a :class:`~geomot.brenier.BrenierPotential` built from the same targets
(:meth:`Frame.of_targets`, no source: ``a = 0``, ``s = t``) sees the same frame targets and
can reuse a power diagram's triangulation.

:class:`FramedDomain` is a domain seen in a frame: its convex pieces with unchanged normals,
offsets :math:`(o - n \\cdot a)/s` and boxes :math:`(lo - a)/s`, :math:`(hi - a)/s` (for
boxes ``lo - a`` is exact by Sterbenz's lemma when ``a`` is near), its bounds and its total
mass :math:`\\int \\rho\\,dx / s^d`.

Problems whose world values cannot be held in float64 (:math:`|x|\\,|y|` above
``tol.score_range`` or :math:`s t` below its inverse) are refused with a ``ValueError``
naming the domain and the targets.

References
----------
P. H. Sterbenz, *Floating-point computation*, Prentice-Hall (1974), theorem 4.3.1.
N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM (2002), ch. 2.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._pieces import ConvexPieces
from ._tol import tol
from ._validate import readonly

__all__ = ["Frame", "FramedDomain"]

#: frame centres lie on a grid of (scale / 2**CENTRE_BITS)
CENTRE_BITS = 8
#: a source this near the targets (in target scales) takes the targets' frame
COMMON_RATIO = 8.0


def _power_of_two(v):
    """The power of two ``p`` with ``p <= v < 2 p`` (``v`` finite and > 0)."""
    _, e = np.frexp(v)
    return float(np.ldexp(1.0, int(e) - 1))


def _centre_and_scale(lo, hi, what):
    """Centre ``lo/2 + hi/2`` and power-of-two scale of the half-extent of the box ``[lo, hi]``.

    A box of zero extent (one point) gets the scale of its distance to the origin (or 1).
    """
    centre = 0.5 * lo + 0.5 * hi  # (no overflow of lo + hi)
    half = float(np.max(0.5 * hi - 0.5 * lo)) if lo.size else 0.0
    if not np.isfinite(half) or not np.all(np.isfinite(centre)):
        raise ValueError(f"{what} has a bounding box that is not finite: [{lo}, {hi}]")
    if half <= 0.0:
        big = float(np.max(np.abs(centre))) if centre.size else 0.0
        half = big if big > 0.0 else 1.0
    scale = _power_of_two(half)
    # the centre on a grid of scale / 2^CENTRE_BITS: a translation by a multiple of the grid
    # moves it exactly, so translated problems (with exact inputs) have the same frame
    # coordinates bit for bit; the points stay within 2 + 2^-CENTRE_BITS of it
    q = scale * 2.0 ** -CENTRE_BITS
    with np.errstate(over="ignore", invalid="ignore"):
        snapped = np.round(centre / q) * q
    if np.all(np.isfinite(snapped)):
        centre = snapped
    return centre, scale


@dataclass(frozen=True, eq=False)
class Frame:
    """Source and target frames: :math:`x = a + s x'`, :math:`y = b + t y'`.

    Parameters
    ----------
    source_center : (d,) array_like
        :math:`a`.
    source_scale : float
        :math:`s > 0` (a power of two when built by :meth:`of`).
    target_center : (d,) array_like
        :math:`b`.
    target_scale : float
        :math:`t > 0`.

    Notes
    -----
    .. math::
        \\langle x, y_i\\rangle + h_i = \\langle x, b\\rangle + s t
        (\\langle x', y'_i\\rangle + h'_i), \\qquad
        h'_i = (h_i + \\langle a, y_i - b\\rangle) / (s t).

    Two frames are equal when their four fields are.

    Example
    -------
    >>> import numpy as np
    >>> from geomot.frame import Frame
    >>> f = Frame.of([[1e8, 1e8], [1e8 + 1, 1e8 + 1]], [[0.0, 0.0], [4.0, 2.0]])
    >>> f.source_center.tolist(), f.source_scale, f.target_center.tolist(), f.target_scale
    ([100000000.5, 100000000.5], 0.5, [2.0, 1.0], 2.0)
    >>> f.to_source([[1e8, 1e8 + 1]]).tolist()
    [[-1.0, 1.0]]
    """

    source_center: np.ndarray
    source_scale: float
    target_center: np.ndarray
    target_scale: float

    def __post_init__(self):
        set_ = object.__setattr__
        for name in ("source_center", "target_center"):
            try:
                v = np.array(getattr(self, name), dtype=np.float64, copy=True)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a (d,) array of float: {exc}") from None
            if v.ndim != 1 or not np.all(np.isfinite(v)):
                raise ValueError(f"{name} must be a finite (d,) array, got {v!r}")
            set_(self, name, readonly(v))
        if self.source_center.shape != self.target_center.shape:
            raise ValueError(f"source_center and target_center must have the same dimension, got "
                             f"{self.source_center.shape} and {self.target_center.shape}")
        for name in ("source_scale", "target_scale"):
            v = getattr(self, name)
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {v!r}") from None
            if not (np.isfinite(v) and v > 0.0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
            set_(self, name, v)

    # ------------------------------------------------------------------ construction
    @classmethod
    def of(cls, bounds, y):
        """The frame of a problem: source from the domain's ``bounds`` (2, d), targets from ``y`` (n, d).

        When the source is near the targets (centres within ``COMMON_RATIO`` target scales, scales
        within a factor ``COMMON_RATIO``) the source takes the targets' frame (``a = b``,
        ``s = t``): then the world Voronoi diagram has frame weights exactly 0, and the weights of
        a near-Voronoi transport stay small (see the module notes).

        Raises ``ValueError`` (naming the domain and y) when the world scores
        :math:`\\langle x, y\\rangle` of the problem are beyond float64 (see ``tol.score_range``).
        """
        b = np.asarray(bounds, dtype=np.float64)
        a, s = _centre_and_scale(b[0], b[1], "domain")
        c, t = _target_part(np.asarray(y, dtype=np.float64))
        if float(np.max(np.abs(a - c))) <= COMMON_RATIO * t and t <= COMMON_RATIO * s and s <= COMMON_RATIO * t:
            a, s = c, t
        frame = cls(a, s, c, t)
        frame._check_range()
        return frame

    @classmethod
    def of_targets(cls, y):
        """The frame of targets alone (a potential without a source): ``a = 0``, ``s = t``.

        Source points are only scaled (``x' = x / t``, exactly: ``t`` is a power of two), so any
        world problem has such a frame; its heights :math:`h / t^2` are on the scale of a power
        diagram's in the targets' frame.
        """
        c, t = _target_part(np.asarray(y, dtype=np.float64))
        return cls(np.zeros_like(c), t, c, t)

    @classmethod
    def identity(cls, d):
        """``a = b = 0``, ``s = t = 1``: frame coordinates are world coordinates."""
        return cls(np.zeros(d), 1.0, np.zeros(d), 1.0)

    def _check_range(self):
        # in logarithms: the products themselves may overflow or underflow
        ra = float(np.max(np.abs(self.source_center), initial=0.0)) + self.source_scale
        rb = float(np.max(np.abs(self.target_center), initial=0.0)) + self.target_scale
        big = math.log10(ra) + math.log10(rb)
        small = math.log10(self.source_scale) + math.log10(self.target_scale)
        limit = math.log10(tol.score_range)
        if big > limit or small < -limit:
            raise ValueError(
                f"domain and y: the problem's scale is beyond float64: its scores <x, y> are of order "
                f"1e{big:+.0f} and its cells' scale |x| |y| of order 1e{small:+.0f} (domain of size "
                f"{self.source_scale:.3g} around {self.source_center.tolist()}, targets of size "
                f"{self.target_scale:.3g} around {self.target_center.tolist()}); both must be within "
                f"1e{-limit:+.0f} .. 1e{limit:+.0f}: rescale the domain and y")

    # ------------------------------------------------------------------ basic facts
    @property
    def dim(self):
        """Dimension ``d``."""
        return self.source_center.shape[0]

    @property
    def scale(self):
        """:math:`s t`: world heights are this times frame heights."""
        return self.source_scale * self.target_scale

    @property
    def is_identity(self):
        """Whether frame and world coordinates coincide."""
        return (self.source_scale == 1.0 and self.target_scale == 1.0 and not np.any(self.source_center)
                and not np.any(self.target_center))

    def __eq__(self, other):
        if not isinstance(other, Frame):
            return NotImplemented
        return (self.source_scale == other.source_scale and self.target_scale == other.target_scale
                and np.array_equal(self.source_center, other.source_center)
                and np.array_equal(self.target_center, other.target_center))

    __hash__ = None

    def __repr__(self):
        return (f"Frame(source_center={self.source_center.tolist()}, source_scale={self.source_scale!r}, "
                f"target_center={self.target_center.tolist()}, target_scale={self.target_scale!r})")

    # ------------------------------------------------------------------ coordinates
    def to_source(self, x):
        """(m, d): :math:`x' = (x - a) / s`."""
        return (np.asarray(x, dtype=np.float64) - self.source_center) / self.source_scale

    def from_source(self, xf):
        """(m, d): :math:`x = a + s x'`."""
        return self.source_center + self.source_scale * np.asarray(xf, dtype=np.float64)

    def to_targets(self, y):
        """(n, d): :math:`y' = (y - b) / t`."""
        return np.ascontiguousarray((np.asarray(y, dtype=np.float64) - self.target_center) / self.target_scale)

    def from_targets(self, yf):
        """(n, d): :math:`y = b + t y'`."""
        return self.target_center + self.target_scale * np.asarray(yf, dtype=np.float64)

    # ------------------------------------------------------------------ heights and weights
    def heights_to_frame(self, yf, h):
        """(n,): :math:`h' = h / (s t) + \\langle a, y'\\rangle / s` for world heights ``h``
        of the targets whose frame coordinates are ``yf``."""
        # (divided by s, then by t: no underflow or overflow of s t itself)
        return (np.asarray(h, dtype=np.float64) / self.source_scale / self.target_scale
                + (np.asarray(yf) @ self.source_center) / self.source_scale)

    def heights_from_frame(self, yf, hf):
        """(n,): world heights :math:`h = s t h' - t \\langle a, y'\\rangle`."""
        hf = np.asarray(hf, dtype=np.float64)
        return (hf * self.source_scale) * self.target_scale - self.target_scale * (np.asarray(yf) @ self.source_center)

    def weights_to_frame(self, yf, wphi):
        """(n,): frame weights :math:`\\varphi'` of world weights :math:`\\varphi = h + |y|^2/2`
        (up to a constant), without forming :math:`|y|^2`."""
        yf = np.asarray(yf)
        return (np.asarray(wphi, dtype=np.float64) / self.source_scale / self.target_scale + self._voronoi_tilt(yf))

    def voronoi_weights(self, yf):
        """(n,): the frame weights of the world Voronoi diagram (:math:`h = -|y|^2/2`, :math:`\\varphi = 0`)."""
        return self._voronoi_tilt(np.asarray(yf))

    def _voronoi_tilt(self, yf):
        s, t = self.source_scale, self.target_scale
        out = (yf @ (self.source_center - self.target_center)) / s
        if t != s:
            out = out + (1.0 - t / s) * 0.5 * np.einsum("ij,ij->i", yf, yf)
        return out

    # ------------------------------------------------------------------ domains
    def bounds_to_frame(self, bounds):
        """(2, d): a bounding box in frame coordinates."""
        return self.to_source(np.asarray(bounds, dtype=np.float64))

    def pieces_to_frame(self, pieces):
        """The :class:`~geomot.domain.ConvexPieces` in frame coordinates (normals unchanged)."""
        a, s = self.source_center, self.source_scale
        return ConvexPieces(pieces.normals, (pieces.offsets - pieces.normals @ a) / s, pieces.indptr,
                            (pieces.lo - a) / s, (pieces.hi - a) / s, pieces.sign, pieces.density)

    # ------------------------------------------------------------------ files
    def to_arrays(self):
        """``{name: ndarray}`` of the four fields (for ``numpy.savez``)."""
        return {"source_center": np.array(self.source_center), "source_scale": np.array(self.source_scale),
                "target_center": np.array(self.target_center), "target_scale": np.array(self.target_scale)}

    @classmethod
    def from_arrays(cls, arrays):
        """The inverse of :meth:`to_arrays` (``ValueError`` naming a missing or bad field)."""
        missing = [k for k in ("source_center", "source_scale", "target_center", "target_scale") if k not in arrays]
        if missing:
            raise ValueError(f"frame is missing {missing}")
        scales = {}
        for k in ("source_scale", "target_scale"):
            v = np.asarray(arrays[k])
            if v.shape != () or v.dtype.kind not in "fiu":
                raise ValueError(f"{k} must be a number, got an array of shape {v.shape} and dtype {v.dtype}")
            scales[k] = float(v)
        return cls(np.asarray(arrays["source_center"]), scales["source_scale"],
                   np.asarray(arrays["target_center"]), scales["target_scale"])


def _target_part(y):
    if y.ndim != 2 or y.shape[0] == 0:
        raise ValueError(f"y must be a non-empty (n, d) array, got shape {y.shape}")
    return _centre_and_scale(y.min(axis=0), y.max(axis=0), "y")


@dataclass(frozen=True, eq=False)
class FramedDomain:
    """A domain seen in a frame: what the clipping kernels need, in frame coordinates.

    Attributes
    ----------
    domain : Domain
        The domain (world coordinates).
    frame : Frame
    pieces : ConvexPieces
        ``domain.pieces`` in frame coordinates.
    bounds : (2, d) ndarray
        ``domain.bounds`` in frame coordinates.
    total_mass : float
        :math:`\\int_\\Omega \\rho\\, dx` in frame units (``domain.total_mass / s**d``).
    """

    domain: object
    frame: Frame
    pieces: ConvexPieces
    bounds: np.ndarray
    total_mass: float

    @classmethod
    def of(cls, domain, frame):
        """``domain`` in ``frame`` (``ValueError`` when its total mass is not representable there)."""
        if frame.is_identity:
            total = float(domain.total_mass)
            out = cls(domain, frame, domain.pieces, np.asarray(domain.bounds), total)
        else:
            with np.errstate(over="ignore", under="ignore"):
                total = float(np.float64(domain.total_mass) / np.float64(frame.source_scale) ** domain.dim)
            out = cls(domain, frame, frame.pieces_to_frame(domain.pieces),
                      readonly(frame.bounds_to_frame(domain.bounds)), total)
        if not (np.isfinite(total) and total > 0.0):
            raise ValueError(f"domain: its total mass {float(domain.total_mass)!r} is not a positive float64 "
                             f"in the frame of the problem (size {frame.source_scale:.3g}): rescale the problem")
        return out

    def inscribed_ball(self):
        """``(center (d,), radius)``: :meth:`geomot.Domain.inscribed_ball` in frame coordinates."""
        c, r = self.domain.inscribed_ball()
        return self.frame.to_source(np.asarray(c, dtype=np.float64)), float(r) / self.frame.source_scale

    @property
    def dim(self):
        return self.frame.dim

    @property
    def volume_scale(self):
        """:math:`s^d`: world volumes are this times frame volumes."""
        return float(np.float64(self.frame.source_scale) ** self.dim)
