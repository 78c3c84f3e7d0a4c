"""`sd.load_model`'s `compile` option: the UNet compiled with torch.compile (inductor, here on the CPU) gives the
image of the plain UNet, and a second prompt does not compile it again. (Its speed is for a GPU to show.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodeflow import Executor, Folders, Workflow
from nodeflow.registry import default_registry
from nodes.image import to_pil
from tests.pipeline_support import WORKFLOWS

pytestmark = pytest.mark.timeout(600)


def _run(executor: Executor, tiny_sd, seed: int, compile: bool) -> np.ndarray:
    data = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    data["nodes"]["model"]["inputs"]["compile"] = compile
    workflow = Workflow.from_dict(data).with_params({"model": str(tiny_sd), "steps": 3, "seed": seed,
                                                     "guidance_scale": 5.0})
    report = executor.run(workflow)
    assert report.ok, report.failures
    [image] = to_pil(report.value("decode", "image"))
    return np.asarray(image).astype(int)


def _executor(tmp_path, name: str) -> Executor:
    return Executor(default_registry(), device="cpu", folders=Folders(output=tmp_path / name, trust_paths=True))


def test_a_compiled_unet_gives_the_same_image_and_compiles_once(tiny_sd, tmp_path):
    from torch._dynamo.utils import counters

    executor = _executor(tmp_path, "compiled")
    first = _run(executor, tiny_sd, seed=1, compile=True)
    graphs = counters["stats"]["unique_graphs"]
    assert graphs > 0  # it compiled
    second = _run(executor, tiny_sd, seed=2, compile=True)
    assert counters["stats"]["unique_graphs"] == graphs  # the second prompt used what the first compiled
    plain = _executor(tmp_path, "plain")
    assert np.abs(first - _run(plain, tiny_sd, seed=1, compile=False)).max() <= 1
    assert np.abs(second - _run(plain, tiny_sd, seed=2, compile=False)).max() <= 1
