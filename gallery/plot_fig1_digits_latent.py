"""
Figure 1: real digits in a latent space — ten clusters and the singular set between them
=========================================================================================

The article's figure 1: the latent codes of real data form clusters, one per digit.  Here the
1,797 handwritten digits bundled with scikit-learn are embedded in the plane by t-SNE (as in the
article), scaled into the unit square, and the exact 2D transport from the uniform square onto
the codes is solved.  Its singular set runs between the clusters; the singular-aware map puts
its samples in all ten clusters and none between them, while a neural network trained to
regress the same map (a continuous generator) fills the gaps.

This page runs the recipe :mod:`geomot.reproduce.fig1` (the one ``geomot reproduce fig1``
runs) in its two steps, and shows the numbers it checks in between.
"""

# %%
# Embed, solve, sample both generators.  ``compute`` raises if the claim fails, before anything
# is drawn.
import matplotlib.pyplot as plt
from PIL import Image

from geomot.reproduce import fig1

QUICK = True  # False: all 1797 digits, tolerance 1e-9, 10000 samples
r = fig1.compute(quick=QUICK, seed=0)

# %%
# The shares of each generator's samples off the data manifold (farther from every code than
# 99 % of the codes are from their nearest neighbour), and the clusters the singular-aware
# samples reach.
print(f"{r.n} codes; off the manifold: singular-aware {100 * r.off_aware:.1f}%, "
      f"continuous (MLP) {100 * r.off_continuous:.1f}%")
print("singular-aware share per digit:", " ".join(f"{v:.3f}" for v in r.shares_aware))
assert r.off_aware < r.off_continuous and (r.shares_aware > 0).all()

# %%
# Render: the codes, the latent square coloured by the digit each point is sent to with the
# singular set, and both generators' samples (off the manifold in red).
(path,) = fig1.render(r, "figures")
plt.figure(figsize=(17, 5))
plt.imshow(Image.open(path))
plt.axis("off")
