"""A fingerprint of the package's own source code, for caches that must not outlive the code.

A stored result (a sweep cell, a check of ``rmthess verify --full``) is reused only when it was
computed by the same code: its key holds :func:`code_hash`, the SHA-256 of every ``.py`` file of
the installed ``rmthess`` package (relative path and content, in sorted order). Any edit — a fix of
a formula as much as a reworded comment — gives another hash, so nothing computed before it is
served after it (theory/montecarlo.md, MC-21). The hash is computed once per process (a few
milliseconds).

Examples
--------
>>> from rmthess._codehash import code_hash
>>> h = code_hash()
>>> len(h), h == code_hash()
(64, True)
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_hash"]

#: the root of the package whose source is hashed
_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 (hex) of the package's ``.py`` files: their paths relative to it and their bytes."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        data = path.read_bytes()
        h.update(f"{path.relative_to(_PACKAGE).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()
