r"""Seeds of a simulation: the replicates' children and the spawn keys reserved for other draws.

Replicate ``k`` of a simulation with seed ``S`` uses the child ``(…, k)`` of ``S``
(:func:`replicate_seed`), ``k = 0, 1, 2, …``. The draws that are not replicates — the finite-size
prediction's own Monte Carlo, the Monte Carlo estimate of a limit, the output weights held fixed
over the replicates of a spectral experiment, the quadrature of the coupling limit — take their
children from the top of the 31-bit range, where no replicate index reaches (a replicate count near
2³¹ is refused long before by the cost guard of :mod:`rmthess._cost`). The values are part of the
seeding scheme: changing one changes the numbers of every result that uses it (theory/montecarlo.md,
MC-20).

Examples
--------
>>> from rmthess.montecarlo.seeds import PREDICTION_KEY, replicate_seed
>>> PREDICTION_KEY == 2**31 - 1
True
>>> replicate_seed(7, PREDICTION_KEY).spawn_key
(2147483647,)
"""

from __future__ import annotations

import numpy as np

from rmthess._validate import child_seed

__all__ = ["PREDICTION_KEY", "LIMIT_KEY", "FIXED_V_KEY", "COUPLING_LIMIT_KEY", "RESERVED_KEYS",
           "replicate_seed"]

#: child of the finite-size prediction's own Monte Carlo (:mod:`rmthess.montecarlo.simulation`);
#: replicate ``k`` of the prediction uses its child ``k``
PREDICTION_KEY = 2**31 - 1
#: child of the Monte Carlo estimate of the d → ∞ limit (the mlp cases' limits are estimates)
LIMIT_KEY = 2**31 - 2
#: child that draws the output weights V held fixed over the replicates of the spectral experiments
#: (:mod:`rmthess.montecarlo.spectra`)
FIXED_V_KEY = 2**31 - 3
#: child of the scrambled Sobol' rules of the coupling limit c(z) (MC-16)
COUPLING_LIMIT_KEY = 2**31 - 4
#: every reserved key, from the top of the 31-bit range down
RESERVED_KEYS = (PREDICTION_KEY, LIMIT_KEY, FIXED_V_KEY, COUPLING_LIMIT_KEY)


def replicate_seed(seed, k: int) -> np.random.SeedSequence:
    """The seed of replicate ``k``: spawn key ``(…, k)`` under ``seed`` (independent of any split).

    The reserved keys (:data:`RESERVED_KEYS`) go through the same function.
    """
    return child_seed(seed, k)
