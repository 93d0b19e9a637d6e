"""scikit-learn, an optional dependency (``pip install geomot[ml]``): the import check and the
thread limit every geomot fit runs under."""

import contextlib
import importlib.util

__all__ = ["require_sklearn", "single_threaded"]


def require_sklearn(what):
    """ImportError naming the extra when scikit-learn is missing; ``what`` needs it."""
    if importlib.util.find_spec("sklearn") is None:
        raise ImportError(f"{what} needs scikit-learn, which is not installed; install it with "
                          f"`pip install geomot[ml]` (or `pip install scikit-learn`)")


@contextlib.contextmanager
def single_threaded():
    """Run BLAS/OpenMP on one thread inside the block.

    The fits here are small (thousands of rows, tens of columns): threads gain nothing, and on a
    machine whose cores are busy they spin and wait -- measured on 2 shared cores, a logistic
    regression on the digits took 8 s with the default threads and 0.1 s with one.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
