"""A node runs on the device its models are pinned to; unpinned models follow the run's device."""

from typing import Literal

from nodeflow import Context, Executor, Graph, ModelHandle, Registry, node


class FakeModule:
    def __init__(self) -> None:
        self.device = "cpu"

    def to(self, device: str) -> "FakeModule":
        self.device = device
        return self


class Engine(ModelHandle):
    """A model handle for tests."""


@node("placement.load", category="test", output="engine")
def load(name: str, device: Literal["auto", "cpu", "accel"] = "auto") -> Engine:
    return Engine(FakeModule(), source=name, placement=None if device == "auto" else device)


@node("placement.where", category="test", output="device")
def where(ctx: Context, engine: Engine, other: Engine | None = None) -> str:
    with ctx.models.use(engine) as module:
        assert module.device == ctx.device
    return ctx.device


@node("placement.show", category="test", output_node=True)
def show(ctx: Context, device: str) -> None:
    ctx.show(devices=[device])


def run_where(*placements: str) -> str:
    g = Graph(Registry([load, where, show]))
    engines = [g.add("placement.load", name=f"m{i}", device=p) for i, p in enumerate(placements)]
    inputs = {"engine": engines[0], **({"other": engines[1]} if len(engines) > 1 else {})}
    shown = g.add("placement.show", device=g.add("placement.where", **inputs))
    report = g.run(executor=Executor(g.registry, device="accel"))
    assert report.ok, report.failures
    return report.ui[shown.id]["devices"][0]


def test_unpinned_model_runs_on_the_run_device():
    assert run_where("auto") == "accel"


def test_pinned_model_takes_its_node_to_its_device():
    assert run_where("cpu") == "cpu"


def test_models_pinned_to_different_devices_run_on_the_run_device():
    assert run_where("cpu", "accel") == "accel"
    assert run_where("cpu", "auto") == "cpu", "an unpinned model goes where the pinned one is"
