r"""``rmthess verify``: every theorem quantity of the package against simulation.

Checks (:mod:`rmthess.verify.checks`) are small classes behind a registry (:data:`CHECKS`); each
returns rows of one table (:class:`CheckRow`, verdict rules in :mod:`rmthess.verify.rules`) and data
for the figures. :func:`run_verification` runs them with reproducible seeds; :func:`write_outputs`
writes the CSV table, the JSON record, the figures and a Markdown/HTML report.

Examples
--------
>>> from rmthess.verify import CHECKS, run_verification
>>> "gmp-law" in CHECKS
True
"""

from rmthess.verify import checks as _checks  # noqa: F401  (registers the checks)
from rmthess.verify.base import (
           CHECKS,
           Check,
           CheckContext,
           CheckOutput,
           check_seed,
           get_check,
           register,
)
from rmthess.verify.report import write_outputs
from rmthess.verify.rules import CheckRow
from rmthess.verify.runner import VerificationResult, run_verification
from rmthess.verify.table import format_table

__all__ = ["CHECKS", "Check", "CheckContext", "CheckOutput", "CheckRow", "VerificationResult",
           "check_seed", "format_table", "get_check", "register", "run_verification",
           "write_outputs"]
