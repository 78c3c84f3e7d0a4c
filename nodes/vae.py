"""VAE nodes: pixels ⇄ latents through an AutoencoderKL, scaled by the factors in the VAE's config."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Literal

from nodeflow import Context, node
from nodes.latents import Seed, vae_scale_factor
from nodes.types import VAE, Image, Latents

Memory = Literal["full", "tiled", "sliced"]


@contextmanager
def _memory_mode(module: Any, memory: Memory) -> Iterator[None]:
    """Tiled (large images) or sliced (large batches) VAE work for this call only; the shared module is restored."""
    saved = (getattr(module, "use_tiling", False), getattr(module, "use_slicing", False))
    module.use_tiling, module.use_slicing = memory == "tiled", memory == "sliced"
    try:
        yield
    finally:
        module.use_tiling, module.use_slicing = saved


@node("vae.decode", category="latent", version="1.0.0", display_name="VAE Decode Latents", batch=True)
def vae_decode(ctx: Context, vae: VAE, latents: Latents, memory: Memory = "full") -> Image:
    """Latents → pixels in [0, 1]: unscale by the VAE's scaling (and shift) factor, decode, denormalize."""
    import torch
    from diffusers.image_processor import VaeImageProcessor

    config = vae.config
    with ctx.models.use(vae) as module, torch.no_grad(), _memory_mode(module, memory):
        samples = latents.samples.to(ctx.device, module.dtype) / config["scaling_factor"]
        if config.get("shift_factor") is not None:
            samples = samples + config["shift_factor"]
        decoded = module.decode(samples, return_dict=False)[0]
    return Image(VaeImageProcessor.denormalize(decoded).cpu())


@node("vae.encode", category="latent", version="1.0.0", display_name="VAE Encode Image")
def vae_encode(
    ctx: Context, vae: VAE, image: Image, seed: Seed = 0, sample: Literal["sample", "mode"] = "sample",
    memory: Memory = "full",
) -> Latents:
    """Pixels → latents scaled by the VAE's scaling factor. "sample" draws from the latent distribution with a
    CPU generator seeded with `seed`, as the img2img pipeline does; the generator's stream continues downstream.
    Sizes that are not multiples of the VAE factor are resized down to one."""
    import torch
    from diffusers.image_processor import VaeImageProcessor

    processor = VaeImageProcessor(vae_scale_factor=vae_scale_factor(vae))
    generator = torch.Generator().manual_seed(seed)
    encoded = encode_normalized(ctx, vae, processor.preprocess(image.pixels), generator, sample, memory)
    return Latents(encoded, generator.get_state())


def encode_normalized(ctx: Context, vae: VAE, pixels: Any, generator: Any, sample: Literal["sample", "mode"] = "sample",
                      memory: Memory = "full") -> Any:
    """Pixels already normalized to [-1, 1] → latents scaled (and shifted) by the VAE's factors; "sample" draws
    from `generator`, advancing it."""
    import torch

    with ctx.models.use(vae) as module, torch.no_grad(), _memory_mode(module, memory):
        distribution = module.encode(pixels.to(ctx.device, module.dtype)).latent_dist
        encoded = distribution.sample(generator) if sample == "sample" else distribution.mode()
    if vae.config.get("shift_factor") is not None:
        encoded = encoded - vae.config["shift_factor"]
    return vae.config["scaling_factor"] * encoded
