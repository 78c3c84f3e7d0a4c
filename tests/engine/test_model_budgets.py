"""The model service keeps models within its VRAM and RAM budgets: idle models leave the GPU least recently used
first, past the RAM budget they are dropped and made again from their recipe when next used, models in use never
move, and a model bigger than the whole VRAM budget runs offloaded."""

from __future__ import annotations

from typing import Any

import pytest

from nodeflow.model_service import ModelService
from nodeflow.models import ModelHandle, Recipe

MB = 2**20


class FakeModule:
    """A module of a fixed size on a named device; `moves` records where it was sent."""

    def __init__(self, name: str, nbytes: int, moves: list[tuple[str, str]]) -> None:
        self.name, self.nbytes, self.device, self.moves = name, nbytes, "cpu", moves

    def to(self, device: str) -> FakeModule:
        self.moves.append((self.name, device))
        self.device = device
        return self


class Models:
    """A service over fake modules, each made by its own loader call (a recipe per name); counts the loads."""

    def __init__(self, vram: int | None = None, ram: int | None = None, offload: Any = None) -> None:
        self.moves: list[tuple[str, str]] = []
        self.loads: list[str] = []
        self.sizes: dict[str, int] = {}
        extra = {"offload": offload} if offload else {}
        self.service = ModelService(self.reload, vram_budget=vram, ram_budget=ram, **extra)
        self.handles: dict[str, ModelHandle] = {}

    def reload(self, recipe: Recipe) -> dict[str, Any]:
        name = recipe.inputs["name"]
        self.loads.append(name)
        return {"model": FakeModule(name, self.sizes[name], self.moves)}

    def load(self, name: str, megabytes: int) -> ModelHandle:
        self.sizes[name] = megabytes * MB
        self.loads.append(name)
        handle = self.handles[name] = ModelHandle(FakeModule(name, megabytes * MB, self.moves), source=name)
        self.service.adopt(handle, Recipe.of("fake.load", "1.0.0", {"name": name}, "model"))
        return handle

    def run(self, name: str, device: str = "cuda:0") -> None:
        with self.service.use(self.handles[name], device):
            pass

    def where(self) -> dict[str, str | None]:
        return {name: h.module.device if h.module is not None else None for name, h in self.handles.items()}


def test_a_model_that_does_not_fit_on_the_gpu_moves_the_least_recently_used_idle_one_off():
    models = Models(vram=250 * MB)
    for name in ("a", "b", "c"):
        models.load(name, 100)
    models.run("a")
    models.run("b")
    models.run("a")  # b is now the least recently used
    models.moves.clear()
    models.run("c")
    assert models.moves == [("b", "cpu"), ("c", "cuda:0")]
    assert models.where() == {"a": "cuda:0", "b": "cpu", "c": "cuda:0"}
    assert models.service.budgets() == {"vram": 250 * MB, "ram": None, "vram_used": 200 * MB, "ram_used": 100 * MB}


def test_a_model_in_use_is_never_moved_off_the_gpu():
    models = Models(vram=150 * MB)
    models.load("a", 100)
    models.load("b", 100)
    with models.service.use(models.handles["a"], "cuda:0"):
        models.run("b")  # does not fit beside a, which is in use: the budget is exceeded, a stays
        assert models.where() == {"a": "cuda:0", "b": "cuda:0"}
    models.run("b")
    assert models.where()["a"] == "cuda:0"
    models.load("c", 100)
    models.run("c")
    assert models.where() == {"a": "cpu", "b": "cpu", "c": "cuda:0"}


def test_past_the_ram_budget_a_model_moved_off_the_gpu_is_dropped():
    models = Models(vram=100 * MB, ram=90 * MB)
    models.load("a", 100)
    models.run("a")
    models.load("b", 60)
    models.run("b")  # a must leave the GPU, and 100 MB do not fit the CPU's 90 even once b has left it
    assert models.where() == {"a": None, "b": "cuda:0"}
    assert models.service.budgets() == {"vram": 100 * MB, "ram": 90 * MB, "vram_used": 60 * MB, "ram_used": 0}


def test_a_loader_makes_the_ram_budget_kept_at_once_dropping_the_least_recently_used():
    models = Models(ram=250 * MB)
    for name in ("a", "b"):
        models.load(name, 100)
    models.run("a", "cpu")
    models.load("c", 100)
    assert models.where() == {"a": "cpu", "b": None, "c": "cpu"}
    assert models.service.budgets()["ram_used"] == 200 * MB


def test_a_dropped_model_is_made_again_when_next_used_and_counted():
    models = Models(ram=150 * MB)
    models.load("a", 100)
    models.load("b", 100)  # drops a
    models.run("a", "cpu")  # made again; b dropped first to make room for it
    assert models.loads == ["a", "b", "a"]
    assert models.where() == {"a": "cpu", "b": None}
    assert models.service.loads == 3


def test_a_model_bigger_than_the_whole_vram_budget_runs_offloaded_with_a_warning(caplog):
    offloaded: list[tuple[str, str]] = []
    models = Models(vram=150 * MB, offload=lambda module, device: offloaded.append((module.name, device)))
    models.load("small", 100)
    models.load("huge", 200)
    models.run("small")
    warnings: list[str] = []
    models.moves.clear()
    with models.service.use(models.handles["huge"], "cuda:0", warn=warnings.append):
        pass
    assert offloaded == [("huge", "cuda:0")]
    assert models.moves == []  # neither moved as a whole, nor anything moved off for it
    assert "bigger than the whole VRAM budget" in warnings[0] and "huge" in warnings[0]
    assert models.service.budgets()["vram_used"] == 100 * MB
    models.run("huge")
    assert offloaded == [("huge", "cuda:0")]  # once


@pytest.mark.parametrize("budget", [None, 10 * MB])
def test_a_handle_nobody_holds_leaves_the_service(budget):
    models = Models(ram=budget)
    models.load("a", 1)
    del models.handles["a"]
    assert models.service.loaded() == []


def test_the_output_cache_counts_a_handle_not_its_module():
    from nodeflow.cache import OutputCache

    cache = OutputCache(max_bytes=10_000)
    entry = cache.put("loader", {"model": ModelHandle(bytearray(100 * MB), source="big")})
    assert "loader" in cache and entry.nbytes < 1000


def test_the_default_offload_puts_diffusers_group_offloading_hooks_on_the_module():
    from diffusers.hooks.group_offloading import _is_group_offload_enabled
    from diffusers.models import AutoencoderKL

    from nodeflow.offload import group_offload

    vae = AutoencoderKL(block_out_channels=(8,), norm_num_groups=8, latent_channels=2)
    group_offload(vae, "cpu")  # the hooks a GPU run gets, brought onto the CPU here (no GPU in the tests)
    assert _is_group_offload_enabled(vae)
