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
# # Lesson 2 — Semi-discrete optimal transport and Newton's method
#
# *About 35 minutes: 15 of reading and running, 20 of exercises.*
#
# Lesson 1 ended with a question: which heights give every cell a prescribed mass?  Those
# heights solve the **semi-discrete Monge–Ampère equation**, and with them the cells are the
# optimal transport map.  This lesson writes Newton's method for that equation in twenty lines,
# watches a plain Newton step **fail**, and repairs it with the damping of Kitagawa, Mérigot
# and Thibert — the method `geomot.solve_ot` uses.
#
# **You will:** compute the masses and the Hessian of a power diagram; take an undamped Newton
# step and see cells die; write the damped method and watch the cells converge to their masses,
# then quadratic convergence.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.sparse.linalg import spsolve

import geomot
from geomot import plot as gplot

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The equation
#
# Source: the uniform measure $\mu$ on the unit square.  Target: $n$ points $y_i$ with masses
# $\nu_i = 1/n$, here crowded into a small square near a corner (a hard case: the targets are
# far from where their cells must be).  We look for heights $h$ with
#
# $$G_i(h) := \mu\big(W_i(h)\big) = \nu_i \qquad (i = 1, \dots, n).$$
#
# This is the **discrete Monge–Ampère equation**.  The cell $W_i(h)$ is the set of points where
# the gradient of $u_h(x) = \max_j \langle x, y_j\rangle + h_j$ is $y_i$, i.e. the
# subdifferential of the dual potential at $y_i$; so the equation says *the $\mu$-measure of the
# subdifferential at each target is its mass* — the weak (Alexandrov) form of
# $\rho(x) = \sigma(\nabla u(x)) \det D^2 u(x)$.  By Brenier's theorem, the map
# $T = \nabla u_h$ (send $W_i$ to $y_i$) is then the optimal transport map for the quadratic cost.

# %%
square = geomot.Domain.box([0, 0], [1, 1])
n = 60
y = 0.15 * rng.random((n, 2)) + [0.8, 0.8]
nu = np.full(n, 1.0 / n)


def diagram(h):
    return geomot.power_diagram(y, h, square)


def rel_error(pd):
    """max_i |G_i(h) - nu_i| / nu_i: the stopping test of geomot.solve_ot."""
    return float(np.max(np.abs(pd.masses - nu) / nu))


h0 = -0.5 * (y**2).sum(axis=1)  # Voronoi heights: every cell non-empty
pd0 = diagram(h0)
print(f"Voronoi start: masses from {pd0.masses.min():.2e} to {pd0.masses.max():.3f} (target {1 / n:.4f}); "
      f"relative error {rel_error(pd0):.1f}")

fig, ax = plt.subplots(1, 2, figsize=(10, 4.2))
gplot.plot_power_diagram(pd0, ax=ax[0], color_by="mass", cmap="viridis")
ax[0].plot(*y.T, "r.", ms=3)
ax[0].set_title("Voronoi start: the corner cells own the square")
ax[1].bar(np.arange(n), pd0.masses, color="C0")
ax[1].axhline(1 / n, color="r", label=r"$\nu_i = 1/n$")
ax[1].set_yscale("log")
ax[1].set_title("cell masses $G_i(h^0)$")
ax[1].legend()
plt.show()

# %% [markdown]
# ## 2. Gradient and Hessian
#
# $G(h) - \nu$ is the gradient of the convex energy $E(h) = \int u_h\, d\mu - \sum_i \nu_i h_i$.
# Its Jacobian $DG$ is sparse, non-zero only for adjacent cells:
#
# $$\frac{\partial G_i}{\partial h_j} = -\frac{|W_i \cap W_j|}{|y_i - y_j|}\ (i \ne j),\qquad
# \frac{\partial G_i}{\partial h_i} = -\sum_{j\ne i} \frac{\partial G_i}{\partial h_j}.$$
#
# It is a **graph Laplacian**: symmetric, rows summing to zero, constants in its kernel (adding
# a constant to $h$ changes nothing, Lesson 1).  `pd.hessian()` returns it.

# %%
H = pd0.hessian().tocsr()
print("shape", H.shape, "| non-zeros per row", H.nnz / n, "| symmetric:", abs(H - H.T).max() < 1e-12,
      "| rows sum to 0:", np.allclose(H.sum(axis=1), 0))


def newton_direction(pd):
    """Solve DG d = -(G - nu) with h_0 pinned (the system is singular only through constants)."""
    H = pd.hessian().tocsr()
    d = np.zeros(n)
    d[1:] = spsolve(H[1:, 1:].tocsc(), -(pd.masses - nu)[1:])
    return d


# %% [markdown]
# ## 3. An undamped Newton step fails
#
# Newton's method for $G(h) = \nu$: $h^{k+1} = h^k + d^k$ with $DG(h^k)\, d^k = -(G(h^k) - \nu)$.
# From the Voronoi start, one full step:

# %%
d = newton_direction(pd0)
pd1 = diagram(h0 + d)
print(f"after one full Newton step: {pd1.empty.sum()} of {n} cells are EMPTY, error {rel_error(pd1):.1f}")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    d2 = newton_direction(pd1)
print("the next Newton system:", "singular —" if caught else "solvable —",
      "direction finite:", bool(np.all(np.isfinite(d2))),
      "|", caught[0].message if caught else "")

fig, ax = plt.subplots(1, 2, figsize=(10, 4.2))
for a, p, t in ((ax[0], pd0, "start"), (ax[1], pd1, "after one undamped step")):
    gplot.plot_power_diagram(p, ax=a, color_by=np.clip(p.masses / nu, 0, 2), cmap="coolwarm")
    a.set_title(f"{t}: colour = mass / ν (blue: too small)")
plt.show()

# %% [markdown]
# The step is the right step for the *linearised* equation, but the masses are only piecewise
# smooth in $h$: far from the solution the linear model is wrong, the step overshoots, and most
# cells are pushed out of the square.  An empty cell has a zero row in $DG$ — the Laplacian falls
# apart into pieces, the system is singular, and Newton cannot even continue.
#
# ## 4. Damped Newton (Kitagawa–Mérigot–Thibert)
#
# Keep the direction, shorten the step: take the first $\alpha \in \{1, \frac12, \frac14,
# \dots\}$ with
#
# $$\min_i G_i(h + \alpha d) \ge \varepsilon_0
# \quad\text{and}\quad
# \|G(h+\alpha d) - \nu\| \le (1 - \tfrac{\alpha}{2})\, \|G(h) - \nu\|,
# \qquad \varepsilon_0 = \tfrac12 \min\big(\min_i G_i(h^0), \min_i \nu_i\big).$$
#
# Every cell keeps a mass at least $\varepsilon_0$, so $DG$ stays a connected Laplacian; the
# error decreases at each step; and near the solution $\alpha = 1$ is accepted and the
# convergence is quadratic (KMT 2019).

# %%
def damped_newton(h, tol=1e-10, max_iter=40):
    pd = diagram(h)
    eps0 = 0.5 * min(pd.masses.min(), nu.min())
    log = [(0, 1.0, rel_error(pd))]
    snapshots = [pd]
    for k in range(1, max_iter + 1):
        d = newton_direction(pd)
        e = np.linalg.norm(pd.masses - nu)
        alpha = 1.0
        while True:
            trial = diagram(h + alpha * d)
            if trial.masses.min() >= eps0 and np.linalg.norm(trial.masses - nu) <= (1 - alpha / 2) * e:
                break
            alpha /= 2
        h, pd = h + alpha * d, trial
        log.append((k, alpha, rel_error(pd)))
        snapshots.append(pd)
        if rel_error(pd) < tol:
            break
    return h, log, snapshots


h_star, log, snaps = damped_newton(h0)
print(" iter   step α    max relative error")
for k, alpha, err in log:
    print(f"{k:5d}   {alpha:7.4f}   {err:.3e}")

# %% [markdown]
# The first steps are damped (α < 1) while the cells move into place; then the full step is
# taken and the number of correct digits doubles at each iteration.

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogy([k for k, _, _ in log], [e for _, _, e in log], "o-")
ax.set_xlabel("iteration")
ax.set_ylabel("max relative mass error")
ax.set_title("damped Newton: global convergence, then quadratic")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 5. The cells converge to their masses
#
# The same iterations, drawn: colour = $G_i / \nu_i$ (white is right).  The corner cells give
# up their area, the crowded cells spread over the square, and the final diagram is the optimal
# map: each cell goes to its target (arrows).

# %%
picks = sorted({0, 1, 2, len(snaps) // 2, len(snaps) - 1})
fig, axes = plt.subplots(1, len(picks), figsize=(3.2 * len(picks), 3.4))
for a, k in zip(axes, picks):
    p = snaps[k]
    gplot.plot_power_diagram(p, ax=a, color_by=np.clip(p.masses / nu, 0, 2), cmap="coolwarm", linewidth=0.4)
    a.set_title(f"iteration {k}: error {rel_error(p):.1e}", fontsize=9)
    a.set_xticks([])
    a.set_yticks([])
plt.show()

res = geomot.solve_ot(square, y, tol=1e-10)
ax = gplot.plot_map(res, kind="arrows", max_arrows=60)
ax.set_title("the optimal map: cells → targets")
plt.show()
print(f"geomot.solve_ot: converged={res.converged} in {res.iterations} iterations; "
      f"same cells as ours: {np.allclose(res.diagram.masses, snaps[-1].masses, atol=1e-9)}")

# %% [markdown]
# ## Exercises
#
# ### Exercise 2.1 — check the Hessian by finite differences (5 min)
#
# Perturb one height $h_j$ by $\pm 10^{-6}$ and compare the change of the masses with column
# $j$ of `pd.hessian()`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 2.1: a central difference of the masses reproduces column j of the Hessian
j, eps = 7, 1e-6
pd_s = diagram(h_star)
e = np.zeros(n)
e[j] = eps
fd = (diagram(h_star + e).masses - diagram(h_star - e).masses) / (2 * eps)
col = pd_s.hessian().toarray()[:, j]
print(f"max |finite difference - Hessian column| = {np.abs(fd - col).max():.2e} "
      f"(column norm {np.abs(col).max():.2f})")

# %% [markdown]
# ### Exercise 2.2 — why $\varepsilon_0 > 0$? (4 min)
#
# Drop the mass condition $\min_i G_i \ge \varepsilon_0$ and keep only the decrease of the error.
# What can go wrong?  Try it.

# %% [markdown]
# <details><summary>Solution 2.2</summary>
#
# The error can decrease while a cell empties (a light cell losing all its mass changes the norm
# little).  Once a cell is empty its row of $DG$ is zero: the Laplacian is disconnected and the
# next system is singular, as in section 3.  The mass condition keeps the iterates in a region
# where $G$ is smooth and $DG$ uniformly non-degenerate — that is what the convergence proof of
# Kitagawa, Mérigot and Thibert needs.  The cell below tries it: the first accepted step
# empties cells.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 2.2, numerically: the first step accepted by the decrease test alone
d = newton_direction(pd0)
e0 = np.linalg.norm(pd0.masses - nu)
alpha = 1.0
while np.linalg.norm(diagram(h0 + alpha * d).masses - nu) > (1 - alpha / 2) * e0:
    alpha /= 2
print(f"decrease test alone accepts α = {alpha}: {diagram(h0 + alpha * d).empty.sum()} empty cells")

# %% [markdown]
# ### Exercise 2.3 — other masses (5 min)
#
# Give the targets masses proportional to $1 + 10\,(y_{i,1} - 0.8)$ (heavier to the right),
# solve with `geomot.solve_ot(square, y, nu)`, and check the cell areas.  Which cells grew?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 2.3
w = 1 + 10 * (y[:, 0] - 0.8)
res_w = geomot.solve_ot(square, y, w / w.sum())
print("max |area - nu| =", np.abs(res_w.diagram.volumes - w / w.sum()).max())
ax = gplot.plot_power_diagram(res_w.diagram, color_by="mass", cmap="viridis")
ax.set_title("heavier targets to the right: bigger cells")
plt.show()

# %% [markdown]
# ### Exercise 2.4 — a better start is not enough (6 min)
#
# geomot does not start from the Voronoi heights: it spreads the targets over the square by a
# similarity $z_i = c + s\,(y_i - \bar y)$ and starts from the heights whose diagram is the
# Voronoi diagram of the $z_i$, $h_i = -\langle c, y_i\rangle - \tfrac{s}{2}|y_i - \bar y|^2$
# ([theory § 5](../theory.md#5-damped-newton), start 3).  Use $c = (0.5, 0.5)$ and
# $s = 0.95 / \text{(width of the cluster)}$.  How big is the error there?  Run **undamped**
# Newton from it for a few steps.  Does it converge?  How many iterations does the damped method
# need from this start?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["hide-cell"]
# Solution 2.4: a much better start (error ~2 instead of ~38), and still undamped Newton breaks
c, s = np.array([0.5, 0.5]), 0.95 / np.ptp(y, axis=0).max()
h_sim = -(y @ c) - 0.5 * s * ((y - y.mean(axis=0)) ** 2).sum(axis=1)
h = h_sim.copy()
for k in range(6):
    pd = diagram(h)
    print(f"undamped iteration {k}: error {rel_error(pd):.3g}, empty cells {pd.empty.sum()}")
    if pd.empty.any():
        print("  -> a cell died: the next Newton system is singular")
        break
    h = h + newton_direction(pd)
_, log_sim, _ = damped_newton(h_sim)
print(f"damped from the similarity start: {len(log_sim) - 1} iterations, "
      f"{sum(a < 1 for _, a, _ in log_sim[1:])} of them damped")

# %% [markdown]
# **Take-away.** The optimal map onto finitely many points is a power diagram whose heights
# solve $G(h) = \nu$ (discrete Monge–Ampère).  Newton's method is the natural solver — the
# Hessian is a graph Laplacian — but only the damped version converges from a bad start; near
# the solution it is quadratic.  Theory: [the mathematics, § 4–5](../theory.md#5-damped-newton).
