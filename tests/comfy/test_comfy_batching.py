"""ComfyUI's default workflow queued with other prompts and seeds runs as one batch (the KSampler and the VAE
decode once for all), each image equal to its solo run (≤ 1/255: the CPU's kernels for a batch of 3 sum in
other orders than for a batch of 1, as in tests/sd/test_sd_batching.py)."""

from __future__ import annotations

import json

import pytest
import torch

from nodeflow import default_registry
from nodeflow.comfy_formats import load_any
from nodes.comfy_types import CONDITIONING, IMAGE, LATENT, ConditioningEntry
from tests.batch_support import batched_and_solo, largest_difference

from .conftest import API_FILE

PROMPTS = [("a red house", 11), ("a blue boat", 12), ("a green tree", 13)]


def _prompts(sampler: dict) -> list:
    """The default workflow (256×256, 4 steps) once per prompt and seed, with `sampler`'s inputs on its sampler."""
    runs = []
    for text, seed in PROMPTS:
        api = json.loads(API_FILE.read_text())
        api["5"]["inputs"].update(width=256, height=256)
        api["6"]["inputs"]["text"] = text
        api["3"]["inputs"].update(seed=seed, steps=4, **sampler)
        if api["3"]["class_type"] != sampler.get("class_type", "KSampler"):
            inputs = api["3"]["inputs"]
            api["3"] = {"class_type": sampler["class_type"],
                        "inputs": {**{k: v for k, v in inputs.items() if k not in ("seed", "denoise", "class_type")},
                                   "noise_seed": seed, "add_noise": "enable", "start_at_step": 0,
                                   "end_at_step": 10000, "return_with_leftover_noise": "disable"}}
        runs.append(load_any(api, default_registry()).workflow)
    return runs


@pytest.mark.parametrize("sampler", [
    {"sampler_name": "euler_ancestral", "cfg": 8.0},
    {"sampler_name": "euler_ancestral", "cfg": 1.0},
    {"sampler_name": "euler", "cfg": 6.0, "class_type": "KSamplerAdvanced"},
], ids=["ancestral-cfg", "ancestral-no-guidance", "advanced"])
def test_default_workflow_batched_equals_solo(comfy_user, tmp_path, monkeypatch, sampler):
    batched, solo, batch_sizes = batched_and_solo(tmp_path, _prompts(sampler), monkeypatch, ("8", "IMAGE"),
                                                  models=comfy_user / "models")
    assert batch_sizes == [3, 3]  # KSampler and VAEDecode
    assert largest_difference(batched, solo) <= 1
    assert len({image.tobytes() for image in batched}) == 3


def test_only_whole_single_prompts_and_single_latents_stack_and_parts_keep_their_type():
    def entry(**fields):
        return CONDITIONING((ConditioningEntry(torch.zeros(1, 77, 8), **fields),))

    assert CONDITIONING.stacked([entry(), entry()]).entries[0].embeds.shape == (2, 77, 8)
    assert CONDITIONING.stacked([entry(), entry(area=(8, 8, 0, 0))]) is None
    assert CONDITIONING.stacked([entry(), CONDITIONING(entry().entries * 2)]) is None  # Conditioning Combine
    assert CONDITIONING.stacked([entry(), entry(controls=("a control",))]) is None
    mask = torch.ones(1, 1, 4, 4)
    stacked = LATENT.stacked([LATENT(torch.zeros(1, 4, 4, 4), None, mask), LATENT(torch.ones(1, 4, 4, 4), None, mask)])
    assert [part.noise_mask.shape for part in stacked.unstacked(2)] == [(1, 1, 4, 4)] * 2
    assert LATENT.stacked([LATENT(torch.zeros(1, 4, 4, 4), None, mask), LATENT(torch.zeros(1, 4, 4, 4))]) is None
    assert LATENT.stacked([LATENT(torch.zeros(2, 4, 4, 4)), LATENT(torch.zeros(2, 4, 4, 4))]) is None
    assert {type(part) for part in IMAGE.stacked([IMAGE(torch.zeros(1, 3, 4, 4))] * 2).unstacked(2)} == {IMAGE}
