"""The model service owns what loaders make: it knows each model's recipe, whether it is loaded and in use, drops
idle ones on request, and makes a dropped one again from its recipe when a node next uses it."""

from __future__ import annotations

from nodeflow import Context, Executor, Graph, ModelHandle, Registry, node

from .graph_support import shown_value
from nodeflow.models import Recipe

LOADS: list[str] = []


class Weights:
    """A stand-in module: a number a node reads."""

    def __init__(self, value: int) -> None:
        self.value = value


class Toy(ModelHandle):
    """A model handle for tests."""


@node("toy.load", category="test", output="toy")
def load(name: str, value: int = 3) -> Toy:
    LOADS.append(name)
    return Toy(Weights(value), source=name)


@node("toy.read", category="test", output="value")
def read(ctx: Context, toy: Toy, seed: int = 0) -> int:
    with ctx.models.use(toy) as module:
        return module.value + seed


@node("toy.show", category="test", output_node=True)
def show(ctx: Context, value: int) -> None:
    ctx.show(values=[value])


def _graph() -> tuple[Graph, str]:
    g = Graph(Registry([load, read, show]))
    reader = g.add("toy.read", toy=g.add("toy.load", name="a", value=5))
    g.param("seed", reader, "seed")
    return g, g.add("toy.show", value=reader).id


def test_a_loaded_model_is_owned_with_its_recipe():
    LOADS.clear()
    g, shown = _graph()
    executor = Executor(g.registry, device="cpu")
    assert shown_value(g, shown, executor, 1) == 6
    [model] = executor.models.loaded()
    assert model["source"] == "a" and model["loaded"] and model["in_use"] is False and model["device"] == "cpu"
    assert executor.models.recipe_keys() == {model["key"]} == executor.model_recipes(g.workflow)


def test_a_dropped_model_is_made_again_from_its_recipe_when_next_used():
    LOADS.clear()
    g, shown = _graph()
    executor = Executor(g.registry, device="cpu")
    assert shown_value(g, shown, executor, 1) == 6
    assert executor.models.unload() == 1
    assert executor.models.recipe_keys() == frozenset() and executor.models.loaded()[0]["loaded"] is False
    assert shown_value(g, shown, executor, 2) == 7  # the loader's output is cached; its module is made again
    assert LOADS == ["a", "a"]
    assert executor.models.loaded()[0]["loaded"] is True


def test_a_model_in_use_is_not_dropped():
    LOADS.clear()
    executor = Executor(Registry([load, read, show]), device="cpu")
    handle = Toy(Weights(1), source="held")
    executor.models.adopt(handle, Recipe.of("toy.load", "1.0.0", {"name": "held", "value": 1}, "toy"))
    with executor.models.use(handle, "cpu"):
        assert executor.models.unload() == 0
        assert executor.models.loaded()[0]["in_use"] is True
    assert handle.module is not None
    assert executor.models.unload() == 1 and handle.module is None
