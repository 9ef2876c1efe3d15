r"""The one JSON schema of ``rmthess limits``, ``simulate``, ``sweep`` and ``verify`` (``--json``
and the stored records), versioned by :data:`SCHEMA_VERSION` and documented in
docs/json-schema.md.

Every object starts with the same envelope::

    {"schema": "rmthess", "schema_version": 1, "command": "<limits|simulate|sweep|verify>",
     "rmthess_version": "...", ...}

Block results (``limits``, ``simulate``, every cell of ``sweep``) sit under ``"blocks"``, one object
per block type with the same keys everywhere: ``ratio``, ``g_ii``, ``g_ij`` and ``stderr``, the
mapping of those names to their standard errors (``null`` when the values are exact). Nested
theory values (a simulation's ``prediction`` and ``limit``) are objects of the same shape restricted
to the values the theory gives (a simulation's limit is that of the ratio). A top-level value that
cannot be given is ``null`` with a ``"<name>_note"`` string saying why, never left out.

Examples
--------
>>> from rmthess._schema import envelope, values
>>> out = envelope("limits", {"blocks": {"v": values(0.5, 2.0, 1.0)}})
>>> out["schema_version"], out["blocks"]["v"]["stderr"]
(1, None)
>>> values(0.5, 2.0, 1.0, stderr=(0.01, None, None))["stderr"]
{'ratio': 0.01, 'g_ii': None, 'g_ij': None}
"""

from __future__ import annotations

import math

__all__ = ["SCHEMA_VERSION", "envelope", "values", "simulation_blocks", "simulation_body"]

#: incremented on any change of a key's name, place or meaning
SCHEMA_VERSION = 1


def envelope(command: str, body: dict) -> dict:
    """``body`` behind the shared keys ``schema``, ``schema_version``, ``command``,
    ``rmthess_version``."""
    from rmthess import __version__

    return {"schema": "rmthess", "schema_version": SCHEMA_VERSION, "command": command,
            "rmthess_version": __version__, **body}


def _num(x):
    """A JSON number, or None for a missing or non-finite one (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def values(ratio, g_ii=None, g_ij=None, *, stderr=None) -> dict:
    """``{"ratio", "g_ii", "g_ij", "stderr"}``; ``stderr`` a triple in the same order, or None
    (exact values). Strings (``--digits``) pass through unchanged."""
    def keep(x):
        return x if isinstance(x, str) else _num(x)

    out = {"ratio": keep(ratio), "g_ii": keep(g_ii), "g_ij": keep(g_ij)}
    out["stderr"] = None if stderr is None else dict(zip(("ratio", "g_ii", "g_ij"),
                                                         map(_num, stderr), strict=True))
    return out


def _given(obj: dict) -> dict:
    """``obj`` without the values the theory does not give (a nested theory value)."""
    out = {k: v for k, v in obj.items() if v is not None}
    if isinstance(out.get("stderr"), dict):
        out["stderr"] = _given(out["stderr"])
    return out


def simulation_blocks(res) -> dict:
    """The ``blocks`` of a :class:`~rmthess.montecarlo.simulation.SimulationResult`: the simulated
    ``g_ii``, ``g_ij`` (mean squared Frobenius norms of the diagonal and off-diagonal blocks, per d
    for d×d blocks) and their ratio, the finite-size ``prediction`` and the d → ∞ ``limit`` of the
    same shape, the z-scores against both, and the number of blocks averaged."""
    out = {}
    for name, b in res.blocks.items():
        entry = values(b.ratio, b.diag, b.offdiag,
                       stderr=(b.stderr, b.diag_stderr, b.offdiag_stderr))
        entry["prediction"] = None if b.prediction is None else _given(values(
            b.prediction, b.diag_prediction, b.offdiag_prediction,
            stderr=(b.prediction_stderr, None, None) if b.prediction_stderr else None))
        entry["limit"] = None if b.limit is None else _given(values(
            b.limit, stderr=(b.limit_stderr, None, None) if b.limit_stderr else None))
        entry["z"] = _given({"prediction": _num(b.z_prediction), "limit": _num(b.z_limit)})
        entry["n_blocks"] = int(b.n_blocks)
        out[name] = entry
    return out


def simulation_body(res) -> dict:
    """Parameters, seed and blocks of one simulation (``simulate``; one cell of ``sweep``)."""
    d = res.to_dict()
    d.pop("replicates", None)
    d.pop("blocks", None)
    d["blocks"] = simulation_blocks(res)
    return d
