"""Fixtures for the ControlNet tests: the tiny SD model of tests/sd and two tiny ControlNets shaped for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sd.conftest import sd_components, tiny_sd  # noqa: F401 (fixtures shared with the SD tests)


@pytest.fixture(scope="session")
def tiny_controlnets(tiny_sd, tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny ControlNets with different random weights, in one models folder."""
    from tiny_models.controlnet import make_tiny_controlnet

    folder = tmp_path_factory.mktemp("controlnets")
    return tuple(make_tiny_controlnet(folder / f"controlnet_{seed}", seed, tiny_sd) for seed in (1, 2))
