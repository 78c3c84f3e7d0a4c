"""Prompts of three model families interleaved under a RAM budget smaller than the three together: the run ends,
the models held stay within the budget plus one model, models are dropped and made again, and the images are
those of a run that held every model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nodeflow import Executor, Folders, Workflow, default_registry
from nodeflow.budgets import Budgets
from tests.pipeline_support import WORKFLOWS, assert_same_images
from tiny_models import mixed_queue

UNLIMITED = 2**40


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    mixed_queue.build_models(folder)
    return folder


class QueueRun:
    """The mixed queue run by one executor under a RAM budget: its images, the models' bytes, the peak held."""

    def __init__(self, models_dir: Path, output: Path, ram_budget: int) -> None:
        folders = Folders(output=output, input=output.parent / "input", models=[models_dir])
        self.executor = Executor(default_registry(), device="cpu", folders=folders, budgets=Budgets(ram=ram_budget))
        self.peak_ram = 0
        self.executor.subscribe(lambda event: self._sample())
        self.images = []
        for run in mixed_queue.queue(rounds=2):
            report = self.executor.run(Workflow.load(WORKFLOWS / run.workflow), params=run.params)
            assert report.ok, report.failures
            self.images += [_pixels(output / image["filename"]) for ui in report.ui.values() for image in ui["images"]]

    def _sample(self) -> None:
        self.peak_ram = max(self.peak_ram, self.executor.models.budgets()["ram_used"])

    def model_bytes(self) -> list[int]:
        return [model["bytes"] for model in self.executor.models.loaded()]


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_a_queue_over_the_ram_budget_swaps_models_and_makes_the_same_images(models_dir, tmp_path):
    holding_all = QueueRun(models_dir, tmp_path / "all", UNLIMITED)
    families_sum = sum(holding_all.model_bytes())
    budget = families_sum * 2 // 3
    swapping = QueueRun(models_dir, tmp_path / "swapping", budget)
    assert swapping.executor.models.loads > holding_all.executor.models.loads == len(holding_all.model_bytes())
    assert swapping.peak_ram <= budget + max(holding_all.model_bytes())
    assert swapping.executor.models.budgets()["ram_used"] <= budget
    assert_same_images(swapping.images, holding_all.images)
