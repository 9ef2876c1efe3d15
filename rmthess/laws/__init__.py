r"""Weight laws :math:`\nu` of the weights :math:`\lambda_n` in ``(1/N) X Λ Xᵀ``.

Discrete (atoms and probabilities), empirical (a sample array) and continuous (a density on an
interval or a frozen ``scipy.stats`` distribution) laws share the :class:`WeightLaw` interface:
exact moments where possible, expectations, sampling, scaling and :meth:`~WeightLaw.discretize`,
the atomic law the GMP solver works on. :class:`GaussianSoftmaxLaw` is the law of the cross-entropy
Hessian weights ``p_1(1 − p_1)`` and ``−p_1 p_2`` of a softmax of Gaussian logits.

Separately, :class:`EntryLaw` (:mod:`rmthess.laws.entry`) is the law of a network's iid weight
*entries*, and :mod:`rmthess.laws.init` the named initializations built from them.
"""

from rmthess.laws.base import WeightLaw
from rmthess.laws.continuous import ContinuousLaw
from rmthess.laws.discrete import DiscreteLaw, PointMass
from rmthess.laws.empirical import EmpiricalLaw
from rmthess.laws.entry import EntryLaw, entry_law
from rmthess.laws.init import INITS, NetworkInit, resolve_init
from rmthess.laws.softmax import GaussianSoftmaxLaw

__all__ = ["WeightLaw", "DiscreteLaw", "PointMass", "EmpiricalLaw", "ContinuousLaw",
           "GaussianSoftmaxLaw", "EntryLaw", "entry_law", "INITS", "NetworkInit", "resolve_init"]
