"""A LoRA never changes the cached base model (SD or SDXL): in one executor, the base workflow after a LoRA run gives
the base image bit for bit, and two workflows with different LoRAs on one base model do not see each other's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nodeflow import Executor, Folders, Workflow, default_registry
from tests.sd.conftest import WORKFLOWS

RUN = {"seed": 1, "steps": 2, "prompt": "a dog", "negative_prompt": "", "guidance_scale": 3.0}


class Runner:
    """One executor (one output cache, one model service), the folder its images go to, and its base model."""

    def __init__(self, executor: Executor, output: Path, model: str) -> None:
        self.executor, self.output, self.model = executor, output, model

    def image(self, workflow: str, **params) -> np.ndarray:
        from PIL import Image

        before = set(self.output.glob("*.png"))
        report = self.executor.run(Workflow.load(WORKFLOWS / workflow), params={**RUN, "model": self.model, **params})
        assert report.ok, report.failures
        [written] = set(self.output.glob("*.png")) - before
        with Image.open(written) as image:
            return np.asarray(image.convert("RGB"))


def _runners(tmp_path: Path, model: Path, loras: Path):
    """Makes runners: each a fresh executor that has seen nothing, with `model` and the folder `loras` in its model
    folders."""
    made = iter(range(1000))

    def make() -> Runner:
        root = tmp_path / f"runner{next(made)}"
        folders = Folders(output=root / "out", input=root / "in", temp=root / "temp", models=[model.parent, loras])
        return Runner(Executor(default_registry(), device="cpu", folders=folders), root / "out", model.name)

    return make


@pytest.fixture
def new_runner(tiny_sd, loras, tmp_path):
    return _runners(tmp_path, tiny_sd, loras["first"].parent)


@pytest.fixture
def new_sdxl_runner(tiny_sdxl, sdxl_loras, tmp_path):
    return _runners(tmp_path, tiny_sdxl, sdxl_loras["first"].parent)


@pytest.mark.parametrize("family, runners", [("sd", "new_runner"), ("sdxl", "new_sdxl_runner")])
def test_base_workflow_after_a_lora_run_gives_the_base_image_bit_for_bit(family, runners, request):
    new_runner = request.getfixturevalue(runners)
    shared = new_runner()
    base = shared.image(f"{family}_txt2img.json")
    with_lora = shared.image(f"{family}_lora.json", lora="first.safetensors", lora_strength=0.9)
    base_after = shared.image(f"{family}_txt2img.json", steps=3)  # the cached base model, sampled again
    assert not np.array_equal(with_lora, base)
    assert np.array_equal(base_after, new_runner().image(f"{family}_txt2img.json", steps=3))


def test_two_loras_on_one_base_model_do_not_see_each_other(new_runner):
    shared = new_runner()
    first = shared.image("sd_lora.json", lora="first.safetensors", lora_strength=0.8)
    second = shared.image("sd_lora.json", lora="second.safetensors", lora_strength=0.8)
    first_after = shared.image("sd_lora.json", lora="first.safetensors", lora_strength=0.8, steps=3)
    assert not np.array_equal(first, second)
    assert np.array_equal(first_after, new_runner().image("sd_lora.json", lora="first.safetensors",
                                                          lora_strength=0.8, steps=3))
    assert np.array_equal(second, new_runner().image("sd_lora.json", lora="second.safetensors", lora_strength=0.8))


def test_a_lora_run_after_the_base_model_was_dropped_gives_the_same_image(new_runner):
    shared = new_runner()
    before = shared.image("sd_lora.json", lora="first.safetensors", lora_strength=0.8)
    assert shared.executor.models.unload() > 0  # the base modules go; the cached handles stay
    after = shared.image("sd_lora.json", lora="first.safetensors", lora_strength=0.8, steps=3)
    assert np.array_equal(after, new_runner().image("sd_lora.json", lora="first.safetensors", lora_strength=0.8,
                                                    steps=3))
    assert not np.array_equal(before, after)
