"""ComfyUI's latent nodes: empty latents, latent upscaling, VAE decode/encode (also for inpainting) and the
noise mask. LATENT samples are the VAE's raw latents (the sampler applies the model's scale), 8 pixels to a
latent as in ComfyUI; the VAE nodes work at the VAE's own factor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from nodeflow import Context, node
from nodes.comfy_types import IMAGE, LATENT, MASK, VAE
from nodes.latents import vae_scale_factor

MAX_RESOLUTION = 16384
UpscaleMethod = Literal["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]
Crop = Literal["disabled", "center"]
Side = Annotated[int, Field(ge=0, le=MAX_RESOLUTION)]


def resize(samples: Any, width: int, height: int, method: str, crop: str, node_name: str) -> Any:
    """(B, C, H, W) resized to height×width, first cut to the target's aspect ratio around the centre when
    `crop` is "center", as ComfyUI's common_upscale."""
    import torch.nn.functional as F

    if crop == "center":
        old_height, old_width = samples.shape[-2:]
        old_aspect, new_aspect = old_width / old_height, width / height
        x = round((old_width - old_width * new_aspect / old_aspect) / 2) if old_aspect > new_aspect else 0
        y = round((old_height - old_height * old_aspect / new_aspect) / 2) if old_aspect < new_aspect else 0
        samples = samples[..., y:old_height - y, x:old_width - x]
    if method == "bislerp":
        raise ValueError(f"{node_name}: input 'upscale_method': 'bislerp' is not supported; use 'bilinear'")
    if method == "lanczos":
        return _lanczos(samples, width, height)
    return F.interpolate(samples, size=(height, width), mode=method)


def _lanczos(pixels: Any, width: int, height: int) -> Any:
    import numpy as np
    import PIL.Image
    import torch

    resized = []
    for picture in pixels.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy():
        image = PIL.Image.fromarray(picture).resize((width, height), PIL.Image.Resampling.LANCZOS)
        resized.append(torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float() / 255)
    return torch.stack(resized)


@node("EmptyLatentImage", category="latent", version="1.0.0", output="LATENT",
      pixels=("width", "height", "batch_size"))
def empty_latent_image(
    width: Annotated[int, Field(ge=16, le=MAX_RESOLUTION)] = 512,
    height: Annotated[int, Field(ge=16, le=MAX_RESOLUTION)] = 512,
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 1,
) -> LATENT:
    """Zeros for a width×height image: 4 channels, 8 pixels to a latent."""
    import torch

    return LATENT(torch.zeros(batch_size, 4, height // 8, width // 8))


def _target(samples: Any, width: int, height: int) -> tuple[int, int]:
    """(width, height) in latents; one side 0 keeps the aspect ratio."""
    old_height, old_width = samples.shape[-2:]
    width, height = width // 8, height // 8
    if width == 0:
        width = max(1, round(old_width * height / old_height))
    if height == 0:
        height = max(1, round(old_height * width / old_width))
    return width, height


@node("LatentUpscale", category="latent", version="1.0.0", output="LATENT", display_name="Upscale Latent")
def latent_upscale(
    samples: LATENT, upscale_method: UpscaleMethod = "nearest-exact", width: Side = 512, height: Side = 512,
    crop: Crop = "disabled",
) -> LATENT:
    """The latents resized to a width×height image (0 for one side keeps the aspect ratio; both 0: unchanged)."""
    if width == 0 and height == 0:
        return samples
    latent_width, latent_height = _target(samples.samples, width, height)
    resized = resize(samples.samples, latent_width, latent_height, upscale_method, crop, "LatentUpscale")
    return LATENT(resized, None, samples.noise_mask)


@node("LatentUpscaleBy", category="latent", version="1.0.0", output="LATENT", display_name="Upscale Latent By")
def latent_upscale_by(
    samples: LATENT, upscale_method: UpscaleMethod = "nearest-exact",
    scale_by: Annotated[float, Field(ge=0.01, le=8.0)] = 1.5,
) -> LATENT:
    """The latents resized by `scale_by` on each side (rounded)."""
    height, width = samples.samples.shape[-2:]
    resized = resize(samples.samples, round(width * scale_by), round(height * scale_by), upscale_method, "disabled",
                     "LatentUpscaleBy")
    return LATENT(resized, None, samples.noise_mask)


@node("VAEDecode", category="latent", version="1.0.0", display_name="VAE Decode", output="IMAGE", batch=True)
def vae_decode(ctx: Context, samples: LATENT, vae: VAE) -> IMAGE:
    """The latents decoded into pixels in [0, 1]."""
    import torch
    from diffusers.image_processor import VaeImageProcessor

    with ctx.models.use(vae) as module, torch.no_grad():
        decoded = module.decode(samples.samples.to(ctx.device, module.dtype), return_dict=False)[0]
    return IMAGE(VaeImageProcessor.denormalize(decoded).float().cpu())


def _cropped(pixels: Any, factor: int) -> Any:
    """Pixels cut around the centre to multiples of the VAE factor, as ComfyUI's encoders cut them."""
    height, width = pixels.shape[-2:]
    y, x = (height % factor) // 2, (width % factor) // 2
    return pixels[..., y:y + height - height % factor, x:x + width - width % factor]


def _encode(ctx: Context, vae: VAE, pixels: Any) -> Any:
    """Raw latents (the distribution's mode) of pixels in [0, 1]."""
    import torch

    with ctx.models.use(vae) as module, torch.no_grad():
        return module.encode((pixels * 2 - 1).to(ctx.device, module.dtype)).latent_dist.mode().float()


@node("VAEEncode", category="latent", version="1.0.0", display_name="VAE Encode", output="LATENT")
def vae_encode(ctx: Context, pixels: IMAGE, vae: VAE) -> LATENT:
    """Pixels into raw latents (the distribution's mode: no randomness)."""
    return LATENT(_encode(ctx, vae, _cropped(pixels.pixels[:, :3], vae_scale_factor(vae))))


@node("VAEEncodeForInpaint", category="latent/inpaint", version="1.0.0", output="LATENT",
      display_name="VAE Encode (for Inpainting)")
def vae_encode_for_inpaint(
    ctx: Context, pixels: IMAGE, vae: VAE, mask: MASK, grow_mask_by: Annotated[int, Field(ge=0, le=64)] = 6,
) -> LATENT:
    """The image with the masked pixels set to grey, encoded, with the mask (grown by `grow_mask_by` pixels)
    as the noise mask: the sampler repaints only there."""
    import torch
    import torch.nn.functional as F

    factor = vae_scale_factor(vae)
    image = _cropped(pixels.pixels[:, :3], factor)
    values = mask.values.float().reshape(-1, 1, *mask.values.shape[-2:])
    values = F.interpolate(values, size=image.shape[-2:], mode="bilinear")
    grown = values.round()
    if grow_mask_by:
        kernel = torch.ones(1, 1, grow_mask_by, grow_mask_by)
        padding = grow_mask_by // 2
        grown = F.conv2d(grown, kernel, padding=padding)[..., :image.shape[-2], :image.shape[-1]].clamp(0, 1)
    keep = 1 - values.round()
    grey = (image - 0.5) * keep + 0.5
    return LATENT(_encode(ctx, vae, grey), None, grown)


@node("SetLatentNoiseMask", category="latent/inpaint", version="1.0.0", output="LATENT",
      display_name="Set Latent Noise Mask")
def set_latent_noise_mask(samples: LATENT, mask: MASK) -> LATENT:
    """The latents with `mask` as their noise mask (1 = denoise); the sampler keeps the rest."""
    values = mask.values.reshape(-1, 1, *mask.values.shape[-2:])
    return LATENT(samples.samples, samples.generator_state, values)
