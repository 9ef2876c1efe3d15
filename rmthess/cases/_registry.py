"""The registry of model cases: one public module of :mod:`rmthess.cases` per case, found by name.

The case called ``"linear-ce"`` lives in ``rmthess/cases/linear_ce.py`` (hyphens become
underscores); its class is decorated with :func:`register`. Names are listed from the package's
files without importing anything, and :func:`get_case` imports only the module of the case asked
for, so ``get_case("linear-ce")`` loads neither numba nor the hidden-layer cases.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping

from rmthess.cases._base import Case, finite_or_refused

__all__ = ["CASES", "register", "get_case"]

_PACKAGE = "rmthess.cases"
#: classes registered so far (case modules add theirs on import)
_LOADED: dict[str, type] = {}


@functools.cache
def _module_names() -> tuple[str, ...]:
    from rmthess import cases

    return tuple(sorted(info.name for info in pkgutil.iter_modules(cases.__path__)
                        if not info.name.startswith("_") and not info.ispkg))


class _Registry(Mapping):
    """Read-only mapping: case name → case class, importing a case module on first access."""

    def _names(self) -> list[str]:
        return [mod.replace("_", "-") for mod in _module_names()]

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._names()

    def __getitem__(self, name) -> type:
        if name not in self:
            raise KeyError(name)
        if name not in _LOADED:
            importlib.import_module(f"{_PACKAGE}.{name.replace('-', '_')}")
            if name not in _LOADED:
                raise ImportError(f"the module of case {name!r} registers no case of that name")
        return _LOADED[name]

    def __repr__(self) -> str:
        return f"CASES({', '.join(self._names())})"


#: registry: case name -> case class (the module is imported on first access)
CASES = _Registry()


def register(cls):
    """Class decorator of a case module: add the :class:`Case` subclass ``cls`` under ``cls.name``.

    ``cls.name`` must match the module's file name (``linear_ce.py`` ↔ ``"linear-ce"``). Its
    ``limits``, ``limits_mp``, ``asymptote`` and ``limits_over_gamma`` (where defined) are wrapped
    so that a non-finite number is never returned: it becomes a ``ValueError`` that names the
    parameters.
    """
    module = cls.__module__.rpartition(".")[2]
    if not issubclass(cls, Case) or not cls.name or cls.name in _LOADED \
            or cls.name != module.replace("_", "-"):
        raise ValueError(f"case {cls.name!r} must be a new Case subclass named after its module "
                         f"({module!r})")
    for name in ("limits", "limits_mp", "asymptote", "limits_over_gamma"):
        if name in cls.__dict__:
            setattr(cls, name, finite_or_refused(cls.__dict__[name]))
    _LOADED[cls.name] = cls
    return cls


def get_case(name) -> Case:
    """Return an instance of the case called ``name``; ``ValueError`` lists the valid names."""
    if not isinstance(name, str) or name not in CASES:
        raise ValueError(f"unknown case {name!r}; valid cases: {', '.join(sorted(CASES))}")
    return CASES[name]()
