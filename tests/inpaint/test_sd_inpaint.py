"""sd_inpaint.json writes the same pixels as StableDiffusionInpaintPipeline, with an inpainting UNet (9 input
channels) and with a plain one (4)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.sd.conftest import WORKFLOWS, assert_same_pixels, make_pipeline, run_workflow

PROMPT = "a red house"
SIDE = 32
SEED, STEPS = 3, 4


@pytest.fixture(scope="module")
def tiny_sd_inpaint(tmp_path_factory) -> Path:
    from tiny_models.sd import make_tiny_sd_inpaint

    return make_tiny_sd_inpaint(tmp_path_factory.mktemp("tiny_sd_inpaint") / "model")


@pytest.fixture(scope="module")
def inpaint_components(tiny_sd_inpaint) -> dict:
    from diffusers import StableDiffusionInpaintPipeline

    return StableDiffusionInpaintPipeline.from_pretrained(tiny_sd_inpaint).components


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    pattern = np.stack([rows * 8, cols * 8, (rows + cols) * 4], axis=-1) % 256
    return Image.fromarray(pattern.astype(np.uint8))


@pytest.fixture(scope="module")
def mask_image() -> Image.Image:
    """White (repaint) in a square off the centre, black elsewhere, with grey levels on both sides of 0.5."""
    mask = np.zeros((SIDE, SIDE), dtype=np.uint8)
    mask[6:22, 10:28] = 255
    mask[22:26, 10:28] = 140
    mask[2:6, 10:28] = 110
    return Image.fromarray(mask, mode="L")


@pytest.fixture
def input_dir(tmp_path, picture, mask_image) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    picture.save(folder / "start.png")
    mask_image.save(folder / "mask.png")
    return folder


def _ours(model: Path, tmp_path: Path, input_dir: Path, **params) -> np.ndarray:
    params = {"image": "start.png", "mask": "mask.png", "prompt": PROMPT, "seed": SEED, "steps": STEPS,
              "guidance_scale": 5.0, "negative_prompt": "grey", **params}
    return run_workflow("sd_inpaint", tmp_path / "out", "--input-dir", str(input_dir), model=model, **params)


def _theirs(components: dict, picture, mask, scheduler: str | None = None, **call) -> Image.Image:
    from diffusers import StableDiffusionInpaintPipeline

    pipeline = make_pipeline(StableDiffusionInpaintPipeline, components, scheduler)
    call = {"num_inference_steps": STEPS, "guidance_scale": 5.0, "negative_prompt": "grey", **call}
    return pipeline(PROMPT, image=picture, mask_image=mask, height=SIDE, width=SIDE,
                    generator=torch.Generator().manual_seed(SEED), **call).images[0]


RUNS = {  # id: (our params, the pipeline's arguments)
    "strength-1-cfg": ({}, {}),
    "strength-0.6": ({"strength": 0.6}, {"strength": 0.6}),
    "no-guidance": ({"guidance_scale": 1.0, "negative_prompt": ""}, {"guidance_scale": 1.0, "negative_prompt": ""}),
    "euler-ancestral": ({"scheduler": "euler_ancestral", "strength": 0.8}, {"strength": 0.8}),
}
SCHEDULER_CLASSES = {"euler_ancestral": "EulerAncestralDiscreteScheduler"}


def _pair(run: str) -> tuple[dict, dict, str | None]:
    ours, theirs = RUNS[run]
    return ours, theirs, SCHEDULER_CLASSES.get(ours.get("scheduler", ""))


@pytest.mark.parametrize("run", ["strength-1-cfg", "strength-0.6", "no-guidance"])
def test_inpainting_unet_equals_pipeline(tiny_sd_inpaint, inpaint_components, tmp_path, input_dir, picture,
                                         mask_image, run):
    ours, call, scheduler = _pair(run)
    mine = _ours(tiny_sd_inpaint, tmp_path, input_dir, **ours)
    assert_same_pixels(mine, _theirs(inpaint_components, picture, mask_image, scheduler, **call))


@pytest.mark.parametrize("run", ["strength-1-cfg", "strength-0.6", "euler-ancestral"])
def test_plain_unet_equals_pipeline(tiny_sd, sd_components, tmp_path, input_dir, picture, mask_image, run):
    ours, call, scheduler = _pair(run)
    mine = _ours(tiny_sd, tmp_path, input_dir, **ours)
    assert_same_pixels(mine, _theirs(sd_components, picture, mask_image, scheduler, **call))


def test_mask_blur_equals_pipeline_with_mask_processor_blur(tiny_sd_inpaint, inpaint_components, tmp_path,
                                                            input_dir, picture, mask_image):
    from diffusers import StableDiffusionInpaintPipeline

    blurred = StableDiffusionInpaintPipeline(**inpaint_components).mask_processor.blur(mask_image, blur_factor=3)
    mine = _ours(tiny_sd_inpaint, tmp_path, input_dir, mask_blur=3)
    assert_same_pixels(mine, _theirs(inpaint_components, picture, blurred))


def test_padding_mask_crop_equals_pipeline(tiny_sd_inpaint, inpaint_components, tmp_path, input_dir, picture,
                                           mask_image):
    mine = _ours(tiny_sd_inpaint, tmp_path, input_dir, padding_mask_crop=2)
    assert_same_pixels(mine, _theirs(inpaint_components, picture, mask_image, padding_mask_crop=2))


def test_inpaint_workflow_defaults_are_the_pipeline_defaults():
    from diffusers import StableDiffusionInpaintPipeline

    nodes = json.loads((WORKFLOWS / "sd_inpaint.json").read_text())["nodes"]
    encode, denoise = nodes["encode_image"]["inputs"], nodes["denoise"]["inputs"]
    defaults = {n: p.default for n, p in inspect.signature(StableDiffusionInpaintPipeline.__call__).parameters.items()}
    assert (denoise["steps"], encode["strength"], denoise["guidance_scale"], encode["padding_mask_crop"] or None) == (
        defaults["num_inference_steps"], defaults["strength"], defaults["guidance_scale"],
        defaults["padding_mask_crop"])
