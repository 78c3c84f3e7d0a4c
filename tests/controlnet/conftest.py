"""Fixtures for the ControlNet tests: the tiny SD and SDXL models of tests/sd and tests/sdxl, tiny ControlNets
shaped for each, a picture to steer with, and running a ControlNet workflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nodes.image import to_pil
from nodes.preprocessors import canny
from nodes.types import Image as ImageValue
from tests import pipeline_support
from tests.sd.conftest import DEVICE, WORKFLOWS, sd_components, tiny_sd  # noqa: F401 (fixtures shared with SD's)
from tests.sdxl.conftest import tiny_sdxl  # noqa: F401 (fixture shared with the SDXL tests)


@pytest.fixture(scope="session")
def tiny_controlnets(tiny_sd, tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny ControlNets with different random weights, in one models folder."""
    from tiny_models.controlnet import make_tiny_controlnet

    folder = tmp_path_factory.mktemp("controlnets")
    return tuple(make_tiny_controlnet(folder / f"controlnet_{seed}", seed, tiny_sd) for seed in (1, 2))


@pytest.fixture(scope="session")
def tiny_sdxl_controlnets(tiny_sdxl, tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny SDXL ControlNets with different random weights, in one models folder."""
    from tiny_models.controlnet import make_tiny_sdxl_controlnet

    folder = tmp_path_factory.mktemp("sdxl_controlnets")
    return tuple(make_tiny_sdxl_controlnet(folder / f"controlnet_{seed}", seed, tiny_sdxl) for seed in (1, 2))


@pytest.fixture(scope="module")
def input_folder(tmp_path_factory) -> Path:
    """An input folder with a 48×48 picture: bigger than the 32×32 image, so that the control image is resized."""
    rows, cols = np.mgrid[0:48, 0:48]
    pattern = np.stack([(rows // 12 + cols // 12) % 2 * 200, cols * 5, rows * 5], axis=-1).astype(np.uint8)
    folder = tmp_path_factory.mktemp("input")
    Image.fromarray(pattern).save(folder / "start.png")
    return folder


def edges(input_folder: Path) -> Image.Image:
    """The canny edges of the input picture, as the workflows' canny node makes them, for the pipelines."""
    from diffusers.image_processor import VaeImageProcessor

    with Image.open(input_folder / "start.png") as picture:
        pixels = VaeImageProcessor.numpy_to_pt(VaeImageProcessor.pil_to_numpy(picture.convert("RGB")))
    [result] = to_pil(canny(ImageValue(pixels), 100, 200))
    return result


def run(workflow: Path, output: Path, models: list[Path], input_folder: Path, **params) -> np.ndarray:
    args = ["run", str(workflow), "--output", str(output), "--device", DEVICE, "--input-dir", str(input_folder)]
    for folder in models:
        args += ["--models-dir", str(folder)]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    assert pipeline_support.nodeflow_main(args) == 0
    [image] = pipeline_support.read_pngs(output)
    return image


def with_second_controlnet(workflow: str, tmp_path: Path, model: str, scale: float, start: float,
                           end: float) -> Path:
    """The shipped workflow with a second ControlNet chained after the first (the same apply node type), on the
    unprocessed image."""
    data = json.loads((WORKFLOWS / workflow).read_text())
    nodes = data["nodes"]
    nodes["controlnet_2"] = {"type": "controlnet.load", "inputs": {"model": model}}
    nodes["apply_controlnet_2"] = {"type": nodes["apply_controlnet"]["type"], "inputs": {
        "positive": {"node": "apply_controlnet", "output": "positive"},
        "negative": {"node": "apply_controlnet", "output": "negative"},
        "controlnet": {"node": "controlnet_2", "output": "controlnet"},
        "image": {"node": "image", "output": "image"}, "scale": scale, "start": start, "end": end}}
    nodes["denoise"]["inputs"]["positive"] = {"node": "apply_controlnet_2", "output": "positive"}
    nodes["denoise"]["inputs"]["negative"] = {"node": "apply_controlnet_2", "output": "negative"}
    path = tmp_path / "two_controlnets.json"
    path.write_text(json.dumps(data))
    return path
