"""Helpers for the parity tests of every shipped workflow: run it through the CLI in-process, read the PNGs it
wrote, compare them with a diffusers pipeline's PIL images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nodeflow.cli import main as nodeflow_main

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


def run_workflow(name: str, output: Path, *extra: str, device: str = "cpu", **params: Any) -> list[np.ndarray]:
    """Run workflows/<name>.json via `nodeflow run … --param k=v [extra…]`; the pixels of its PNGs, in order."""
    args = ["run", str(WORKFLOWS / f"{name}.json"), "--output", str(output), "--device", device]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    assert nodeflow_main([*args, *extra]) == 0
    return read_pngs(output)


def read_pngs(folder: Path) -> list[np.ndarray]:
    from PIL import Image

    pngs = sorted(folder.glob("*.png"))
    assert pngs, f"no PNG written to {folder}"
    arrays = []
    for png in pngs:
        with Image.open(png) as image:
            arrays.append(np.asarray(image.convert("RGB")))
    return arrays


def assert_same_images(ours: list[np.ndarray], theirs: list[Any]) -> None:
    """Bit-equal pixels, image for image; a flat image would prove nothing, so it fails too."""
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        reference = np.asarray(reference)
        assert mine.shape == reference.shape
        assert mine.std() > 1.0, "a flat image proves nothing"
        delta = np.abs(mine.astype(int) - reference.astype(int)).max()
        assert delta == 0, f"max |Δ| = {delta}"


def assert_same_weights(ours: Any, theirs: Any) -> None:
    """Two torch modules hold the same parameters and buffers, bit for bit, under the same names."""
    import torch

    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert ours_state.keys() == theirs_state.keys()
    assert all(torch.equal(ours_state[key], theirs_state[key]) for key in theirs_state)


def assert_img2img_defaults(workflow: str, pipeline_class: Any) -> None:
    """The workflow's denoise steps, strength and guidance are the pipeline's defaults."""
    import inspect
    import json

    denoise = json.loads((WORKFLOWS / f"{workflow}.json").read_text())["nodes"]["denoise"]["inputs"]
    defaults = {n: p.default for n, p in inspect.signature(pipeline_class.__call__).parameters.items()}
    assert (denoise["steps"], denoise["strength"], denoise["guidance_scale"]) == (
        defaults["num_inference_steps"], defaults["strength"], defaults["guidance_scale"])


def pattern_image(side: int = 32) -> Any:
    """A deterministic colour pattern, the picture the img2img parity tests start from."""
    from PIL import Image

    rows, cols = np.mgrid[0:side, 0:side]
    pattern = np.stack([rows * 8, cols * 8, (rows + cols) * 4], axis=-1) % 256
    return Image.fromarray(pattern.astype(np.uint8))
