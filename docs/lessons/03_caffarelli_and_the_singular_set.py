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
# # Lesson 3 — Caffarelli and the singular set
#
# *About 35 minutes: 15 of reading and running, 20 of exercises.*
#
# When is an optimal transport map continuous?  Caffarelli's answer: when the target is
# **convex**.  This lesson starts from a convex target, deforms it into a non-convex one — a gap
# opens between two half-disks, a hole grows in a disk — and watches the **singular set** Σ, where
# the map tears, appear.  Then it checks, with a table, that the discrete Σ converges to the
# known answer as the number of targets grows.
#
# **You will:** see Σ = ∅ for a convex target; see Σ appear as the target stops being convex;
# measure the Hausdorff distance between the computed Σ and the midline $x = 1$ for growing $n$;
# look at the ridge of the Brenier potential above Σ.
#
# The live version of this lesson is `geomot explore` (a window with sliders); for slides,
# `geomot reproduce singular-appears` writes the same sweep as a GIF.

# %%
import matplotlib.pyplot as plt
import numpy as np

import geomot
from geomot.reproduce import singular_appears as sa

# %% [markdown]
# ## 1. Caffarelli's theorem
#
# Let $\mu = \rho\,dx$ on $\Omega$ and $\nu = \sigma\,dy$ on $\Lambda$, with densities bounded
# above and below, and $T = \nabla u$ the Brenier map ($u$ convex).  **If $\Lambda$ is convex**,
# $u$ is strictly convex and $C^{1,\alpha}$: $T$ is continuous (Caffarelli 1992).  If $\Lambda$
# is not convex, $u$ can fail to be differentiable on a closed set Σ of measure zero — the
# **singular set** — and $T$ jumps across it.  At a point of Σ the subdifferential
# $\partial u(x)$ is a segment (or more), and these subdifferentials together cover the part of
# the convex hull of $\Lambda$ that $\Lambda$ is missing: the gap, the hole.
#
# The experiment: source the rectangle $[0,2]\times[0,1]$; target a disk of radius 0.6 cut along
# its vertical diameter, the halves pulled apart by a **gap** $g$.  For $g = 0$ the target is a
# disk (convex).  For every $g > 0$ the map sends the left half of the rectangle to the left
# half-disk, the right half to the right one: Σ is the **midline** $x = 1$.

# %%
sc0 = sa.scene("two-half-disks", 0.0, n=800)
print(sc0.summary())
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), width_ratios=sa.panel_ratios("two-half-disks"))
sa.draw_scene(sc0, axes)
fig.suptitle("gap 0: a convex target, a continuous map (the colours never jump)")
plt.show()

# %% [markdown]
# ## 2. Open the gap: Σ appears
#
# The targets are sampled once and the halves translated, so only the gap changes.  Left
# column of each pair: the source coloured by the map, Σ in red, the true Σ dashed; right:
# the target and what the subdifferential of each piece of Σ covers.

# %%
gaps = [0.05, 0.15, 0.25, 0.4]
scenes = [sa.scene("two-half-disks", g, n=800) for g in gaps]
fig, axes = plt.subplots(2, 4, figsize=(15, 6.4))
for k, sc in enumerate(scenes):
    sa.draw_scene(sc, (axes[0, k], axes[1, k]), title=False)
    axes[0, k].set_title(f"gap {sc.parameter:.2f}: {sc.n_pairs} singular facets", fontsize=9)
plt.show()

print(" gap    facets   length   Hausdorff to x = 1")
for g in np.linspace(0, 0.4, 9):
    sc = sa.scene("two-half-disks", g, n=800)
    print(f"{g:5.2f}   {sc.n_pairs:6d}   {sc.length:6.2f}   {sc.hausdorff:8.3f}")

# %% [markdown]
# For the continuous problem Σ is the whole midline as soon as $g > 0$.  The discrete map can
# only *see* a gap wider than a few target spacings: below that, the jump across the midline
# looks like the ordinary jumps between neighbouring cells (every cell boundary is a jump of a
# semi-discrete map).  `geomot.singular_set` calls a pair singular when the segment between the
# two targets crosses empty target space wider than $\tau$ local spacings, with a scale-aware
# default $\tau(n)$ (exercise 3.2 moves it).
#
# ## 3. Grow a hole
#
# Source the unit disk; target the unit disk with an off-centre hole of growing radius (the
# targets are a fixed sample of the disk, restricted to the shape).

# %%
radii = [0.0, 0.2, 0.35, 0.5]
fig, axes = plt.subplots(2, 4, figsize=(15, 7.2))
for k, r in enumerate(radii):
    sc = sa.scene("disk-with-hole", r, n=1500)
    sa.draw_scene(sc, (axes[0, k], axes[1, k]), title=False)
    axes[0, k].set_title(f"hole radius {r:.2f}: {sc.n_pairs} facets, length {sc.length:.2f}", fontsize=9)
plt.show()

# %% [markdown]
# The hole is covered by the subdifferential of a short curve Γ₀ inside the disk: the map tears
# along Γ₀ and its two sides go around the hole.  (For a *centred* hole, symmetry shrinks Γ₀ to
# the centre point — the disk → annulus map is radial.)
#
# ## 4. Σ converges as n grows
#
# The known answer for the two half-disks is the midline.  The Hausdorff distance between the
# computed Σ (a union of facets of the power diagram) and the segment $x = 1$, $0 \le y \le 1$,
# should shrink like a cell's width, $\sim n^{-1/2}$.  Three seeds per size:

# %%
sizes = [250, 500, 1000, 2000, 4000]
table = np.array([[sa.scene("two-half-disks", 0.4, n, seed=s).hausdorff for s in range(3)] for n in sizes])
print("    n    Hausdorff distance to x = 1 (3 seeds)       mean    mean·√n")
for n, row in zip(sizes, table):
    print(f"{n:5d}    " + "  ".join(f"{d:.4f}" for d in row) + f"      {row.mean():.4f}   {row.mean() * np.sqrt(n):.2f}")

fig, ax = plt.subplots(figsize=(5.5, 3.8))
ax.loglog(sizes, table.mean(axis=1), "o-", label="Hausdorff distance (mean of 3)")
ax.loglog(sizes, table.mean(axis=1)[0] * np.sqrt(sizes[0] / np.array(sizes)), "k--", label=r"$\propto n^{-1/2}$")
ax.set_xlabel("number of targets n")
ax.legend()
ax.grid(alpha=0.3, which="both")
ax.set_title("the discrete Σ converges to the midline")
plt.show()

# %% [markdown]
# ## 5. The ridge of the potential
#
# Σ is where the graph of $u_h(x) = \max_i \langle x, y_i\rangle + h_i$ has a **sharp ridge**:
# the facets over two cells on either side of the midline have normals $(y_i, -1)$ and
# $(y_j, -1)$ with $y_i, y_j$ on opposite sides of the gap.  Away from Σ neighbouring facets
# meet at small angles.

# %%
sc = scenes[-1]
res, s = sc.res, sc.singular
y = res.y
pairs = res.diagram.pairs
cos = (1 + np.einsum("ij,ij->i", y[pairs[:, 0]], y[pairs[:, 1]])) / np.sqrt(
    (1 + (y[pairs[:, 0]] ** 2).sum(1)) * (1 + (y[pairs[:, 1]] ** 2).sum(1)))
angles = np.degrees(np.arccos(np.clip(cos, -1, 1)))
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.hist(angles, bins=60, color="0.6", label="all adjacent cells")
ax.hist(np.degrees(s.dihedral_angles), bins=20, color="C3", label="across Σ")
ax.set_xlabel("angle between the facets of the graph of u (degrees)")
ax.set_yscale("log")
ax.legend()
plt.show()

ok, why = geomot.plot3d.can_render()
if ok:  # PyVista off-screen: the graph of u with Σ as a red ridge, and its projection
    p = geomot.plot3d.make_plotter(window_size=(900, 600), off_screen=True)
    geomot.plot3d.add_potential(p, res, s)
    p.camera_position = "iso"
    p.camera.zoom(1.3)
    img = p.screenshot(return_img=True)
    p.close()
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.imshow(img)
    ax.set_axis_off()
    ax.set_title("the graph of the Brenier potential: the red ridge projects to Σ")
    plt.show()
else:
    print("no off-screen rendering here:", why)

# %% [markdown]
# ## Exercises
#
# ### Exercise 3.1 — when does Σ appear? (6 min)
#
# For $n = 500$ and $n = 2000$, find the smallest gap (to 0.02) at which `singular_set` finds at
# least one singular facet.  Express it in units of the target spacing $\sqrt{\text{area}/n}$.
# What do you expect for $n \to \infty$?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 3.1: scan the gap
for n in (500, 2000):
    first = next(g for g in np.arange(0.02, 0.41, 0.02) if sa.scene("two-half-disks", g, n).n_pairs > 0)
    spacing = np.sqrt(np.pi * 0.6**2 / n)
    print(f"n = {n}: Σ first found at gap {first:.2f} = {first / spacing:.1f} target spacings")
print("the gap needed is a fixed number of spacings, which shrink like n^(-1/2): "
      "as n grows Σ appears at smaller and smaller gaps, as the continuous theory says (any gap > 0)")

# %% [markdown]
# ### Exercise 3.2 — the threshold (5 min)
#
# Pass `threshold=` to `sa.scene` (it goes to `geomot.singular_set`).  With the convex target
# (gap 0) and $n = 800$, lower τ until "singular" pairs appear.  Are they real?  What does the
# default τ protect against, and what does a too-high τ miss (try gap 0.4)?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 3.2
for tau in (4.0, 3.0, 2.5, 2.0):
    print(f"gap 0,   τ = {tau}: {sa.scene('two-half-disks', 0.0, 800, threshold=tau).n_pairs} 'singular' pairs")
for tau in (6.0, 10.0, 20.0):
    sc = sa.scene("two-half-disks", 0.4, 800, threshold=tau)
    print(f"gap 0.4, τ = {tau}: {sc.n_pairs} pairs, length {sc.length:.2f}")
print("the convex target has no singular set: low-τ pairs are the random empty balls of the sample; "
      "a too-high τ misses most of Σ (the gap is only ~9 spacings wide at n = 800)")

# %% [markdown]
# ### Exercise 3.3 — why exactly the midline? (3 min)

# %% [markdown]
# <details><summary>Solution 3.3</summary>
#
# The two half-disks have equal mass, so half of the rectangle's mass goes to each.  The
# problem is symmetric under $x \mapsto 2 - x$ (source) together with the reflection of the
# target, and the optimal map is unique, so it is symmetric too: the left half $\{x < 1\}$ goes
# to the left half-disk.  Inside each half the target is convex and the map is continuous;
# across $x = 1$ it jumps across the gap.  The subdifferential at a point of the midline is the
# horizontal segment across the gap between its two images.
#
# </details>
#
# ### Exercise 3.4 — notches (6 min)
#
# Sweep the family `"notched-disk"` (depth 0 to 0.5) at $n = 2000$.  At which depth are the
# three notches seen?  How many connected components (`sc.singular.components`) does Σ have?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 3.4
for depth in (0.1, 0.2, 0.3, 0.4, 0.5):
    sc = sa.scene("notched-disk", depth, 2000)
    print(f"depth {depth:.1f}: {sc.n_pairs:3d} facets in {len(sc.singular.components)} components")
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
sa.draw_scene(sa.scene("notched-disk", 0.5, 2000), axes)
plt.show()

# %% [markdown]
# **Take-away.** Convex target: Σ = ∅ (Caffarelli).  Non-convex target: the map tears along Σ,
# and the subdifferentials of Σ fill exactly what the target is missing.  The discrete Σ shows
# up once the defect spans a few target spacings and converges to the true one at the rate of a
# cell's width.  Theory: [the mathematics, § 6–7](../theory.md#6-regularity-and-the-singular-set).
