"""The null space of X and the curvatures the formed Hessian cannot resolve.

The Hessian ``H = 2·XcᵀSXc/Σs`` (``_kernel.objective``), formed from the
statistics, resolves eigenvalues down to about ``eps·d·L``; below, rounding
of zero and real curvature look alike. These functions measure such
directions on ``X`` itself (``‖Xc·q‖²``), tell the null space of X (where
the minimum-norm solution ``w*`` has no component) from real curvature, and
take the null-space component out of a starting point, so that every run
converges to the same ``w*``. Arrays and a data source in, arrays out.
"""

from dataclasses import replace

import numpy as np
import scipy.linalg as la

from .._data import questions
from .._kernel.spectrum import active_mask

# Eigenvalues of the formed Hessian below FLAT_BAND·eps·d·L are checked on
# the data: rounding of the Gram can make a zero eigenvalue that large.
FLAT_BAND = 1e3


def flat_mask(evals):
    """The eigenvalues within ``FLAT_BAND·eps·d·L`` of 0: those the formed
    Hessian does not resolve (measured on the data here; not certified by
    their ``eigh`` value in ``closed_form.ExactDistance``)."""
    top = max(float(evals.max(initial=0.0)), 0.0)
    return evals <= FLAT_BAND * np.finfo(np.float64).eps * evals.size * top


def flat_directions(spectrum):
    """The eigenvectors and eigenvalues of the small eigenvalues."""
    evals, basis = spectrum
    top = max(float(evals.max(initial=0.0)), 0.0)
    flat = flat_mask(evals)
    if not flat.any():
        return None, None, top
    return basis[:, flat], evals[flat], float(evals[~flat].min(initial=top))


def measure_flat_directions(source, objective, curvature):
    """``curvature`` with its small eigen-directions measured on the data.

    The Hessian formed from ``XᵀSX`` resolves curvatures down to about
    ``eps·d·L``; ``X`` itself resolves ``‖Xc·q‖`` down to about
    ``eps·‖Xc‖``, that is curvatures down to about ``eps²·L``. One pass
    (``sq_norms``: ``Σ s (xᵀq − x̄ᵀq)²``, no ``Xᵀ`` product) tells the null
    space of ``X`` (a duplicated column, a one-hot block beside the
    intercept: the minimum-norm solution has no component there, and ℓ is
    the smallest curvature outside it) from real curvatures. A real one
    below ``eps·d·L`` (``[a, a + 1e-9·b]``) is one along which gradient
    descent cannot converge and which no gradient computed from ``XᵀSX``
    can certify: ``unresolved``.
    """
    basis = curvature.flat_basis
    top = curvature.lipschitz
    if basis is None or objective.l2_reg_strength > 0 or not top > 0:
        return curvature
    basis, measured = _ritz_on_data(source, objective, basis)
    eps = np.finfo(source.dtype).eps
    n_features = basis.shape[0]
    # Rounding of zero as measured: the eigenvector's error (about
    # eps·d·L/ℓ) seen through the real curvatures, and the rounding of the
    # products xᵀq of uncentred rows.
    clear = curvature.above_band
    size = top + 2.0 * float(objective.x_mean @ objective.x_mean)
    noise = 100 * n_features * eps**2 * (n_features * top * top / clear + size)
    null = measured <= noise
    resolved = _resolved(measured, n_features, top)
    # ℓ: the smallest curvature that is neither the null space of X nor
    # below what the formed Hessian resolves.
    real = measured[~null & resolved]
    smallest = float(real.min()) if real.size else clear
    unresolved_at = ~null & ~resolved
    unresolved = 0.0
    if unresolved_at.any():
        unresolved = float(measured[unresolved_at].max() / top)
    return replace(
        curvature,
        flat_basis=basis,
        flat_evals=measured,
        null=null,
        unresolved=unresolved,
        smallest=smallest,
    )


def _resolved(curvatures, n_features, top):
    """Curvatures that the Hessian formed from XᵀSX resolves (the spectral
    engine's ``active_mask``)."""
    return curvatures > np.finfo(np.float64).eps * n_features * top


def without_null_space(spectrum, curvature):
    """The spectrum with the eigenvalues of the null space of X set to 0, so
    that the spectral engine leaves those directions alone."""
    evals, basis = spectrum
    flat = flat_mask(evals)
    evals, basis = evals.copy(), basis.copy()
    # The small directions as measured on the data (null ones 0, and those
    # below what the Hessian resolves 0 too: the engine leaves them alone).
    resolved = _resolved(curvature.flat_evals, evals.size, curvature.lipschitz)
    evals[flat] = np.where(~curvature.null & resolved, curvature.flat_evals, 0.0)
    basis[:, flat] = curvature.flat_basis
    return evals, basis


# Up to this many small directions their curvatures are resolved as a
# subspace (all pairs measured); beyond, one by one.
RITZ_MAX_DIRECTIONS = 48


def _ritz_on_data(source, objective, basis):
    """The small directions re-diagonalised with curvatures measured on the
    data: ``(basis·V, λ)`` from the eigendecomposition of ``G = QᵀHQ``, whose
    entries come from ``‖Xc·q‖²`` (pairs by polarisation), not from
    ``XᵀSX``. Among nearly equal small eigenvalues the Hessian's own
    eigenvectors mix a null direction with a real one; ``G`` does not."""
    m = basis.shape[1]
    pairs = np.triu_indices(m, 1) if 1 < m <= RITZ_MAX_DIRECTIONS else ((), ())
    first, second = np.asarray(pairs[0], int), np.asarray(pairs[1], int)
    vectors = np.hstack([basis, basis[:, first] + basis[:, second]])
    squares = questions.sq_norms(source, vectors, objective.x_mean @ vectors)
    scale = 2.0 / objective.sw_sum
    gram = np.diag(squares[:m])
    cross = (squares[m:] - squares[first] - squares[second]) / 2
    gram[first, second] = gram[second, first] = cross
    evals, rotation = la.eigh(scale * gram)
    return basis @ rotation, np.maximum(evals, 0.0)


def row_space_part(source, objective, coef0):
    """``coef0`` projected on the row space of ``√S·Xc`` (wide data on data
    passes, where no d × d spectrum is formed): ``Xcᵀ√S·K⁺·√S·Xc·coef0``
    with ``K`` the n × n row Gram."""
    x_mean = objective.x_mean
    root = np.sqrt(questions.weights(source))[:, None]
    residual = root * (questions.matvec(source, coef0) - x_mean @ coef0)
    evals, basis = la.eigh(questions.row_gram(source, x_mean))
    keep = active_mask(evals)
    inverse = basis[:, keep] @ ((basis[:, keep].T @ residual) / evals[keep, None])
    weighted = root * inverse
    return questions.rmatvec(source, weighted) - np.outer(x_mean, weighted.sum(axis=0))


def remove_null_component(coef0, curvature):
    """``coef0`` without its component in the null space of X (directions
    the objective does not see): the run then converges to the
    minimum-norm solution ``w*`` from any start. Unchanged when the null
    space is unknown (no formed Hessian) or not cleanly separated."""
    basis = curvature.null_basis
    if basis is None or curvature.unresolved > 0 or not np.any(coef0):
        return coef0
    return coef0 - basis @ (basis.T @ coef0)
