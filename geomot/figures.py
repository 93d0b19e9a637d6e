"""Alias of :mod:`geomot.reproduce` (the figure recipes), kept for old code.

``geomot.figures`` is still listed in ``geomot.__all__``; the recipes live once, in
``geomot/reproduce/<name>.py``.  ``make_figN(out_dir, ...)`` here is ``geomot.reproduce.figN.make``.
Nothing in geomot imports this module; it can be deleted once ``geomot.__all__`` names
``reproduce`` instead.

Example
-------
>>> from geomot import figures, reproduce
>>> figures.FIGURES is reproduce.FIGURES
True
"""

from .reproduce import FIGURES, FigureSpec, list_figures, reproduce
from .reproduce.fig2 import make as make_fig2
from .reproduce.fig3 import make as make_fig3
from .reproduce.fig4 import make as make_fig4
from .reproduce.fig5 import make as make_fig5
from .reproduce.fig6 import make as make_fig6
from .reproduce.mode_collapse import make as make_mode_collapse

__all__ = ["FigureSpec", "FIGURES", "list_figures", "reproduce", "make_fig2", "make_fig3", "make_fig4",
           "make_fig5", "make_fig6", "make_mode_collapse"]
