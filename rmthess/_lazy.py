"""Lazy public names of a package (PEP 562): a name is imported from its module on first use."""

from __future__ import annotations

import importlib


def lazy_names(package: str, where: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package`` whose public names live in the submodules
    ``where[name]``; a resolved name is stored in the package so the lookup happens once."""
    import sys

    def __getattr__(name):
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
