"""Nodes reach a module only through `ctx.models.use`: with every module dropped between two runs (the loaders'
handles still cached), each shipped family runs again; a node that read `handle.module` itself would see None."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow import Executor, Folders, Workflow, default_registry
from tests.pipeline_support import WORKFLOWS
from tiny_models import demo

SMALL = {"steps": 2}
RUNS = {
    "sd_txt2img.json": {"model": demo.SD.name, **SMALL},
    "dit_class_to_image.json": {"model": demo.DIT.name, **SMALL},
    "unclip_prior_decoder.json": {"prior_model": demo.PRIOR.name, "decoder_model": demo.DECODER.name,
                                  "width": 64, "height": 64, "prior_steps": 2, **SMALL},
    "vq_diffusion.json": {"model": demo.VQ.name, **SMALL},
}
AGAIN = {"dit_class_to_image.json": {"class_labels": 5, "seed": 1}}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for _ in demo.ensure_models(demo.chosen("all"), folder):
        pass
    return folder


@pytest.mark.parametrize("workflow", list(RUNS))
def test_a_family_runs_again_after_its_modules_were_dropped(models_dir, tmp_path, workflow):
    folders = Folders(output=tmp_path / "output", input=tmp_path / "input", models=[models_dir])
    executor = Executor(default_registry(), device="cpu", folders=folders)
    loaded = Workflow.load(WORKFLOWS / workflow)
    assert executor.run(loaded, params=RUNS[workflow]).ok
    assert executor.models.unload() > 0
    changed = AGAIN.get(workflow, {"prompt": "something else", "seed": 1})
    report = executor.run(loaded, params={**RUNS[workflow], **changed})
    assert report.ok, report.failures[0].traceback if report.failures else ""
    assert executor.models.recipe_keys()
