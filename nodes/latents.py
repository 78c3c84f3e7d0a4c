"""Latent nodes: seeded noise drawn exactly as the diffusers pipelines draw it, and latent upscaling."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from nodeflow import Context, node
from nodes.types import VAE, Latents, UNet

# Approximate colours of the four SD latent channels (a linear map widely used for live previews).
_SD_LATENT_RGB = (
    (0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177),
)

Seed = Annotated[int, Field(ge=0, le=2**64 - 1)]
Size = Annotated[int, Field(ge=8, le=16384)] | None


def latent_preview(samples: Any) -> Any:
    """A cheap RGB picture of the first latent, for live previews (no VAE): SD's four channels mapped linearly
    to colours; other latents show their first channels."""
    import PIL.Image
    import torch

    latent = samples[0].detach().float().cpu()
    if latent.shape[0] == len(_SD_LATENT_RGB):
        rgb = torch.einsum("chw,cr->rhw", latent, torch.tensor(_SD_LATENT_RGB))
    else:
        rgb = latent[:3] if latent.shape[0] >= 3 else latent[:1].expand(3, -1, -1)
    pixels = ((rgb + 1) * 127.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return PIL.Image.fromarray(pixels)


def vae_scale_factor(vae: VAE) -> int:
    """Pixels per latent along each side: 2 ** (number of VAE down blocks - 1), as the pipelines compute it."""
    return 2 ** (len(vae.config["block_out_channels"]) - 1)


def default_size(unet: UNet, vae: VAE) -> tuple[int, int]:
    """(height, width) the pipelines use when none is given: the UNet's sample size times the VAE factor."""
    sample = unet.config["sample_size"]
    height, width = (sample, sample) if isinstance(sample, int) else sample
    factor = vae_scale_factor(vae)
    return height * factor, width * factor


@node("latents.empty", category="latent", version="1.0.0", display_name="Empty Latents (Noise)",
      pixels=("width", "height", "batch_size"))
def empty_latents(
    ctx: Context, unet: UNet, vae: VAE, width: Size = None, height: Size = None,
    batch_size: Annotated[int, Field(ge=1, le=64)] = 1, seed: Seed = 0,
) -> Latents:
    """Gaussian noise for a width×height image (default: the size the UNet and VAE configs imply), drawn on a
    CPU torch.Generator seeded with `seed` in the UNet's dtype, as StableDiffusionPipeline draws it."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    default_height, default_width = default_size(unet, vae)
    height, width = height or default_height, width or default_width
    factor = vae_scale_factor(vae)
    if height % factor or width % factor:
        raise ValueError(f"width and height must be multiples of {factor} for this VAE, got {width}×{height}")
    generator = torch.Generator().manual_seed(seed)
    shape = (batch_size, unet.config["in_channels"], height // factor, width // factor)
    noise = randn_tensor(shape, generator=generator, device=torch.device(ctx.device), dtype=unet.dtype)
    return Latents(noise, generator.get_state())


@node("latents.upscale", category="latent", version="1.0.0", display_name="Upscale Latents")
def upscale_latents(
    latents: Latents, scale_by: Annotated[float, Field(gt=0.0, le=8.0)] = 2.0,
    mode: Literal["nearest-exact", "bilinear", "bicubic", "area"] = "nearest-exact",
) -> Latents:
    """Latents resized by `scale_by` (e.g. for a second, img2img-style pass at a higher resolution)."""
    import torch.nn.functional as F

    samples = latents.samples
    size = (round(samples.shape[-2] * scale_by), round(samples.shape[-1] * scale_by))
    return Latents(F.interpolate(samples, size=size, mode=mode), latents.generator_state)
