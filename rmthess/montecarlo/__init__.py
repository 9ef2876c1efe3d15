r"""Monte Carlo engine: true, decoupled, exactly coupled and interpolated Hessian blocks.

``simulate`` builds the Hessian blocks of a model case at finite (d, N, C, m) under a design
(``coupled``, ``decoupled``, ``sharp``, ``lindeberg``), measures all block norms from the Gram
matrix, and reports ratios of means with delta-method errors beside the finite-size prediction and
the limit; its result schema is :mod:`rmthess.montecarlo.result` and its seeding
:mod:`rmthess.montecarlo.seeds`. ``rmthess.montecarlo.spectra`` holds block spectra, Stieltjes
transforms and the coupling experiments; ``rmthess.montecarlo.sweep`` runs grids on Dask. See
theory/montecarlo.md.
"""

from __future__ import annotations

from rmthess.montecarlo.designs import DESIGNS, get_design
from rmthess.montecarlo.result import BlockResult, SimulationResult
from rmthess.montecarlo.simulation import simulate

__all__ = ["simulate", "SimulationResult", "BlockResult", "DESIGNS", "get_design"]
