"""Value nodes: one literal shared by several inputs (a widget converted to a socket takes its link)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from nodeflow import node

SEED_MAX = 2**64 - 1


@node("value.int", category="values", output="value")
def int_value(value: int = 0) -> int:
    """An integer, to feed several integer inputs at once."""
    return value


@node("value.float", category="values", output="value")
def float_value(value: float = 0.0) -> float:
    """A number, to feed several float inputs at once."""
    return value


@node("value.string", category="values", output="value")
def string_value(value: str = "") -> str:
    """A text, e.g. one prompt shared by several encoders."""
    return value


@node("value.seed", category="values", output="seed")
def seed_value(seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 0) -> int:
    """A random seed, shared by every noise source it is wired to."""
    return seed
