"""The stop rule on its own, and each gradient-descent engine against the others.

References: hand-made sequences of objective values and norms for
``StopRule``; the data-pass engine (``precompute=False``) and the general
chunk of the spectral engine (prefix products, the Hillis–Steele scan) for
the closed-form momentum chunks; ``numpy.linalg.lstsq`` for the distances.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn._solvers.spectral import SpectralEngine
from onestep_sklearn._solvers.stopping import UNCERTIFIABLE, StopRule


def rule(**changes):
    params = dict(
        tol=1e-3,
        n_iter_no_change=5,
        scale=1.0,
        monotone=True,
        previous=1.0,
        smallest=1.0,
        reference=0.5,
    )
    params.update(changes)
    return StopRule(**params)


# --------------------------------------------------------------------------
# StopRule
# --------------------------------------------------------------------------


def test_rule_stops_at_the_first_certified_iteration():
    losses = np.geomspace(0.9, 0.1, 10)
    grads = np.geomspace(1.0, 1e-5, 10)  # ℓ = 1: distance ‖g‖/‖w*‖-ish
    coefs = np.full(10, 1.0)
    stop = rule(tol=1e-3)
    consumed, event, _, _ = stop.scan(losses, grads, coefs)
    first = int(np.argmax(stop.distances(grads, coefs) <= 1e-3))
    assert event == "converged" and consumed == first + 1
    assert stop.iteration == consumed and stop.distance <= 1e-3


def test_rule_judges_chunks_as_it_judges_single_iterations():
    rng = np.random.default_rng(0)
    losses = np.cumsum(-rng.uniform(0, 1e-3, 300)) + 1.0
    grads = np.geomspace(1.0, 1e-6, 300) * rng.uniform(0.5, 1.5, 300)
    coefs = 1 + rng.uniform(0, 0.1, 300)
    whole, single = rule(tol=1e-4), rule(tol=1e-4)
    result = whole.scan(losses, grads, coefs)
    for i in range(300):
        consumed, event, _, _ = single.scan(
            losses[i : i + 1], grads[i : i + 1], coefs[i : i + 1]
        )
        if event:
            break
    assert (result[1], result[0]) == (event, single.iteration)
    assert whole.previous == single.previous and whole.distance == single.distance


def test_rule_calls_a_rise_divergence_only_when_monotone():
    losses = np.array([0.9, 0.8, 0.85, 0.7])
    grads, coefs = np.ones(4), np.ones(4)
    consumed, event, _, _ = rule().scan(losses, grads, coefs)
    assert (consumed, event) == (3, "diverged")
    consumed, event, _, _ = rule(monotone=False).scan(losses, grads, coefs)
    assert (consumed, event) == (4, None)
    consumed, event, _, _ = rule(monotone=False).scan(
        np.array([0.9, 101.0]), np.ones(2), np.ones(2)
    )
    assert (consumed, event) == (2, "diverged")  # past BLOW_UP_FACTOR·scale


def test_rule_takes_exact_distances_only_where_it_can_certify():
    losses = np.array([0.9, 0.8, 0.7])
    grads, coefs = np.ones(3), np.ones(3)  # the bound says distance 1
    exact = np.array([1e-2, 1e-4, 1e-5])
    consumed, event, _, _ = rule().scan(losses, grads, coefs, exact=exact)
    assert (consumed, event) == (2, "converged")
    # An unresolved curvature: no engine sees that direction, nothing certifies.
    stop = rule(smallest=UNCERTIFIABLE)
    consumed, event, _, _ = stop.scan(losses, grads, coefs, exact=exact)
    assert (consumed, event) == (3, None) and stop.distance == np.inf
    # The bound wins where it is the smaller one.
    assert rule().distances(np.array([1e-6]), np.ones(1), np.ones(1))[0] < 1e-5


# --------------------------------------------------------------------------
# The engines against each other
# --------------------------------------------------------------------------


def problem(seed, condition, n=120, d=6, k=1):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = rng.standard_normal((n, d)) @ np.diag(np.geomspace(1, condition**-0.5, d)) @ Q
    y = X @ rng.standard_normal((d, k)) + 0.1 * rng.standard_normal((n, k)) + 2
    return X + rng.uniform(-3, 3, d), y[:, 0] if k == 1 else y


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("k", [1, 2])
def test_closed_form_chunks_are_the_data_pass_iterates(nesterov, k):
    X, y = problem(1, 1e3, k=k)
    params = dict(
        learning_rate=0.05, momentum=0.8, nesterov=nesterov, tol=None, max_iter=700
    )
    fast = quiet_fit(IterativeGDRegressor(precompute=True, **params), X, y)
    passes = quiet_fit(IterativeGDRegressor(precompute=False, **params), X, y)
    assert fast.n_iter_ == passes.n_iter_ == 700
    assert_allclose(fast.loss_curve_, passes.loss_curve_, rtol=1e-9)
    assert_allclose(fast.coef_, passes.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(fast.intercept_, passes.intercept_, rtol=1e-9)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("tol", [None, 1e-6])
def test_closed_form_chunks_are_the_prefix_product_chunks(monkeypatch, nesterov, tol):
    # The same spectral engine with its general chunks (a Hillis–Steele scan of
    # the 2×2 maps): the same iterates, objective values, stop and iteration.
    X, y = problem(2, 1e3, k=2)
    params = dict(momentum=0.9, nesterov=nesterov, tol=tol, max_iter=3000)
    fast = quiet_fit(IterativeGDRegressor(precompute=True, **params), X, y)
    monkeypatch.setattr(SpectralEngine, "closed_form_applies", lambda self: False)
    scan = quiet_fit(IterativeGDRegressor(precompute=True, **params), X, y)
    assert (fast.stop_reason_, fast.n_iter_) == (scan.stop_reason_, scan.n_iter_)
    assert_allclose(fast.loss_curve_, scan.loss_curve_, rtol=1e-10)
    assert_allclose(fast.coef_, scan.coef_, rtol=1e-8, atol=1e-12)
    if tol is not None:
        assert fast.stop_reason_ == "converged" and fast.n_iter_ < 3000


@pytest.mark.parametrize("seed", range(6))
def test_statistics_stop_no_later_than_data_passes_and_both_honestly(seed):
    # With momentum the statistics route certifies the distance itself, the
    # data passes bound it by ‖∇f‖/ℓ: the same iterates, the first stops
    # first (or together), both within tol of the exact solution.
    X, y = problem(seed, 10 ** (1 + seed % 4))
    exact = OneStepRegressor().fit(X, y).coef_
    runs = [
        quiet_fit(IterativeGDRegressor(precompute=p, max_iter=5000), X, y)
        for p in (True, False)
    ]
    assert [r.stop_reason_ for r in runs] == ["converged", "converged"]
    assert runs[0].momentum_ == pytest.approx(runs[1].momentum_, rel=1e-12)
    assert runs[0].momentum_ > 0
    assert runs[0].n_iter_ <= runs[1].n_iter_
    common = runs[0].n_iter_
    assert_allclose(runs[0].loss_curve_, runs[1].loss_curve_[:common], rtol=1e-9)
    for run in runs:
        assert np.linalg.norm(run.coef_ - exact) <= 1e-4 * np.linalg.norm(exact)


def reported_distance(message):
    return float(re.search(r"within ([0-9.e+-]+) of the optimum", message)[1])


@pytest.mark.parametrize("seed", range(4))
def test_the_reported_distance_is_the_true_distance(seed):
    # Stopped by max_iter on an ill-conditioned design, the warning's distance
    # is the exact ‖coef_ − w*‖/‖w*‖ (lstsq), certified: never below it and
    # no more than the eigenvalues' error above.
    X, y = problem(seed, 1e8)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    exact = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    with pytest.warns(ConvergenceWarning) as record:
        model = IterativeGDRegressor(max_iter=300).fit(X, y)
    true = np.linalg.norm(model.coef_ - exact) / np.linalg.norm(exact)
    shown = reported_distance(str(record[0].message))
    assert true <= shown * 1.01  # the message rounds to 2 digits
    assert shown <= true * 1.02 + 1e-6


def min_norm(X, y, sw):
    root = np.sqrt(sw / sw.sum())
    Xc = X - sw @ X / sw.sum()
    yc = y - sw @ y / sw.sum()
    return np.linalg.lstsq(root[:, None] * Xc, root * yc, rcond=None)[0]


@st.composite
def designs(draw):
    """Condition numbers 1–1e12, near-duplicate and duplicated columns, a
    one-hot block with rare levels beside the intercept, weights, a start."""
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n, d = draw(st.integers(30, 300)), draw(st.integers(2, 12))
    condition = 10 ** draw(st.floats(0, 12))
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = rng.standard_normal((n, d)) @ np.diag(np.geomspace(1, condition**-0.5, d)) @ Q
    if draw(st.booleans()):
        X = np.column_stack(
            [X, X[:, 0] + 10 ** -draw(st.floats(2, 9)) * rng.standard_normal(n)]
        )
    if draw(st.booleans()):
        X = np.column_stack([X, X[:, -1]])
    if draw(st.booleans()):
        levels = draw(st.integers(2, 8))
        shares = np.geomspace(1, 1e-2, levels)
        codes = rng.choice(levels, n, p=shares / shares.sum())
        X = np.column_stack([X, np.eye(levels)[codes]])
    y = (
        X @ rng.standard_normal(X.shape[1])
        + draw(st.floats(0, 1)) * rng.standard_normal(n)
        + 3
    )
    sw = rng.uniform(0.2, 3, n) if draw(st.booleans()) else np.ones(n)
    start = rng.standard_normal(X.shape[1]) if draw(st.booleans()) else None
    return X, y, sw, start


@settings(max_examples=60, deadline=None)
@given(case=designs(), nesterov=st.booleans())
def test_every_converged_default_fit_is_within_tol_of_the_min_norm_solution(
    case, nesterov
):
    X, y, sw, start = case
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        model = IterativeGDRegressor(nesterov=nesterov, max_iter=3000).fit(
            X, y, sample_weight=sw, coef_init=start
        )
    warned = [r for r in record if issubclass(r.category, ConvergenceWarning)]
    exact = min_norm(X, y, sw)
    if model.stop_reason_ == "converged":
        assert not warned
        error = np.linalg.norm(model.coef_ - exact)
        assert error <= 1e-4 * np.linalg.norm(exact) + 1e-12
    else:
        assert warned


# --------------------------------------------------------------------------
# The cross-validation path against the spectral engine (one Spectrum)
# --------------------------------------------------------------------------


def fold_path(momentum, nesterov, rates, max_iter, seed=0):
    from onestep_sklearn._kernel.stats import SufficientStats
    from onestep_sklearn._solvers.path import FoldPath
    from onestep_sklearn._solvers.schedule import Momentum

    X, y = problem(seed, 30.0, n=90, d=5, k=2)
    train = SufficientStats.from_data(X[:60], y[:60], np.ones(60), True)
    val = SufficientStats.from_data(X[60:], y[60:], np.ones(30), True)
    moves = Momentum(momentum, nesterov)
    return FoldPath(train, val, 0.0, rates, max_iter, moves, np.float64), moves


def engine_iterates(path, moves, rate, max_iter):
    """Every iterate of the spectral engine on the path's own Spectrum."""
    from onestep_sklearn._solvers.schedule import StepSchedule

    coef0 = np.zeros_like(path.gamma0)
    engine = SpectralEngine(
        path.objective,
        coef0,
        StepSchedule(rate, "constant", 0.25),
        moves,
        spectrum=path.spectrum,
    )
    assert engine.spectrum is path.spectrum
    coefs = []
    while len(coefs) < max_iter:
        size = engine.advance(max_iter - len(coefs)).losses.size
        coefs += [engine.coef_at(engine._pending(i)[2]) for i in range(size)]
        engine.commit(size, None, None)
    return np.array(coefs)


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)]
)
def test_the_cv_path_iterates_are_the_engine_iterates(momentum, nesterov):
    max_iter = 40
    path, moves = fold_path(momentum, nesterov, [0.0], max_iter)
    rates = np.array([0.05, 0.5, 1.0]) / path.lipschitz
    path, moves = fold_path(momentum, nesterov, rates, max_iter)
    for j, rate in enumerate(rates):
        coefs, _ = path.coef_path(j)
        expected = engine_iterates(path, moves, rate, max_iter)
        scale = np.abs(expected).max()
        assert_allclose(coefs[1:], expected, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_cv_path_stops_where_the_stop_rule_stops_a_run(momentum):
    from onestep_sklearn._solvers.path import run_at

    max_iter = 60
    path, moves = fold_path(momentum, False, [0.0], max_iter)
    # Stable rates, then rates past 2/L (past the momentum run's limit too).
    rates = np.array([0.5, 1.9, 2.5, 4.5]) / path.lipschitz
    path, moves = fold_path(momentum, False, rates, max_iter)
    frozen = np.zeros(path.gamma0.shape[0], dtype=bool)
    eigh = (path.spectrum.evals, path.spectrum.basis)
    assert path.diverged[-1] and not path.diverged[0]
    for j, rate in enumerate(rates):
        result, _ = run_at(
            path.objective, frozen, eigh, rate, max_iter, moves, np.float64
        )
        stopped = result.stop == "diverged"
        assert stopped == bool(path.diverged[j])
        if stopped:
            assert result.n_iter == path.stopped_at[j]


@pytest.mark.parametrize("monotone", [True, False])
def test_the_rules_batch_of_runs_is_its_scan_run_by_run(monotone):
    # Falling objectives with rises (beyond rounding or past the blow-up
    # bound), ties, NaN and inf at random places.
    rng = np.random.default_rng(3)
    losses = np.cumsum(-rng.uniform(0, 1e-2, (40, 30)), axis=1) + 1.0
    for row in range(40):
        at = rng.integers(0, 30)
        losses[row, at:] += rng.choice([0.0, 1e-3, 1e-18, 200.0, np.nan, np.inf])
    losses[5, 3:] = losses[5, 2]  # a plateau: no rise, first best kept
    stopped_at, best = rule(tol=None, monotone=monotone).stops(losses)
    assert stopped_at.any() and not stopped_at.all()
    for row in range(40):
        single = rule(tol=None, monotone=monotone)
        kept = 0
        for t, loss in enumerate(losses[row], start=1):
            consumed, event, best_at, _ = single.scan([loss], [1.0], [1.0])
            if best_at is not None:
                kept = t
            if event is not None:
                assert event == "diverged" and stopped_at[row] == t
                break
        else:
            assert stopped_at[row] == 0
        if stopped_at[row]:
            assert best[row] == kept


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 2])
def test_lazy_coefficient_norms_stop_where_the_formed_ones_do(monkeypatch, seed, k):
    """Plain chunks hand the rule ``LazyNorms``; forming them all for every
    chunk changes no fitted value, stop or warning (distances included)."""
    from onestep_sklearn._solvers import stopping

    X, y = problem(seed, 300, k=k)
    rates = [1e-4, 0.02, 0.3, 0.9, 1.05]  # × 2/L: slow, middling, ρ < 0, past it
    limit = 2 / quiet_fit(IterativeGDRegressor(max_iter=1), X, y).lipschitz_

    def fits():
        out = []
        for factor in rates:
            est = IterativeGDRegressor(learning_rate=factor * limit, max_iter=6000)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est.fit(X, y)
            texts = [str(w.message) for w in caught]
            out.append((est.coef_, est.n_iter_, est.loss_curve_, est.stop_reason_))
            out[-1] += (texts,)
        return out

    verdicts = []
    original = stopping.StopRule._may_converge

    def recorded(self, *args):
        verdicts.append(original(self, *args))
        return verdicts[-1]

    monkeypatch.setattr(stopping.StopRule, "_may_converge", recorded)
    lazy = fits()
    assert False in verdicts and True in verdicts  # both routes taken
    monkeypatch.setattr(stopping.StopRule, "_may_converge", lambda self, *a: True)
    formed = fits()
    for one, other in zip(lazy, formed):
        assert_allclose(one[0], other[0], rtol=0, atol=0)
        assert one[1:] == other[1:]
