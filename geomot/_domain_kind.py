"""The interface of a :class:`geomot.Domain` kind, and the registry of kinds.

A kind owns its parameters (typed, immutable), validates them in :meth:`DomainKind.create`,
decomposes itself into :class:`~geomot.ConvexPieces`, and answers the queries the facade
:class:`geomot.Domain` forwards: ``contains``, ``sample``, ``inscribed_ball``, ``make_geometry``,
``repr_args`` and the array round trip ``to_arrays`` / ``from_arrays``.  Adding a kind is one
class decorated with :func:`register` (and, for a public constructor, one classmethod on
``Domain`` that calls ``KINDS[name].create``): ``Domain.from_arrays``, ``repr``, ``==``, hashing
and pickling then cover it, and nothing outside the domain modules tests kind names.  The
kinds themselves are in ``geomot._domain_kinds`` (import that module to fill :data:`KINDS`).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from ._domain_args import check_measure
from ._pieces import ConvexPieces, frozen

__all__ = ["DomainKind", "KINDS", "register"]

#: kind name -> kind class, in registration order (the one place kinds are listed)
KINDS: dict[str, type[DomainKind]] = {}


def register(cls):
    """Class decorator: add a complete :class:`DomainKind` subclass to :data:`KINDS`."""
    if getattr(cls, "__abstractmethods__", None):
        raise TypeError(f"{cls.__name__} does not implement {sorted(cls.__abstractmethods__)}")
    if cls.name in KINDS:
        raise ValueError(f"a domain kind named {cls.name!r} is already registered")
    KINDS[cls.name] = cls
    return cls


# ---------------------------------------------------------------------------------- interface
@dataclass(frozen=True, eq=False, kw_only=True)
class DomainKind(abc.ABC):
    """One kind of domain: its parameters, its convex pieces and the queries on it.

    Subclasses are frozen dataclasses whose fields are the validated parameters and derived
    state; every ndarray field is made read-only.  Lazily computed state (trees, geometry)
    lives in ``cached_property``.
    """

    #: the kind's name: ``Domain.kind``, the ``"kind"`` entry of ``to_arrays``, the registry key
    name: ClassVar[str]
    #: convex by construction (otherwise convex when it is one positive convex piece)
    convex: ClassVar[bool] = False
    #: the pieces have disjoint interiors and sign +1 (False for a signed cone decomposition)
    pieces_disjoint: ClassVar[bool] = True

    pieces: ConvexPieces
    piece_volumes: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "piece_volumes", frozen(self.piece_volumes, np.float64))
        for v in vars(self).values():
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
        self._check_representable()

    def _check_representable(self):
        """Last line behind each kind's own checks: the pieces and measures are finite numbers.

        ``create`` names the argument at fault first; this catches what no check foresaw (a
        piece with a NaN normal, a volume that overflowed) instead of computing with it.
        """
        p = self.pieces
        for field in ("normals", "offsets", "lo", "hi", "density"):
            if not np.all(np.isfinite(getattr(p, field))):
                raise ValueError(f"the {self.name} domain's pieces have non-finite {field} in float64: "
                                 f"its size or position is not representable; rescale the problem")
        if not np.all(np.isfinite(self.piece_volumes)):
            raise ValueError(f"the {self.name} domain has a piece volume that overflows float64; "
                             f"rescale the problem")
        check_measure(self.volume, "volume", f"the {self.name} domain")
        check_measure(self.total_mass, "total mass", f"the {self.name} domain")

    # ---------------------------------------------------------------- to implement
    @classmethod
    @abc.abstractmethod
    def create(cls, *args, **kwargs):
        """Validate the constructor's user input (``ValueError`` naming the argument), build."""

    @classmethod
    @abc.abstractmethod
    def from_arrays(cls, get):
        """Rebuild from :meth:`to_arrays` entries; ``get(key, default)`` reads one (ValueError if missing)."""

    @abc.abstractmethod
    def to_arrays(self):
        """dict str -> ndarray of the constructor's parameters (without ``"kind"``); a frozen format."""

    @abc.abstractmethod
    def contains(self, x):
        """(n,) bool for checked points ``x`` (n, d)."""

    @abc.abstractmethod
    def sample(self, n, rng):
        """(n, d) points distributed as the source measure, ``n >= 1``."""

    @abc.abstractmethod
    def inscribed_ball(self):
        """(centre (d,), radius) of a ball inside the domain where the density is positive."""

    @abc.abstractmethod
    def make_geometry(self):
        """shapely geometry (2D), ``trimesh.Trimesh`` (3D) or ``None``."""

    @abc.abstractmethod
    def repr_args(self):
        """Constructor arguments for ``repr`` (``"lo=[..], hi=[..]"``), or None for the summary."""

    # ---------------------------------------------------------------- shared
    @property
    def dim(self):
        return self.pieces.dim

    @property
    def volume(self):
        return float(np.sum(self.pieces.sign * self.piece_volumes))

    @property
    def total_mass(self):
        return float(np.sum(self.pieces.sign * self.pieces.density * self.piece_volumes))

    @property
    def bounds(self):
        p = self.pieces
        return np.stack([p.lo.min(axis=0), p.hi.max(axis=0)])

    @property
    def is_convex(self):
        p = self.pieces
        return bool(type(self).convex or (p.num_pieces == 1 and p.sign[0] > 0))

    @cached_property
    def geometry(self):
        return self.make_geometry()

    @cached_property
    def inscribed(self):
        c, r = self.inscribed_ball()
        return frozen(c, np.float64), float(r)
