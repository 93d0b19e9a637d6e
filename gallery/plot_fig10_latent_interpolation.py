"""
Figure 10: latent interpolation across the singular set
=======================================================

The article's figure 10: decoded images along a straight latent segment; where the segment
crosses the singular set, a continuous generator produces an image that cannot exist (a face
with one brown and one blue eye).  Here, on scikit-learn's digits: a segment of the latent
square that crosses the singular set between two digits' clusters
(:func:`geomot.segment_crossings` finds the crossing exactly), the singular-aware map's decoded
images along it (digits on both sides, a jump at the crossing) and the continuous generator's
images at the same parameters (a blend of the two digits at the crossing).

This page runs the recipe :mod:`geomot.reproduce.fig10` (``geomot reproduce fig10``).
"""

# %%
# Find the segment and decode both generators along it.
import matplotlib.pyplot as plt
from PIL import Image

from geomot.reproduce import fig10

QUICK = True  # False: all 1797 digits
r = fig10.compute(quick=QUICK, seed=0)

# %%
# Where the segment changes cells, and which change is singular.
c = r.crossings
print(f"{len(c)} cell changes along the segment, singular at t = {c.t[c.singular].round(3).tolist()}")
print(f"ends decode to digits {r.digits}; the continuous image at t* is classified "
      + ", ".join(f"{k}: {p:.2f}" for k, p in enumerate(r.blend_probabilities) if p > 0.05))
assert c.singular.sum() == 1 and r.digits[0] != r.digits[1] and r.blend_off

# %%
# Render: the segment in the latent square, the two code paths, and the two image strips.
(path,) = fig10.render(r, "figures")
plt.figure(figsize=(14, 7.6))
plt.imshow(Image.open(path))
plt.axis("off")
