"""The declared mutants of tools/mutation.py: deliberate bugs the default test suite must catch.

Each entry names a file, an exact snippet that must occur there once, its wrong replacement, why the
bug matters, and the tests that are expected to catch it (the mutated module's doctests are always
added). ``equivalent`` is set only for a mutant that cannot change any result the package promises,
with the reason; such a mutant may survive. When the code changes and a snippet no longer matches,
the tool reports the mutant as ``stale``: update or remove the entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Mutant", "MUTANTS"]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    reason: str
    tests: tuple[str, ...]
    equivalent: str = ""


GMP_TESTS = ("tests/gmp", "tests/symbolic/test_gmp.py")
SOFTMAX_TESTS = ("tests/integrals", "tests/laws/test_softmax.py", "tests/cases/test_linear_ce.py")
LAW_TESTS = ("tests/laws", "tests/cases/test_linear_ce.py")
WL_TESTS = ("tests/laws/test_weighted_lognormal.py", "tests/laws/test_offset_softmax_law.py")
CONST_TESTS = ("tests/cases", "tests/symbolic/test_large_c.py")
FINITE_TESTS = ("tests/montecarlo/test_finite_size.py",
                "tests/montecarlo/test_finite_size_small_d.py",
                "tests/montecarlo/test_finite_size_output_fourth.py",
                "tests/montecarlo/test_simulate.py")
NORM_TESTS = ("tests/montecarlo/test_blocknorms.py", "tests/montecarlo/test_kernels.py",
              "tests/montecarlo/test_simulate.py")
SOFTMAX_KAPPA_TESTS = ("tests/test_softmax.py", "tests/networks/test_hessian.py",
                       "tests/cases/test_mlp_ce.py")
HESS_TESTS = ("tests/networks/test_hessian.py", "tests/networks/test_products.py",
              "tests/networks/test_blocks.py")

MLPCE_TESTS = ("tests/cases/test_mlp_ce.py", "tests/cases/test_mlp_ce_gamma.py",
               "tests/cases/test_mlp_ce_pairs.py", "tests/cases/test_mlp_ce_unbiased.py")
POWERSUM_TESTS = ("tests/integrals/test_powersums.py", "tests/cases/test_mlp_ce_gamma.py")
GENERAL_TESTS = ("tests/cases/test_constants.py", "tests/cases/test_hidden_terms_quadrature.py",
                 "tests/cases/test_hidden_constant_scale.py", "tests/laws/test_entry.py")
MSE_LAW_TESTS = ("tests/cases/test_mse_cases.py", "tests/symbolic/test_mse.py",
                 "tests/laws/test_entry.py")
COUPLING_TESTS = ("tests/montecarlo/test_spectra.py",)
ANISO_MC_TESTS = ("tests/montecarlo/test_anisotropic_mc.py", "tests/cli/test_simulate_cli.py")
JOINT_MC_TESTS = ("tests/montecarlo/test_joint_mc.py", "tests/cli/test_simulate_cli.py")

_G = "rmthess/gmp/_kernels.py"
_S = "rmthess/integrals/softmax.py"
_P = "rmthess/integrals/_plan.py"
_L = "rmthess/laws/softmax.py"
_W = "rmthess/laws/_weighted_lognormal.py"
_K = "rmthess/cases/_mlp_ce_constants.py"
_F = "rmthess/montecarlo/finite_size.py"
_CZ = "rmthess/montecarlo/coupling_limit.py"

MUTANTS: list[Mutant] = [
    # ---------------------------------------------------------------- GMP kernels and solver
    Mutant("gmp-accept-sign", _G,
           "return t.imag < -_IM_RTOL * abs(t) or df.real < 0.0",
           "return t.imag < -_IM_RTOL * abs(t) or df.real > 0.0",
           "near-real root acceptance: accepts the wrong real root next to the axis in a gap",
           GMP_TESTS),
    Mutant("gmp-edge-gap-test", _G, "        if hm < 1.0:\n", "        if hm > 1.0:\n",
           "gaps between poles detected the wrong way round: wrong support", GMP_TESTS),
    Mutant("gmp-h-function", _G, "        acc += w[k] * r2\n", "        acc += w[k] * r\n",
           "h(t) = sum w/(t - tau)^2 replaced by the first power: wrong edges", GMP_TESTS),
    Mutant("gmp-zfun-mean-sign", _G, "z = -t + mean - complex(qr, qi)",
           "z = -t - mean - complex(qr, qi)",
           "sign of E lambda in the inverse map z(t), sum form of (GMP-3a)", GMP_TESTS),
    Mutant("gmp-zfun-factored-sign", _G, "z = t * (complex(ar, ai) - 1.0)",
           "z = t * (-complex(ar, ai) - 1.0)",
           "sign of a_k = p_k lambda_k (summing to E lambda) in the factored form of z(t) (GMP-3a)",
           GMP_TESTS),
    Mutant("gmp-zfun-atom-sign", _G, "z = t * (c0 - t * ginv * complex(br, bi))",
           "z = t * (c0 + t * ginv * complex(br, bi))",
           "sign of the pole sum (which carries E lambda) in the form of z(t) around the atom "
           "(GMP-3a)",
           GMP_TESTS),
    Mutant("gmp-local-residual", _G, "f = (ze - x) + d * c1 - d2 * complex(sr, si)",
           "f = (ze - x) + d * c1 + d2 * complex(sr, si)",
           "edge-local form of z(t) - x (GMP-8): wrong sign of the quadratic remainder", GMP_TESTS),
    Mutant("gmp-root-poly-argmax", "rmthess/gmp/solver.py",
           "s = roots[np.argmax(roots.imag)]", "s = roots[np.argmin(roots.imag)]",
           "companion-matrix fallback picks the anti-Herglotz root", GMP_TESTS),
    Mutant("gmp-edges-order", "rmthess/gmp/edges.py", "left, right = zr[1::2], zr[0::2]",
           "left, right = zr[0::2], zr[1::2]",
           "bulk edges taken from the wrong critical points (GMP-7)", GMP_TESTS),
    Mutant("gmp-density-pi", "rmthess/gmp/density.py",
           "out[inside] = -t.imag / (np.pi * (t.real**2 + t.imag**2))",
           "out[inside] = -t.imag / (2 * np.pi * (t.real**2 + t.imag**2))",
           "density Im s/pi off by a factor 2", GMP_TESTS),
    Mutant("gmp-free-cumulant-power", "rmthess/gmp/moments.py", "gamma ** (k - 1) * mk",
           "gamma ** k * mk", "free cumulants kappa_k = gamma^(k-1) E lambda^k (GMP-6)", GMP_TESTS),
    Mutant("gmp-pole-weight", "rmthess/gmp/equation.py", "w = gamma * p * lam * lam",
           "w = p * lam * lam", "pole weights w_k = gamma p_k lambda_k^2 (GMP-3)", GMP_TESTS),
    # ---------------------------------------------------------------- softmax integrals
    Mutant("sm-kernel-normalisation", _S,
           "np.exp(-0.5 * zj * zj) / math.sqrt(2.0 * math.pi)",
           "np.exp(-0.5 * zj * zj) / math.sqrt(math.pi)",
           "Gaussian convolution kernel of phi (SM-5) not normalised", SOFTMAX_TESTS),
    Mutant("sm-tilt", _S, "logf = spec.K * u + 0.5 * s2 * term.log_tilt_units",
           "logf = spec.K * u + 0.25 * s2 * term.log_tilt_units",
           "exponential tilt e^{k^2 sigma^2/2} of psi_k (SM-4)", SOFTMAX_TESTS),
    Mutant("sm-digits", _S, "_DIGITS = 15.5 ", "_DIGITS = 7.0 ",
           "quadrature accuracy target lowered to 1e-7: the promised 1e-12 is lost", SOFTMAX_TESTS),
    Mutant("sm-upper-tail", _S, "if f[-1] > tol * total * 1e-3:", "if f[-1] > tol * total * 1e9:",
           "upper end of the integration range never extended: truncated integrals",
           SOFTMAX_TESTS,
           equivalent="the extension branch is never taken for C in [2, 1e6], sigma_v in [0.1, 4] "
                      "and the moments up to order 4 (measured by instrumenting it): the initial "
                      "lattice already covers the upper tail, so the branch is a safeguard only"),
    Mutant("sm-third-moment", _P, "specs.append(_spec([2, 1, 1], 0))",
           "specs.append(_spec([1, 1, 1], 1))",
           "T = E p1^2 p2 p3 integrated with the wrong pairing of the powers (E p1 p2 p3 (1 - p1))",
           SOFTMAX_TESTS),
    Mutant("sm-mean-a2", _P, "_spec([1], 1), _spec([2], 2), _spec([1, 1], 0)]",
           "_spec([1], 1), _spec([2], 1), _spec([1, 1], 0)]",
           "E a^2 = E p1^2 (1 - p1)^2 integrated as E p1^2 (1 - p1) (SM-4, CASE-2)", SOFTMAX_TESTS),
    Mutant("sm-mean-b", "rmthess/integrals/moments.py", "return -self.P12",
           "return -self.P12 * (self.classes - 1) / self.classes",
           "E b = -E p1 p2 = -(1/C - M2)/(C - 1), here with C in place of C - 1", SOFTMAX_TESTS),
    # ---------------------------------------------------------------- softmax weight law
    Mutant("law-tail-terms", _L, "weights=np.exp(-s * ndtri(u * (k / rest)))",
           "weights=np.exp(-s * ndtri(u))",
           "largest terms of the other classes' sum drawn from the whole normal law, not its "
           "upper tail (SML-2)", LAW_TESTS),
    Mutant("law-joint-tail-mass", _L, "(q * q, n // 8, JOINT_TAIL_ATOMS",
           "(q, n // 8, JOINT_TAIL_ATOMS", "mass of the joint upper tail of (z_1, z_2) (SML-3)",
           LAW_TESTS),
    Mutant("law-offdiag-sign", _L, "v = (-1) ** k * softmax_mixed_moment([k, k], 0",
           "v = softmax_mixed_moment([k, k], 0",
           "odd moments of b = -p1 p2 must be negative", LAW_TESTS),
    Mutant("wl-hazard", _W, "hz = np.cumsum(-np.log1p(-q))", "hz = np.cumsum(q)",
           "exceedance intervals of length q_j instead of the hazard -log(1 - q_j): a term with "
           "q_j = 0.45 exceeds with probability 0.36 (SML-6)", WL_TESTS),
    Mutant("wl-bulk-removal", _W,
           "k = np.stack([total[r] - np.bincount(rows, weights=cum[r][idx], minlength=n)",
           "k = np.stack([total[r] + 0 * np.bincount(rows, weights=cum[r][idx], minlength=n)",
           "the normal bulk keeps the exceeding terms' truncated mean and variance: they are "
           "counted twice, the mean of W is too large (SML-6)", WL_TESTS),
    # ---------------------------------------------------------------- case constants and limits
    Mutant("kh-gamma-half", _K, "return num / (tau * tau * (0.25 + 0.5 * gamma))",
           "return num / (tau * tau * (0.25 + 0.25 * gamma))",
           "K_h normalisation 1/4 + gamma/2 (CASE-10)", CONST_TESTS),
    Mutant("kh-alpha", _K, "alpha = 0.5 + 0.5 / math.sqrt(beta)",
           "alpha = 0.5 + 0.5 * math.sqrt(beta)", "alpha = 1/2 + (1 - 2 tau)^(-1/2)/2 (CASE-10)",
           CONST_TESTS),
    Mutant("kh-T", _K, "T = 0.5 * (tau / math.sqrt(beta) + tau * tau / beta ** 1.5)",
           "T = 0.5 * (tau / math.sqrt(beta) + tau * tau / beta ** 0.5)",
           "T of the hidden constant (CASE-10)", CONST_TESTS),
    Mutant("kh-I1", _K, "I1 = (v * I0 + 1.0 / _SQRT2PI) / rho",
           "I1 = (v * I0 - 1.0 / _SQRT2PI) / rho",
           "recursion I_1 = (v I_0 + 1/sqrt(2 pi))/rho (CASE-11)", CONST_TESTS),
    Mutant("ko-B-variance", _K, "(1.0 + 2.0 * tau, 2.0 * tau)", "(1.0 + 2.0 * tau, tau)",
           "K_o: w ~ N(0, 2 tau) in E||B||^2 (CASE-12)", CONST_TESTS),
    Mutant("linear-ce-r0", "rmthess/cases/linear_ce.py",
           "return (1.0 + gamma * e * e) / (1.0 + gamma * e)",
           "return (1.0 + gamma * e) / (1.0 + gamma * e * e)",
           "C -> infinity constant r0 of the linear CE ratio (CASE-5)", CONST_TESTS),
    Mutant("linear-ce-asymptote", "rmthess/cases/linear_ce.py",
           "                / classes ** 2}",
           "                / classes}",
           "linear CE ratio decays like 1/C^2, not 1/C", CONST_TESTS),
    Mutant("mlp-mse-gij", "rmthess/cases/mlp_mse.py", "(one / 16 + one * gamma / 4)",
           "(one / 16 + one * gamma / 8)", "g_ij of the mlp-mse hidden blocks (CASE-7)",
           CONST_TESTS),
    Mutant("mlp-mse-output", "rmthess/cases/mlp_mse.py", "m * (m - 1) / (4 * pi ** 2)",
           "m * (m - 1) / (2 * pi ** 2)", "||E s s^T||^2 of the output blocks (CASE-8)",
           CONST_TESTS),
    Mutant("mlp-ce-ustat", "rmthess/cases/mlp_ce.py", "sq = (hS * hS - hS2) / nn",
           "sq = hS * hS / (n * n)",
           "biased estimate of (E_u a_ij)^2 instead of the U-statistic (CASE-9)", CONST_TESTS),
    Mutant("mlp-mse-kurtosis", "rmthess/cases/mlp_mse.py",
           "return 3 if isinstance(law, GaussianEntries) else law.kurtosis",
           "return 3 if isinstance(law, GaussianEntries) else law.kurtosis - 3",
           "Pearson kurtosis mu_4 = E eps^4 of (CASE-21) confused with the excess kurtosis",
           MSE_LAW_TESTS),
    # ---------------------------------------------------------------- constants, general entry law
    Mutant("kg-diag-square", _K, "return float(q.w @ q.d2), float(q.w @ q.d2 ** 2)",
           "return float(q.w @ q.d2), float(q.w @ q.d2) ** 2",
           "E[1(u>0) kappa^2] of (CASE-22) replaced by the square of the mean", GENERAL_TESTS),
    Mutant("kg-alpha-tilt", _K, "tilt = q.gl * np.exp(psi2 - 2 * q.psi + q.logphi)",
           "tilt = q.gl * np.exp(psi2 - q.psi + q.logphi)",
           "alpha of (CASE-22): the tilt e^{psi(2u) - 2 psi(u)} loses a factor e^{-psi(u)}",
           GENERAL_TESTS),
    Mutant("kg-T-square", _K, "T = tilt @ (d22 + (d12 - q.d1) ** 2)", "T = tilt @ (d22 + d12 ** 2)",
           "T of (CASE-22): the centred first derivative psi'(2u) - psi'(u) is not centred",
           GENERAL_TESTS),
    Mutant("kg-output-g0", _K, "np.stack([(0.5 + J0) ** 2, J1 ** 2, J2 ** 2])",
           "np.stack([J0 ** 2, J1 ** 2, J2 ** 2])",
           "g0 = 1/2 + J0 of (CASE-23) loses the half line u < 0 where the factor is 1",
           GENERAL_TESTS),
    # ---------------------------------------------------------------- mlp-ce estimator (Gaussian V)
    Mutant("ce-pair-isserlis", "rmthess/cases/_mlp_ce_kernels.py",
           "sa * Mjj\n            + sab * sab * trQ * trQp + (sa * sb + sab * sab) * trQQ)",
           "sa * Mjj\n            + sab * sab * trQ * trQp + (sa * sb) * trQQ)",
           "Isserlis pairing (a_i b_j)(a_j b_i) of E_w[(a^T Q b)(a^T Q' b)] dropped (CASE-15)",
           MLPCE_TESTS),
    Mutant("ce-pair-output-norm", "rmthess/cases/_mlp_ce_kernels.py",
           "out[t, 3] = ss2 * (spp * spp - spp2) / (C * (C - 1.0))",
           "out[t, 3] = ss2 * (spp * spp - spp2) / (C * C)",
           "mean over the C(C - 1) off-diagonal output blocks (CASE-17)", MLPCE_TESTS),
    Mutant("ce-control-ss", "rmthess/cases/mlp_ce.py",
           "ss = m / 4.0 + m * (m - 1.0) / (4.0 * math.pi ** 2)",
           "ss = m / 4.0 + m * (m - 1.0) / (4.0 * math.pi)",
           "known mean E (s.s')^2 of the output control variate off (CASE-18): biased output g",
           MLPCE_TESTS),
    Mutant("ce-prior-control-diag", "rmthess/cases/mlp_ce.py",
           "diag = tau * tau * (trq * trq + 2.0 * trq2)",
           "diag = tau * tau * (trq * trq + trq2)",
           "Isserlis pairing of E (a^T Q0 a)^2 dropped in the prior's control mean (CASE-31): "
           "biased T1_ii with offsets", ("tests/cases/test_mlp_ce_offsets.py",)),
    Mutant("ce-prior-gamma-pairs", "rmthess/cases/_mlp_ce_kernels.py",
           "S1 = 2.0 * (k - 1.0)                         # Σ_{i≠j} (a_i² + a_j²)",
           "S1 = 1.0 * (k - 1.0)                         # Σ_{i≠j} (a_i² + a_j²)",
           "the sum over ordered pairs of a_i^2 + a_j^2 counts each unit once (CASE-31): wrong "
           "off-diagonal gamma-term with offsets", ("tests/cases/test_mlp_ce_offsets.py",)),
    Mutant("ce-prior-offset-logits", "rmthess/cases/_mlp_ce_kernels.py",
           "zp[c] = st * (b1 * Z[t, c, 0] + b2 * Z[t, c, 1]) + boff[c]",
           "zp[c] = st * (b1 * Z[t, c, 0] + b2 * Z[t, c, 1])",
           "the offsets left out of the second draw's logits (CASE-31)",
           ("tests/cases/test_mlp_ce_offsets.py",)),
    Mutant("ce-control-offdiag", "rmthess/cases/mlp_ce.py", "mu[4:7] = diag / 4.0, off / 16.0, ss",
           "mu[4:7] = diag / 4.0, off / 4.0, ss",
           "known mean of the off-diagonal hidden control variate off (CASE-18): biased T1_ij",
           MLPCE_TESTS),
    Mutant("ce-gamma-a2b2", "rmthess/cases/_mlp_ce_gamma.py",
           "a2, a4, a2b2 = 1.0 / k, 3.0 / (k * (k + 2.0)), 1.0 / (k * (k + 2.0))",
           "a2, a4, a2b2 = 1.0 / k, 3.0 / (k * (k + 2.0)), 3.0 / (k * (k + 2.0))",
           "orthant moment E a^2 b^2 = 1/(k(k + 2)) given the Isserlis value of E a^4 (CASE-19)",
           MLPCE_TESTS),
    Mutant("ce-gamma-offdiag-trq2", "rmthess/cases/_mlp_ce_gamma.py",
           "1.0 - 2.0 * a2 + 2.0 * a2b2,", "1.0 - 2.0 * a2 + a2b2,",
           "coefficient 1 - a^2 - b^2 + 2a^2b^2 of tr Q^2 in E_w kappa_ij^2 (CASE-19)",
           MLPCE_TESTS),
    Mutant("ce-gamma-trq2-term", "rmthess/cases/_mlp_ce_gamma.py",
           "_TRQ2 = [(1.0, ((2, _ONE),)), (-2.0, ((3, _ONE),)), (1.0, ((2, _ONE), (2, _ONE)))]",
           "_TRQ2 = [(1.0, ((2, _ONE),)), (-2.0, ((3, _ONE),))]",
           "tr Q^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2 with the last term dropped (CASE-19)",
           MLPCE_TESTS),
    Mutant("ce-gamma-binomial", "rmthess/cases/_mlp_ce_gamma.py",
           "wo = dens * math.comb(m - 2, k - 2) / 2.0 ** m",
           "wo = dens * math.comb(m - 2, k - 2) / 2.0 ** (m - 1)",
           "probability that i, j and k - 2 others of the m units are on (CASE-19)", MLPCE_TESTS),
    Mutant("ps-other-classes", "rmthess/integrals/powersums.py",
           "logg = K * u - math.lgamma(K) + ((C - q) * logphi if C > q else 0.0)",
           "logg = K * u - math.lgamma(K) + ((C - 1) * logphi if C > q else 0.0)",
           "phi^(C - q): the classes outside the q blocks of a partition (CASE-19)",
           POWERSUM_TESTS),
    Mutant("ps-tilt", "rmthess/integrals/powersums.py",
           "out[(k, f)] = (0.5 * k * k * s2 + top + np.log(np.abs(vals)), np.sign(vals))",
           "out[(k, f)] = (0.5 * k * s2 + top + np.log(np.abs(vals)), np.sign(vals))",
           "exponential tilt e^{k^2 sigma^2/2} of psi_{k,f} (CASE-19)", POWERSUM_TESTS),
    Mutant("ps-falling", "rmthess/integrals/powersums.py", "ff = _falling(C, q)",
           "ff = float(C) ** q",
           "(C)_q ordered choices of distinct classes for the blocks of a partition (CASE-19)",
           POWERSUM_TESTS),
    # ---------------------------------------------------------------- c(z) quadrature
    Mutant("cz-mean-part", _CZ, "            out = out + np.sum(gw) / self.r\n",
           "            out = out + np.sum(gw) / self.r ** 2\n",
           "the E[f] 11^T/C part of E[f y y^T] on the lattice of 1-perp (MC-16)", COUPLING_TESTS),
    Mutant("cz-orthant", "rmthess/cases/mlp_mse.py", "on[i, j] = on[j, i] = 1.0 / (2.0 * math.pi)",
           "on[i, j] = on[j, i] = 1.0 / (4.0 * math.pi)",
           "orthant moment E[1(y_i>0, y_j>0) y_i y_j] = 1/(2 pi) (MC-15)", COUPLING_TESTS),
    Mutant("cz-log-derivative", _CZ, "out[k] = -np.trace(np.linalg.solve(S, dS)) - r * sp / s",
           "out[k] = -np.trace(np.linalg.solve(S, dS)) + r * sp / s",
           "sign of r s'/s in c(z) (MC-13)", COUPLING_TESTS),
    # ---------------------------------------------------------------- finite-size predictions
    Mutant("fs-wishart-matrix-term", _F,
           "e1sq_eff = e1sq + hf * (0.5 * e1 * eh + 0.5 * Gn) / d",
           "e1sq_eff = e1sq + hf * (0.5 * e1 * eh + 1.0 * Gn) / d",
           "||E lambda (w w^T - I)||^2 term of (MC-8) doubled", FINITE_TESTS),
    Mutant("fs-bilaplacian", _F, "e2_eff = e2 + hf * e2h / (4.0 * d)",
           "e2_eff = e2 + hf * e2h / (2.0 * d)",
           "E lambda^2 h/(4d) correction of (MC-8)", FINITE_TESTS),
    Mutant("fs-hermite", _F, "return q * q - 4.0 * q - 2.0 * r", "return q * q - 4.0 * q - r",
           "Hermite weight h of the bi-Laplacian (MC-8)", FINITE_TESTS),
    Mutant("fs-square-dims", _F, "e2_eff * (t1 * t1 + 2 * t2)", "e2_eff * (t1 * t1 + t2)",
           "Gaussian fourth-moment count (d - r)^2 + 2(d - r) of (MC-6)", FINITE_TESTS),
    Mutant("fs-wwt-variance", _F, "return main + (0.5 * hterm + 0.25 * vterm) / d",
           "return main + (0.5 * hterm) / d",
           "W W^T-variance term 1/4 E_E ||E[F phi_E]||^2 of the output blocks dropped (MC-17)",
           FINITE_TESTS),
    Mutant("fs-goe-centering", _F, "phi = np.einsum(\"ni,qij,nj->nq\", a, E, a) - tr",
           "phi = np.einsum(\"ni,qij,nj->nq\", a, E, a)",
           "phi_E = a^T E a - tr E not centred (MC-17): biased W W^T-variance term", FINITE_TESTS),
    Mutant("fs-goe-scale", _F, "E = (Z + Z.transpose(0, 2, 1)) / math.sqrt(2.0)",
           "E = (Z + Z.transpose(0, 2, 1)) / 2.0",
           "GOE normalisation Var E_kl = 1 of (MC-17) halved", FINITE_TESTS),
    Mutant("fs-output-hermite", _F,
           "q_d = ((A * A) * (s4 * (1.0 + h2 / (4.0 * d)))[:, None]).mean(0)",
           "q_d = ((A * A) * (s4 * (1.0 + h2 / (2.0 * d)))[:, None]).mean(0)",
           "E lambda^2 |s|^4 h_2/(4d) correction of the output blocks (MC-17)", FINITE_TESTS),
    Mutant("fs-kernel-diagonal", "rmthess/montecarlo/_prediction_kernels.py",
           "                for b in range(a, nz):\n",
           "                for b in range(a + 1, nz):\n",
           "weighted second moments lose their diagonal Y_i^2 terms", FINITE_TESTS),
    # ---------------------------------------------------------------- block-norm kernels
    Mutant("bn-chunk-symmetry", "rmthess/montecarlo/blocknorms.py",
           "factor = 1.0 if c == a else 2.0", "factor = 1.0",
           "off-diagonal Gram chunks counted once instead of twice (MC-3)", NORM_TESTS),
    Mutant("bn-offdiag-normalisation", "rmthess/montecarlo/blocknorms.py",
           "off = so / (n * n * B * (B - 1)) if B > 1 else 0.0",
           "off = so / (n * n * B * B) if B > 1 else 0.0",
           "mean over the B(B - 1) off-diagonal blocks", NORM_TESTS),
    Mutant("bn-struct-kernel", "rmthess/montecarlo/_kernels.py",
           "            ro += k * (b * b - qq[i, j])\n",
           "            ro += k * (b * b + qq[i, j])\n",
           "structured off-diagonal sum (MC-4): the diagonal terms must be removed", NORM_TESTS),
    Mutant("bn-diag-weights", "rmthess/montecarlo/blocknorms.py",
           "return a if self.beta is None else a - self.beta * self.beta",
           "return a if self.beta is None else a - self.beta",
           "diagonal weights alpha - beta^2 of Lambda = diag(alpha) - beta beta^T", NORM_TESTS),
    # ---------------------------------------------------------------- covariance and offsets (ANI)
    Mutant("ani-spectrum-midpoint", "rmthess/gmp/covariance.py",
           "u = (np.arange(d) + 0.5) / d", "u = (np.arange(d) + 1.0) / (d + 1)",
           "midpoint quantiles of the covariance spectrum (ANI-10)", ANISO_MC_TESTS),
    Mutant("ani-matrix-side-unscaled", "rmthess/montecarlo/simulation.py",
           "return params, (Xw if Ym is Yw else Ym * scale), Xw",
           "return params, (Xw if Ym is Yw else Ym), Xw",
           "both sides of a design are x = Σ^{1/2} y (ANI-10)", ANISO_MC_TESTS),
    Mutant("ani-offsets-dropped", "rmthess/cases/linear_ce.py",
           "p = softmax(U if params.offset is None else U + params.offset)",
           "p = softmax(U)", "logits V x + log π with a class prior (ANI-10)", ANISO_MC_TESTS),
    Mutant("ani7-k-term", _F, "+ 2 * kk * e1 * e1y +", "+ 0 * kk * e1 * e1y +",
           "the QᵀΣP⊥ΣQ cross term of two samples (ANI-12)", ANISO_MC_TESTS),
    Mutant("ani7-t2", _F, "t2 = d * s2 - 2 * r * s3 / s1 + r * qs * qs",
           "t2 = d * s2 - r * s3 / s1 + r * qs * qs",
           "tr P⊥ΣP⊥Σ of (ANI-12)", ANISO_MC_TESTS),
    Mutant("ani7-heat-factor", _F, "hf = s2 / (s1 * s1)", "hf = 1.0",
           "the fluctuation of V Σ Vᵀ scales the heat correction by s₂/s₁² (ANI-12)",
           ANISO_MC_TESTS),
    Mutant("ani7-effective-scale", _F, "sig_v = sigma_v * math.sqrt(cov[0])", "sig_v = sigma_v",
           "the logits have the effective scale σ_v √s₁ (ANI-1)", ANISO_MC_TESTS),
    Mutant("ani6-exchangeable-with-offsets", _F,
           "if model.exchangeable(block) and not offsets:", "if model.exchangeable(block):",
           "with offsets the classes are not exchangeable: no orbit sums, no identical-class "
           "moments (ANI-11)", ANISO_MC_TESTS),
    Mutant("ani-joint-offsets-dropped", "rmthess/cases/_base.py",
           "new.covariance, new.prior = covariance, prior",
           "new.covariance, new.prior = covariance, (prior if covariance is None else None)",
           "a prior and a covariance compose: the joint draws keep the offsets log π (ANI-15)",
           JOINT_MC_TESTS),
    Mutant("ani-joint-class-limits-isotropic", "rmthess/montecarlo/simulation.py",
           "cl = model.class_limits(spec.gamma, prior, sigma_v=spec.sigma_v,\n"
           "                                covariance=spec.covariance)",
           "cl = model.class_limits(spec.gamma, prior, sigma_v=spec.sigma_v)",
           "the per-class limits of a joint run are those of (ANI-13), at the covariance",
           JOINT_MC_TESTS),
    Mutant("ani-per-class-norm", "rmthess/montecarlo/blocknorms.py",
           'return np.einsum("ni,ni->i", A, K @ A) / (n * n)',
           'return np.einsum("ni,ni->i", A, K @ A) / n',
           "per-class diagonal norms λᵀKλ/N² (MC-3)", ANISO_MC_TESTS),
    # ---------------------------------------------------------------- Hessians
    # ---------------------------------------------------------------- softmax and kappa
    Mutant("kappa-reference-row", "rmthess/_softmax.py",
           "D[c, i] = (V[c, i] - V[k, i]) - mu if c != k else -mu",
           "D[c, i] = (V[c, i] - V[k, i]) - mu if c != k else mu",
           "centred row of the most probable class in kappa = V^T (diag p - p p^T) V (SMX-1)",
           SOFTMAX_KAPPA_TESTS),
    Mutant("softmax-complement", "rmthess/_softmax.py", "    q[k] = rest / tot\n",
           "    q[k] = 1.0 - p[k]\n",
           "1 - p_max by cancellation: every digit lost as p_max -> 1 (SMX-1)",
           SOFTMAX_KAPPA_TESTS),
    Mutant("hess-residual-sign", "rmthess/networks/hessian.py",
           "M[:, :, i] += net.R[idx, cs]", "M[:, :, i] -= net.R[idx, cs]",
           "residual part of the hidden-output blocks (NET-3)",
           HESS_TESTS),
    Mutant("hess-softmax-diag", "rmthess/networks/hessian.py",
           "                    w = w + P[:, c]\n", "                    w = w - P[:, c]\n",
           "diag(p) part of the CE output blocks (few-feature branch)", HESS_TESTS),
]
