r"""Weight laws :math:`\nu` of the weights :math:`\lambda_n` in ``(1/N) X Λ Xᵀ``.

Discrete (atoms and probabilities), empirical (a sample array) and continuous (a density on an
interval or a frozen ``scipy.stats`` distribution) laws share the :class:`WeightLaw` interface:
exact moments where possible, expectations, sampling, scaling and :meth:`~WeightLaw.discretize`,
the atomic law the GMP solver works on. :class:`GaussianSoftmaxLaw` is the law of the cross-entropy
Hessian weights ``p_1(1 − p_1)`` and ``−p_1 p_2`` of a softmax of Gaussian logits.

Separately, :class:`EntryLaw` (:mod:`rmthess.laws.entry`) is the law of a network's iid weight
*entries*, and :mod:`rmthess.laws.init` the named initializations built from them.

The public names are loaded on first use (PEP 562), so that importing one module of the package —
the entry laws, say — loads neither scipy nor the softmax integrals.
"""

from rmthess._lazy import lazy_names

#: public name -> module defining it
_WHERE = {
    "WeightLaw": "base",
    "DiscreteLaw": "discrete",
    "PointMass": "discrete",
    "EmpiricalLaw": "empirical",
    "ContinuousLaw": "continuous",
    "GaussianSoftmaxLaw": "softmax",
    "EntryLaw": "entry",
    "entry_law": "entry",
    "INITS": "init",
    "NetworkInit": "init",
    "resolve_init": "init",
}

__all__ = list(_WHERE)


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
