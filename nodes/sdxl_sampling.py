"""SDXL denoising: the shared guided loop of nodes/sampling.py with SDXL's added conditioning (pooled text embeds
and size/crop or aesthetic-score ids), and the base → refiner handoff (`denoising_end` / `denoising_start`), as
StableDiffusionXLPipeline and StableDiffusionXLImg2ImgPipeline compute them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from nodeflow import Context, node
from nodes.controlnet import prepare_controls
from nodes.latents import Seed, Size, empty_latents
from nodes.sampling import Guidance, Rescale, _Guidance, _guided, _loop, _timestep_cond
from nodes.schedulers import Steps, generator_from, generator_state, set_steps
from nodes.types import VAE, Latents, Scheduler, SDXLConditioning, SDXLUNet

DenoisingEnd = Annotated[float, Field(gt=0.0, le=1.0)]
DenoisingStart = Annotated[float, Field(ge=0.0, lt=1.0)]


def _time_ids(unet: SDXLUNet, conditioning: SDXLConditioning, image_size: tuple[int, int], dtype: Any) -> Any:
    import torch

    original = conditioning.original_size or image_size
    if unet.requires_aesthetics_score:
        ids = [*original, *conditioning.crops_coords_top_left, conditioning.aesthetic_score]
    else:
        ids = [*original, *conditioning.crops_coords_top_left, *(conditioning.target_size or image_size)]
    return torch.tensor([ids], dtype=dtype)


def _check_pooled(unet: SDXLUNet, positive: SDXLConditioning, id_count: int) -> None:
    """The UNet's added embedding reads the pooled text embeds and the time ids side by side: their widths must add
    up, as the pipelines check."""
    width = unet.config["projection_class_embeddings_input_dim"] - unet.config["addition_time_embed_dim"] * id_count
    if width != positive.pooled.shape[-1]:
        raise ValueError(f"input 'positive': this UNet takes {width}-wide pooled embeds with "
                         f"{'an aesthetic score' if unet.requires_aesthetics_score else 'a target size'}, got "
                         f"{positive.pooled.shape[-1]}: encode with the text encoders of the same model")


def _sdxl_guidance(unet: SDXLUNet, positive: SDXLConditioning, negative: SDXLConditioning | None, scale: float,
                   rescale: float, latents: Any) -> _Guidance:
    """Embeds, pooled embeds and time ids, [negative, positive] when guided; an empty negative prompt is zeros
    where the model's pipeline sets force_zeros_for_empty_prompt."""
    import torch

    guided = _guided(unet, scale)
    image_size = (latents.shape[-2] * unet.vae_scale_factor, latents.shape[-1] * unet.vae_scale_factor)
    time_ids = _time_ids(unet, positive, image_size, positive.embeds.dtype)
    _check_pooled(unet, positive, time_ids.shape[-1])
    embeds, pooled = positive.embeds, positive.pooled
    if guided:
        if negative is None:
            raise ValueError("guidance_scale > 1 needs a negative conditioning: link an encoded (maybe empty) prompt")
        negative_ids = _time_ids(unet, negative, image_size, positive.embeds.dtype)
        zeros = negative.empty_prompt and unet.force_zeros_for_empty_prompt
        negative_embeds = torch.zeros_like(embeds) if zeros else negative.embeds
        negative_pooled = torch.zeros_like(pooled) if zeros else negative.pooled
        embeds, pooled = torch.cat([negative_embeds, embeds]), torch.cat([negative_pooled, pooled])
        time_ids = torch.cat([negative_ids, time_ids])
    batch = latents.shape[0]
    per_prompt = batch // positive.embeds.shape[0]  # the latents of one prompt; 1 when prompts are stacked
    device = latents.device
    added = {"text_embeds": pooled.repeat_interleave(per_prompt, 0).to(device),
             "time_ids": time_ids.repeat_interleave(batch, 0).to(device)}
    return _Guidance(embeds.repeat_interleave(per_prompt, 0).to(device), guided, scale, rescale,
                     _timestep_cond(unet, scale, latents), prepare_controls(positive, negative, guided, latents), added)


def _cut_at(instance: Any, fraction: float) -> int:
    """The training timestep at `fraction` of the way down (the pipelines' discrete_timestep_cutoff)."""
    train = instance.config.num_train_timesteps
    return int(round(train - fraction * train))


def _loop_until(ctx: Context, unet: SDXLUNet, instance: Any, timesteps: Any, latents: Any, generator: Any,
                guidance: _Guidance, denoising_end: float) -> Any:
    """The loop over `timesteps`, stopped at `denoising_end`. ControlNet windows (start/end) stay fractions of all
    of `timesteps`, as the pipeline's controlnet_keep is computed before the cut."""
    count = len(timesteps)
    if denoising_end < 1.0:
        count = int((timesteps >= _cut_at(instance, denoising_end)).sum())
        if count == 0:
            raise ValueError(f"input 'denoising_end': {denoising_end} leaves none of the {len(timesteps)} steps to "
                             "run; raise it")
    return _loop(ctx, unet, instance, timesteps, latents, generator, guidance, count)


@node("sdxl.empty_latents", category="latent", version="1.0.0", display_name="SDXL Empty Latents (Noise)",
      pixels=("width", "height", "batch_size"))
def sdxl_empty_latents(
    ctx: Context, unet: SDXLUNet, vae: VAE, width: Size = None, height: Size = None,
    batch_size: Annotated[int, Field(ge=1, le=64)] = 1, seed: Seed = 0,
) -> Latents:
    """Gaussian noise for a width×height image (default: the UNet's sample size times the VAE factor), drawn on
    a CPU torch.Generator seeded with `seed`, as StableDiffusionXLPipeline draws it."""
    return empty_latents(ctx, unet, vae, width, height, batch_size, seed)  # type: ignore[arg-type]  # same fields


@node("sdxl.denoise", category="sampling", version="1.0.0", display_name="SDXL Denoise (txt2img)", batch=True)
def denoise(
    ctx: Context, unet: SDXLUNet, scheduler: Scheduler, noise: Latents, positive: SDXLConditioning,
    negative: SDXLConditioning | None = None, steps: Steps = 50, guidance_scale: Guidance = 5.0,
    guidance_rescale: Rescale = 0.0, denoising_end: DenoisingEnd = 1.0,
) -> Latents:
    """Text-to-image from pure noise (scaled by the scheduler's init sigma). `denoising_end` < 1 stops at that
    fraction of the schedule and returns the noisy latents for a refiner (its `denoising_start`)."""
    instance = scheduler.create()
    set_steps(instance, steps, ctx.device)
    generator = generator_from(noise)
    latents = noise.samples.to(ctx.device) * instance.init_noise_sigma
    guidance = _sdxl_guidance(unet, positive, negative, guidance_scale, guidance_rescale, latents)
    if hasattr(instance, "set_begin_index"):
        instance.set_begin_index(0)
    result = _loop_until(ctx, unet, instance, instance.timesteps, latents, generator, guidance, denoising_end)
    return Latents(result, generator_state(generator))


def _start_at(instance: Any, denoising_start: float) -> int:
    """Index of the first timestep below the cut; second-order schedulers keep a step's two halves together."""
    count = int((instance.timesteps < _cut_at(instance, denoising_start)).sum())
    if instance.order == 2 and count % 2 == 0:
        count += 1
    return len(instance.timesteps) - count


@node("sdxl.denoise_image", category="sampling", version="1.0.0", display_name="SDXL Denoise Image (img2img)",
      batch=True)
def denoise_image(
    ctx: Context, unet: SDXLUNet, scheduler: Scheduler, latents: Latents, positive: SDXLConditioning,
    negative: SDXLConditioning | None = None, steps: Steps = 50,
    strength: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3, guidance_scale: Guidance = 5.0,
    guidance_rescale: Rescale = 0.0, denoising_start: DenoisingStart = 0.0, denoising_end: DenoisingEnd = 1.0,
) -> Latents:
    """Image-to-image: noise the encoded image `strength` of the way up and denoise from there. With
    `denoising_start` > 0 (a refiner after a base's `denoising_end`) the latents are taken as they are, already
    noisy, and the schedule starts at that fraction; `strength` is then unused."""
    from diffusers.utils.torch_utils import randn_tensor

    if 0.0 < denoising_start and denoising_end < 1.0 and denoising_start >= denoising_end:
        raise ValueError(f"input 'denoising_start': {denoising_start} must be below denoising_end {denoising_end}")
    instance = scheduler.create()
    set_steps(instance, steps, ctx.device)
    generator = generator_from(latents)
    samples = latents.samples.to(ctx.device)
    if denoising_start > 0.0:
        start = _start_at(instance, denoising_start)
    else:
        start = (steps - min(int(steps * strength), steps)) * instance.order
    timesteps = instance.timesteps[start:]
    if len(timesteps) == 0:
        raise ValueError(f"strength {strength} with {steps} steps leaves no step to run; raise either")
    if hasattr(instance, "set_begin_index"):
        instance.set_begin_index(start)
    if denoising_start == 0.0:
        noise = randn_tensor(samples.shape, generator=generator, device=samples.device, dtype=samples.dtype)
        samples = instance.add_noise(samples, noise, timesteps[:1].repeat(samples.shape[0]))
    guidance = _sdxl_guidance(unet, positive, negative, guidance_scale, guidance_rescale, samples)
    result = _loop_until(ctx, unet, instance, timesteps, samples, generator, guidance, denoising_end)
    return Latents(result, generator_state(generator))
