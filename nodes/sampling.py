"""Sampling nodes: one guided UNet prediction, and the full denoising loop (text-to-image and image-to-image).

The math follows StableDiffusionPipeline line for line — the batch is
[negative, positive], guidance is uncond + g·(text − uncond), guidance is off
for g ≤ 1, the scheduler gets eta=0 and the seed's generator — so that the
images equal the pipeline's.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Callable, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodes.controlnet import ActiveControl, control_residuals, controls_in_use, prepare_controls
from nodes.denoise_loop import denoise_loop, guide, model_batch
from nodes.schedulers import Steps, generator_from, generator_state, set_steps, timestep_at
from nodes.types import Conditioning, Latents, Scheduler, SchedulerState, UNet

Guidance = Annotated[float, Field(ge=0.0, le=50.0)]
Rescale = Annotated[float, Field(ge=0.0, le=1.0)]


def _guided(unet: UNet, guidance_scale: float) -> bool:
    """Classifier-free guidance runs above 1.0, except for UNets that take the scale as an embedding (LCM)."""
    return guidance_scale > 1.0 and unet.config.get("time_cond_proj_dim") is None


def _guided_embeds(positive: Conditioning, negative: Conditioning | None, guided: bool) -> Any:
    import torch

    if not guided:
        return positive.embeds
    if negative is None:
        raise ValueError("guidance_scale > 1 needs a negative conditioning: link an encoded (maybe empty) prompt")
    return torch.cat([negative.embeds, positive.embeds])


def _timestep_cond(unet: UNet, guidance_scale: float, latents: Any) -> Any:
    """The guidance-scale embedding that guidance-distilled (LCM) UNets take; None for the others."""
    dim = unet.config.get("time_cond_proj_dim")
    if dim is None:
        return None
    import torch
    from diffusers import StableDiffusionPipeline

    scale = torch.tensor(guidance_scale - 1).repeat(latents.shape[0])
    embedding = StableDiffusionPipeline.get_guidance_scale_embedding(None, scale, embedding_dim=dim)
    return embedding.to(device=latents.device, dtype=latents.dtype)


class _Guidance(NamedTuple):
    embeds: Any
    guided: bool
    scale: float
    rescale: float
    timestep_cond: Any
    controls: tuple = ()  # PreparedControl entries: the ControlNets of the conditioning, images prepared
    added_cond_kwargs: dict[str, Any] | None = None  # SDXL: {"text_embeds": pooled, "time_ids": size/crop ids}
    extra_channels: Any = None  # concatenated to the UNet input after scale_model_input (inpainting UNets)


def _guidance(unet: UNet, positive: Conditioning, negative: Conditioning | None, scale: float, rescale: float,
              latents: Any) -> _Guidance:
    guided = _guided(unet, scale)
    embeds = _guided_embeds(positive, negative, guided).to(latents.device)
    return _Guidance(embeds, guided, scale, rescale, _timestep_cond(unet, scale, latents),
                     prepare_controls(positive, negative, guided, latents))


def _predict(module: Any, instance: Any, latents: Any, t: Any, guidance: _Guidance,
             controls: list[ActiveControl] | None = None, step: int = 0, steps: int = 1) -> Any:
    """The guided noise prediction at `t`, step `step` of `steps` (when the ControlNets in `controls` act)."""
    import torch

    model_input = instance.scale_model_input(model_batch(latents, guidance.guided), t)
    residuals = control_residuals(controls or [], model_input, t, guidance.embeds, step, steps,
                                  guidance.added_cond_kwargs)
    if guidance.extra_channels is not None:
        model_input = torch.cat([model_input, guidance.extra_channels], dim=1)
    noise_pred = module(model_input, t, encoder_hidden_states=guidance.embeds, timestep_cond=guidance.timestep_cond,
                        added_cond_kwargs=guidance.added_cond_kwargs, return_dict=False, **residuals)[0]
    if guidance.guided:
        noise_uncond, noise_text = noise_pred.chunk(2)
        noise_pred = guide(noise_uncond, noise_text, guidance.scale)
        if guidance.rescale > 0.0:
            from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

            noise_pred = rescale_noise_cfg(noise_pred, noise_text, guidance_rescale=guidance.rescale)
    return noise_pred


@node("sampling.unet_step", category="sampling", version="1.0.0", output="noise_pred", display_name="UNet Step")
def unet_step(
    ctx: Context, unet: UNet, state: SchedulerState, latents: Latents, positive: Conditioning,
    negative: Conditioning | None = None, index: Annotated[int, Field(ge=0)] = 0,
    guidance_scale: Guidance = 7.5, guidance_rescale: Rescale = 0.0,
) -> Latents:
    """The guided noise prediction at timestep number `index` of the scheduler state (for hand-built loops)."""
    import torch

    instance = copy.deepcopy(state.instance)
    samples = latents.samples.to(ctx.device)
    guidance = _guidance(unet, positive, negative, guidance_scale, guidance_rescale, samples)
    steps = len(instance.timesteps)
    with ctx.models.use(unet) as module, controls_in_use(ctx, guidance.controls) as controls, torch.no_grad():
        noise_pred = _predict(module, instance, samples, timestep_at(instance, index), guidance, controls, index, steps)
    return Latents(noise_pred)


def _loop(ctx: Context, unet: UNet, instance: Any, timesteps: Any, latents: Any, generator: Any,
          guidance: _Guidance, stop_at_step: int, after_step: Callable[[int, Any], Any] | None = None) -> Any:
    """The denoising loop; `after_step(i, latents)`, when given, replaces the latents after step number i."""
    import torch

    last = len(timesteps) if not stop_at_step else min(stop_at_step, len(timesteps))
    with ctx.models.use(unet) as module, controls_in_use(ctx, guidance.controls) as controls, torch.no_grad():
        def predict(latents: Any, t: Any, index: int) -> Any:
            return _predict(module, instance, latents, t, guidance, controls, index, len(timesteps))

        return denoise_loop(ctx, instance, timesteps, latents, generator, predict, last=last, after_step=after_step)


@node("sampling.denoise", category="sampling", version="1.0.0", display_name="Denoise (txt2img)", batch=True)
def denoise(
    ctx: Context, unet: UNet, scheduler: Scheduler, noise: Latents, positive: Conditioning,
    negative: Conditioning | None = None, steps: Steps = 50, guidance_scale: Guidance = 7.5,
    guidance_rescale: Rescale = 0.0, stop_at_step: Annotated[int, Field(ge=0)] = 0,
) -> Latents:
    """Text-to-image: the full loop from pure noise (scaled by the scheduler's init sigma). Guidance is
    classifier-free above 1.0; `stop_at_step` > 0 ends early and returns the partly denoised latents."""
    instance = scheduler.create()
    set_steps(instance, steps, ctx.device)
    generator = generator_from(noise)
    latents = noise.samples.to(ctx.device) * instance.init_noise_sigma
    guidance = _guidance(unet, positive, negative, guidance_scale, guidance_rescale, latents)
    result = _loop(ctx, unet, instance, instance.timesteps, latents, generator, guidance, stop_at_step)
    return Latents(result, generator_state(generator))


def strength_timesteps(instance: Any, steps: int, strength: float) -> Any:
    """The timesteps from `strength` of the way up, as the img2img and inpaint pipelines' get_timesteps."""
    start = steps - min(int(steps * strength), steps)
    timesteps = instance.timesteps[start * instance.order :]
    if len(timesteps) == 0:
        raise ValueError(f"strength {strength} with {steps} steps leaves no step to run; raise either")
    if hasattr(instance, "set_begin_index"):
        instance.set_begin_index(start * instance.order)
    return timesteps


@node("sampling.denoise_image", category="sampling", version="1.0.0", display_name="Denoise Image (img2img)",
      batch=True)
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
    set_steps(instance, steps, ctx.device)
    timesteps = strength_timesteps(instance, steps, strength)
    generator = generator_from(latents)
    clean = latents.samples.to(ctx.device)
    noise = randn_tensor(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
    noisy = instance.add_noise(clean, noise, timesteps[:1].repeat(clean.shape[0]))
    guidance = _guidance(unet, positive, negative, guidance_scale, guidance_rescale, noisy)
    result = _loop(ctx, unet, instance, timesteps, noisy, generator, guidance, stop_at_step)
    return Latents(result, generator_state(generator))
