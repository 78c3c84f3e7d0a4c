"""The canny preprocessor and the apply node, without running a model."""

from __future__ import annotations

import pytest
import torch

from nodes.controlnet import apply_controlnet, apply_controlnet_sdxl, prepare_controls
from nodes.preprocessors import canny
from nodes.types import Conditioning, ControlNet, Image, SDXLConditioning

CONFIG = {"conditioning_embedding_out_channels": [8, 16]}
SDXL_CONFIG = {**CONFIG, "addition_embed_type": "text_time"}


def _square(level: float = 1.0) -> Image:
    pixels = torch.zeros(1, 3, 20, 20)
    pixels[:, :, 5:15, 5:15] = level
    return Image(pixels)


def test_canny_outlines_a_square_with_a_closed_one_pixel_edge():
    edges = canny(_square()).pixels[0]
    assert edges.shape == (3, 20, 20) and set(edges.unique().tolist()) == {0.0, 1.0}
    mask = edges[0].bool()
    assert mask[4:16, 4:16].sum() == mask.sum()  # all around the square's border, nowhere else
    assert mask[10].sum() == 2 and mask[:, 10].sum() == 2  # one pixel on each side


def test_canny_thresholds_drop_faint_edges():
    faint = _square(0.1)  # a step of 26 grey levels
    assert canny(faint, 100, 200).pixels.sum() == 0
    assert canny(faint, 10, 20).pixels.sum() > 0


def test_canny_refuses_a_low_threshold_above_the_high_one():
    with pytest.raises(ValueError, match="low_threshold"):
        canny(_square(), 200, 100)


def test_apply_adds_the_control_to_both_conditionings_and_stacks():
    positive, negative = Conditioning(torch.zeros(1, 2, 4)), Conditioning(torch.ones(1, 2, 4))
    first, second = ControlNet(None, "a", config=CONFIG), ControlNet(None, "b", config=CONFIG)
    once = apply_controlnet(positive, negative, first, _square(), scale=0.5, start=0.1, end=0.9)
    twice = apply_controlnet(once.positive, once.negative, second, _square())
    assert [c.controlnet for c in twice.positive.controls] == [first, second]
    assert twice.negative.controls == twice.positive.controls
    assert (twice.positive.controls[0].scale, twice.positive.controls[0].start) == (0.5, 0.1)
    assert positive.controls == () and twice.negative.embeds is negative.embeds


def test_apply_refuses_an_empty_window():
    conditioning = Conditioning(torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="start"):
        apply_controlnet(conditioning, conditioning, ControlNet(None, config=CONFIG), _square(), start=0.5, end=0.5)


def test_a_negative_without_the_positives_controlnets_is_refused_under_guidance():
    plain = Conditioning(torch.zeros(1, 2, 4))
    controlled = apply_controlnet(plain, plain, ControlNet(None, dtype=torch.float32, config=CONFIG), _square())
    with pytest.raises(ValueError, match="same Apply ControlNet"):
        prepare_controls(controlled.positive, plain, True, torch.zeros(1, 4, 8, 8))
    [prepared] = prepare_controls(controlled.positive, plain, False, torch.zeros(1, 4, 8, 8))
    assert prepared.image.shape == (1, 3, 16, 16)


def test_the_sdxl_apply_adds_an_sdxl_controlnet_to_both_sdxl_conditionings():
    positive, negative = SDXLConditioning(torch.zeros(1, 2, 4), torch.zeros(1, 4)), SDXLConditioning(None, None)
    controlnet = ControlNet(None, "xl", config=SDXL_CONFIG)
    applied = apply_controlnet_sdxl(positive, negative, controlnet, _square(), scale=0.5, start=0.1, end=0.9)
    assert isinstance(applied.positive, SDXLConditioning) and applied.positive.pooled is positive.pooled
    assert [c.controlnet for c in applied.negative.controls] == [controlnet] == [c.controlnet for c in
                                                                                 applied.positive.controls]


def test_an_sd_controlnet_is_refused_for_sdxl_and_an_sdxl_one_for_sd():
    sdxl_conditioning, sd_conditioning = SDXLConditioning(None, None), Conditioning(None)
    with pytest.raises(ValueError, match=r"'sd-cn' is a ControlNet for SD: apply it with Apply ControlNet \(SD\)$"):
        apply_controlnet_sdxl(sdxl_conditioning, sdxl_conditioning, ControlNet(None, "sd-cn", config=CONFIG),
                              _square())
    with pytest.raises(ValueError, match=r"'xl-cn' is a ControlNet for SDXL: apply it with Apply ControlNet \(SDXL\)"):
        apply_controlnet(sd_conditioning, sd_conditioning, ControlNet(None, "xl-cn", config=SDXL_CONFIG), _square())
