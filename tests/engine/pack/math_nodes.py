"""Small pure-Python nodes that the engine tests run: arithmetic, strings, a file reader, a slow counter."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodeflow.fingerprint import path_fingerprint

CALLS: list[str] = []


class Number:
    """A socket type for tests: a boxed number."""

    def __init__(self, value: float) -> None:
        self.value = value


class Integer(Number):
    """A subclass socket type: an Integer may go where a Number is wanted."""


class Blob:
    """A socket type that reports a chosen byte size to the cache."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


class DivMod(NamedTuple):
    quotient: int
    remainder: int


@node("math.add", category="math")
def add(x: int, y: Annotated[int, Field(ge=-1000, le=1000)] = 0) -> int:
    """x + y."""
    CALLS.append("math.add")
    return x + y


@node("math.divmod", category="math")
def divmod_(a: int, b: Annotated[int, Field(ge=1)]) -> DivMod:
    CALLS.append("math.divmod")
    return DivMod(a // b, a % b)


@node("math.scale", category="math", output="scaled")
def scale(value: float, factor: float = 2.0, mode: Literal["mul", "div"] = "mul") -> float:
    CALLS.append("math.scale")
    return value * factor if mode == "mul" else value / factor


@node("math.box", category="math")
def box(value: int) -> Integer:
    CALLS.append("math.box")
    return Integer(value)


@node("math.unbox", category="math", output="value")
def unbox(number: Number) -> float:
    CALLS.append("math.unbox")
    return number.value


@node("math.fail", category="math")
def fail(value: int) -> int:
    CALLS.append("math.fail")
    raise RuntimeError(f"cannot handle {value}")


@node("math.blob", category="math")
def blob(nbytes: int, tag: str = "") -> Blob:
    CALLS.append("math.blob")
    return Blob(nbytes)


@node("math.count_slowly", category="math", output="count")
def count_slowly(ctx: Context, steps: int, delay: float = 0.01) -> int:
    for step in range(steps):
        ctx.check_interrupt()
        time.sleep(delay)
        ctx.progress(step + 1, steps)
    CALLS.append("math.count_slowly")
    return steps


@node("text.join", category="text", output="text")
def join(a: str, b: str = "", sep: str = " ") -> str:
    CALLS.append("text.join")
    return sep.join(part for part in (a, b) if part)


@node("text.read_file", category="text", output="text",
      fingerprint=lambda literals, folders: path_fingerprint(folders.readable("input", literals["name"], "name")))
def read_file(ctx: Context, name: str) -> str:
    CALLS.append("text.read_file")
    return Path(ctx.folders.readable("input", name, "name")).read_text()


@node("io.show", category="io", output_node=True)
def show(ctx: Context, value: float | str) -> None:
    CALLS.append("io.show")
    ctx.show(values=[value])


@node("io.keep_blob", category="io", output_node=True)
def keep_blob(blob: Blob) -> None:
    CALLS.append("io.keep_blob")


@node("text.shout", category="text", output="text")
def shout(ctx: Context, text: str, limit: int = 10) -> str:
    """Upper-case text, cut at `limit` characters with a warning."""
    if len(text) > limit:
        ctx.warn(f"cut {len(text) - limit} characters")
    return text[:limit].upper()


@node("math.watched", category="math", output="count")
def watched(ctx: Context, steps: int = 2) -> int:
    """Counts steps, with a preview (the step number) only when someone watches."""
    for step in range(steps):
        ctx.progress(step + 1, steps, preview=step + 1 if ctx.wants_previews else None)
    return steps
