"""A node runs on the device its models are pinned to; unpinned models follow the run's device."""

from typing import Literal

from nodeflow import Context, Executor, Graph, ModelHandle, Registry, node
from nodeflow.model_service import ModelService
from nodeflow.models import node_device


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


def handle_on(device: str, placement: str | None = None) -> Engine:
    module = FakeModule()
    module.device = device
    return Engine(module, placement=placement)


def moved_to(handle: Engine, device: str) -> str:
    with ModelService().use(handle, device) as module:
        return module.device


def test_a_module_on_another_gpu_moves_to_the_nodes_gpu():
    assert moved_to(handle_on("cuda:0"), "cuda:1") == "cuda:1"


def test_a_module_already_on_the_device_stays_where_it_is():
    assert moved_to(handle_on("cuda:0"), "cuda") == "cuda:0", "a bare 'cuda' is the default GPU, cuda:0"
    assert moved_to(handle_on("cuda:1"), "cuda:1") == "cuda:1"


def test_a_model_pinned_to_cuda_runs_on_this_workers_gpu():
    assert node_device({"engine": handle_on("cpu", "cuda")}, "cuda:1") == "cuda:1"


def test_a_model_pinned_to_cuda_on_a_cpu_worker_runs_on_the_default_gpu():
    assert node_device({"engine": handle_on("cpu", "cuda")}, "cpu") == "cuda"

