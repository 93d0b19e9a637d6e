"""
Figure 2: the graph of the Brenier potential and its ridge
==========================================================

For a target made of two clusters, the Brenier potential ``u(x) = max_i <x, y_i> + h_i`` is a
convex polyhedral surface: one planar facet per power cell.  Where the cells of the two clusters
meet, the surface has a sharp ridge; its projection is the singular set of the transport map.
Rendered with PyVista, off-screen.
"""

# %%
from pathlib import Path

import numpy as np
import shapely

import geomot
from geomot import plot3d, shapes

N = 300
rng = np.random.default_rng(0)
clusters = [shapely.Point(-1.6, 0).buffer(0.6), shapely.Point(1.6, 0).buffer(0.6)]
y = np.vstack([shapes.sample(c, N // 2, seed=rng) for c in clusters])
res = geomot.solve_ot(geomot.Domain.box([-1.0, -1.0], [1.0, 1.0]), y, tol=1e-8)
s = geomot.singular_set(res)

# %%
# The ridge projects onto the midline x = 0 of the square.
print(f"{len(s.pairs)} ridge facets, max |x| = {np.abs(s.segments[..., 0]).max():.3f}")
assert res.converged and len(s.segments) > 0
assert np.abs(s.segments[..., 0]).max() < 0.15

# %%
# The surface (cells coloured by their target), its cell boundaries, the ridge in red, and
# underneath the flat power diagram with the singular set.
Path("figures").mkdir(exist_ok=True)
p = plot3d.make_plotter(window_size=(900, 700))
plot3d.add_potential(p, res, singular=s)
p.camera_position = "iso"
p.camera.azimuth = 25
plot3d.screenshot(p, "figures/gallery_fig2.png")
