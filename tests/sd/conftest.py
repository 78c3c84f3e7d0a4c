"""Fixtures for the Stable Diffusion tests: one tiny random model per session, and its diffusers pipelines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import pipeline_support

WORKFLOWS = pipeline_support.WORKFLOWS
# The parity tests compare both sides on this device: "cpu" (default, CI) or "cuda" on a GPU machine.
DEVICE = os.environ.get("NODEFLOW_TEST_DEVICE", "cpu")


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    from tiny_models.sd import make_tiny_sd

    return make_tiny_sd(tmp_path_factory.mktemp("tiny_sd") / "model")


@pytest.fixture(scope="session")
def sd_components(tiny_sd) -> dict[str, Any]:
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pretrained(tiny_sd).components


def make_pipeline(pipeline_class: type, components: dict[str, Any], scheduler_class: str | None = None,
                  **overrides: Any) -> Any:
    """A diffusers pipeline over the session's components, with a fresh scheduler swapped in the documented way.

    Fresh every time because scheduler instances keep state between calls: `add_noise` (img2img) moves
    `alphas_cumprod` to the latents' device for good, which changes PNDM's later arithmetic on CUDA.
    """
    import diffusers

    pipeline = pipeline_class(**components)
    # Assigned after construction, as users swap schedulers: the constructor would also patch the config
    # (e.g. force DDIM's clip_sample off), which `pipe.scheduler = X.from_config(...)` does not.
    cls = getattr(diffusers, scheduler_class) if scheduler_class else type(pipeline.scheduler)
    pipeline.scheduler = cls.from_config(pipeline.scheduler.config, **overrides)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(DEVICE)


def run_workflow(name: str, output: Path, *extra: str, **params: Any) -> np.ndarray:
    """Run workflows/<name>.json in-process through the CLI on DEVICE; the pixels of the one PNG it wrote."""
    [image] = pipeline_support.run_workflow(name, output, *extra, device=DEVICE, **params)
    return image


def read_single_png(folder: Path) -> np.ndarray:
    [image] = pipeline_support.read_pngs(folder)
    return image


def assert_same_pixels(ours: np.ndarray, theirs: Any) -> None:
    pipeline_support.assert_same_images([ours], [theirs])
