"""Guidance variants follow the pipeline: guidance rescale, and UNets that take the guidance scale as input (LCM)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nodeflow import Executor, Folders, Workflow, default_registry

from .conftest import DEVICE, WORKFLOWS, assert_same_pixels, make_pipeline, read_single_png

PROMPT = "a bird"


def _run_txt2img(model_folder, output, denoise_inputs: dict, **params) -> np.ndarray:
    data = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    data["nodes"]["denoise"]["inputs"].update(denoise_inputs)
    folders = Folders(output=output, models=[model_folder.parent])
    report = Executor(default_registry(), device=DEVICE, folders=folders).run(
        Workflow.from_dict(data), params={"model": model_folder.name, "prompt": PROMPT, **params})
    assert report.ok, report.failures
    return read_single_png(output)


def test_guidance_rescale_equals_pipeline(tiny_sd, sd_components, tmp_path):
    from diffusers import StableDiffusionPipeline

    ours = _run_txt2img(tiny_sd, tmp_path, {"guidance_rescale": 0.7}, seed=3, steps=3, guidance_scale=8.0,
                        negative_prompt="rain")
    pipeline = make_pipeline(StableDiffusionPipeline, sd_components)
    theirs = pipeline(PROMPT, negative_prompt="rain", num_inference_steps=3, guidance_scale=8.0, guidance_rescale=0.7,
                      generator=torch.Generator().manual_seed(3)).images[0]
    assert_same_pixels(ours, theirs)
    plain = _run_txt2img(tiny_sd, tmp_path / "plain", {}, seed=3, steps=3, guidance_scale=8.0, negative_prompt="rain")
    assert not np.array_equal(ours, plain)


@pytest.fixture(scope="module")
def tiny_lcm_sd(tmp_path_factory):
    from tiny_models.sd import make_tiny_sd

    return make_tiny_sd(tmp_path_factory.mktemp("tiny_lcm") / "lcm_model", time_cond_proj_dim=8)


def test_guidance_distilled_unet_gets_the_scale_embedding_and_no_cfg_batch(tiny_lcm_sd, tmp_path):
    from diffusers import LCMScheduler, StableDiffusionPipeline

    ours = _run_txt2img(tiny_lcm_sd, tmp_path, {}, seed=8, steps=2, guidance_scale=6.0, scheduler="lcm")
    pipeline = StableDiffusionPipeline.from_pretrained(tiny_lcm_sd)
    pipeline.set_progress_bar_config(disable=True)
    pipeline.scheduler = LCMScheduler.from_config(pipeline.scheduler.config)
    pipeline.to(DEVICE)
    theirs = pipeline(PROMPT, num_inference_steps=2, guidance_scale=6.0,
                      generator=torch.Generator().manual_seed(8)).images[0]
    assert_same_pixels(ours, theirs)
