# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 4 — Mode collapse: continuous generators vs the singular set
#
# *About 30 minutes: 12 of reading and running, 18 of exercises.*
#
# A generative model turns a simple latent distribution (uniform on a square, a Gaussian) into
# samples that should look like the data.  Its generator is a neural network: a **continuous**
# map.  Lessons 2–3 showed that the optimal map onto data with several modes is **not**
# continuous: it tears along the singular set Σ.  This lesson puts the two side by side and
# measures what a continuous generator must get wrong — samples between the modes, or modes
# that lose their mass (*mode collapse*) — and how a generator that respects Σ (AE-OT) avoids it.
#
# **You will:** solve the square → six modes; sample a smooth fit of the map (a stand-in for a
# network) and the piecewise-linear map that refuses to interpolate across Σ; measure the
# fraction of samples off the modes and the balance between modes; walk a latent segment
# across Σ.

# %%
import matplotlib.pyplot as plt
import numpy as np
import shapely

import geomot
from geomot import plot as gplot
from geomot import shapes
from geomot.generate import continuous_map, mode_balance, off_support_fraction

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Data with six modes
#
# Latent space: the uniform unit square.  Data: six small disks on a circle, equal mass, $n$
# samples in all.  The optimal map and its singular set:

# %%
def modes_on_circle(k, radius=0.1):
    centres = np.array([[0.5 + 0.36 * np.cos(a), 0.5 + 0.36 * np.sin(a)] for a in 2 * np.pi * np.arange(k) / k])
    return centres, [shapely.Point(c).buffer(radius, quad_segs=24) for c in centres]


centres, modes = modes_on_circle(6)
support = shapely.union_all(modes)
y = np.vstack([shapes.sample(m, 100, seed=rng) for m in modes])
square = geomot.Domain.box([0, 0], [1, 1])
res = geomot.solve_ot(square, y)
s = geomot.singular_set(res)
print(f"{len(y)} targets, converged in {res.iterations} iterations; Σ: {len(s.pairs)} facets, "
      f"{len(s.components)} components")

fig, ax = plt.subplots(1, 2, figsize=(10, 4.6))
gplot.plot_map(res, ax=ax[0], kind="color")
gplot.plot_singular_set(s, ax=ax[0], color="red", label=False)
ax[0].set_title("latent square, coloured by the map; Σ in red")
gplot.plot_geometry(support, ax=ax[1], facecolor="0.92", edgecolor="0.4")
gplot.plot_samples(y, ax=ax[1], color=gplot.target_colors(y), size=6)
ax[1].set_title("the data: six modes")
plt.show()

# %% [markdown]
# Σ cuts the square into six regions, one per mode: the map is continuous inside each and jumps
# across Σ.
#
# ## 2. Two generators
#
# * **Continuous**: `continuous_map(res)` fits a smooth thin-plate-spline map to the pairs
#   (cell centroid → target) with a little smoothing — the best a network that cannot jump could
#   do.
# * **Singular-aware** (AE-OT): `geomot.PiecewiseLinearMap(res)` interpolates linearly between
#   neighbouring targets inside the triangles of the cell centroids, and **rejects** the latent
#   points of triangles that straddle Σ (they are redrawn).

# %%
m = 3000
cont = continuous_map(res).sample(m, seed=1)
aware = geomot.PiecewiseLinearMap(res, singular=s).sample(m, seed=1)


def label(p):
    return np.argmin(((p[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)


band = 0.01  # "on a mode" = within 0.01 of it
fig, axes = plt.subplots(1, 2, figsize=(10, 4.8))
for ax, pts, name in ((axes[0], cont, "continuous generator"), (axes[1], aware, "singular-aware generator")):
    off = ~shapely.contains_xy(support.buffer(band), pts[:, 0], pts[:, 1])
    gplot.plot_geometry(support, ax=ax, facecolor="0.92", edgecolor="0.4")
    ax.scatter(*pts[~off].T, s=1.5, color="tab:blue")
    ax.scatter(*pts[off].T, s=3, color="tab:red")
    ax.set_title(f"{name}: {100 * off.mean():.1f}% off the modes (red)", fontsize=10)
    ax.set_aspect("equal")
plt.show()

for name, pts in (("continuous", cont), ("singular-aware", aware)):
    bal = mode_balance(pts, label, modes=range(6))
    print(f"{name:15s} off the modes: {100 * off_support_fraction(pts, support, tol=band):5.1f}%   "
          f"mode shares: " + " ".join(f"{bal[k]:.3f}" for k in range(6)))

# %% [markdown]
# ## 3. Why any continuous generator must fail
#
# The latent square is **connected**; the image of a connected set by a continuous map is
# connected; the six modes are not.  So a continuous generator that reaches every mode must
# also cover paths *between* them: samples that are not data.  Squeezing those paths to make
# them light is what training does — and squeezing a region of the latent space onto a path is
# how modes end up with too little mass (collapse).
#
# Walk a straight latent segment that crosses Σ and look at where each generator sends it:

# %%
t = np.linspace(0, 1, 400)[:, None]
a, b = np.array([0.05, 0.5]), np.array([0.95, 0.5])
path = (1 - t) * a + t * b
g_cont = continuous_map(res)(path)
g_aware = geomot.PiecewiseLinearMap(res, singular=s)(path)  # NaN where the segment crosses Σ

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
gplot.plot_map(res, ax=axes[0], kind="color")
gplot.plot_singular_set(s, ax=axes[0], color="red", label=False)
axes[0].plot(*path.T, "k-", lw=2)
axes[0].set_title("a latent segment crossing Σ")
gplot.plot_geometry(support, ax=axes[1], facecolor="0.92", edgecolor="0.4")
axes[1].plot(*g_cont.T, "-", color="tab:red", lw=1.5, label="continuous: sweeps across the gap")
axes[1].plot(*g_aware.T, ".", color="tab:blue", ms=3, label="singular-aware: jumps (gaps = rejected)")
axes[1].legend(fontsize=8, loc="lower center")
axes[1].set_aspect("equal")
axes[1].set_title("its image")
plt.show()
print(f"rejected latent points on the segment (singular-aware): {np.isnan(g_aware[:, 0]).sum()} of {len(t)}")

# %% [markdown]
# ## 4. Real data: the article's figures 1, 8 and 10
#
# The same comparison on data that is not a toy: the 8×8 handwritten digits bundled with
# scikit-learn (`pip install geomot[ml]`), embedded in the plane by t-SNE as in the article.
# Their codes form ten clusters; the exact transport from the latent square onto the codes is
# singular between them.  `geomot reproduce fig1 fig8 fig10` makes the three figures; here
# they run at quick sizes (900 digits).
#
# * **Figure 1** — the codes, the latent square coloured by the digit each point is sent to,
#   and both generators' samples: the singular-aware map reaches all ten clusters and stays on
#   them; the continuous generator (an MLP trained to regress the transport map) fills the gaps.
# * **Figure 8** — decoded samples of three generators (singular-aware, without avoidance, the
#   MLP), their class histograms by an independent classifier and their off-manifold shares.
# * **Figure 10** — a straight latent segment across the singular set
#   (`geomot.segment_crossings` finds the crossing exactly): the singular-aware images jump from
#   one digit to the other, the continuous generator's image at the crossing is a blend.

# %%
from geomot.reproduce import FIGURES

for name in ("fig1", "fig8", "fig10"):
    spec = FIGURES[name]
    result = spec.compute(quick=True)
    for path in spec.render(result, "figures"):
        plt.figure(figsize=(14, 6))
        plt.imshow(plt.imread(path))
        plt.axis("off")
        plt.show()

# %% [markdown]
# The segment of figure 10, walked by `geomot.segment_crossings`: every cell change along it,
# and the one that crosses the singular set.

# %%
from geomot.reproduce import fig10

r10 = fig10.compute(quick=True)
c = r10.crossings
print(f"{len(c)} cell changes; singular at t = {c.t[c.singular].round(3).tolist()} "
      f"(jump {c.jumps[c.singular].round(3).tolist()} vs a median of {float(np.median(c.jumps)):.3f})")

# %% [markdown]
# ## Exercises
#
# ### Exercise 4.1 — more modes (6 min)
#
# Redo section 2 with 2, 4 and 8 modes (same total of about 600 targets).  How does the
# fraction of the continuous generator's samples off the modes change with the number of modes?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 4.1: more modes -> more gaps to sweep across -> more samples off the data
for k in (2, 4, 8):
    c_k, modes_k = modes_on_circle(k, radius=0.1 if k < 8 else 0.08)
    sup_k = shapely.union_all(modes_k)
    y_k = np.vstack([shapes.sample(mk, 600 // k, seed=rng) for mk in modes_k])
    res_k = geomot.solve_ot(square, y_k)
    f_c = off_support_fraction(continuous_map(res_k).sample(2000, seed=2), sup_k, tol=band)
    f_a = off_support_fraction(geomot.PiecewiseLinearMap(res_k).sample(2000, seed=2), sup_k, tol=band)
    print(f"{k} modes: continuous {100 * f_c:5.1f}% off, singular-aware {100 * f_a:4.1f}% off")

# %% [markdown]
# ### Exercise 4.2 — does a better fit help? (5 min)
#
# `continuous_map(res, smoothing=...)`: try 0 (interpolate the pairs exactly), 0.1 and 10.
# Does an exact fit remove the samples in the gaps?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 4.2: no. Even an interpolating map is continuous, so between two centroids on either
# side of Σ it still sweeps across the gap; smoothing only makes it worse.
for smoothing in (0.0, 0.1, 10.0):
    pts = continuous_map(res, smoothing=smoothing).sample(3000, seed=3)
    print(f"smoothing {smoothing:5}: {100 * off_support_fraction(pts, support, tol=band):5.1f}% off the modes")

# %% [markdown]
# ### Exercise 4.3 — why does the piecewise-linear map stay on the modes? (3 min)

# %% [markdown]
# <details><summary>Solution 4.3</summary>
#
# Inside one region cut out by Σ, neighbouring cells send their centroids to neighbouring
# targets of the *same* mode; linear interpolation between nearby points of a (nearly convex)
# mode stays in it.  The only triangles of centroids whose targets span a gap are those that
# straddle Σ — exactly the ones the generator rejects.  Rejecting them removes a set of latent
# measure that tends to 0 with $n$, so the generated distribution still converges to the data.
#
# </details>
#
# ### Exercise 4.4 — unequal modes (4 min)
#
# Give mode 0 three times the mass of the others (`nu` in `solve_ot`).  Check with
# `mode_balance` that the singular-aware generator reproduces the shares.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 4.4
w = np.where(label(y) == 0, 3.0, 1.0)
res_w = geomot.solve_ot(square, y, w / w.sum())
bal = mode_balance(geomot.PiecewiseLinearMap(res_w).sample(4000, seed=4), label, modes=range(6))
print("expected:", np.round([3 / 8] + [1 / 8] * 5, 3))
print("got:     ", np.round([bal[k] for k in range(6)], 3))

# %% [markdown]
# **Take-away.** The optimal generator for multi-modal data is discontinuous; a continuous
# generator must either put samples between the modes or starve some modes.  Computing the
# potential, locating Σ and refusing to interpolate across it generates on the data only.
# Theory: [the mathematics, § 8](../theory.md#8-generation-ae-ot-and-mode-collapse).
