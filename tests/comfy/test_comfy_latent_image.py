"""ComfyUI's latent and image nodes: shapes, values, defaults and names."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

from nodes import comfy_image, comfy_latent
from nodes.comfy_types import IMAGE, LATENT, MASK


def _defaults(function) -> dict:
    return {name: spec.default for name, spec in function.__nodeflow__.inputs.items() if spec.is_widget}


def test_empty_latent_image_is_zeros_at_an_eighth_of_comfyuis_default_size():
    assert _defaults(comfy_latent.empty_latent_image) == {"width": 512, "height": 512, "batch_size": 1}
    latent = comfy_latent.empty_latent_image()
    assert latent.samples.shape == (1, 4, 64, 64) and not latent.samples.any()


def test_latent_upscale_resizes_to_the_image_size_over_eight_and_keeps_the_aspect_for_a_zero_side():
    samples = LATENT(torch.rand(1, 4, 16, 16))
    assert comfy_latent.latent_upscale(samples, "bilinear", 256, 128, "disabled").samples.shape == (1, 4, 16, 32)
    assert comfy_latent.latent_upscale(samples, "nearest-exact", 0, 256, "disabled").samples.shape == (1, 4, 32, 32)
    assert comfy_latent.latent_upscale(samples, width=0, height=0) is samples


def test_latent_upscale_center_crop_cuts_to_the_target_aspect_first():
    samples = LATENT(torch.arange(16.0).reshape(1, 1, 4, 4))
    cropped = comfy_latent.latent_upscale(samples, "nearest-exact", 16, 32, "center").samples
    assert torch.equal(cropped, samples.samples[..., 1:3])


def test_latent_upscale_by_rounds_each_side():
    scaled = comfy_latent.latent_upscale_by(LATENT(torch.rand(1, 4, 10, 16)), "bicubic", 1.5)
    assert scaled.samples.shape == (1, 4, 15, 24)
    assert _defaults(comfy_latent.latent_upscale_by)["scale_by"] == 1.5


def test_bislerp_is_refused_naming_the_node():
    with pytest.raises(ValueError, match="LatentUpscaleBy: input 'upscale_method': 'bislerp'"):
        comfy_latent.latent_upscale_by(LATENT(torch.rand(1, 4, 4, 4)), "bislerp", 2.0)


def test_vae_encode_gives_the_raw_mode_of_the_centre_cropped_pixels(ctx, checkpoint):
    pixels = torch.rand(1, 3, 35, 33)
    latent = comfy_latent.vae_encode(ctx, IMAGE(pixels), checkpoint.vae)
    with torch.no_grad():
        expected = checkpoint.vae.module.encode(pixels[..., :34, :32] * 2 - 1).latent_dist.mode()
    assert torch.equal(latent.samples, expected)


def test_vae_decode_makes_pixels_in_0_1_at_the_vaes_factor(ctx, checkpoint):
    image = comfy_latent.vae_decode(ctx, LATENT(torch.randn(2, 4, 8, 8)), checkpoint.vae)
    assert image.pixels.shape == (2, 3, 16, 16) and 0 <= image.pixels.min() and image.pixels.max() <= 1


def test_encode_for_inpaint_greys_the_masked_pixels_and_grows_the_noise_mask(ctx, checkpoint):
    pixels, mask = torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32)
    mask[..., 10, 10] = 1.0
    latent = comfy_latent.vae_encode_for_inpaint(ctx, IMAGE(pixels), checkpoint.vae, MASK(mask))
    grown = latent.noise_mask[0, 0]
    assert grown.sum() == 36 and torch.equal(grown[8:14, 8:14], torch.ones(6, 6))
    greyed = pixels.clone()
    greyed[..., 10, 10] = 0.5
    assert torch.equal(latent.samples, comfy_latent.vae_encode(ctx, IMAGE(greyed), checkpoint.vae).samples)


def test_set_latent_noise_mask_attaches_the_mask():
    mask = torch.rand(1, 32, 32)
    latent = comfy_latent.set_latent_noise_mask(LATENT(torch.rand(1, 4, 4, 4)), MASK(mask))
    assert torch.equal(latent.noise_mask, mask.reshape(1, 1, 32, 32))


def test_save_image_writes_numbered_pngs_after_comfyuis_prefix_and_shows_them(ctx):
    assert _defaults(comfy_image.save_image) == {"filename_prefix": "ComfyUI"}
    comfy_image.save_image(ctx, IMAGE(torch.rand(2, 3, 8, 8)))
    assert sorted(p.name for p in ctx.folders.output.glob("*.png")) == ["ComfyUI_00001_.png", "ComfyUI_00002_.png"]
    assert [shown["type"] for shown in ctx.ui["images"]] == ["output", "output"]


def test_preview_image_writes_to_the_temp_folder(ctx):
    comfy_image.preview_image(ctx, IMAGE(torch.rand(1, 3, 8, 8)))
    assert len(list(ctx.folders.temp.glob("*.png"))) == 1 and ctx.ui["images"][0]["type"] == "temp"


def test_load_image_gives_rgb_and_one_minus_alpha_as_the_mask(ctx):
    ctx.folders.input.mkdir(parents=True)
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 255
    rgba[0, 0, 3] = 0
    PILImage.fromarray(rgba, "RGBA").save(ctx.folders.input / "with_alpha.png")
    PILImage.fromarray(rgba[..., :3], "RGB").save(ctx.folders.input / "opaque.png")
    image, mask = comfy_image.load_image(ctx, "with_alpha.png")
    assert image.pixels.shape == (1, 3, 4, 6) and torch.equal(image.pixels[0, 0], torch.ones(4, 6))
    assert mask.values.shape == (1, 1, 4, 6) and mask.values.sum() == 1 and mask.values[0, 0, 0, 0] == 1
    assert comfy_image.load_image.__nodeflow__.output_names == ("IMAGE", "MASK")
    _, no_alpha = comfy_image.load_image(ctx, "opaque.png")
    assert no_alpha.values.shape == (1, 1, 64, 64) and not no_alpha.values.any()


def test_image_scale_keeps_the_aspect_for_a_zero_side():
    image = IMAGE(torch.rand(1, 3, 20, 40))
    assert comfy_image.image_scale(image, "bilinear", 0, 10, "disabled").pixels.shape == (1, 3, 10, 20)
    assert comfy_image.image_scale(image, "lanczos", 30, 30, "center").pixels.shape == (1, 3, 30, 30)


def test_image_scale_by_and_to_total_pixels():
    image = IMAGE(torch.rand(1, 3, 16, 32))
    assert comfy_image.image_scale_by(image, "area", 0.5).pixels.shape == (1, 3, 8, 16)
    scaled = comfy_image.image_scale_to_total_pixels(image, "bicubic", 0.5)
    height, width = scaled.pixels.shape[-2:]
    assert (height, width) == (512, 1024) and 0 <= scaled.pixels.min() and scaled.pixels.max() <= 1


def test_controlnet_apply_advanced_adds_the_control_to_every_entry_of_both_sides(ctx, checkpoint):
    from nodes.comfy_conditioning import clip_text_encode, conditioning_combine

    cat = clip_text_encode(ctx, "a cat", checkpoint.clip)
    positive, negative = conditioning_combine(cat, cat), clip_text_encode(ctx, "", checkpoint.clip)
    image = IMAGE(torch.rand(1, 3, 32, 32))
    controlled = comfy_image.controlnet_apply_advanced(positive, negative, "a controlnet", image, 0.7, 0.1, 0.9)
    controls = [entry.controls for side in controlled for entry in side.entries]
    assert len(controls) == 3 and all(len(c) == 1 and c[0] is controls[0][0] for c in controls)
    assert (controls[0][0].scale, controls[0][0].start, controls[0][0].end) == (0.7, 0.1, 0.9)
    assert comfy_image.controlnet_apply_advanced.__nodeflow__.output_names == ("positive", "negative")
    with pytest.raises(ValueError, match="start_percent"):
        comfy_image.controlnet_apply_advanced(positive, negative, "a controlnet", image, 1.0, 0.5, 0.5)
