"""Fixtures for the LoRA tests: the tiny SD model of tests/sd, the tiny SDXL base and refiner of tests/sdxl, and tiny
LoRA files for each, in both layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sd.conftest import sd_components, tiny_sd  # noqa: F401  (fixtures)
from tests.sdxl.conftest import tiny_sdxl, tiny_sdxl_refiner  # noqa: F401  (fixtures)


def _three_loras(model: Path, folder: Path) -> dict[str, Path]:
    from tiny_models.lora import write_tiny_lora

    return {"first": write_tiny_lora(model, folder / "first.safetensors", seed=1),
            "second": write_tiny_lora(model, folder / "second.safetensors", seed=2),
            "kohya": write_tiny_lora(model, folder / "kohya.safetensors", seed=3, layout="kohya")}


@pytest.fixture(scope="session")
def loras(tiny_sd, tmp_path_factory) -> dict[str, Path]:  # noqa: F811
    """Three different LoRAs of the tiny model: `first` and `second` in the diffusers layout, `kohya` in kohya's."""
    return _three_loras(tiny_sd, tmp_path_factory.mktemp("loras"))


@pytest.fixture(scope="session")
def sdxl_loras(tiny_sdxl, tmp_path_factory) -> dict[str, Path]:  # noqa: F811
    """The same three for the tiny SDXL base (UNet and both text encoders)."""
    return _three_loras(tiny_sdxl, tmp_path_factory.mktemp("sdxl_loras"))


@pytest.fixture(scope="session")
def refiner_lora(tiny_sdxl_refiner, tmp_path_factory) -> Path:  # noqa: F811
    """A LoRA of the tiny SDXL refiner: its UNet and its one (second) text encoder."""
    from tiny_models.lora import write_tiny_lora

    return write_tiny_lora(tiny_sdxl_refiner, tmp_path_factory.mktemp("refiner_lora") / "refiner.safetensors", seed=4)
