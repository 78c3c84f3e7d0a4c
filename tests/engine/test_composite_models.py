"""A loader output that holds several model handles (ComfyUI's CLIP: tokenizers and text encoders) exposes them by
`__nodeflow_handles__`; the engine treats each like a model output of its own, named "OUTPUT.part": the model
service owns it with its recipe, dispatch knows the output as a model, and a dropped part is made again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodeflow import Context, Executor, Graph, ModelHandle, Registry, node

from .graph_support import shown_value

LOADS: list[str] = []


class Weights:
    def __init__(self, value: int) -> None:
        self.value = value


class Toy(ModelHandle):
    """A model handle for tests."""


@dataclass(eq=False, frozen=True)
class Pair:
    """A composite of two model handles, like ComfyUI's CLIP."""

    first: Toy
    second: Toy

    def __nodeflow_handles__(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second}


@node("pair.load", category="test", output="pair")
def load(name: str) -> Pair:
    LOADS.append(name)
    return Pair(Toy(Weights(1), source=name), Toy(Weights(10), source=name))


@node("pair.read", category="test", output="value")
def read(ctx: Context, pair: Pair, seed: int = 0) -> int:
    with ctx.models.use(pair.first) as first, ctx.models.use(pair.second) as second:
        return first.value + second.value + seed


@node("pair.show", category="test", output_node=True)
def show(ctx: Context, value: int) -> None:
    ctx.show(values=[value])


def _graph() -> tuple[Graph, str]:
    g = Graph(Registry([load, read, show]))
    reader = g.add("pair.read", pair=g.add("pair.load", name="a"))
    g.param("seed", reader, "seed")
    return g, g.add("pair.show", value=reader).id


def test_each_part_of_a_composite_output_is_owned_with_its_recipe():
    g, shown = _graph()
    executor = Executor(g.registry, device="cpu")
    assert shown_value(g, shown, executor, 0) == 11
    assert len(executor.models.loaded()) == 2 and all(m["key"] for m in executor.models.loaded())
    assert executor.models.recipe_keys() == executor.model_recipes(g.workflow) != frozenset()


def test_the_dropped_parts_of_a_composite_output_are_made_again_when_next_used():
    LOADS.clear()
    g, shown = _graph()
    executor = Executor(g.registry, device="cpu")
    assert shown_value(g, shown, executor, 0) == 11
    assert executor.models.unload() == 2
    assert shown_value(g, shown, executor, 1) == 12  # the loader's output is cached; its parts are made again
    assert LOADS == ["a", "a"]
    assert all(m["loaded"] for m in executor.models.loaded())
