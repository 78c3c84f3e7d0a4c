"""Prompts run as one denoise batch give each the image of its solo run.

Each prompt's noise and ancestral steps come from its own seed's generator (a
list of generators in the batch), so the only difference left is the
arithmetic of a batch of 3 (6 under guidance) against a batch of 1 (2): the
CPU's kernels for the two batch sizes sum in other orders, which moves the
floats by ~1e-6 and an 8-bit pixel by at most 1 of 255 (asserted: ≤ 1/255, the
issue's bound where kernels differ)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodeflow import Executor, Folders, Workflow
from nodeflow.batch_run import BatchRun
from nodeflow.executor import BatchItem
from nodeflow.registry import default_registry
from nodes.image import to_pil
from tests.pipeline_support import WORKFLOWS, pattern_image

PROMPTS = [("a red house", "", 11), ("a blue boat", "fog", 12), ("a green tree", "", 13)]


def _executor(tmp_path, name: str) -> Executor:
    folders = Folders(output=tmp_path / name, input=tmp_path / "in", trust_paths=True)
    return Executor(default_registry(), device="cpu", folders=folders)


def _workflows(name: str, **params) -> list[Workflow]:
    workflow = Workflow.from_dict(json.loads((WORKFLOWS / f"{name}.json").read_text()))
    return [workflow.with_params({**params, "prompt": prompt, "negative_prompt": negative, "seed": seed})
            for prompt, negative, seed in PROMPTS]


def _pixels(report) -> np.ndarray:
    """The decoded image as the save node writes it (8-bit)."""
    [image] = to_pil(report.value("decode", "image"))
    return np.asarray(image)


def _delta(ours: np.ndarray, alone: np.ndarray) -> int:
    """The largest difference of an 8-bit channel value."""
    return int(np.abs(ours.astype(int) - alone.astype(int)).max())


def _batched_and_solo(tmp_path, workflows, monkeypatch) -> tuple[list, list, list[int]]:
    batch_sizes: list[int] = []
    real = BatchRun.batched

    def counting(self, index, runs):
        batch_sizes.append(len(runs))
        return real(self, index, runs)

    monkeypatch.setattr(BatchRun, "batched", counting)
    batched = _executor(tmp_path, "batched").run_batch([BatchItem(w, f"b{i}") for i, w in enumerate(workflows)])
    solo = [_executor(tmp_path, f"solo{i}").run(w) for i, w in enumerate(workflows)]
    assert all(report.ok for report in batched + solo)
    return [_pixels(r) for r in batched], [_pixels(r) for r in solo], batch_sizes


@pytest.mark.parametrize("scheduler", ["euler", "euler_ancestral"])
@pytest.mark.parametrize("guidance", [1.0, 6.0], ids=["no-guidance", "cfg"])
def test_txt2img_batched_equals_solo(tiny_sd, tmp_path, monkeypatch, scheduler, guidance):
    workflows = _workflows("sd_txt2img", model=str(tiny_sd), steps=4, scheduler=scheduler, guidance_scale=guidance)
    batched, solo, batch_sizes = _batched_and_solo(tmp_path, workflows, monkeypatch)
    assert batch_sizes == [3, 3]  # the denoise and VAE decode nodes ran once for the three prompts
    assert max(_delta(ours, alone) for ours, alone in zip(batched, solo)) <= 1
    assert len({image.tobytes() for image in batched}) == 3  # three prompts, three images


def test_img2img_batched_equals_solo(tiny_sd, tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    pattern_image().save(tmp_path / "in" / "start.png")
    workflows = _workflows("sd_img2img", model=str(tiny_sd), steps=4, scheduler="euler_ancestral",
                           guidance_scale=5.0, image="start.png", strength=0.6)
    batched, solo, batch_sizes = _batched_and_solo(tmp_path, workflows, monkeypatch)
    assert batch_sizes == [3, 3]
    assert max(_delta(ours, alone) for ours, alone in zip(batched, solo)) <= 1
