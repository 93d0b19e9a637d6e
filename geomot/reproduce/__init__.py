"""The figures of Lei-Guo-An-Qi-Luo-Yau-Gu, *Mode Collapse and Regularity of Optimal Transportation
Maps* (arXiv:1902.02934), reproduced with geomot: what ``geomot reproduce`` and the gallery run.

Each figure's recipe is one module of this package (:mod:`~geomot.reproduce.fig1` ...
:mod:`~geomot.reproduce.fig6`, :mod:`~geomot.reproduce.fig8`, :mod:`~geomot.reproduce.fig10` (real
data: scikit-learn's digits, ``pip install geomot[ml]``), :mod:`~geomot.reproduce.mode_collapse`, and the classroom animation
:mod:`~geomot.reproduce.singular_appears`) with the same three steps:

* ``compute(quick=False, n=None, seed=0, progress=False)`` solves the transport problem and
  **checks a numeric property the article states** (``RuntimeError`` if it fails, before
  anything is drawn); it returns a small frozen result with the numbers it checked;
* ``render(result, out_dir, show=False, progress=False)`` writes PNG files (and a GIF for fig6)
  into ``out_dir`` and returns their paths;
* ``make(out_dir, quick=False, n=None, seed=0, progress=False, show=False)`` does both.

``quick=True`` uses small sizes (each figure in well under a minute on a laptop); the default
sizes give publication-quality pictures.  The registry :data:`FIGURES` maps the names
(``fig1`` ... ``fig6``, ``fig8``, ``fig10``, ``mode-collapse``, ``singular-appears``) to :class:`FigureSpec`; :func:`reproduce` runs
several of them.

Example
-------
>>> from geomot import reproduce
>>> sorted(reproduce.FIGURES)
['fig1', 'fig10', 'fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'fig8', 'mode-collapse', 'singular-appears']
>>> reproduce.FIGURES["fig3"].min_n
200
"""

from dataclasses import dataclass, field
from types import ModuleType

from . import fig1, fig2, fig3, fig4, fig5, fig6, fig8, fig10, mode_collapse, singular_appears

__all__ = ["FigureSpec", "FIGURES", "list_figures", "reproduce"]


@dataclass(frozen=True)
class FigureSpec:
    """One reproducible figure: its name, a one-line description and its recipe module.

    Parameters
    ----------
    name : str
    description : str
    recipe : module
        The module of this package holding ``compute``, ``render``, ``make``, ``SIZES``, ``DIM``.

    Example
    -------
    >>> from geomot.reproduce import FIGURES
    >>> spec = FIGURES["fig3"]
    >>> spec.name, spec.recipe.DIM
    ('fig3', 2)
    """

    name: str
    description: str
    recipe: ModuleType = field(repr=False)

    @classmethod
    def of(cls, recipe):
        """The spec of a recipe module (from its ``NAME`` and ``DESCRIPTION``)."""
        return cls(recipe.NAME, recipe.DESCRIPTION, recipe)

    @property
    def make(self):
        """``make(out_dir, quick=False, n=None, seed=0, progress=False, show=False)`` -> list of Path."""
        return self.recipe.make

    @property
    def compute(self):
        """The recipe's solve-and-check step."""
        return self.recipe.compute

    @property
    def render(self):
        """The recipe's drawing step."""
        return self.recipe.render

    @property
    def dim(self):
        """2 or 3: the dimension of the transport problem."""
        return self.recipe.DIM

    @property
    def sizes(self):
        """Default numbers of targets ``(quick, publication)``."""
        return (self.recipe.SIZES.quick, self.recipe.SIZES.publication)

    @property
    def min_n(self):
        """The smallest ``n`` that resolves what the figure shows (smaller ``n`` is refused)."""
        return self.recipe.SIZES.minimum


#: name -> FigureSpec, in the article's order
FIGURES = {spec.name: spec for spec in map(FigureSpec.of, (fig1, fig2, fig3, fig4, fig5, fig6, fig8, fig10,
                                                          mode_collapse, singular_appears))}


def list_figures():
    """``[(name, description), ...]`` of the reproducible figures, in order.

    Example
    -------
    >>> [name for name, _ in list_figures()][:3]
    ['fig1', 'fig2', 'fig3']
    """
    return [(f.name, f.description) for f in FIGURES.values()]


def reproduce(names, out_dir="figures", quick=False, n=None, seed=0, progress=False, show=False):
    """Make several figures; ``"all"`` means every one.

    Parameters
    ----------
    names : str or list of str
        Figure names (see :func:`list_figures`) or ``"all"``.
    out_dir : str or Path
    quick, n, seed, progress, show :
        Passed to each recipe's ``make``.

    Returns
    -------
    dict
        name -> list of Path.

    Raises
    ------
    ValueError
        An unknown figure name (the message lists the known ones).

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in reproduce("fig3", d, quick=True, n=200)["fig3"]]
    ['fig3_two_half_disks.png']
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if "all" in names:
        names = list(FIGURES)
    unknown = [x for x in names if x not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure name(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(FIGURES)} (or 'all')")
    out = {}
    for name in dict.fromkeys(names):
        out[name] = FIGURES[name].make(out_dir, quick=quick, n=n, seed=seed, progress=progress, show=show)
    return out
