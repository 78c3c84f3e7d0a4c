"""Sampling nodes: one guided UNet prediction, and the full denoising loop (text-to-image and image-to-image).

The math follows StableDiffusionPipeline line for line — the batch is
[negative, positive], guidance is uncond + g·(text − uncond), guidance is off
for g ≤ 1, the scheduler gets eta=0 and the seed's generator — so that the
images equal the pipeline's.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from pydantic import Field

from nodeflow import Context, node
from nodes.schedulers import generator_from, generator_state, step_kwargs
from nodes.types import Conditioning, Latents, Scheduler, SchedulerState, UNet

Steps = Annotated[int, Field(ge=1, le=1000)]
Guidance = Annotated[float, Field(ge=0.0, le=50.0)]
Rescale = Annotated[float, Field(ge=0.0, le=1.0)]


def _guided_embeds(positive: Conditioning, negative: Conditioning | None, guidance_scale: float) -> Any:
    import torch

    if guidance_scale <= 1.0:
        return positive.embeds
    if negative is None:
        raise ValueError("guidance_scale > 1 needs a negative conditioning: link an encoded negative (or empty) prompt")
    return torch.cat([negative.embeds, positive.embeds])


def _predict(module: Any, instance: Any, latents: Any, t: Any, embeds: Any, guidance_scale: float,
             guidance_rescale: float) -> Any:
    import torch

    guided = guidance_scale > 1.0
    model_input = torch.cat([latents] * 2) if guided else latents
    model_input = instance.scale_model_input(model_input, t)
    noise_pred = module(model_input, t, encoder_hidden_states=embeds, return_dict=False)[0]
    if guided:
        noise_uncond, noise_text = noise_pred.chunk(2)
        noise_pred = noise_uncond + guidance_scale * (noise_text - noise_uncond)
        if guidance_rescale > 0.0:
            from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

            noise_pred = rescale_noise_cfg(noise_pred, noise_text, guidance_rescale=guidance_rescale)
    return noise_pred


@node("sampling.unet_step", category="sampling", version="1.0.0", output="noise_pred")
def unet_step(
    ctx: Context, unet: UNet, state: SchedulerState, latents: Latents, positive: Conditioning,
    negative: Conditioning | None = None, index: Annotated[int, Field(ge=0)] = 0,
    guidance_scale: Guidance = 7.5, guidance_rescale: Rescale = 0.0,
) -> Latents:
    """The guided noise prediction at timestep number `index` of the scheduler state (for hand-built loops)."""
    import torch

    instance = copy.deepcopy(state.instance)
    t = instance.timesteps[index]
    embeds = _guided_embeds(positive, negative, guidance_scale)
    with ctx.models.use(unet) as module, torch.no_grad():
        samples = latents.samples.to(ctx.device)
        noise_pred = _predict(module, instance, samples, t, embeds.to(ctx.device), guidance_scale, guidance_rescale)
    return Latents(noise_pred)


def _loop(ctx: Context, unet: UNet, instance: Any, timesteps: Any, latents: Any, generator: Any, embeds: Any,
          guidance_scale: float, guidance_rescale: float, stop_at_step: int) -> Any:
    import torch

    last = len(timesteps) if not stop_at_step else min(stop_at_step, len(timesteps))
    extra = step_kwargs(instance, generator)
    with ctx.models.use(unet) as module, torch.no_grad():
        embeds = embeds.to(ctx.device)
        for i, t in enumerate(timesteps[:last]):
            ctx.check_interrupt()
            noise_pred = _predict(module, instance, latents, t, embeds, guidance_scale, guidance_rescale)
            latents = instance.step(noise_pred, t, latents, **extra, return_dict=False)[0]
            ctx.progress(i + 1, last)
    return latents


@node("sampling.denoise", category="sampling", version="1.0.0")
def denoise(
    ctx: Context, unet: UNet, scheduler: Scheduler, noise: Latents, positive: Conditioning,
    negative: Conditioning | None = None, steps: Steps = 50, guidance_scale: Guidance = 7.5,
    guidance_rescale: Rescale = 0.0, stop_at_step: Annotated[int, Field(ge=0)] = 0,
) -> Latents:
    """Text-to-image: the full loop from pure noise (scaled by the scheduler's init sigma). Guidance is
    classifier-free above 1.0; `stop_at_step` > 0 ends early and returns the partly denoised latents."""
    instance = scheduler.create()
    instance.set_timesteps(steps, device=ctx.device)
    generator = generator_from(noise)
    latents = noise.samples.to(ctx.device) * instance.init_noise_sigma
    embeds = _guided_embeds(positive, negative, guidance_scale)
    result = _loop(ctx, unet, instance, instance.timesteps, latents, generator, embeds, guidance_scale,
                   guidance_rescale, stop_at_step)
    return Latents(result, generator_state(generator))


@node("sampling.denoise_image", category="sampling", version="1.0.0")
def denoise_image(
    ctx: Context, unet: UNet, scheduler: Scheduler, latents: Latents, positive: Conditioning,
    negative: Conditioning | None = None, steps: Steps = 50, strength: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8,
    guidance_scale: Guidance = 7.5, guidance_rescale: Rescale = 0.0, stop_at_step: Annotated[int, Field(ge=0)] = 0,
) -> Latents:
    """Image-to-image: noise the encoded image to the timestep `strength` of the way up, then denoise from
    there — about steps × strength steps, as StableDiffusionImg2ImgPipeline does. The noise continues the
    random stream of the VAE encode's seed."""
    from diffusers.utils.torch_utils import randn_tensor

    instance = scheduler.create()
    instance.set_timesteps(steps, device=ctx.device)
    start = steps - min(int(steps * strength), steps)
    timesteps = instance.timesteps[start * instance.order :]
    if len(timesteps) == 0:
        raise ValueError(f"strength {strength} with {steps} steps leaves no step to run; raise either")
    if hasattr(instance, "set_begin_index"):
        instance.set_begin_index(start * instance.order)
    generator = generator_from(latents)
    clean = latents.samples.to(ctx.device)
    noise = randn_tensor(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
    noisy = instance.add_noise(clean, noise, timesteps[:1].repeat(clean.shape[0]))
    embeds = _guided_embeds(positive, negative, guidance_scale)
    result = _loop(ctx, unet, instance, timesteps, noisy, generator, embeds, guidance_scale, guidance_rescale,
                   stop_at_step)
    return Latents(result, generator_state(generator))
