"""ComfyUI's image nodes: load (with the alpha channel as a mask), save and preview (through nodeflow's PNG
writer, so outputs show in the history and the editors), scale, and ControlNetApplyAdvanced."""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodes.comfy_latent import MAX_RESOLUTION, Crop, resize
from nodes.comfy_types import CONDITIONING, CONTROL_NET, IMAGE, MASK, VAE
from nodes.folder_inputs import InputImage
from nodes.image import _input_fingerprint, _write_pngs
from nodes.types import Control

ImageUpscaleMethod = Literal["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


@node("SaveImage", category="image", version="1.0.0", output_node=True)
def save_image(ctx: Context, images: IMAGE, filename_prefix: str = "ComfyUI") -> None:
    """PNGs in the output folder, numbered after `filename_prefix` ("sub/name" for a subfolder)."""
    _write_pngs(ctx, images, filename_prefix, "output")


@node("PreviewImage", category="image", version="1.0.0", output_node=True)
def preview_image(ctx: Context, images: IMAGE) -> None:
    """The images shown, not kept: PNGs in the temp folder."""
    _write_pngs(ctx, images, "ComfyUI_temp", "temp")


class LoadedImage(NamedTuple):
    IMAGE: IMAGE
    MASK: MASK


@node("LoadImage", category="image", version="1.0.0", fingerprint=_input_fingerprint)
def load_image(ctx: Context, image: InputImage) -> LoadedImage:
    """An image of the input folder as RGB, and its mask: 1 − alpha where the file has an alpha channel
    (transparent = repaint), else a 64×64 zero mask, as ComfyUI's."""
    import numpy as np
    import PIL.Image
    import PIL.ImageOps
    import torch

    path = ctx.folders.readable("input", image, "image")
    if not path.is_file():
        raise FileNotFoundError(f"LoadImage: input 'image': no image {image!r} in the input folder")
    with PIL.Image.open(path) as opened:
        picture = PIL.ImageOps.exif_transpose(opened)
        rgb = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0
        alpha = np.asarray(picture.getchannel("A"), dtype=np.float32) / 255.0 if "A" in picture.getbands() else None
    pixels = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    mask = torch.zeros(1, 1, 64, 64) if alpha is None else 1.0 - torch.from_numpy(alpha)[None, None]
    return LoadedImage(IMAGE(pixels), MASK(mask))


def _scaled(image: IMAGE, width: int, height: int, method: str, crop: str, node_name: str) -> IMAGE:
    return IMAGE(resize(image.pixels, width, height, method, crop, node_name).clamp(0, 1))


@node("ImageScale", category="image/upscaling", version="1.0.0", output="IMAGE", display_name="Upscale Image")
def image_scale(
    image: IMAGE, upscale_method: ImageUpscaleMethod = "nearest-exact",
    width: Annotated[int, Field(ge=0, le=MAX_RESOLUTION)] = 512,
    height: Annotated[int, Field(ge=0, le=MAX_RESOLUTION)] = 512, crop: Crop = "disabled",
) -> IMAGE:
    """The image resized to width×height (0 for one side keeps the aspect ratio; both 0: unchanged)."""
    if width == 0 and height == 0:
        return image
    old_height, old_width = image.pixels.shape[-2:]
    width = width or max(1, round(old_width * height / old_height))
    height = height or max(1, round(old_height * width / old_width))
    return _scaled(image, width, height, upscale_method, crop, "ImageScale")


@node("ImageScaleBy", category="image/upscaling", version="1.0.0", output="IMAGE", display_name="Upscale Image By")
def image_scale_by(
    image: IMAGE, upscale_method: ImageUpscaleMethod = "nearest-exact",
    scale_by: Annotated[float, Field(ge=0.01, le=8.0)] = 1.0,
) -> IMAGE:
    """The image resized by `scale_by` on each side (rounded)."""
    height, width = image.pixels.shape[-2:]
    return _scaled(image, round(width * scale_by), round(height * scale_by), upscale_method, "disabled",
                   "ImageScaleBy")


@node("ImageScaleToTotalPixels", category="image/upscaling", version="1.0.0", output="IMAGE",
      display_name="Scale Image to Total Pixels")
def image_scale_to_total_pixels(
    image: IMAGE, upscale_method: ImageUpscaleMethod = "nearest-exact",
    megapixels: Annotated[float, Field(ge=0.01, le=16.0)] = 1.0,
) -> IMAGE:
    """The image resized, aspect ratio kept, to about `megapixels` × 1024² pixels."""
    height, width = image.pixels.shape[-2:]
    scale_by = math.sqrt(megapixels * 1024 * 1024 / (width * height))
    return _scaled(image, round(width * scale_by), round(height * scale_by), upscale_method, "disabled",
                   "ImageScaleToTotalPixels")


class ControlledConditioning(NamedTuple):
    positive: CONDITIONING
    negative: CONDITIONING


@node("ControlNetApplyAdvanced", category="conditioning/controlnet", version="1.0.0",
      display_name="Apply ControlNet")
def controlnet_apply_advanced(
    positive: CONDITIONING, negative: CONDITIONING, control_net: CONTROL_NET, image: IMAGE,
    strength: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0, start_percent: Fraction = 0.0,
    end_percent: Fraction = 1.0, vae: VAE | None = None,
) -> ControlledConditioning:
    """Both conditionings with the ControlNet added to every entry: its residuals, times `strength`, join the
    UNet's from `start_percent` to `end_percent` of the steps. `vae` is for ControlNets that read latents,
    which nodeflow does not load; it is accepted and unused."""
    if strength == 0:
        return ControlledConditioning(positive, negative)
    if start_percent >= end_percent:
        raise ValueError(f"ControlNetApplyAdvanced: start_percent ({start_percent}) must be below end_percent "
                         f"({end_percent})")
    control = Control(control_net, image, strength, start_percent, end_percent)

    def controlled(conditioning: CONDITIONING) -> CONDITIONING:
        return CONDITIONING(tuple(dataclasses.replace(entry, controls=(*entry.controls, control))
                                  for entry in conditioning.entries))

    return ControlledConditioning(controlled(positive), controlled(negative))
