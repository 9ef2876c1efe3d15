r"""Rows of the verification table, the verdict rules that fill them, and each row's power.

Every check of ``rmthess verify`` reduces to rows of one kind: a quantity at given parameters, the
theory value ``T`` it tests (an exact finite-size prediction or a d → ∞ limit), the simulated value
``x`` with its standard error, a z-score, the row's minimum detectable relative deviation (MDE,
:mod:`rmthess.verify.power`) and a verdict. The rules are stated in theory/verification.md,
(VER-1)–(VER-4) and (VER-12):

* ``"z"`` (VER-1) — against an exact finite-size prediction ``p``: pass iff
  ``|x − p| ≤ k·√(se² + se_p²) + R``, with ``se_p`` the prediction's own standard error and ``R``
  the allowance for the ``O(d⁻²)`` remainder of the prediction (VER-2).
* ``"richardson"`` (VER-3) — against the limit when no finite-size prediction exists: two sizes
  ``d`` and ``2d`` give the extrapolation ``2x_2d − x_d``; pass iff ``|2x_2d − x_d − L| ≤ k·se + R``
  with ``se² = 4se_2d² + se_d² + se_L²`` and ``R = 2(x_d − x_2d)²/scale`` bounding the remaining
  ``O(d⁻²)`` term.
* ``"tol"`` (VER-4) — deterministic theory against theory: pass iff ``|x − T| ≤ tol``.
* ``"bound"`` (VER-4) — an inequality that holds on every realization: pass iff ``x ≤ B + slack``.

The threshold ``k`` is 4 for a standard error with many degrees of freedom; with ``ν`` (Welch–
Satterthwaite over the simulation's and the theory's errors, rounded down) it is the Student-t
quantile with the same two-sided tail probability ``P(|Z| > 4) ≈ 6.3·10⁻⁵``. A row's verdict is
``PASS`` if it is consistent and its MDE is within its target, ``LOW POWER`` if it is consistent but
cannot detect a deviation of the size of its target, ``FAIL`` if it is inconsistent.

Examples
--------
>>> from rmthess.verify.rules import against_prediction, z_threshold
>>> row = against_prediction("ratio", {"C": 10}, simulation=1.002, stderr=0.001, prediction=1.0)
>>> row.passed, round(row.z, 6), round(row.mde, 4)
(True, 2.0, 0.0053)
>>> row.perturbed(0.01).consistent       # a 1 % error of the prediction is rejected
False
>>> z_threshold(None)
4.0
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from rmthess.verify.power import effective_dof, power_multiplier

__all__ = [
    "Z_MAX",
    "TAIL_PROBABILITY",
    "CheckRow",
    "z_threshold",
    "against_prediction",
    "richardson",
    "within_tolerance",
    "at_most",
    "geometric_remainder",
]

#: the verdict threshold on |z| for a standard error with many degrees of freedom (VER-1)
Z_MAX = 4.0
#: two-sided Gaussian tail probability of ``|Z| > Z_MAX``
TAIL_PROBABILITY = math.erfc(Z_MAX / math.sqrt(2.0))
#: relative round-off allowed when a simulated value has zero spread (it is then deterministic)
EXACT_RTOL = 1e-12


@dataclass(frozen=True)
class CheckRow:
    """One row of the verification table.

    Attributes
    ----------
    quantity : str
        What is compared, e.g. ``"ratio g_ij/g_ii (v)"``.
    parameters : dict
        The parameters of the comparison (case, γ, C, d, reps, …).
    limit, prediction : float or None
        The d → ∞ limit and the exact finite-size prediction (None where not known); ``reference``
        says which of them the verdict tests.
    simulation, stderr : float or None
        Simulated value and its standard error.
    z : float or None
        ``(x − T)/√(se² + se_T²)`` (rules ``z``, ``richardson``).
    threshold : float
        The |z| threshold ``k`` used (the tolerance for rules ``tol`` and ``bound``).
    consistent : bool
        The statistical verdict: ``|x − T| ≤ band`` (``x ≤ T + band`` for rule ``bound``).
    rule : str
        One of ``"z"``, ``"richardson"``, ``"tol"``, ``"bound"`` (``"error"`` for a check that
        raised).
    note : str
        Anything a reader needs to interpret the row.
    check : str
        Name of the check that produced the row (filled by the runner).
    extra : dict
        Rule-specific numbers (the two sizes of a Richardson row, …).
    reference : float or None
        The theory value ``T`` the verdict tests.
    band : float
        Half-width of the acceptance interval around ``T``: ``k·√(se² + se_T²) + R`` or the
        tolerance.
    scale : float or None
        What the MDE is relative to: ``|T|``, or a stated scale where ``T = 0``.
    mde : float or None
        Minimum detectable relative deviation of ``T`` (rejected with probability 0.9, VER-12).
    target : float or None
        The largest MDE the row may have (None: the row's power is reported, not judged).
    dof : float or None
        Degrees of freedom of the combined standard error (None: many).
    remainder : float
        The allowance ``R`` for the unmodelled finite-size remainder (part of ``band``).
    theory_se : float
        Standard error of the theory value itself (a Monte Carlo integral), 0 when exact.
    """

    quantity: str
    parameters: dict
    limit: float | None
    prediction: float | None
    simulation: float | None
    stderr: float | None
    z: float | None
    threshold: float
    consistent: bool
    rule: str
    note: str = ""
    check: str = ""
    extra: dict = field(default_factory=dict)
    reference: float | None = None
    band: float = 0.0
    scale: float | None = None
    mde: float | None = None
    target: float | None = None
    dof: float | None = None
    remainder: float = 0.0
    theory_se: float = 0.0

    @property
    def power_ok(self) -> bool:
        """True iff the row has no target or its MDE is within it."""
        return self.target is None or (self.mde is not None and self.mde <= self.target)

    @property
    def passed(self) -> bool:
        """Consistent and powerful enough."""
        return self.consistent and self.power_ok

    @property
    def verdict(self) -> str:
        """``"PASS"``, ``"LOW POWER"`` (consistent, MDE above target) or ``"FAIL"``."""
        if not self.consistent:
            return "FAIL"
        return "PASS" if self.power_ok else "LOW POWER"

    def with_check(self, name: str) -> CheckRow:
        """Return a copy with ``check`` set to ``name``."""
        return replace(self, check=name)

    def with_target(self, target: float | None) -> CheckRow:
        """Return a copy with MDE target ``target``."""
        return replace(self, target=None if target is None else float(target))

    def perturbed(self, epsilon: float) -> CheckRow:
        """The row re-judged against the theory value ``T + ε·scale`` (same simulation, same band).

        This is what the row would say had the theory been wrong by the relative amount ``ε``; the
        power self-test of theory/verification.md (VER-12) uses it on frozen simulation results.
        """
        if self.reference is None or self.scale is None or self.simulation is None:
            raise ValueError(f"row {self.quantity!r} (rule {self.rule}) has no theory value to "
                             "perturb")
        ref = self.reference + epsilon * self.scale
        if self.rule == "bound":
            ok = self.simulation <= ref + self.band
        else:
            ok = abs(self.simulation - ref) <= self.band
        z = self.z
        if self.rule in ("z", "richardson"):
            z = _z(self.simulation, ref, math.hypot(self.stderr or 0.0, self.theory_se))
        return replace(self, reference=ref, consistent=bool(ok), z=z)

    def as_dict(self) -> dict:
        """A JSON-ready dict (floats, strings, bools; parameters flattened to a string too)."""
        d = asdict(self)
        d["verdict"] = self.verdict
        d["passed"] = self.passed
        d["power_ok"] = self.power_ok
        d["parameters_text"] = format_parameters(self.parameters)
        return d


def format_parameters(params: dict) -> str:
    """``{"gamma": 1.0, "C": 10}`` → ``"gamma=1, C=10"``."""
    parts = []
    for key, val in params.items():
        if isinstance(val, float):
            val = f"{val:g}"
        elif isinstance(val, complex):
            val = f"{val.real:.4g}{val.imag:+.4g}i"
        parts.append(f"{key}={val}")
    return ", ".join(parts)


def z_threshold(dof: float | None) -> float:
    """|z| threshold for a standard error with ``dof`` degrees of freedom (None: known exactly).

    The Student-t quantile with the two-sided tail probability of ``|N(0,1)| > 4``; equals 4 for
    ``dof = None`` or ``dof ≥ 10⁴``.
    """
    if dof is None or dof >= 1e4:
        return Z_MAX
    if dof < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {dof}")
    from scipy import stats

    return float(stats.t.isf(TAIL_PROBABILITY / 2.0, dof))


def geometric_remainder(correction: float, scale: float) -> float:
    r"""Allowance for the ``O(d⁻²)`` term after an ``O(1/d)`` correction ``c`` has been accounted
    for.

    Under the geometric model of theory/verification.md (VER-2) — each order of the ``1/d``
    expansion is at most the previous one times ``|c|/scale`` — the remainder is at most
    ``c²/scale``.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    return float(correction * correction / scale)


def _check_inputs(simulation, stderr, what="simulation"):
    if simulation is None or not math.isfinite(simulation):
        raise ValueError(f"{what} must be a finite number, got {simulation!r}")
    if stderr is None or not math.isfinite(stderr) or stderr < 0:
        raise ValueError(f"the standard error of the {what} must be a finite number >= 0, "
                         f"got {stderr!r}")


def _z(x, ref, se):
    if se > 0:
        return (x - ref) / se
    if abs(x - ref) <= EXACT_RTOL * max(1.0, abs(ref)):
        return 0.0
    return math.copysign(math.inf, x - ref)


def _scale(scale, reference):
    s = abs(reference) if scale is None else float(scale)
    if not (s > 0 and math.isfinite(s)):
        raise ValueError(f"the MDE needs a scale > 0 (the theory value is {reference!r}); "
                         f"pass scale=")
    return s


def _statistical(quantity, parameters, rule, *, x, ref, se, se_ref, dof, dof_ref, remainder, scale,
                 target, limit, prediction, note, extra):
    """A ``z`` or ``richardson`` row: band ``k·s + R``, MDE ``(2R + λ s)/scale`` (VER-12)."""
    if remainder is None or not math.isfinite(remainder) or remainder < 0:
        raise ValueError(f"remainder must be a finite number >= 0, got {remainder!r}")
    s = math.hypot(se, se_ref)
    nu = effective_dof([(se, dof), (se_ref, dof_ref)])
    if nu is not None:
        nu = float(max(1, math.floor(nu + 1e-9)))  # rounded down: a conservative k
    k = z_threshold(nu)
    exact = EXACT_RTOL * max(1.0, abs(ref)) if s == 0 else 0.0
    band = k * s + remainder + exact
    sc = _scale(scale, ref)
    mde = (2.0 * remainder + power_multiplier(k, nu) * s + exact) / sc
    return CheckRow(quantity, dict(parameters), _f(limit), _f(prediction), float(x), float(se),
                    _z(x, ref, s), k, bool(abs(x - ref) <= band), rule, note, extra=extra,
                    reference=float(ref), band=float(band), scale=sc, mde=float(mde),
                    target=_f(target), dof=nu, remainder=float(remainder), theory_se=float(se_ref))


def against_prediction(quantity, parameters, *, simulation, stderr, prediction, limit=None,
                       dof=None, prediction_se=0.0, prediction_dof=None, remainder=0.0, scale=None,
                       target=None, note="") -> CheckRow:
    """Rule ``z`` (VER-1): pass iff ``|x − p| ≤ k(ν)·√(se² + se_p²) + R``.

    ``prediction_se`` is the standard error of the prediction itself (a Monte Carlo integral with
    ``prediction_dof`` degrees of freedom, None for many); ``remainder`` bounds the prediction's own
    unmodelled ``O(d⁻²)`` term (:func:`geometric_remainder`). ``limit`` is shown, not tested.
    """
    _check_inputs(simulation, stderr)
    _check_inputs(prediction, prediction_se, "prediction")
    return _statistical(quantity, parameters, "z", x=simulation, ref=prediction, se=stderr,
                        se_ref=prediction_se, dof=dof, dof_ref=prediction_dof, remainder=remainder,
                        scale=scale, target=target, limit=limit, prediction=prediction, note=note,
                        extra={})


def richardson(quantity, parameters, *, small, small_se, large, large_se, limit, dof=None,
               limit_se=0.0, limit_dof=None, scale=None, target=None, note="",
               remainder=0.0) -> CheckRow:
    """Rule ``richardson`` (VER-3): ``2x_2d − x_d`` against the limit.

    ``small`` is the estimate at size d, ``large`` at size 2d (independent replicates, ``dof``
    degrees of freedom each); ``limit_se`` is the standard error of the limit when it is itself a
    Monte Carlo estimate (``limit_dof`` degrees of freedom). The band includes
    ``R = 2(x_d − x_2d)²/scale``, the geometric bound on the remaining ``O(d⁻²)`` term (VER-3),
    plus ``remainder``: a stated bound on a remaining term of another order (the extreme
    eigenvalue's, VER-8).
    """
    _check_inputs(small, small_se)
    _check_inputs(large, large_se)
    _check_inputs(limit, limit_se, "limit")
    x = 2.0 * large - small
    se = math.sqrt(4.0 * large_se**2 + small_se**2)
    nu = effective_dof([(2.0 * large_se, dof), (small_se, dof)]) if dof is not None else None
    sc = _scale(scale, limit)
    if not (math.isfinite(remainder) and remainder >= 0):
        raise ValueError(f"remainder must be a finite number >= 0, got {remainder!r}")
    rem = 2.0 * (small - large) ** 2 / sc + remainder
    return _statistical(quantity, parameters, "richardson", x=x, ref=limit, se=se, se_ref=limit_se,
                        dof=nu, dof_ref=limit_dof, remainder=rem, scale=sc, target=target,
                        limit=limit, prediction=None, note=note,
                        extra={"small": float(small), "large": float(large)})


def within_tolerance(quantity, parameters, *, value, reference, tol, note="",
                     relative=False, column="limit", scale=None, target=None) -> CheckRow:
    """Rule ``tol`` (VER-4): ``|value − reference| ≤ tol`` (times ``|reference|`` if relative).

    ``column`` says where the reference is shown: ``"limit"`` (a d → ∞ or C → ∞ value) or
    ``"prediction"`` (a finite-size value, e.g. a second implementation on the same matrix). The MDE
    is ``(tol + |value − reference|)/scale``: a deterministic comparison rejects every larger error.
    """
    if value is None or not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}")
    if column not in ("limit", "prediction"):
        raise ValueError(f"column must be 'limit' or 'prediction', got {column!r}")
    bound = tol * abs(reference) if relative else tol
    ok = abs(value - reference) <= bound
    limit, pred = (float(reference), None) if column == "limit" else (None, float(reference))
    sc = _scale(scale, reference)
    return CheckRow(quantity, dict(parameters), limit, pred, float(value), None, None,
                    float(bound), bool(ok), "tol", note, extra={},
                    reference=float(reference), band=float(bound), scale=sc,
                    mde=float((bound + abs(value - reference)) / sc), target=_f(target))


def at_most(quantity, parameters, *, value, bound, slack=0.0, note="", scale=None,
            target=None) -> CheckRow:
    """Rule ``bound`` (VER-4): an inequality that must hold exactly, ``value ≤ bound + slack``.

    ``slack`` covers round-off only and is stated with the row. The MDE is the relative amount by
    which the bound could be lowered before the realization violates it, ``(B + slack − x)/scale``.
    """
    if value is None or not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}")
    ok = value <= bound + slack
    sc = _scale(scale, bound)
    return CheckRow(quantity, dict(parameters), float(bound), None, float(value), None, None,
                    float(slack), bool(ok), "bound", note, reference=float(bound),
                    band=float(slack), scale=sc, mde=float(max(bound + slack - value, 0.0) / sc),
                    target=_f(target))


def _f(x):
    return None if x is None else float(x)
