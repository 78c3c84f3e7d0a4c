"""DiT prompts run as one denoise batch give each the image of its solo run (≤ 1/255: the batch's kernels sum
in another order; see tests/sd/test_sd_batching.py). Each label's noise comes from its own prompt's seed. A
compiled transformer (`compile`) gives the image of the plain one."""

from __future__ import annotations

import json

import pytest

from nodeflow import Workflow
from tests.batch_support import batched_and_solo, largest_difference, solo_image, workflows
from tests.pipeline_support import WORKFLOWS

PROMPTS = [{"class_labels": 1, "seed": 1}, {"class_labels": 2, "seed": 2},
           {"class_labels": 1, "seed": 3}]


@pytest.fixture(scope="module")
def tiny_dit(tmp_path_factory):
    from tiny_models.dit import save_tiny_dit

    return save_tiny_dit(tmp_path_factory.mktemp("tiny_dit") / "model")


@pytest.mark.parametrize("guidance", [1.0, 4.0], ids=["no-guidance", "cfg"])
def test_dit_batched_equals_solo(tiny_dit, tmp_path, monkeypatch, guidance):
    runs = workflows("dit_class_to_image", PROMPTS, model=str(tiny_dit), steps=4, guidance_scale=guidance)
    batched, solo, batch_sizes = batched_and_solo(tmp_path, runs, monkeypatch)
    assert batch_sizes == [3, 3]  # the denoise and VAE decode nodes ran once for the three prompts
    assert largest_difference(batched, solo) <= 1
    assert len({image.tobytes() for image in batched}) == 3


def test_a_compiled_transformer_gives_the_same_image(tiny_dit, tmp_path):
    from torch._dynamo.utils import counters

    data = json.loads((WORKFLOWS / "dit_class_to_image.json").read_text())
    data["nodes"]["model"]["inputs"]["compile"] = True
    compiled = Workflow.from_dict(data).with_params({"model": str(tiny_dit), "steps": 3, "class_labels": 1})
    [plain] = workflows("dit_class_to_image", [{"class_labels": 1}], model=str(tiny_dit), steps=3)
    graphs = counters["stats"]["unique_graphs"]
    ours = solo_image(tmp_path / "compiled", compiled)
    assert counters["stats"]["unique_graphs"] > graphs  # it compiled
    assert largest_difference([ours], [solo_image(tmp_path / "plain", plain)]) <= 1
