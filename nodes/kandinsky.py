"""Kandinsky 2.2 decoder: a UNet conditioned on CLIP image embeddings, decoded by MoVQ.

Image embeddings (from the unCLIP prior) → denoise → `vq.decode_latents`. The
loop follows KandinskyV22Pipeline step for step, so that the same seed gives the
same image.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodes.folder_inputs import ModelName
from nodes.model_locator import locate

from ._pipeline_folders import (
    DType, Placement, load_component, model_fingerprint, pin, read_model_index, read_scheduler,
)
from .denoise_loop import denoise_loop, guide, model_batch
from .latents import Seed
from .sampling import Guidance, Steps
from .schedulers import generator_state, seeded_generators, set_steps
from .types import ImageConditionedUNet, ImageEmbeds, Latents, Scheduler, VQModel

Size = Annotated[int, Field(ge=16, le=4096)]


class DecoderModel(NamedTuple):
    unet: ImageConditionedUNet
    movq: VQModel
    scheduler: Scheduler


@node("kandinsky.load_decoder", category="loaders", version="1.1.0", display_name="Load Kandinsky Decoder",
      fingerprint=model_fingerprint)
def load_decoder(
    ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> DecoderModel:
    """Load a Kandinsky 2.2 decoder folder or hub id: image-conditioned UNet, MoVQ and its own scheduler."""
    ref = locate(ctx.folders, model).ref
    index = read_model_index(ref)
    unet = load_component(ref, "unet", index, dtype)
    movq = load_component(ref, "movq", index, dtype)
    # The MoVQ's downsampling decides the latent size; the denoise node needs it without the MoVQ itself.
    scale = 2 ** (len(movq.config.block_out_channels) - 1)
    return pin(DecoderModel(
        ImageConditionedUNet(unet, source=ref, dtype=unet.dtype, config={"movq_scale_factor": scale}),
        VQModel(movq, source=ref, dtype=movq.dtype),
        read_scheduler(ref),
    ), device)


def latent_size(pixels: int, scale: int) -> int:
    """Latent side for an image side, rounded up to whole MoVQ blocks (as the Kandinsky pipelines do)."""
    return -(-pixels // scale**2) * scale


@node("kandinsky.denoise", category="sampling", version="1.0.0", display_name="Kandinsky Denoise", batch=True,
      per_sample=("seed",))
def denoise(
    ctx: Context,
    unet: ImageConditionedUNet,
    scheduler: Scheduler,
    image_embeds: ImageEmbeds,
    negative_image_embeds: ImageEmbeds,
    width: Size = 512,
    height: Size = 512,
    seed: Seed = 0,
    steps: Steps = 100,
    guidance_scale: Guidance = 4.0,
) -> Latents:
    """Denoise MoVQ latents from seeded noise, conditioned on the image embeddings (guidance > 1 pushes
    away from the negative embeddings). In a batch of prompts, each one's noise comes from its own seed."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    device, guided = torch.device(ctx.device), guidance_scale > 1
    sampler = scheduler.create()
    with ctx.models.use(unet) as model, torch.no_grad():
        embeds = image_embeds.embeds
        if guided:
            embeds = torch.cat([negative_image_embeds.embeds.to(embeds.device), embeds])
        embeds = embeds.to(dtype=model.dtype, device=device)
        set_steps(sampler, steps, device)
        scale = unet.config["movq_scale_factor"]
        shape = (len(image_embeds.embeds), model.config.in_channels, latent_size(height, scale),
                 latent_size(width, scale))
        generator = seeded_generators(seed)
        latents = randn_tensor(shape, generator=generator, device=device, dtype=embeds.dtype) * sampler.init_noise_sigma
        channels = latents.shape[1]
        learned_variance = getattr(sampler.config, "variance_type", None) in ("learned", "learned_range")

        def predict(latents, t, index: int):
            prediction = model(sample=model_batch(latents, guided), timestep=t, encoder_hidden_states=None,
                               added_cond_kwargs={"image_embeds": embeds}, return_dict=False)[0]
            if guided:
                noise, variance = prediction.split(channels, dim=1)
                uncond, cond = noise.chunk(2)
                prediction = torch.cat([guide(uncond, cond, guidance_scale), variance.chunk(2)[1]], dim=1)
            return prediction if learned_variance else prediction[:, :channels]

        latents = denoise_loop(ctx, sampler, sampler.timesteps, latents, generator, predict)
    return Latents(latents, generator_state(generator))
