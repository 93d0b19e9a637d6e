"""
Figure 4: rectangle → dumbbell
==============================

From the uniform rectangle ``[0, 2] x [0, 1]`` to a dumbbell (two disks joined by a bar), the
singular set is two segments on the midline ``x = 1``, one above and one below the preimage of
the bar; between them the map stays continuous (the bar's cells have neighbouring targets).
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import shapely

import geomot
from geomot import plot, shapes

N = 800
rng = np.random.default_rng(0)
target = shapes.dumbbell(radius=0.45, separation=1.5, bar_width=0.12, center=(1.0, 0.5))
halves = [target.intersection(shapely.box(-9, -9, 1, 9)), target.intersection(shapely.box(1, -9, 9, 9))]
y = np.vstack([shapes.sample(h, N // 2, seed=rng) for h in halves])
res = geomot.solve_ot(geomot.Domain.box([0.0, 0.0], [2.0, 1.0]), y, tol=1e-8)
s = geomot.singular_set(res)

# %%
# The check: every singular segment is on the midline, there are singular points above and
# below the bar, and no singular segment crosses the bar's preimage (around y = 0.5).
seg = s.segments
ys = seg[..., 1]
print(f"{len(s.components)} components; singular y-range below the bar: [{ys.min():.2f}, "
      f"{ys.max(axis=1)[ys.max(axis=1) < 0.5].max():.2f}], above: [{ys.min(axis=1)[ys.min(axis=1) > 0.5].min():.2f}, "
      f"{ys.max():.2f}]")
assert res.converged
assert np.abs(seg[..., 0] - 1.0).max() < 0.1
assert ys.max() > 0.6 and ys.min() < 0.4
assert not np.any((ys.min(axis=1) < 0.5) & (ys.max(axis=1) > 0.5))  # continuous across the bar

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
plot.plot_map(res, ax=axes[0])
plot.plot_singular_set(s, ax=axes[0], linewidth=3)
axes[0].set_title("two singular segments on x = 1")
plot.plot_geometry(target, ax=axes[1], facecolor="0.93", edgecolor="0.4")
plot.plot_subdifferentials(s, ax=axes[1])
plot.plot_samples(y, ax=axes[1], color=plot.target_colors(y), size=5)
axes[1].set_title("dumbbell target; what ∂u(Γk) covers")
Path("figures").mkdir(exist_ok=True)
fig.savefig("figures/gallery_fig4.png", dpi=120)
