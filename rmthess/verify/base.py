r"""The check framework of ``rmthess verify``: a small class per theorem quantity, behind a
registry.

A check declares its name, a one-paragraph description for the report, and its problem sizes for
each size level (``tiny`` for the test suite, ``quick`` — the default, well within three minutes on
two cores — and ``full``). Its :meth:`Check.run` receives a :class:`CheckContext` (size level, a
:class:`numpy.random.SeedSequence` of its own, a progress callback, the options of ``--full``) and
returns a :class:`CheckOutput`: rows of the table and data for the figures.

Seeds: the runner gives every check the child ``SeedSequence(seed, spawn_key=(crc32(name),))``, so a
check's numbers depend only on the root seed and its own name — not on which other checks run or in
what order (theory/verification.md, (VER-0)).

Examples
--------
>>> from rmthess.verify.base import CHECKS, check_seed
>>> check_seed(0, "gmp-law").entropy
0
>>> check_seed(0, "gmp-law").spawn_key == check_seed(0, "gmp-law").spawn_key
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rmthess._validate import seed_sequence

__all__ = ["SIZE_LEVELS", "CHECKS", "Check", "CheckContext", "CheckOutput", "register", "get_check",
           "check_seed"]

#: size levels, smallest first
SIZE_LEVELS = ("tiny", "quick", "full")

#: registry: check name -> Check subclass (in registration order = report order)
CHECKS: dict[str, type] = {}


def register(cls):
    """Class decorator adding a :class:`Check` subclass to :data:`CHECKS` under ``cls.name``."""
    if not getattr(cls, "name", None):
        raise TypeError("a check needs a non-empty `name`")
    missing = set(SIZE_LEVELS) - set(cls.sizes)
    if missing:
        raise TypeError(f"check {cls.name!r} lacks sizes {sorted(missing)}")
    CHECKS[cls.name] = cls
    return cls


def get_check(name: str) -> Check:
    """Return an instance of the registered check ``name`` (``ValueError`` listing valid names)."""
    try:
        return CHECKS[name]()
    except KeyError:
        raise ValueError(f"unknown check {name!r}; valid checks: {', '.join(CHECKS)}") from None


def check_seed(seed, name: str) -> np.random.SeedSequence:
    """The seed of check ``name`` under root ``seed``: independent of the other checks (VER-0)."""
    root = seed_sequence(seed)
    key = tuple(root.spawn_key) + (zlib.crc32(name.encode()),)
    return np.random.SeedSequence(root.entropy, spawn_key=key, pool_size=root.pool_size)


def _quiet(_msg: str) -> None:
    return None


@dataclass
class CheckContext:
    """What a check receives from the runner.

    Attributes
    ----------
    size : str
        One of :data:`SIZE_LEVELS`.
    seed : numpy.random.SeedSequence
        The check's own seed; spawn children from it for replicates.
    progress : callable
        ``progress(message)`` prints one line of progress.
    scheduler : str or None
        Address of a Dask scheduler (``--full`` with ``--scheduler``).
    workdir : pathlib.Path or None
        Folder for resumable sweep state (``--full``).
    """

    size: str = "quick"
    seed: np.random.SeedSequence = field(default_factory=lambda: np.random.SeedSequence(0))
    progress: Callable[[str], None] = _quiet
    scheduler: str | None = None
    workdir: object | None = None

    def __post_init__(self):
        if self.size not in SIZE_LEVELS:
            raise ValueError(f"size must be one of {', '.join(SIZE_LEVELS)}, got {self.size!r}")

    def child(self, *key: int) -> np.random.SeedSequence:
        """A deterministic child of the check's seed indexed by ``key`` (integers)."""
        return np.random.SeedSequence(self.seed.entropy, spawn_key=tuple(self.seed.spawn_key) + key,
                                      pool_size=self.seed.pool_size)


@dataclass
class CheckOutput:
    """What a check returns: table rows, figure data (keyed by figure name) and notes."""

    rows: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


class Check:
    """Base class of a verification check.

    Subclasses set ``name`` (registry key), ``title`` (report heading), ``description`` (Markdown:
    what is compared and the verdict rule), ``sizes`` (a dict size level → parameter dict) and
    implement :meth:`run`.
    """

    name: str = ""
    title: str = ""
    description: str = ""
    sizes: dict = {}

    def params(self, size: str) -> dict:
        """The parameters of this check at size level ``size``."""
        return dict(self.sizes[size])

    def run(self, ctx: CheckContext) -> CheckOutput:  # pragma: no cover - abstract
        raise NotImplementedError
