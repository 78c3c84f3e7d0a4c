"""`serve` options that cannot be used as given: one clear line each, e.g. what to install for an optional extra."""

from __future__ import annotations

import importlib


class OptionError(RuntimeError):
    """A `serve` option that cannot be used as given."""


def require(module: str, option: str, what: str, extra: str) -> None:
    """Raise `OptionError` unless `module` can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise OptionError(f"{option} needs {what}: pip install 'nodeflow[{extra}]'") from None
