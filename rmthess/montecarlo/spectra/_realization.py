"""What the spectral experiments share: one realization's parameters and complex means.

For the mlp cases the output weights V are drawn once from the seed's child
:data:`~rmthess.montecarlo.seeds.FIXED_V_KEY` and held fixed over the replicates (the coupling is a
statement at fixed V); the first layer W is redrawn per replicate.
"""

from __future__ import annotations

import numpy as np

from rmthess.montecarlo.seeds import FIXED_V_KEY, replicate_seed
from rmthess.montecarlo.stats import mean_stderr

__all__ = ["draw_params", "fixed_second", "complex_mean_se"]


def draw_params(model, spec, rng, fixed_second):
    """The parameters of one realization; with ``fixed_second`` its V replaces the drawn one."""
    params = model.draw(rng, spec.d, spec.classes, spec.m, spec.sigma_v)
    if fixed_second is not None:
        params = type(params)(first=params.first, second=fixed_second)
    return params


def fixed_v_stream_width(m: int) -> int:
    """Input width ``2m + 2`` of the network draw that yields the fixed V (MC-20).

    The fixed V is the output matrix of one draw of the whole network from the stream
    ``FIXED_V_KEY``; the first layer of that draw (``m`` rows of this width) is drawn first and
    discarded. The width is part of the stream's definition: another width gives other V and so
    other stored results, which is why it is fixed here rather than taken from ``d``.
    """
    return 2 * int(m) + 2


def fixed_second(model, spec, seed):
    """The output weights V held fixed over the replicates (mlp cases; None for linear ones)."""
    if not model.hidden:
        return None
    rng = np.random.default_rng(replicate_seed(seed, FIXED_V_KEY))
    width = fixed_v_stream_width(spec.m)
    return model.draw(rng, width, spec.classes, spec.m, spec.sigma_v).second


def complex_mean_se(x):
    """Column means of complex rows and their standard errors (real part in ``.real``, imaginary
    part in ``.imag``)."""
    re_m, re_s = zip(*(mean_stderr(c) for c in x.real.T), strict=True)
    im_m, im_s = zip(*(mean_stderr(c) for c in x.imag.T), strict=True)
    return np.array(re_m) + 1j * np.array(im_m), np.array(re_s) + 1j * np.array(im_s)
