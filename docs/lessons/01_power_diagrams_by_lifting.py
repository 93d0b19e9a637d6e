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
# # Lesson 1 — Power diagrams by lifting
#
# *About 30 minutes: 12 of reading and running, 18 of exercises.*
#
# A semi-discrete transport map sends every point of a region to one of finitely many targets,
# and the set sent to a target is a **cell**.  This lesson builds those cells the way geomot
# does: as the shadow of a convex surface.  By the end you can say why a cell grows when its
# height grows, why a cell can vanish altogether, and what the *lower hull* of lifted points has
# to do with it.
#
# **You will:** draw an upper envelope of lines in 1D; build a 2D power diagram from heights;
# see its dual, the lower convex hull of the lifted targets; change one height and watch a cell
# appear and vanish.
#
# Run it as a notebook (`jupytext --to ipynb` this file, or open it in Jupyter with jupytext
# installed) or as a script (`python 01_power_diagrams_by_lifting.py`).  Solutions are folded:
# try first.

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial import ConvexHull

import geomot
from geomot import plot as gplot

rng = np.random.default_rng(1)

# %% [markdown]
# ## 1. An upper envelope of planes
#
# Give each target $y_i \in \mathbb{R}^d$ a height $h_i$.  The function
#
# $$u_h(x) = \max_i\ \langle x, y_i\rangle + h_i$$
#
# is a maximum of affine functions: it is **convex** and piecewise linear.  The cell of target
# $i$ is where plane $i$ is on top,
#
# $$W_i(h) = \{x : \langle x, y_i\rangle + h_i \ge \langle x, y_j\rangle + h_j\ \ \forall j\}.$$
#
# In 1D the planes are lines of slope $y_i$ and the cells are intervals.  The gradient of $u_h$
# on $W_i$ is $y_i$: **the transport map is the gradient of the potential.**

# %%
y1 = np.array([-1.0, -0.3, 0.4, 1.2])
h1 = np.array([0.0, 0.25, 0.2, -0.3])
x = np.linspace(-1.5, 1.5, 601)
lines = x[:, None] * y1[None, :] + h1[None, :]
top = lines.argmax(axis=1)

fig, ax = plt.subplots(figsize=(8, 3.6))
for i in range(len(y1)):
    ax.plot(x, lines[:, i], lw=1, color=f"C{i}", alpha=0.5, label=f"slope $y_{i}$ = {y1[i]}")
ax.plot(x, lines.max(axis=1), "k", lw=2.5, label="$u_h$ (upper envelope)")
for i in range(len(y1)):
    on = top == i
    if on.any():
        ax.axvspan(x[on].min(), x[on].max(), ymin=0, ymax=0.05, color=f"C{i}")
ax.set_title("four lines, their upper envelope, and the cells (coloured bars)")
ax.legend(fontsize=8, loc="upper center", ncol=3)
plt.show()

# %% [markdown]
# ## 2. A power diagram in the square
#
# In 2D the cells are convex polygons, clipped to the source domain.  With
# $h_i = -|y_i|^2/2$ they are the **Voronoi** cells (expand $|x - y_i|^2$ to see it); other
# heights give a **power diagram**: the Voronoi diagram of circles of squared radius
# $w_i = |y_i|^2 + 2 h_i$.

# %%
square = geomot.Domain.box([0, 0], [1, 1])
y = rng.random((12, 2))
h_voronoi = -0.5 * (y**2).sum(axis=1)
pd = geomot.power_diagram(y, h_voronoi, square)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
gplot.plot_power_diagram(pd, ax=ax, color_by="index", alpha=0.6)
ax.plot(*y.T, "k.", ms=6)
for i, p in enumerate(y):
    ax.annotate(str(i), p, textcoords="offset points", xytext=(3, 3), fontsize=8)
ax.set_title("Voronoi heights: every target in its own cell")
plt.show()
print("cell areas:", np.round(pd.volumes, 3), " sum =", pd.volumes.sum())

# %% [markdown]
# ## 3. Lifting: the lower hull
#
# Lift target $i$ to the point $(y_i, -h_i) \in \mathbb{R}^3$.  The **lower convex hull** of the
# lifted points is the graph of the Legendre dual $u_h^*$; its faces project onto the *regular
# triangulation* of the targets, and two targets are joined by an edge exactly when their cells
# share a facet.  A target whose lifted point lies **above** the lower hull has no cell at all:
# it is *hidden*.  geomot builds every diagram from one such hull (one `scipy.spatial.ConvexHull`
# call) and clips the cells exactly.

# %%
def lower_hull(y, h):
    """The triangles of the lower convex hull of the lifted points (y_i, -h_i)."""
    hull = ConvexHull(np.column_stack([y, -h]))
    down = hull.equations[:, 2] < 0  # outward normal pointing down: a face of the lower hull
    return hull.simplices[down]


def draw_lifting(y, h, pd, title):
    fig = plt.figure(figsize=(10, 4.4))
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    tri = lower_hull(y, h)
    ax3.plot_trisurf(y[:, 0], y[:, 1], -h, triangles=tri, color="tab:blue", alpha=0.25, edgecolor="k", lw=0.4)
    hid = pd.hidden
    ax3.scatter(*y[~hid].T, -h[~hid], color="k", s=12)
    ax3.scatter(*y[hid].T, -h[hid], color="red", s=40, label="hidden (above the hull)")
    ax3.set_title("lifted targets $(y_i, -h_i)$ and their lower hull", fontsize=9)
    if hid.any():
        ax3.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    gplot.plot_power_diagram(pd, ax=ax, color_by="index", alpha=0.6)
    ax.triplot(y[:, 0], y[:, 1], tri, color="tab:blue", lw=0.8)
    ax.plot(*y[~hid].T, "k.", ms=6)
    ax.plot(*y[hid].T, "rx", ms=9)
    ax.set_title(title, fontsize=9)
    plt.show()


draw_lifting(y, h_voronoi, pd, "cells and the regular triangulation (blue)")

# %% [markdown]
# With Voronoi heights the regular triangulation is the **Delaunay** triangulation.

# %%
from scipy.spatial import Delaunay

same = {tuple(sorted(t)) for t in lower_hull(y, h_voronoi)} == {tuple(sorted(t)) for t in Delaunay(y).simplices}
print("lower hull of the lifted targets == Delaunay triangulation:", same)

# %% [markdown]
# ## 4. Change a weight: cells grow, shrink, vanish
#
# Raising $h_i$ lifts plane $i$, so its cell **grows**; in the lifted picture the point
# $(y_i, -h_i)$ goes *down*.  Lowering $h_i$ shrinks the cell, and once the lifted point rises
# above the lower hull of the others the cell is gone.  Watch the target nearest the centre:

# %%
i = int(np.argmin(((y - 0.5) ** 2).sum(axis=1)))
for dh in (0.05, 0.0, -0.004, -0.03):
    h = h_voronoi.copy()
    h[i] += dh
    pd_i = geomot.power_diagram(y, h, square)
    print(f"h_{i} changed by {dh:+.3f}: area of cell {i} = {pd_i.volumes[i]:.4f}, hidden = {bool(pd_i.hidden[i])}")

h = h_voronoi.copy()
h[i] -= 0.03
draw_lifting(y, h, geomot.power_diagram(y, h, square), f"h_{i} lowered by 0.03: cell {i} has vanished (red cross)")

# %% [markdown]
# Two different ways to have no cell: a **hidden** target has no cell anywhere in the plane; an
# **empty** one has a cell that misses the domain (`pd.empty`).  The solver of Lesson 2 must
# keep every cell non-empty.  A target on the convex hull of the targets (here target 0) is
# never hidden: far enough in its direction its plane wins, whatever the heights; but its cell
# can leave the square.
#
# ## Exercises
#
# ### Exercise 1.1 — when does cell 0 vanish? (6 min)
#
# Find, to three decimals, the change of $h_0$ at which the cell of target 0 becomes **empty**
# inside the square (its area reaches 0).  Is target 0 then hidden?  Hint: the area is monotone
# in $h_0$: bisect.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 1.1: bisection on the change of h_0 (the area of cell 0 is non-decreasing in h_0)
def area0(dh):
    h = h_voronoi.copy()
    h[0] += dh
    return geomot.power_diagram(y, h, square).volumes[0]


lo, hi = -1.0, 0.0  # area0(lo) == 0 < area0(hi)
for _ in range(30):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if area0(mid) == 0 else (lo, mid)
print(f"cell 0 becomes empty when h_0 is lowered by {-hi:.3f}; hidden then? "
      f"{bool(geomot.power_diagram(y, h_voronoi - 0.5 * (np.arange(12) == 0), square).hidden[0])}")

# %% [markdown]
# ### Exercise 1.2 — a constant changes nothing (3 min)
#
# Add the same constant $c$ to every height.  What happens to the cells, to $u_h$, and to the
# lifted picture?

# %% [markdown]
# <details><summary>Solution 1.2</summary>
#
# Every plane moves up by $c$, so the same plane is on top everywhere: the cells do not change,
# and $u_{h+c} = u_h + c$.  In the lifted picture every point moves down by $c$, the lower hull
# translates, and its projection (the regular triangulation) is the same.  This is why only
# differences $h_i - h_j$ matter, and why the Hessian of Lesson 2 has the constant vector in its
# kernel.
#
# </details>

# %%
h = h_voronoi + 3.7
print("same areas after adding 3.7 to every height:",
      np.allclose(geomot.power_diagram(y, h, square).volumes, pd.volumes))

# %% [markdown]
# ### Exercise 1.3 — make a cell appear (5 min)
#
# Add a 13th target at the centre of the square with height so low that it is hidden.  Then
# raise its height until its cell covers a tenth of the square.  Which lifted points does the new
# point "push through" as it comes down?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 1.3: raise the new height until the area reaches 0.1 (bisection again)
y13 = np.vstack([y, [0.5, 0.5]])


def area_new(h_new):
    return geomot.power_diagram(y13, np.append(h_voronoi, h_new), square).volumes[-1]


lo, hi = -2.0, 1.0
print("hidden at h = -2:", bool(geomot.power_diagram(y13, np.append(h_voronoi, -2.0), square).hidden[-1]))
for _ in range(40):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if area_new(mid) < 0.1 else (lo, mid)
h13 = np.append(h_voronoi, hi)
pd13 = geomot.power_diagram(y13, h13, square)
print(f"h_new = {hi:.4f}: area {pd13.volumes[-1]:.4f}; neighbours of the new cell:",
      sorted(int(j) for p in pd13.pairs if 12 in p for j in p if j != 12))
draw_lifting(y13, h13, pd13, "the new target (centre) owns a tenth of the square")

# %% [markdown]
# The new lifted point, coming down, breaks through the triangles of the lower hull above
# $(0.5, 0.5)$; the targets of those triangles become its neighbours.
#
# ### Exercise 1.4 — masses are what the heights control (4 min)
#
# With uniform density on the square, `pd.masses` are the areas.  Using only heights (no moving
# targets!), can you give every one of the 12 cells the same area?  Guess first, then look
# ahead: that is exactly the problem of Lesson 2.

# %% [markdown]
# <details><summary>Solution 1.4</summary>
#
# Yes: for any masses $\nu_i > 0$ summing to the area there are heights, unique up to a constant,
# with $|W_i(h)| = \nu_i$ (Aurenhammer, Hoffmann, Aronov 1998).  They minimise a convex energy
# whose gradient is $|W_i(h)| - \nu_i$; Lesson 2 finds them with Newton's method.  The resulting
# map $x \mapsto y_i$ on $W_i$ is the **optimal transport map** from the uniform square to the
# targets with masses $\nu_i$.
#
# </details>

# %%
res = geomot.solve_ot(square, y)  # a preview of Lesson 2
print("equal areas after solving:", np.round(res.diagram.volumes, 4))

# %% [markdown]
# **Take-away.** Heights → planes → an upper envelope $u_h$ (the Brenier potential) whose
# pieces project to cells; dually, lifted points → a lower hull whose faces project to the
# regular triangulation.  Raising a height grows a cell; lowering it enough makes it vanish.
# Theory: [the mathematics, § 3](../theory.md#3-power-diagrams-and-the-exact-lifting).
