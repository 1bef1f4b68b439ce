"""How many threads BLAS and LAPACK may use while a fit runs.

A fit of the objective in ``_kernel.objective`` makes many small dense calls
(a QR of a d-column factor, an SVD or Cholesky of a d × d matrix, products of
row blocks). A threaded BLAS (OpenBLAS on 2 cores here) wakes and waits for
its threads at every call: idle, a QR of 244 × 61 took 0.17 ms on one thread
and 0.77 ms on two; with four CPU-bound processes beside it, 0.18 ms against
223 ms, because a descheduled thread holds up the whole call. The fit of
``OneStepRegressor()`` on a 1,536 × 60 one-hot design went from 13 ms to
960 ms under that load, nearly all of it in LAPACK's ``geqrf`` and ``gesdd``.
Threads pay only when one call does a lot of work: the data pass of a
1e6 × 50 design (2.5e9 multiply-adds) ran 15% faster on two threads, so fits
with that much work keep the threads BLAS was given.

One policy, applied where the estimators fit (``_base.blas_threads_for_fit``):
:func:`fit_blas_context`. threadpoolctl (a dependency of scikit-learn) sets
the limit; the limit is process-wide, so concurrent fits in threads (joblib's
threading backend) share one counted limit and the last one out restores it.

threadpoolctl (3.8 here) lets only one thread, the first to set OpenBLAS's
limit, change it later ("the controlling thread"): a call from any other
thread is silently ignored. Once a fit had run in the main thread, every fit
in a worker thread kept OpenBLAS's two threads, and two fits calling the one
shared OpenBLAS thread server at once waited on each other: a
``GridSearchCV(n_jobs=2)`` on the threading backend took 8–15× the same
search of ``LinearRegression`` (0.6–8 s instead of 0.1 s), and a limit set
in one thread and restored from another was never restored. The counted
limit below is already the one place that changes it, so it takes control
for each change (:func:`_in_control`) and hands it back at once.
"""

import contextvars
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from functools import cache

import numpy as np

try:  # threadpoolctl ≥ 3.6: one "controlling thread" may set OpenBLAS's limit
    from threadpoolctl import OpenBLASController as _OpenBLASController
except ImportError:  # older, or absent: any thread may set it
    _OpenBLASController = None

# Multiply-adds of the data pass (n_samples · n_features²) from which BLAS
# keeps its threads: below, a threaded call gains at most a few percent idle
# and loses up to 1000× on a loaded machine.
THREADED_WORK = 1 << 30

_lock = threading.Lock()
_active = {"depth": 0, "limiter": None}


@cache
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional in the kernel: without it BLAS keeps its threads
        return None
    return ThreadpoolController()


@contextmanager
def _in_control():
    """Make this thread threadpoolctl's controlling thread for OpenBLAS for
    the block, then clear it, so that the next change (ours from another
    thread, or the user's own ``threadpool_limits``) is not ignored.

    Called with ``_lock`` held: the changes it allows are the counted ones.
    """
    clear = getattr(_OpenBLASController, "clear_controlling_thread", None)
    if clear is None:
        yield
        return
    clear(force=True)
    try:
        yield
    finally:
        clear(force=True)


def _limit_to_one(controller):
    """Set every BLAS library of ``controller`` to one thread; returns what
    to restore: ``(library, its thread count)`` for those that had more.

    Straight on threadpoolctl's per-library controllers: its
    ``ThreadpoolController.limit`` does the same through an ``info()``
    snapshot of every library, about 20 µs per fit against 4 µs here (a
    tenth of a small fit's time)."""
    changed = []
    for library in controller.lib_controllers:
        if library.user_api != "blas":
            continue
        threads = library.get_num_threads()
        if threads != 1:
            library.set_num_threads(1)
            changed.append((library, threads))
    return changed


@contextmanager
def _counted_single_thread(controller):
    with _lock:
        if _active["depth"] == 0:
            with _in_control():
                _active["limiter"] = _limit_to_one(controller)
        _active["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _active["depth"] -= 1
            if _active["depth"] == 0:
                with _in_control():
                    for library, threads in _active["limiter"]:
                        library.set_num_threads(threads)
                _active["limiter"] = None


def single_threaded_blas():
    """A context in which BLAS runs on one thread (via threadpoolctl if present).

    Re-entrant and shared between threads: the first context in sets the
    limit, the last one out restores what was there before. The controller is
    made once (about 4 µs per use after that).
    """
    controller = _blas_controller()
    if controller is None:
        return nullcontext()
    return _counted_single_thread(controller)


def fit_blas_context(shape, stored=None):
    """The BLAS threading for a fit on data of ``shape`` (None: unknown).

    One thread unless the work is large (``THREADED_WORK``): the data pass
    of dense data, ``n_samples · n_features²`` multiply-adds; for sparse
    data with ``stored`` entries, ``stored · n_features`` (the products of
    its passes) plus ``n_features³`` (the d × d factorizations). Counted as
    dense, a 1,500 × 895 one-hot table (39,000 entries) kept two threads,
    and the eigenvalues of its formed 895 × 895 Hessian took 2.2 s instead
    of 0.2 s beside busy processes. Data of unknown shape (lists, lazy Dask
    collections) keeps BLAS as it is.
    """
    if shape is None or len(shape) != 2:
        return nullcontext()
    # Lazy collections (Dask) may not know their row count yet.
    if not all(isinstance(size, numbers.Integral) for size in shape):
        return nullcontext()
    n_samples, n_features = (int(size) for size in shape)
    work = n_samples * n_features * n_features
    if isinstance(stored, numbers.Integral):
        work = min(work, int(stored) * n_features + n_features**3)
    if work >= THREADED_WORK:
        return nullcontext()
    return single_threaded_blas()


# Streamed passes over at least this many bytes of X run their row blocks on
# several threads (``ordered_map``), where the fit keeps BLAS's threads.
PARALLEL_PASS_BYTES = 1 << 26
MAX_PASS_WORKERS = 4


def pass_workers(nbytes):
    """Threads for one streamed pass over ``nbytes`` of data: one inside
    :func:`single_threaded_blas` (the fit's work is small) or below
    ``PARALLEL_PASS_BYTES``; else as many as BLAS itself may use (a user's
    ``threadpool_limits`` included), the CPUs this process may run on and
    ``MAX_PASS_WORKERS`` allow.

    A pass of cache-sized blocks runs each product on one thread (a threaded
    BLAS call waits for its slowest thread: 3.3 passes' time on a loaded
    machine); a single thread streams X at about half the machine's memory
    bandwidth, which a plain ``X @ v`` on two threads uses whole."""
    if nbytes < PARALLEL_PASS_BYTES or _active["depth"] > 0:
        return 1
    controller = _blas_controller()
    if controller is None:
        return 1
    blas = [lib.get_num_threads() for lib in controller.lib_controllers]
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min([cpus, MAX_PASS_WORKERS, *blas]))


_pool = {"executor": None, "pid": None}


def _helper_pool():
    """The helper threads of :func:`ordered_map`, started once per process
    (a new thread costs a few ms on a loaded machine; a forked child makes
    its own)."""
    with _lock:
        if _pool["executor"] is None or _pool["pid"] != os.getpid():
            _pool["executor"] = ThreadPoolExecutor(
                max_workers=MAX_PASS_WORKERS - 1, thread_name_prefix="onestep-pass"
            )
            _pool["pid"] = os.getpid()
        return _pool["executor"]


def ordered_map(function, items, workers):
    """``[function(item) for item in items]``, on ``workers`` threads (the
    caller's and helpers').

    The threads take the next item as they come free, so one that is
    descheduled holds up the end by one item at most, not by its share; the
    results come back in the order of ``items``, so sums of them taken in
    that order are the sequential ones, bit for bit. Helpers run in a copy
    of the caller's context (numpy's ``errstate`` is a context variable);
    the first exception is raised here. Helpers that have not started when
    the caller runs out of items are cancelled, never waited for.
    """
    items = list(items)
    if workers <= 1 or len(items) < 2:
        return [function(item) for item in items]
    results = [None] * len(items)
    indices = iter(range(len(items)))
    lock, failures = threading.Lock(), []

    def run():
        while not failures:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException as error:  # re-raised in the caller
                failures.append(error)

    pool = _helper_pool()
    count = min(workers, len(items), MAX_PASS_WORKERS) - 1
    helpers = [pool.submit(contextvars.copy_context().run, run) for _ in range(count)]
    try:
        run()
    finally:
        wait([helper for helper in helpers if not helper.cancel()])
    if failures:
        raise failures[0]
    return results


#: Bytes of results a threaded pass holds before the caller has added them
#: (and at most 1/32 of X's).
HELD_BYTES = 16 << 20


def in_row_order(function, blocks, X, result_bytes):
    """``function(block)`` for every row block of ``X``, in order (a
    generator): the callers add the results as they come, so their sums are
    the one-thread ones, bit for bit.

    A large dense numpy X (:func:`pass_workers`) has its blocks run by
    :func:`ordered_map` with BLAS on one thread each (a block's product never
    waits for BLAS's own threads), in groups that bound the results, of
    ``result_bytes`` each, held until the caller has taken them. Anything
    else runs its blocks in turn."""
    workers = pass_workers(X.nbytes) if isinstance(X, np.ndarray) else 1
    if workers <= 1:
        for block in blocks:
            yield function(block)
        return
    held = min(HELD_BYTES, X.nbytes // 32)
    per_group = max(2 * workers, held // max(result_bytes, 1))
    with single_threaded_blas():
        for start in range(0, len(blocks), per_group):
            group = blocks[start : start + per_group]
            yield from ordered_map(function, group, workers)
