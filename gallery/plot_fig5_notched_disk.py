"""
Figure 5: disk → a region with a hole and notches
=================================================

The source is the unit disk; the target a non-convex region with a hole and three notches in its
boundary.  The singular set splits into pieces: Γ0, whose subdifferential covers the hole, and
Γ1, Γ2, Γ3, each covering one notch.  ``geomot.figures.make_fig5`` checks this numerically
(the largest overlap of a subdifferential with the hole is above 50%, every notch is met by
another component's subdifferential) before it draws anything.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image

from geomot import figures

N = 1500
paths = figures.make_fig5("figures", quick=True, n=N, seed=0)
print(paths)

# %%
# The picture: left the source disk coloured by the map with the components Γk, right the
# target with the region each ∂u(Γk) covers.
img = Image.open(paths[0])
assert Path(paths[0]).stat().st_size > 0 and img.size[0] > 100
fig, ax = plt.subplots(figsize=(10, 5))
ax.imshow(img)
ax.set_axis_off()
