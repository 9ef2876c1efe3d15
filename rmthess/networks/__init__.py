r"""Exact Hessians of small networks and the tools that read their block structure.

The empirical side of arXiv:2505.02809: dense Hessians, Hessian-vector and Gauss–Newton products of
the linear model and the 1-hidden-layer ReLU network (no bias) with CE or MSE loss, computed
analytically; block-norm maps, block ratios and a block-diagonality index; numpy training with
Hessian snapshots; spectra, outlier counts and the power-law spectral method; block-wise Hutchinson
estimators; for any symmetric operator (a dense array, a ``Network``, a ``LinearOperator`` such as
:func:`rmthess.torch.hessian_operator`, anything with ``@``) the same block tools, Lanczos top
eigenvalues and stochastic Lanczos quadrature densities. Equations are labelled (NET-k) in
``theory/networks.md``.

Examples
--------
>>> import numpy as np
>>> from rmthess import networks
>>> X, y = networks.gaussian_data(50, 6, 4, rng=0)
>>> V, W = networks.init_weights(6, 4, 3, rng=1)
>>> H = networks.hessian(X, y, W, V, loss="ce")
>>> H.shape
(30, 30)
>>> sorted(networks.block_ratios(H, networks.block_layout(6, 4, 3)))
['hidden', 'output']
"""

from rmthess.networks.blocks import (
                                     BlockRatio,
                                     block_diagonality,
                                     block_norm_map,
                                     block_ratio,
                                     block_ratios,
                                     cross_block_norm,
)
from rmthess.networks.deep import DeepNetwork
from rmthess.networks.hessian import dense_hessian, gauss_newton, hessian
from rmthess.networks.hutchinson import (
                                     PROBES,
                                     BlockEstimate,
                                     CriticalProbes,
                                     block_frobenius,
                                     block_trace_variance,
                                     block_traces,
                                     critical_probe_count,
                                     minibatch_hessians,
                                     probes,
)
from rmthess.networks.initialization import InitRatioSweep, case_name, init_ratio_sweep
from rmthess.networks.lanczos import SpectralDensity, TopEigenvalues, slq_density, top_eigenvalues
from rmthess.networks.model import LOSSES, BlockLayout, Network, block_layout
from rmthess.networks.operators import as_products
from rmthess.networks.powerlaw import PowerLawFit, ks_critical_value, power_law_fit, zipf_slope_bias
from rmthess.networks.products import gnvp, hvp
from rmthess.networks.spectra import (
                                     NetworkSpectra,
                                     OutlierCount,
                                     block_spectra,
                                     count_outliers,
                                     gauss_newton_dual,
                                     network_spectra,
)
from rmthess.networks.training import (
                                     PRESETS,
                                     HessianSnapshot,
                                     TrainingConfig,
                                     TrainingResult,
                                     gaussian_data,
                                     init_weights,
                                     preset_network,
                                     train,
                                     train_preset,
)

__all__ = [
    "LOSSES", "BlockLayout", "Network", "block_layout",
    "dense_hessian", "gauss_newton", "hessian", "gnvp", "hvp", "DeepNetwork",
    "BlockRatio", "block_diagonality", "block_norm_map", "block_ratio", "block_ratios",
    "cross_block_norm",
    "PRESETS", "HessianSnapshot", "TrainingConfig", "TrainingResult", "gaussian_data",
    "init_weights", "preset_network", "train", "train_preset",
    "InitRatioSweep", "case_name", "init_ratio_sweep",
    "NetworkSpectra", "OutlierCount", "block_spectra", "count_outliers", "gauss_newton_dual",
    "network_spectra", "PowerLawFit", "ks_critical_value", "power_law_fit", "zipf_slope_bias",
    "PROBES", "BlockEstimate", "CriticalProbes", "block_frobenius", "block_trace_variance",
    "block_traces", "critical_probe_count", "minibatch_hessians", "probes",
    "SpectralDensity", "TopEigenvalues", "slq_density", "top_eigenvalues", "as_products",
]
