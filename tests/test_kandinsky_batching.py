"""Kandinsky 2.2 decoder prompts (after the unCLIP prior) run as one denoise batch give each the image of its
solo run (≤ 1/255: the batch's kernels sum in another order; see tests/sd/test_sd_batching.py). Each prompt's
noise comes from its own seed; the prior runs per prompt."""

from __future__ import annotations

import pytest

from tests.batch_support import batched_and_solo, largest_difference, workflows

PROMPTS = [{"prompt": "a red house", "seed": 1}, {"prompt": "a blue boat", "seed": 2},
           {"prompt": "a red house", "seed": 3}]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tiny_models.kandinsky import save_tiny_decoder, save_tiny_prior

    root = tmp_path_factory.mktemp("tiny_kandinsky")
    return {"prior_model": str(save_tiny_prior(root / "prior")),
            "decoder_model": str(save_tiny_decoder(root / "decoder"))}


@pytest.mark.parametrize("guidance", [1.0, 4.0], ids=["no-guidance", "cfg"])
def test_kandinsky_batched_equals_solo(models, tmp_path, monkeypatch, guidance):
    runs = workflows("unclip_prior_decoder", PROMPTS, **models, steps=4, prior_steps=4, guidance_scale=guidance,
                     width=64, height=64)
    batched, solo, batch_sizes = batched_and_solo(tmp_path, runs, monkeypatch)
    assert batch_sizes == [3]  # the decoder's denoise ran once for the three prompts
    assert largest_difference(batched, solo) <= 1
    assert len({image.tobytes() for image in batched}) == 3
