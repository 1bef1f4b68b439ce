"""The BLAS threading policy of ``_kernel.threads``, applied where fits run.

Small fits run BLAS on one thread (a threaded BLAS spins against other
processes on a loaded machine: 13 ms became 960 ms for a 1,536 × 60 one-hot
fit); the limit is restored afterwards, also when fits run in threads.
"""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV

threadpoolctl = pytest.importorskip("threadpoolctl")

import onestep_sklearn._one_step as one_step_module  # noqa: E402
from onestep_sklearn import (  # noqa: E402
    IterativeGDRegressorCV,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn._kernel.threads import (  # noqa: E402
    THREADED_WORK,
    fit_blas_context,
    single_threaded_blas,
)


def blas_threads():
    return [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads for the test (the limit the policy must undo)."""
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if max(blas_threads(), default=1) < 2:
            pytest.skip("BLAS here runs on one thread only")
        yield


def one_hot_design(n_samples=300, seed=0):
    rng = np.random.default_rng(seed)
    levels = rng.choice(6, size=n_samples, p=[0.5, 0.2, 0.15, 0.1, 0.04, 0.01])
    X = sp.csr_matrix(np.eye(6)[levels])
    numeric = rng.standard_normal((n_samples, 2))
    X = sp.hstack([X, sp.csr_matrix(numeric)]).tocsr()
    y = levels * 0.5 + numeric @ [1.0, -2.0] + rng.standard_normal(n_samples)
    return X, y


def test_context_limits_small_work_and_restores(two_blas_threads):
    before = blas_threads()
    with fit_blas_context((1000, 60)):
        assert set(blas_threads()) == {1}
        with single_threaded_blas():  # re-entrant
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
    assert blas_threads() == before
    big = int(np.sqrt(THREADED_WORK)) + 1
    with fit_blas_context((big, big)):
        assert blas_threads() == before
    for unknown in [None, (np.nan, 5), (object(), 5), (10,)]:
        with fit_blas_context(unknown):
            assert blas_threads() == before


@pytest.mark.parametrize("module, name", [(one_step_module, "newton_step")])
def test_fit_runs_its_solver_on_one_thread(two_blas_threads, monkeypatch, module, name):
    seen = []
    solver = getattr(module, name)

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return solver(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    before = blas_threads()
    X, y = one_hot_design()
    OneStepRegressor().fit(X, y)
    assert seen and set(seen[0]) == {1}
    assert blas_threads() == before


def test_cv_fit_and_suggest_learning_rate_restore_the_limit(two_blas_threads):
    before = blas_threads()
    X, y = one_hot_design()
    IterativeGDRegressorCV(max_iter=50).fit(X, y)
    suggest_learning_rate(X)
    assert blas_threads() == before


def test_concurrent_fits_in_threads_restore_the_limit(two_blas_threads):
    before = blas_threads()
    X, y = one_hot_design(2000)
    errors = []

    def fit_many():
        try:
            for _ in range(20):
                OneStepRegressor().fit(X, y)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fit_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert blas_threads() == before


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_grid_search_in_parallel_matches_the_serial_fit(backend):
    from joblib import parallel_backend

    X, y = one_hot_design(400)
    grid = {"alpha": [0.0, 0.1]}
    serial = GridSearchCV(OneStepRegressor(), grid, cv=3).fit(X, y)
    with parallel_backend(backend):
        parallel = GridSearchCV(OneStepRegressor(), grid, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-12,
    )


def test_predict_runs_on_one_thread(two_blas_threads, monkeypatch):
    # In joblib's threading backend the scoring between fits called a
    # threaded BLAS from two threads at once: GridSearchCV(n_jobs=2) took 9x
    # (idle) to 39x (busy) LinearRegression's time; predict now runs under the
    # policy too.
    import onestep_sklearn._base as base

    seen = []
    product = base.safe_sparse_dot

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return product(*args, **kwargs)

    X, y = one_hot_design()
    model = OneStepRegressor().fit(X.toarray(), y)
    monkeypatch.setattr(base, "safe_sparse_dot", recording)
    before = blas_threads()
    model.predict(X.toarray())
    assert seen and set(seen[0]) == {1}
    assert blas_threads() == before


def test_fits_in_worker_threads_run_on_one_thread_after_the_main_thread(
    two_blas_threads, monkeypatch
):
    # threadpoolctl lets only its "controlling thread" (the first to set
    # OpenBLAS's limit: here the main thread, by the fixture and a fit) change
    # the limit; before the policy took control for each change, a fit in a
    # worker thread silently kept two BLAS threads, and GridSearchCV(n_jobs=2)
    # on the threading backend ran 8-15x slower than LinearRegression's.
    seen = []
    solver = one_step_module.newton_step

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return solver(*args, **kwargs)

    monkeypatch.setattr(one_step_module, "newton_step", recording)
    X, y = one_hot_design()
    before = blas_threads()
    OneStepRegressor().fit(X, y)  # the main thread sets (and restores) first
    worker = threading.Thread(target=lambda: OneStepRegressor().fit(X, y))
    worker.start()
    worker.join()
    assert len(seen) == 2
    assert set(seen[1]) == {1}
    assert blas_threads() == before


def test_a_limit_entered_in_one_thread_and_left_in_another_is_restored(
    two_blas_threads,
):
    before = blas_threads()
    entered, second_in, first_out = (threading.Event() for _ in range(3))
    inside = {}

    def first():
        with single_threaded_blas():
            entered.set()
            second_in.wait()
        first_out.set()

    def second():
        entered.wait()
        with single_threaded_blas():
            second_in.set()
            first_out.wait()
            inside["second"] = blas_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(inside["second"]) == {1}
    assert blas_threads() == before


def test_sparse_data_is_counted_by_its_stored_entries(two_blas_threads, monkeypatch):
    # A 1,500 x 895 one-hot table counted as dense (1.2e9 multiply-adds)
    # kept two BLAS threads for the eigenvalues of its formed 895 x 895
    # Hessian; its 39,000 stored entries make it small work.
    before = blas_threads()
    with fit_blas_context((1500, 895), 39_000):
        assert set(blas_threads()) == {1}
    with fit_blas_context((1500, 895)):
        assert blas_threads() == before
    # A d x d factorization of 2,000 columns is large work whatever X holds.
    with fit_blas_context((20_000, 2000), 500_000):
        assert blas_threads() == before
    X = sp.random(1500, 895, density=0.03, format="csr", random_state=0)
    seen = []
    solver = one_step_module.newton_step

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return solver(*args, **kwargs)

    monkeypatch.setattr(one_step_module, "newton_step", recording)
    OneStepRegressor().fit(X, np.arange(1500.0))
    assert set(seen[0]) == {1}
