"""geomot: exact semi-discrete optimal transport in 2D and 3D.

Power diagrams built exactly from one convex hull of the lifted targets, a damped Newton
solver, the Brenier potential, its singular set, and generation that respects it (AE-OT).

Names are imported lazily (PEP 562) so that ``import geomot`` stays light: numba kernels
compile, and matplotlib / PyVista load, only when first used.
"""

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS = {
    "Domain": "domain",
    "ConvexPieces": "domain",
    "power_diagram": "power",
    "PowerDiagram": "power",
    "solve_ot": "solver",
    "OTResult": "result",
    "load": "result",
    "ConvergenceWarning": "_warnings",
    "BrenierPotential": "brenier",
    "singular_set": "singular",
    "SingularSet": "singular",
    "PiecewiseLinearMap": "generate",
    "segment_crossings": "crossings",
    "SegmentCrossings": "crossings",
    "get_backend": "_backend",
    "BackendUnavailableError": "_backend",
    "FacetGeometry": "power",
    "MonteCarloRun": "montecarlo",
    "shapes": None,
    "plot": None,
    "plot3d": None,
    "reproduce": None,
    "explore": None,
    "generate": None,
    "latent": None,
    "mixtures": None,
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'geomot' has no attribute {name!r}")
    module = _EXPORTS[name]
    if module is None:
        value = importlib.import_module(f"geomot.{name}")
    else:
        value = getattr(importlib.import_module(f"geomot.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
