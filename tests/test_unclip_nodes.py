"""Image-embedding nodes: mixing two embeddings is the weighted sum KandinskyV22PriorPipeline.interpolate takes."""

from __future__ import annotations

import torch

from nodes.prior import mix_embeds
from nodes.types import ImageEmbeds


def test_mix_is_the_weighted_sum_of_the_two_embeddings():
    first, second = torch.randn(1, 8), torch.randn(1, 8)
    mixed = mix_embeds(ImageEmbeds(first), ImageEmbeds(second), first_weight=0.3, second_weight=0.7).embeds
    assert torch.equal(mixed, torch.stack([first * 0.3, second * 0.7]).sum(dim=0))
    assert torch.allclose(mixed, 0.3 * first + 0.7 * second)


def test_mix_with_all_weight_on_one_side_gives_that_embedding():
    first, second = torch.randn(2, 8), torch.randn(2, 8)
    assert torch.equal(mix_embeds(ImageEmbeds(first), ImageEmbeds(second), 1.0, 0.0).embeds, first)
