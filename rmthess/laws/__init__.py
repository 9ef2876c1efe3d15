r"""Weight laws :math:`\nu` of the weights :math:`\lambda_n` in ``(1/N) X Λ Xᵀ``.

Discrete (atoms and probabilities), empirical (a sample array) and continuous (a density on an
interval or a frozen ``scipy.stats`` distribution) laws share the :class:`WeightLaw` interface:
exact moments where possible, expectations, sampling, scaling and :meth:`~WeightLaw.discretize`,
the atomic law the GMP solver works on.
"""

from rmthess.laws.base import WeightLaw
from rmthess.laws.continuous import ContinuousLaw
from rmthess.laws.discrete import DiscreteLaw, PointMass
from rmthess.laws.empirical import EmpiricalLaw

__all__ = ["WeightLaw", "DiscreteLaw", "PointMass", "EmpiricalLaw", "ContinuousLaw"]
