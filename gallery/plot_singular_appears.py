"""
The singular set appears: open a gap between two half-disks
===========================================================

Caffarelli's theorem: the optimal transport map onto a **convex** target is continuous.  Start
from the rectangle ``[0, 2] x [0, 1]`` onto a disk (convex: no singular set), cut the disk along
its vertical diameter and pull the halves apart.  For every gap the target is non-convex and the
map of the continuous problem tears along the midline ``x = 1``; the discrete map shows it once
the gap is a few target spacings wide, and then Σ sits on the midline.

This page runs the recipe :mod:`geomot.reproduce.singular_appears` (the one
``geomot reproduce singular-appears`` runs, and the sweep ``geomot explore`` moves live) in its
two steps: ``compute`` solves every frame and checks that Σ is empty for the disk and on the
midline at the end; ``render`` writes the animation (GIF, and MP4 when imageio-ffmpeg is
installed) and a contact sheet.
"""

# %%
# Sweep the gap from 0 to 0.4 (10 frames in quick mode).  The targets are drawn once and the
# halves translated, so the frames move continuously.
import matplotlib.pyplot as plt
from PIL import Image

from geomot.reproduce import singular_appears

QUICK = True  # False: publication size (3000 targets, 40 frames)
r = singular_appears.compute(quick=QUICK, seed=0)

# %%
# The numbers along the sweep: Σ is empty for the disk (gap 0), appears at a small gap, and
# converges to the midline (its Hausdorff distance to ``x = 1`` drops to a cell's width).
for sc in r.scenes:
    print(sc.summary())
print(f"Σ first detected at gap = {r.appears:.3f}")
assert r.scenes[0].n_pairs == 0 and r.scenes[-1].hausdorff < 0.1

# %%
# Render: the animated GIF (shown below; it plays the gap opening and closing) and the contact
# sheet with the length of Σ along the sweep.
paths = singular_appears.render(r, "figures")
plt.figure(figsize=(15, 8))
plt.imshow(Image.open(paths[1]))
plt.axis("off")
print("written:", ", ".join(p.name for p in paths))
