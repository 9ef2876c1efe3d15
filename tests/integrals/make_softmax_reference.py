"""Write ``softmax_reference.json``: the mpmath oracle at the ends of the float64 σ_v domain.

The oracle (:func:`rmthess.integrals.softmax_moments_mp`) costs minutes per point at σ_v ≥ 10
(its lattice grows like σ_v²), too slow for the test suite, so its values are kept here and
``test_softmax.py`` compares the float64 moments with them. Run from the repository root:

    PYTHONPATH=$PWD python tests/integrals/make_softmax_reference.py

Each point is appended as it completes, so an interrupted run keeps what it computed.
"""

import json
import sys
import time
from pathlib import Path

import mpmath

from rmthess.integrals import softmax_moments_mp

#: (σ_v, C): both ends of SOFTMAX_SIGMA_V = [1e-3, 15] and the range σ_v ∈ [9.5, 12.9] where the
#: difference M2 − 2M3 + M4 used to give E a² the wrong sign
POINTS = [(0.001, 3), (0.001, 10**6), (9.5, 3), (12.9, 10**6), (12.9, 3), (15.0, 3), (15.0, 10**6)]
DPS = 16
FIELDS = ("M1", "M2", "Q", "T", "A1", "A2", "P12")
OUT = Path(__file__).with_name("softmax_reference.json")


def main():
    table = json.loads(OUT.read_text()) if OUT.exists() else {"dps": DPS, "points": []}
    done = {(p["sigma_v"], p["classes"]) for p in table["points"]}
    for sigma, C in POINTS:
        if (sigma, C) in done:
            continue
        t0 = time.time()
        m = softmax_moments_mp(C, repr(sigma), dps=DPS)
        with mpmath.workdps(DPS):
            values = {f: mpmath.nstr(getattr(m, f), DPS) for f in FIELDS}
            row = {"sigma_v": sigma, "classes": C, **values}
        table["points"].append(row)
        OUT.write_text(json.dumps(table, indent=1) + "\n")
        print(f"sigma_v={sigma} C={C}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
