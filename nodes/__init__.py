"""The built-in node library: one module per family. Importing it must not import diffusers."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

_NOT_NODE_MODULES = {"types", "comfy_types"}


def modules() -> list[ModuleType]:
    """Every node family module of this package (each `nodes/<family>.py`), imported."""
    names = sorted(
        info.name for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name not in _NOT_NODE_MODULES
    )
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
