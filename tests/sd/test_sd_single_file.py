"""A single-file original-layout checkpoint plus the local diffusers config folder renders the same image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nodeflow import Context, Executor, Folders, Workflow, default_registry
from nodeflow.model_service import ModelService
from nodes import sd as sd_nodes

from .conftest import DEVICE, WORKFLOWS, assert_same_pixels, make_pipeline, read_single_png


@pytest.fixture(scope="module")
def checkpoint(tiny_sd, tmp_path_factory):
    from tiny_models.sd_single_file import write_single_file_checkpoint

    return write_single_file_checkpoint(tiny_sd, tmp_path_factory.mktemp("checkpoints") / "tiny_sd.safetensors")


def test_single_file_checkpoint_renders_the_pipeline_image(tiny_sd, sd_components, checkpoint, tmp_path):
    from diffusers import StableDiffusionPipeline

    data = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    data["nodes"]["model"] = {"type": "sd.load_checkpoint",
                              "inputs": {"checkpoint": checkpoint.name, "config": tiny_sd.name}}
    del data["params"]["model"]
    folders = Folders(output=tmp_path, models=[checkpoint.parent, tiny_sd.parent])
    executor = Executor(default_registry(), device=DEVICE, folders=folders)
    params = {"seed": 6, "steps": 3, "prompt": "a tree", "negative_prompt": "snow", "guidance_scale": 4.0}
    report = executor.run(Workflow.from_dict(data), params=params)
    assert report.ok, report.failures
    pipeline = make_pipeline(StableDiffusionPipeline, sd_components)
    theirs = pipeline("a tree", negative_prompt="snow", num_inference_steps=3, guidance_scale=4.0,
                      generator=torch.Generator().manual_seed(6)).images[0]
    assert_same_pixels(read_single_png(tmp_path), np.asarray(theirs))


def test_checkpoint_that_is_not_safetensors_is_refused(tiny_sd, tmp_path):
    (tmp_path / "model.ckpt").write_bytes(b"not read")
    folders = Folders(models=[tmp_path, tiny_sd.parent])
    ctx = Context("load", "sd.load_checkpoint", "cpu", ModelService().on("cpu"), folders)
    with pytest.raises(ValueError, match="not a .safetensors file"):
        sd_nodes.load_checkpoint(ctx, "model.ckpt", tiny_sd.name)
