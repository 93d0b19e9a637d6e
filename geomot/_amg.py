"""Smoothed-aggregation AMG for the Laplacians of power diagrams: hierarchy, V-cycle, reuse.

The Newton solver's linear systems are weighted graph Laplacians with one node pinned per
connected component (:mod:`geomot._linalg`).  They are solved by conjugate gradients
preconditioned by one V-cycle of smoothed aggregation (Vaněk, Mandel and Brezina), built from
pyamg's kernels -- its strength of connection, its standard aggregation, its Gauss-Seidel
sweeps -- with every operator in CSR format:

* *Hierarchy* (:func:`sa_hierarchy`).  Per level: the symmetric strength of connection
  (:math:`\\theta = 0`), standard aggregation, the tentative prolongator :math:`T` that fits the
  near-kernel candidate :math:`B` (the constant vector on the finest level) on each aggregate
  (column-normalised, :math:`B_c` its norms), one Jacobi smoothing step
  :math:`P = T - \\omega D^{-1} A T` with :math:`\\omega = 4/3` and :math:`D` the row sums of
  :math:`|A|`, and the Galerkin product :math:`A_c = P^T A P`; down to ``max_coarse`` unknowns,
  solved by a pseudo-inverse.  This is pyamg's ``smoothed_aggregation_solver`` with the options
  in :data:`SA_OPTIONS` (its finest level tested equal; on coarser levels pyamg's aggregates
  differ with the order of the column indices of its products, and CG needs as many
  iterations with either hierarchy), but pyamg forms :math:`T`, :math:`P`
  and every coarse operator in BSR format with 1x1 blocks, whose products and duplicate sums
  are several times slower than CSR's: the setup of a 2D system of 3e5 cells took ~1 s, most
  of it there.
* *Cycle* (:class:`VCycle`).  One forward Gauss-Seidel sweep before the coarse correction and
  one backward sweep after it: a symmetric positive definite preconditioner.  pyamg's own
  ``aspreconditioner`` runs the same cycle through ``solve(maxiter=1)``, which adds two
  residual norms on the finest level.
* *Reuse* (:class:`AMGCache`).  Successive Newton Hessians differ little, so a hierarchy is
  kept while CG with it converges nearly as fast as with a fresh one.

References
----------
P. Vaněk, J. Mandel, M. Brezina, *Algebraic multigrid by smoothed aggregation for second and
fourth order elliptic problems*, Computing 56 (1996).
N. Bell, L. Olson, J. Schroder, *PyAMG: algebraic multigrid solvers in Python*, J. Open Source
Softw. 7 (2022).
"""

import numpy as np

#: the pyamg ``smoothed_aggregation_solver`` options that :func:`sa_hierarchy` reproduces
SA_OPTIONS = {
    "symmetry": "symmetric",
    "strength": ("symmetric", {"theta": 0.0}),
    "aggregate": "standard",
    # the near-kernel of a graph Laplacian is exactly the constant vector: smoothing it
    # (pyamg's default improve_candidates) changes nothing and costs a fifth of its setup
    "improve_candidates": None,
    # the Jacobi weights from the row sums of |A| (for a Laplacian twice the diagonal, the
    # Gershgorin bound of rho(D^-1 A) <= 2) instead of a Lanczos estimate of the spectral
    # radius: 40% of pyamg's default setup at 1e6 cells
    "smooth": ("jacobi", {"omega": 4.0 / 3.0, "degree": 1, "weighting": "local"}),
    # one forward sweep before and one backward sweep after the coarse correction: a symmetric
    # V-cycle with half the default's symmetric sweeps; about 35% more CG iterations, each
    # about 40% cheaper (measured at 1e5-1e6 cells)
    "presmoother": ("gauss_seidel", {"sweep": "forward"}),
    "postsmoother": ("gauss_seidel", {"sweep": "backward"}),
    "max_coarse": 10,
    "max_levels": 10,
}


#: the sweeps of :class:`VCycle`, as SA_OPTIONS gives them to pyamg
_PRE_SWEEP = SA_OPTIONS["presmoother"][1]["sweep"]
_POST_SWEEP = SA_OPTIONS["postsmoother"][1]["sweep"]


def sa_hierarchy(A, max_coarse=SA_OPTIONS["max_coarse"], max_levels=SA_OPTIONS["max_levels"]):
    """Smoothed-aggregation hierarchy of the SPD matrix ``A`` (m, m), CSR.

    Returns ``(operators, prolongators, coarse_inverse)``: the CSR matrices :math:`A_0 = A,
    A_1, \\dots, A_L`, the CSR prolongators :math:`P_0, \\dots, P_{L-1}` (:math:`A_{l+1} =
    P_l^T A_l P_l`) and the dense pseudo-inverse of :math:`A_L` (the module notes give the
    construction).
    """
    import scipy.linalg
    import scipy.sparse as sps
    from pyamg.aggregation.aggregate import standard_aggregation
    from pyamg.strength import symmetric_strength_of_connection

    omega = SA_OPTIONS["smooth"][1]["omega"]
    theta = SA_OPTIONS["strength"][1]["theta"]
    # sorted column indices: the greedy aggregation visits neighbours in their stored order
    # (pyamg sorts the finest operator too); a copy, the caller's matrix stays as it is
    A = sps.csr_matrix(A, dtype=np.float64, copy=True)
    A.sort_indices()
    operators, prolongators = [A], []
    B = np.ones(A.shape[0])
    while len(operators) < max_levels and A.shape[0] > max_coarse:
        agg_op, _ = standard_aggregation(symmetric_strength_of_connection(A, theta=theta))
        agg_op = sps.csr_matrix(agg_op)
        # tentative prolongator: B restricted to each aggregate, normalised (pyamg's
        # fit_candidates for one candidate); nodes in no aggregate get an empty row
        rows = np.repeat(np.arange(A.shape[0]), np.diff(agg_op.indptr))
        cols = agg_op.indices
        norms = np.sqrt(np.bincount(cols, weights=B[rows] ** 2, minlength=agg_op.shape[1]))
        T = sps.csr_matrix((B[rows] / norms[cols], (rows, cols)), shape=agg_op.shape)
        rowsum = np.asarray(abs(A).sum(axis=1)).ravel()
        d_inv = np.zeros_like(rowsum)
        d_inv[rowsum != 0] = omega / rowsum[rowsum != 0]
        P = sps.csr_matrix(T - sps.diags(d_inv) @ (A @ T))
        A = sps.csr_matrix((P.T @ A) @ P)
        A.sort_indices()
        operators.append(A)
        prolongators.append(P)
        B = norms
    coarse_inverse = scipy.linalg.pinv(A.toarray())
    return operators, prolongators, coarse_inverse


class VCycle:
    """One V-cycle of :func:`sa_hierarchy` from a zero initial guess, as a callable and as
    the preconditioner of CG (:meth:`operator`): an approximation of :math:`A^{-1} b`.

    Forward Gauss-Seidel before, backward after the coarse correction (pyamg's sweeps), the
    coarsest level by its pseudo-inverse.
    """

    def __init__(self, operators, prolongators, coarse_inverse):
        self.A = list(operators)
        self.P = list(prolongators)
        self.R = [P.T.tocsr() for P in self.P]
        self.coarse_inverse = coarse_inverse

    @classmethod
    def of(cls, A):
        """The cycle of the hierarchy of ``A`` (m, m) CSR."""
        return cls(*sa_hierarchy(A))

    @property
    def levels(self):
        """Number of levels (the finest included)."""
        return len(self.A)

    def _cycle(self, lvl, x, b):
        from pyamg.relaxation.relaxation import gauss_seidel

        A = self.A[lvl]
        gauss_seidel(A, x, b, iterations=1, sweep=_PRE_SWEEP)
        coarse_b = self.R[lvl] @ (b - A @ x)
        if lvl == len(self.A) - 2:
            coarse_x = self.coarse_inverse @ coarse_b
        else:
            coarse_x = np.zeros_like(coarse_b)
            self._cycle(lvl + 1, coarse_x, coarse_b)
        x += self.P[lvl] @ coarse_x
        gauss_seidel(A, x, b, iterations=1, sweep=_POST_SWEEP)

    def __call__(self, b):
        b = np.asarray(b, dtype=np.float64).ravel()
        if len(self.A) == 1:
            return self.coarse_inverse @ b
        x = np.zeros_like(b)
        self._cycle(0, x, b)
        return x

    def operator(self):
        """The cycle as a ``scipy.sparse.linalg.LinearOperator``."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.A[0].shape, matvec=self, dtype=np.float64)


class AMGCache:
    """A :class:`VCycle` kept from one Newton step to the next.

    Successive Hessians differ little (the same targets, slightly moved facets), so the last
    hierarchy still preconditions CG well and its setup (about as long as the solve) is saved.
    It is rebuilt when the pinned nodes change or when CG with it converges markedly slower
    (per iteration) than with a fresh one.  ``setups`` and ``iterations`` count the hierarchies
    built and the CG iterations run.
    """

    def __init__(self):
        self.cycle = None
        self.pinned = None
        self.fresh_rate = None
        self.rebuild = True
        self.setups = 0
        self.iterations = 0

    def preconditioner(self, A, pinned):
        """``(cycle, fresh)``: the kept cycle, or a new one for ``A`` (then ``fresh``)."""
        if self.cycle is None or self.rebuild or not np.array_equal(pinned, self.pinned):
            self.cycle = VCycle.of(A)
            self.pinned = pinned
            self.fresh_rate = None
            self.rebuild = False
            self.setups += 1
            return self.cycle, True
        return self.cycle, False

    def record(self, residuals, fresh):
        """Convergence factor per CG iteration; a stale hierarchy 1.5x slower is dropped."""
        self.iterations += max(len(residuals) - 1, 0)
        if len(residuals) < 3 or residuals[0] <= 0:
            return
        rate = (max(residuals[-1], 1e-300) / residuals[0]) ** (1.0 / (len(residuals) - 1))
        if fresh:
            self.fresh_rate = rate
        elif self.fresh_rate is not None and np.log(rate) > np.log(self.fresh_rate) / 1.5:
            self.rebuild = True
