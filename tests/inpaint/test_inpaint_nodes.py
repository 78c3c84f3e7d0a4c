"""Behaviour of the inpainting nodes on their own: reading masks (ComfyUI's alpha convention, the pipeline's
white = repaint) and refusing UNets that cannot inpaint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nodeflow import Context, Folders
from nodeflow.model_service import ModelService
from nodes import inpaint
from nodes.types import Image as ImageValue
from nodes.types import VAE, Mask, UNet


@pytest.fixture
def ctx(tmp_path) -> Context:
    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp", models=[tmp_path],
                      trust_paths=True)
    (tmp_path / "in").mkdir()
    return Context("node", "test.node", "cpu", ModelService().on("cpu"), folders)


def _save(ctx: Context, name: str, picture: Image.Image) -> str:
    picture.save(ctx.folders.input / name)
    return name


def _painted() -> Image.Image:
    """A grey picture whose left half was painted transparent (as the editor's mask painter stores it)."""
    picture = Image.new("RGBA", (4, 2), (200, 200, 200, 255))
    for x in range(2):
        for y in range(2):
            picture.putpixel((x, y), (200, 200, 200, 0))
    return picture


def test_alpha_is_read_as_comfyui_reads_it_transparent_is_repainted(ctx):
    mask = inpaint.load_mask(ctx, _save(ctx, "painted.png", _painted()), channel="alpha")
    assert mask.values.tolist() == [[[[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]]]


def test_auto_reads_the_alpha_of_a_file_that_has_one(ctx):
    mask = inpaint.load_mask(ctx, _save(ctx, "painted.png", _painted()))
    assert mask.values[0, 0, :, :2].eq(1).all() and mask.values[0, 0, :, 2:].eq(0).all()


def test_auto_reads_a_file_without_alpha_by_its_grey_level_white_is_repainted(ctx):
    levels = np.array([[0, 255, 51, 255]], dtype=np.uint8)
    mask = inpaint.load_mask(ctx, _save(ctx, "mask.png", Image.fromarray(levels, mode="L").convert("RGB")))
    assert (mask.values * 255).round().tolist() == [[[[0.0, 255.0, 51.0, 255.0]]]]


def test_a_painted_file_gives_the_mask_of_the_mask_image_it_was_painted_from(ctx):
    levels = np.array([[0, 255, 110], [140, 255, 0]], dtype=np.uint8)
    mask_image = Image.fromarray(levels, mode="L")
    painted = Image.new("RGBA", mask_image.size, (90, 120, 150, 255))
    painted.putalpha(Image.eval(mask_image, lambda level: 255 - level))
    from_alpha = inpaint.load_mask(ctx, _save(ctx, "painted.png", painted))
    assert from_alpha.values.equal(inpaint.load_mask(ctx, _save(ctx, "mask.png", mask_image)).values)


def test_a_colour_channel_is_read_as_is(ctx):
    picture = Image.new("RGB", (1, 1), (255, 0, 0))
    assert inpaint.load_mask(ctx, _save(ctx, "red.png", picture), channel="red").values.item() == 1.0
    assert inpaint.load_mask(ctx, _save(ctx, "red.png", picture), channel="green").values.item() == 0.0


def test_a_missing_mask_file_names_the_input(ctx):
    with pytest.raises(FileNotFoundError, match="input 'mask'.*nope.png"):
        inpaint.load_mask(ctx, "nope.png")


def test_a_unet_that_is_neither_plain_nor_inpainting_is_refused_naming_the_input(ctx):
    unet = UNet(None, config={"in_channels": 8})
    vae = VAE(None, config={"block_out_channels": [8, 16], "latent_channels": 4})
    image, mask = ImageValue(torch.zeros(1, 3, 32, 32)), Mask(torch.ones(1, 1, 32, 32))
    with pytest.raises(ValueError, match="input 'unet': a UNet with 8 input channels can't inpaint"):
        inpaint.encode_for_inpaint(ctx, vae, unet, image, mask)
