"""
Figure 2: the graph of the Brenier potential and its ridge
==========================================================

For a target made of two clusters, the Brenier potential ``u(x) = max_i <x, y_i> + h_i`` is a
convex polyhedral surface: one planar facet per power cell.  Where the cells of the two clusters
meet, the surface has a sharp ridge; its projection is the singular set of the transport map.

This page runs the recipe :mod:`geomot.reproduce.fig2` (the one ``geomot reproduce fig2`` runs)
in its two steps, and shows the numbers it checks in between.
"""

# %%
# Solve: the uniform square ``[-1, 1]^2`` onto two clusters of points (seeded), then find the
# singular set.  ``compute`` raises if the article's claim fails, before anything is drawn.
import matplotlib.pyplot as plt
from PIL import Image

from geomot.reproduce import fig2

QUICK = True  # False: publication size (2000 targets, larger pictures)
r = fig2.compute(quick=QUICK, seed=0)

# %%
# The ridge projects onto the midline x = 0 of the square: every singular segment lies within a
# cell's width of it, and together they span the square's height.
print(f"n = {r.n}: converged in {r.res.iterations} iterations; {len(r.singular.pairs)} ridge facets, "
      f"max |x| = {r.deviation:.3f} (a cell's width: {r.tolerance:.3f}), length {r.length:.2f}")
assert r.res.converged and r.deviation < r.tolerance

# %%
# Render: the surface (cells coloured by their target, the ridge in red, the flat power diagram
# underneath; PyVista, off-screen) and the top view.
for path in fig2.render(r, "figures"):
    plt.figure(figsize=(10, 6))
    plt.imshow(Image.open(path))
    plt.axis("off")
