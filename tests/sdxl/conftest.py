"""Fixtures for the SDXL tests: a tiny random base and refiner per session, and fresh diffusers pipelines over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sd.conftest import DEVICE, assert_same_pixels, run_workflow  # noqa: F401  (shared by the SDXL tests)


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory) -> Path:
    from tiny_models.sdxl import make_tiny_sdxl

    return make_tiny_sdxl(tmp_path_factory.mktemp("tiny_sdxl") / "base")


@pytest.fixture(scope="session")
def tiny_sdxl_refiner(tmp_path_factory) -> Path:
    from tiny_models.sdxl import make_tiny_sdxl_refiner

    return make_tiny_sdxl_refiner(tmp_path_factory.mktemp("tiny_sdxl") / "refiner")


def sdxl_pipeline(pipeline_class: type, folder: Path, scheduler_class: str | None = None) -> Any:
    """The diffusers pipeline loaded from `folder`, with a scheduler swapped in the documented way."""
    import diffusers

    pipeline = pipeline_class.from_pretrained(folder, add_watermarker=False)
    if scheduler_class:
        pipeline.scheduler = getattr(diffusers, scheduler_class).from_config(pipeline.scheduler.config)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(DEVICE)
