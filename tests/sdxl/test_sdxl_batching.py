"""SDXL prompts run as one denoise batch give each the image of its solo run (≤ 1/255: the CPU's kernels for a
batch of 3 sum in other orders than for a batch of 1, as in tests/sd/test_sd_batching.py)."""

from __future__ import annotations

import pytest

from nodes.types import SDXLConditioning
from tests.batch_support import batched_and_solo, img2img_batch_difference, largest_difference, workflows

PROMPTS = [{"prompt": "a red house", "negative_prompt": "rain", "seed": 11},
           {"prompt": "a blue boat", "negative_prompt": "fog", "seed": 12},
           {"prompt": "a green tree", "negative_prompt": "snow", "seed": 13}]


@pytest.mark.parametrize("guidance", [1.0, 5.0], ids=["no-guidance", "cfg"])
def test_txt2img_batched_equals_solo(tiny_sdxl, tmp_path, monkeypatch, guidance):
    runs = workflows("sdxl_txt2img", PROMPTS, model=str(tiny_sdxl), steps=4, scheduler="euler_ancestral",
                     guidance_scale=guidance)
    batched, solo, batch_sizes = batched_and_solo(tmp_path, runs, monkeypatch)
    assert batch_sizes == [3, 3]  # the denoise and VAE decode nodes ran once for the three prompts
    assert largest_difference(batched, solo) <= 1
    assert len({image.tobytes() for image in batched}) == 3


def test_base_then_refiner_batched_equals_solo(tiny_sdxl, tiny_sdxl_refiner, tmp_path, monkeypatch):
    runs = workflows("sdxl_base_refiner", PROMPTS, model=str(tiny_sdxl), refiner_model=str(tiny_sdxl_refiner),
                     steps=5, denoising_split=0.6, scheduler="euler_ancestral", refiner_scheduler="euler_ancestral")
    batched, solo, batch_sizes = batched_and_solo(tmp_path, runs, monkeypatch)
    assert batch_sizes == [3, 3, 3]  # base, refiner and decode
    assert largest_difference(batched, solo) <= 1


def test_img2img_batched_equals_solo(tiny_sdxl, tmp_path, monkeypatch):
    assert img2img_batch_difference(tmp_path, monkeypatch, "sdxl_img2img", PROMPTS, model=str(tiny_sdxl), steps=4,
                                    scheduler="euler_ancestral", guidance_scale=5.0, strength=0.6) <= 1


def test_conditionings_that_differ_beyond_their_embeddings_do_not_stack():
    import torch

    def conditioning(**fields):
        return SDXLConditioning(torch.zeros(1, 4, 8), torch.zeros(1, 8), **fields)

    assert SDXLConditioning.stacked([conditioning(), conditioning()]).embeds.shape == (2, 4, 8)
    assert SDXLConditioning.stacked([conditioning(), conditioning(empty_prompt=True)]) is None  # zeros for one only
    assert SDXLConditioning.stacked([conditioning(), conditioning(original_size=(64, 64))]) is None
    assert SDXLConditioning.stacked([conditioning(), conditioning(controls=("a control",))]) is None
