"""sdxl_base_refiner.json writes the same pixels as the diffusers base → refiner handoff: StableDiffusionXLPipeline
with denoising_end and output_type="latent", then StableDiffusionXLImg2ImgPipeline with denoising_start."""

from __future__ import annotations

import pytest
import torch

from .conftest import assert_same_pixels, run_workflow, sdxl_pipeline

PROMPT = "a lighthouse at dusk"


def _pipelines_image(base, refiner, seed: int, steps: int, split: float, negative: str | None, scheduler=None):
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline

    generator = torch.Generator().manual_seed(seed)
    latents = sdxl_pipeline(StableDiffusionXLPipeline, base, scheduler)(
        PROMPT, negative_prompt=negative, num_inference_steps=steps, denoising_end=split, output_type="latent",
        generator=generator).images
    return sdxl_pipeline(StableDiffusionXLImg2ImgPipeline, refiner, scheduler)(
        PROMPT, negative_prompt=negative, image=latents, num_inference_steps=steps, denoising_start=split,
        generator=generator).images[0]


@pytest.mark.parametrize("scheduler, diffusers_class", [("default", None),
                                                        ("euler_ancestral", "EulerAncestralDiscreteScheduler")])
def test_base_then_refiner_equals_the_pipelines_handoff(tiny_sdxl, tiny_sdxl_refiner, tmp_path, scheduler,
                                                        diffusers_class):
    ours = run_workflow("sdxl_base_refiner", tmp_path, model=tiny_sdxl, refiner_model=tiny_sdxl_refiner, seed=5,
                        steps=5, denoising_split=0.6, prompt=PROMPT, negative_prompt="fog", scheduler=scheduler,
                        refiner_scheduler=scheduler)
    assert_same_pixels(ours, _pipelines_image(tiny_sdxl, tiny_sdxl_refiner, 5, 5, 0.6, "fog", diffusers_class))


def test_empty_negative_prompt_is_zeros_for_the_base_and_encoded_for_the_refiner(tiny_sdxl, tiny_sdxl_refiner,
                                                                                  tmp_path):
    ours = run_workflow("sdxl_base_refiner", tmp_path, model=tiny_sdxl, refiner_model=tiny_sdxl_refiner, seed=1,
                        steps=4, prompt=PROMPT, negative_prompt="")
    assert_same_pixels(ours, _pipelines_image(tiny_sdxl, tiny_sdxl_refiner, 1, 4, 0.8, None))


def test_a_denoising_end_that_leaves_no_base_step_is_refused(tiny_sdxl, tiny_sdxl_refiner, tmp_path, capsys):
    from nodeflow.cli import main

    from tests.pipeline_support import WORKFLOWS

    args = ["run", str(WORKFLOWS / "sdxl_base_refiner.json"), "--output", str(tmp_path), "--param",
            f"model={tiny_sdxl}", "--param", f"refiner_model={tiny_sdxl_refiner}", "--param", "steps=3", "--param",
            "denoising_split=0.01"]
    assert main(args) != 0
    captured = capsys.readouterr()
    assert "input 'denoising_end': 0.01 leaves none of the 3 steps to run" in captured.out + captured.err
