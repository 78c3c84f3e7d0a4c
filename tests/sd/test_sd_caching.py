"""Re-running sd_txt2img.json with one Executor re-runs exactly what a changed param feeds."""

from __future__ import annotations

import pytest

from nodeflow import Executor, Folders, Workflow, default_registry

from .conftest import WORKFLOWS

BASE = {"model": "model", "seed": 1, "steps": 2, "prompt": "a dog", "negative_prompt": "", "guidance_scale": 3.0}
AFTER_SAMPLING = {"denoise", "decode", "save"}


@pytest.fixture
def executor(tiny_sd, tmp_path) -> Executor:
    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp", models=[tiny_sd.parent])
    executor = Executor(default_registry(), device="cpu", folders=folders)
    first = executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params=BASE)
    assert first.ok and "model" in first.executed
    return executor


def _rerun(executor: Executor, **changes) -> set[str]:
    report = executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params={**BASE, **changes})
    assert report.ok, report.failures
    return set(report.executed)


def test_unchanged_rerun_executes_nothing(executor):
    assert _rerun(executor) == set()


def test_seed_change_reruns_noise_and_what_follows_only(executor):
    assert _rerun(executor, seed=2) == {"noise", *AFTER_SAMPLING}


def test_prompt_change_reencodes_that_prompt_without_reloading_the_model(executor):
    assert _rerun(executor, prompt="a wolf") == {"tokenize_positive", "encode_positive", *AFTER_SAMPLING}


def test_scheduler_change_keeps_text_and_noise(executor):
    assert _rerun(executor, scheduler="ddim") == {"scheduler", *AFTER_SAMPLING}
