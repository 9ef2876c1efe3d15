"""Single-threaded BLAS inside the checks: thread count set and restored, results unchanged."""

import numpy as np
import scipy.linalg  # noqa: F401  (load scipy's BLAS before counting libraries)
from threadpoolctl import threadpool_info

from rmthess.verify._threads import USER_THREAD_VARIABLES, single_threaded_blas

#: one eigensolve with one or several BLAS threads differs by round-off only
EIG_RTOL = 1e-12


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def _matrix():
    a = np.random.default_rng(0).standard_normal((150, 300))
    return a @ a.T / 300


def _clear(monkeypatch):
    for name in USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_threads_set_to_one_and_restored(monkeypatch):
    _clear(monkeypatch)
    before = _blas_threads()
    with single_threaded_blas():
        inside = _blas_threads()
        ev_one = np.linalg.eigvalsh(_matrix())
    assert inside and all(n == 1 for n in inside)
    assert _blas_threads() == before
    np.testing.assert_allclose(np.linalg.eigvalsh(_matrix()), ev_one, rtol=EIG_RTOL, atol=EIG_RTOL)


def test_user_setting_is_respected(monkeypatch):
    _clear(monkeypatch)
    before = _blas_threads()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with single_threaded_blas():
        assert _blas_threads() == before
