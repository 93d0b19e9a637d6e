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
# # Lesson 5 — 3D: the ball, the bunny, the morph
#
# *About 30 minutes: 12 of reading and running, 18 of exercises.*
#
# Everything of Lessons 1–4 holds in 3D: cells are convex polytopes, Newton solves for their
# heights, and a non-convex target makes the map tear — now along **surfaces**.  This lesson
# transports the uniform ball onto a smaller ball (convex: no tear), onto two balls (a flat
# singular surface), and onto the solid Stanford bunny (curved singular surfaces), then morphs
# the ball into the bunny.
#
# **You will:** solve three 3D problems; find and draw singular surfaces with PyVista
# (off-screen, so this runs headless); make the displacement interpolation (the morph) and
# save it as a GIF.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pyvista as pv
import trimesh

import geomot
from geomot import plot, plot3d, shapes

rng = np.random.default_rng(0)
ball = geomot.Domain.ball((0, 0, 0), 1.0)
CAN_RENDER, WHY = plot3d.can_render()  # VTK off-screen rendering (needs Mesa's EGL/OSMesa)
print("PyVista off-screen rendering:", CAN_RENDER or WHY)


def show(plotter, title, size=(8, 6)):
    """A PyVista scene as a matplotlib picture (works in a notebook, a script and the docs)."""
    img = plotter.screenshot(return_img=True)
    plotter.close()
    fig, ax = plt.subplots(figsize=size)
    ax.imshow(img)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    plt.show()


# %% [markdown]
# ## 1. Ball → a smaller ball: convex, no singular set
#
# A convex target, so Caffarelli applies: the map is continuous and `singular_set` finds
# nothing.

# %%
small = trimesh.creation.icosphere(subdivisions=3, radius=0.6)
y = shapes.sample(small, 400, seed=rng)
res_ball = geomot.solve_ot(ball, y)
s_ball = geomot.singular_set(res_ball)
print(f"ball -> ball: converged={res_ball.converged} in {res_ball.iterations} iterations, "
      f"{len(s_ball.pairs)} singular facets")
cell = res_ball.diagram.cell(0)
print(f"a cell is a convex polytope: {len(cell.vertices)} vertices, watertight {cell.is_watertight}, "
      f"volume {cell.volume:.5f} = mass × |ball| = {res_ball.masses[0] * ball.volume:.5f}")

# %% [markdown]
# ## 2. Ball → two balls: a flat singular surface
#
# Two equal balls above each other: the lower half of the source goes to the lower ball, the
# upper half to the upper one, and Σ is the **equatorial plane** $z = 0$ — the 3D version of the
# midline of Lesson 3.

# %%
low, high = (trimesh.creation.icosphere(subdivisions=2, radius=0.35) for _ in range(2))
low.apply_translation([0, 0, -0.55])
high.apply_translation([0, 0, 0.55])
y2 = np.vstack([shapes.sample(low, 300, seed=rng), shapes.sample(high, 300, seed=rng)])
res2 = geomot.solve_ot(ball, y2)
s2 = geomot.singular_set(res2)
z = np.concatenate([p[:, 2] for p in s2.polygons])
print(f"{len(s2.polygons)} singular facets in {len(s2.components)} component(s); "
      f"their vertices lie at |z| <= {np.abs(z).max():.3f}")

if CAN_RENDER:
    p = plot3d.make_plotter(window_size=(900, 650), off_screen=True)
    p.add_mesh(pv.Sphere(radius=1.0), color="lightgrey", opacity=0.12)
    plot3d.add_singular_surfaces(p, s2, opacity=0.9)
    plot3d.add_point_cloud(p, y2 + [2.4, 0, 0], colors=plot.target_colors(y2), point_size=6)
    p.camera_position = "xz"
    p.camera.elevation = 15
    p.reset_camera()
    p.camera.zoom(1.6)
    show(p, "Σ in the ball (the equatorial disk) and, right, the two target balls")

# %% [markdown]
# ## 3. Ball → the solid bunny
#
# The bunny (the Stanford bunny, made watertight; it ships with geomot) is far from convex: ears,
# neck, the gap under the chin.  The singular set is made of curved surfaces inside the ball,
# one piece per "missing" region of the bunny's convex hull.

# %%
bunny = shapes.bunny()
yb = shapes.sample(bunny, 1000, seed=rng)
res_b = geomot.solve_ot(ball, yb)
s_b = geomot.singular_set(res_b)
print(f"ball -> bunny (n = {len(yb)}): converged={res_b.converged} in {res_b.iterations} iterations; "
      f"{len(s_b.polygons)} singular facets in {len(s_b.components)} components")

if CAN_RENDER:
    p = plot3d.make_plotter(window_size=(1000, 650), off_screen=True)
    p.add_mesh(pv.Sphere(radius=1.0), color="lightgrey", opacity=0.12)
    plot3d.add_singular_surfaces(p, s_b, opacity=0.9)
    shift = np.array([2.3, 0, 0])
    faces = np.column_stack([np.full(len(bunny.faces), 3), bunny.faces]).ravel()
    p.add_mesh(pv.PolyData(np.asarray(bunny.vertices) + shift, faces=faces), color="tan", opacity=0.3)
    plot3d.add_point_cloud(p, yb + shift, colors=plot.target_colors(yb), point_size=5)
    p.camera_position = "xy"
    p.camera.elevation = 20
    p.camera.azimuth = -20
    p.reset_camera()
    p.camera.zoom(1.4)
    show(p, "singular surfaces inside the ball (one colour per component) and the bunny's targets")

# %% [markdown]
# ## 4. The morph
#
# The **displacement interpolation** moves each cell's mass on a straight line from its centroid
# to its target: $x_i(t) = (1 - t)\,c_i + t\,y_i$.  It is the geodesic between the two measures
# in the Wasserstein space; the singular surfaces are where the flow splits.

# %%
frames = plot3d.morph_frames(res_b, np.linspace(0, 1, 8))
print("the morph starts at the centroids and ends on the targets:", np.allclose(frames[-1], res_b.y))
if CAN_RENDER:
    colors = plot.target_colors(yb)
    images = plot3d.render_frames(frames, colors=colors, window_size=(300, 300), point_size=4,
                                  camera_position="xy", zoom=1.4)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    for ax, k in zip(axes, (0, 3, 5, 7)):
        ax.imshow(images[k])
        ax.set_axis_off()
        ax.set_title(f"t = {k / 7:.2f}")
    plt.show()
    gif = plot3d.write_gif(images, "ball_to_bunny.gif", duration_ms=120)
    print("wrote", gif, "(open it in a browser or put it on a slide)")

# %% [markdown]
# ## Exercises
#
# ### Exercise 5.1 — a hole in the ball (6 min)
#
# Transport the ball onto the **spherical shell** $0.5 \le |y| \le 1$.  By symmetry the map is
# radial: where should Σ be, and what does its subdifferential cover?  Check: how far from the
# centre are the singular facets?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 5.1: Σ shrinks to the centre, and ∂u(centre) is the inner ball (the hole)
shell = trimesh.boolean.difference([trimesh.creation.icosphere(3, radius=1.0),
                                    trimesh.creation.icosphere(3, radius=0.5)])
ys = shapes.sample(shell, 800, seed=rng)
res_s = geomot.solve_ot(ball, ys)
s_s = geomot.singular_set(res_s)
r = np.concatenate([np.linalg.norm(p, axis=1) for p in s_s.polygons]) if len(s_s.polygons) else np.zeros(0)
print(f"{len(s_s.polygons)} singular facets, all within {r.max() if r.size else 0:.2f} of the centre")
if len(s_s.components):
    around = ys[s_s.component_targets(0)]
    print(f"the {len(around)} targets whose cells meet there lie at radius "
          f"{np.linalg.norm(around, axis=1).min():.2f}-{np.linalg.norm(around, axis=1).max():.2f}, on the "
          f"inner sphere: their convex hull, the subdifferential at the centre, spans the hole")
print("(with finitely many targets the centre point is resolved as a few small facets; "
      "Σ converges to the point as n grows)")

# %% [markdown]
# ### Exercise 5.2 — is Σ really flat? (4 min)
#
# For the two balls, compare the largest $|z|$ of the singular facets with the size of a cell,
# $(|\text{ball}| / n)^{1/3}$, for $n = 300$ and $n = 1200$.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 5.2: Σ sits on z = 0 within about a cell's size, which shrinks like n^(-1/3)
for n in (300, 1200):
    yy = np.vstack([shapes.sample(low, n // 2, seed=rng), shapes.sample(high, n // 2, seed=rng)])
    ss = geomot.singular_set(geomot.solve_ot(ball, yy))
    zz = np.abs(np.concatenate([p[:, 2] for p in ss.polygons])).max()
    print(f"n = {n}: max |z| on Σ = {zz:.3f}, cell size = {(ball.volume / n) ** (1 / 3):.3f}")

# %% [markdown]
# ### Exercise 5.3 — why surfaces? (3 min)

# %% [markdown]
# <details><summary>Solution 5.3</summary>
#
# Σ separates the regions of the source that go to different parts of the target, and in
# $\mathbb{R}^d$ what separates regions has dimension $d - 1$: curves in the plane, surfaces in
# space.  It can also have lower-dimensional pieces (the centre point of Exercise 5.1, where a
# whole ball of directions is reached at once).  In the semi-discrete setting Σ is a union of
# facets of the power diagram — polygons in 3D (`s.polygons`) instead of segments.
#
# </details>
#
# ### Exercise 5.4 — the bunny, finer (5 min)
#
# Solve the bunny with 2000 targets.  Do the number of components and the total area of the
# singular surfaces change?  Why?  (Area of a planar polygon in 3D: fan triangulation and cross
# products.)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 5.4
def area(polygons):
    total = 0.0
    for p in polygons:
        v = p - p[0]
        total += 0.5 * np.linalg.norm(np.cross(v[1:-1], v[2:]).sum(axis=0))
    return total


for n in (1000, 2000):
    sb = geomot.singular_set(geomot.solve_ot(ball, shapes.sample(bunny, n, seed=7)))
    print(f"n = {n}: {len(sb.components)} components, singular area {area(sb.polygons):.2f}")
print("more targets make narrower concavities visible to the detector (Lesson 3, exercise 3.1): "
      "Σ grows towards the singular set of the continuous map")

# %% [markdown]
# **Take-away.** In 3D the cells are polytopes and the singular set is made of surfaces, one
# family per concavity of the target; the bunny's ears and neck tear the ball.  The morph shows
# the optimal flow of mass, splitting along Σ.  Theory: [the mathematics, § 6](../theory.md#6-regularity-and-the-singular-set);
# the gallery's [figure 6](../auto_gallery/plot_fig6_bunny.rst) is this at publication size.
