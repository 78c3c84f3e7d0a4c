"""sdxl_controlnet.json writes the same pixels as StableDiffusionXLControlNetPipeline, with one ControlNet and
with two (MultiControlNet), scales ≠ 1 and start/end windows, the ControlNets reading SDXL's added conditioning
as the UNet does; a window stays a fraction of the whole schedule when the base stops early (denoising_end)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image

from tests import pipeline_support
from tests.sd.conftest import DEVICE, WORKFLOWS

from .conftest import edges, run, with_second_controlnet

PROMPT = "a red house"


def _pipeline(tiny_sdxl: Path, controlnets: list[Path]):
    from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline

    models = [ControlNetModel.from_pretrained(path) for path in controlnets]
    pipeline = StableDiffusionXLControlNetPipeline.from_pretrained(
        tiny_sdxl, controlnet=models if len(models) > 1 else models[0], add_watermarker=False)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(DEVICE)


def _stopping_early(tmp_path: Path, denoising_end: float) -> Path:
    data = json.loads((WORKFLOWS / "sdxl_controlnet.json").read_text())
    data["nodes"]["denoise"]["inputs"]["denoising_end"] = denoising_end
    path = tmp_path / "stopping_early.json"
    path.write_text(json.dumps(data))
    return path


def test_one_controlnet_equals_the_pipeline(tiny_sdxl, tiny_sdxl_controlnets, input_folder, tmp_path):
    first = tiny_sdxl_controlnets[0]
    ours = run(WORKFLOWS / "sdxl_controlnet.json", tmp_path, [tiny_sdxl.parent, first.parent], input_folder,
               model=tiny_sdxl.name, controlnet=first.name, image="start.png", prompt=PROMPT, negative_prompt="grey",
               seed=3, steps=5, guidance_scale=5.0, width=32, height=32, controlnet_conditioning_scale=0.7,
               control_guidance_start=0.2, control_guidance_end=0.8)
    theirs = _pipeline(tiny_sdxl, [first])(
        PROMPT, image=edges(input_folder), negative_prompt="grey", num_inference_steps=5, guidance_scale=5.0,
        width=32, height=32, controlnet_conditioning_scale=0.7, control_guidance_start=0.2,
        control_guidance_end=0.8, generator=torch.Generator().manual_seed(3)).images[0]
    pipeline_support.assert_same_images([ours], [theirs])


def test_two_controlnets_equal_the_multi_controlnet_pipeline(tiny_sdxl, tiny_sdxl_controlnets, input_folder,
                                                             tmp_path):
    first, second = tiny_sdxl_controlnets
    workflow = with_second_controlnet("sdxl_controlnet.json", tmp_path, second.name, scale=1.3, start=0.0, end=0.6)
    ours = run(workflow, tmp_path / "out", [tiny_sdxl.parent, first.parent], input_folder, model=tiny_sdxl.name,
               controlnet=first.name, image="start.png", prompt=PROMPT, negative_prompt="", seed=5, steps=5,
               guidance_scale=4.0, width=32, height=32, controlnet_conditioning_scale=0.5,
               control_guidance_start=0.4)
    with Image.open(input_folder / "start.png") as picture:
        theirs = _pipeline(tiny_sdxl, [first, second])(
            PROMPT, image=[edges(input_folder), picture.convert("RGB")], num_inference_steps=5, guidance_scale=4.0,
            width=32, height=32, controlnet_conditioning_scale=[0.5, 1.3], control_guidance_start=[0.4, 0.0],
            control_guidance_end=[1.0, 0.6], generator=torch.Generator().manual_seed(5)).images[0]
    pipeline_support.assert_same_images([ours], [theirs])


def test_a_window_is_a_fraction_of_the_whole_schedule_when_the_base_stops_early(
        tiny_sdxl, tiny_sdxl_controlnets, input_folder, tmp_path):
    first = tiny_sdxl_controlnets[0]
    ours = run(_stopping_early(tmp_path, 0.6), tmp_path / "out", [tiny_sdxl.parent, first.parent], input_folder,
               model=tiny_sdxl.name, controlnet=first.name, image="start.png", prompt=PROMPT, seed=2, steps=5,
               guidance_scale=1.0, width=32, height=32, control_guidance_start=0.2, control_guidance_end=0.8)
    theirs = _pipeline(tiny_sdxl, [first])(
        PROMPT, image=edges(input_folder), num_inference_steps=5, guidance_scale=1.0, width=32, height=32,
        control_guidance_start=0.2, control_guidance_end=0.8, denoising_end=0.6,
        generator=torch.Generator().manual_seed(2)).images[0]
    pipeline_support.assert_same_images([ours], [theirs])
