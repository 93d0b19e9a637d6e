"""
Figure 6: solid ball → solid Stanford bunny (3D)
================================================

The optimal transport map from the uniform ball to the uniform solid bunny is discontinuous on
surfaces inside the ball (the creases of the Brenier potential), because the bunny is not
convex.  ``geomot.figures.make_fig6`` solves the 3D problem on the exact power diagram, checks
that singular surfaces exist and that the morph ends on the targets, renders the surfaces with
PyVista off-screen, and writes the displacement interpolation (each cell's mass moving on a
straight line from its centroid to its target) as a strip of frames and an animated GIF.

Needs ``bunny_watertight.ply`` (``../shared/data/`` or ``$GEOMOT_DATA``).
"""

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image

from geomot import figures, shapes

try:
    bunny = shapes.bunny()
except FileNotFoundError as exc:
    print(f"skipping figure 6: {exc}")
    sys.exit(0)
assert bunny.is_watertight and bunny.volume > 0

# %%
N = 1500
paths = figures.make_fig6("figures", quick=True, n=N, seed=0)
print([str(p) for p in paths])
gif = Image.open(paths[-1])
assert gif.n_frames > 2  # an animation

# %%
fig, axes = plt.subplots(2, 1, figsize=(10, 10))
for ax, p in zip(axes, paths[:2]):
    ax.imshow(Image.open(p))
    ax.set_axis_off()
