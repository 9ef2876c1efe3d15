r"""Run the checks with single-threaded BLAS unless the user chose a thread count.

The checks solve many small dense eigenproblems (d ≤ a few hundred), one after another. A threaded
BLAS splits each of them over every core; on a machine that is busy with other work the threads then
wait for each other, and a 240×240 ``eigvalsh`` was measured 20× slower with two threads than with one
(70 ms against 3 ms of CPU; 180 ms against 10 ms at 400×400). :func:`single_threaded_blas` limits every
BLAS library loaded in the process (numpy's and scipy's OpenBLAS, MKL, BLIS, …) to one thread for the
duration of a ``with`` block and restores the previous limits afterwards, through ``threadpoolctl``
(the library scikit-learn uses for the same purpose). It does nothing where the environment already sets
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS``; the numbers computed never depend
on it beyond round-off.

Examples
--------
>>> import numpy as np
>>> from rmthess.verify._threads import single_threaded_blas
>>> with single_threaded_blas():
...     float(np.linalg.eigvalsh(np.eye(3)).sum())
3.0
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["single_threaded_blas", "USER_THREAD_VARIABLES"]

#: environment variables by which a user chooses the BLAS thread count; any of them disables the limit
USER_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


@contextlib.contextmanager
def single_threaded_blas():
    """Context manager: BLAS uses one thread inside the block (see the module docstring)."""
    if any(os.environ.get(name) for name in USER_THREAD_VARIABLES):
        yield
        return
    import numpy  # noqa: F401  (loads numpy's BLAS)
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS too)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
