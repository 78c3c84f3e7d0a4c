"""DiT prompts run as one denoise batch give each the image of its solo run (≤ 1/255: the batch's kernels sum
in another order; see tests/sd/test_sd_batching.py). Each label's noise comes from its own prompt's seed."""

from __future__ import annotations

import pytest

from tests.batch_support import batched_and_solo, largest_difference, workflows

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
