"""sd_controlnet.json writes the same pixels as StableDiffusionControlNetPipeline, with one ControlNet and with
two (MultiControlNet: residuals summed), scales ≠ 1 and a start/end window."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from tests import pipeline_support
from tests.sd.conftest import WORKFLOWS, make_pipeline

from .conftest import edges, run, with_second_controlnet

PROMPT = "a red house"


def _pipeline(sd_components, controlnet):
    from diffusers import StableDiffusionControlNetPipeline

    return make_pipeline(StableDiffusionControlNetPipeline, {**sd_components, "controlnet": controlnet})


def test_one_controlnet_equals_the_pipeline(tiny_sd, sd_components, tiny_controlnets, input_folder, tmp_path):
    from diffusers import ControlNetModel

    first = tiny_controlnets[0]
    ours = run(WORKFLOWS / "sd_controlnet.json", tmp_path, [tiny_sd.parent, first.parent], input_folder,
               model=tiny_sd.name, controlnet=first.name, image="start.png", prompt=PROMPT, negative_prompt="grey",
               seed=3, steps=5, guidance_scale=5.0, width=32, height=32, controlnet_conditioning_scale=0.7,
               control_guidance_start=0.2, control_guidance_end=0.8)
    pipeline = _pipeline(sd_components, ControlNetModel.from_pretrained(first))
    theirs = pipeline(PROMPT, image=edges(input_folder), negative_prompt="grey", num_inference_steps=5,
                      guidance_scale=5.0, width=32, height=32, controlnet_conditioning_scale=0.7,
                      control_guidance_start=0.2, control_guidance_end=0.8,
                      generator=torch.Generator().manual_seed(3)).images[0]
    pipeline_support.assert_same_images([ours], [theirs])


def test_two_controlnets_equal_the_multi_controlnet_pipeline(tiny_sd, sd_components, tiny_controlnets,
                                                             input_folder, tmp_path):
    from diffusers import ControlNetModel

    first, second = tiny_controlnets
    workflow = with_second_controlnet("sd_controlnet.json", tmp_path, second.name, scale=1.3, start=0.0, end=0.6)
    ours = run(workflow, tmp_path / "out", [tiny_sd.parent, first.parent], input_folder, model=tiny_sd.name,
               controlnet=first.name, image="start.png", prompt=PROMPT, seed=5, steps=5, guidance_scale=1.0,
               width=32, height=32, controlnet_conditioning_scale=0.5, control_guidance_start=0.4)
    pipeline = _pipeline(sd_components, [ControlNetModel.from_pretrained(path) for path in (first, second)])
    with Image.open(input_folder / "start.png") as picture:
        theirs = pipeline(PROMPT, image=[edges(input_folder), picture.convert("RGB")], num_inference_steps=5,
                          guidance_scale=1.0, width=32, height=32, controlnet_conditioning_scale=[0.5, 1.3],
                          control_guidance_start=[0.4, 0.0], control_guidance_end=[1.0, 0.6],
                          generator=torch.Generator().manual_seed(5)).images[0]
    pipeline_support.assert_same_images([ours], [theirs])


def test_the_controlnet_changes_the_image(tiny_sd, tiny_controlnets, input_folder, tmp_path):
    models = [tiny_sd.parent, tiny_controlnets[0].parent]
    common = dict(model=tiny_sd.name, controlnet=tiny_controlnets[0].name, image="start.png", seed=3, steps=3)
    off = run(WORKFLOWS / "sd_controlnet.json", tmp_path / "off", models, input_folder,
              controlnet_conditioning_scale=0.0, **common)
    on = run(WORKFLOWS / "sd_controlnet.json", tmp_path / "on", models, input_folder, **common)
    assert np.abs(on.astype(int) - off.astype(int)).max() > 10


def test_a_single_file_controlnet_loads_the_same_weights(tiny_controlnets, tmp_path):
    from nodeflow import Context, Folders
    from nodeflow.model_service import ModelService
    from nodes.controlnet import load_controlnet, load_controlnet_checkpoint
    from tiny_models.controlnet import write_controlnet_checkpoint

    folder = tiny_controlnets[0]
    write_controlnet_checkpoint(folder, tmp_path / "control_tiny.safetensors")
    ctx = Context("load", "controlnet.load_checkpoint", "cpu", ModelService().on("cpu"),
                  Folders(models=[tmp_path, folder.parent]))
    from_file = load_controlnet_checkpoint(ctx, "control_tiny.safetensors", folder.name).module.state_dict()
    from_folder = load_controlnet(ctx, folder.name).module.state_dict()
    assert from_file.keys() == from_folder.keys()
    assert all(torch.equal(from_file[key], from_folder[key]) for key in from_folder)
