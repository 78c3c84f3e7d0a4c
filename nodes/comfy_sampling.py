"""ComfyUI's KSampler and KSamplerAdvanced over diffusers schedulers and nodeflow's one denoise loop.

What ComfyUI defines, kept: the noise is `torch.randn` of the latent's shape on a CPU generator seeded with
the seed; `denoise` < 1 runs the last `steps` of int(steps / denoise); start/end steps cut the schedule; a
full denoise starts from latent + noise · init σ, a partial one from the latent noised to its first step;
guidance is uncond + cfg · (cond − uncond), skipped at cfg 1; several conditioning entries (Conditioning
Combine, Set Area) are averaged, each over its area and weighted by its strength (fading in over 8 latents
from edges inside the image); SDXL's size ids are the latent's size × 8; a noise mask keeps the known
latents outside it. LATENT samples stay unscaled outside the sampler, which applies the model family's
latent scale. The pairs' exactness: nodes/comfy_samplers.py.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field

from nodeflow import Context, node
from nodes.comfy_samplers import SamplerName, SchedulerName, comfy_scheduler
from nodes.comfy_types import CONDITIONING, LATENT, MODEL, ConditioningEntry
from nodes.controlnet import controls_in_use, prepare_controls
from nodes.denoise_loop import denoise_loop, guide
from nodes.sampling import _Guidance, _predict, _timestep_cond
from nodes.schedulers import set_steps

LATENT_SCALE = {"sd1": 0.18215, "sd2": 0.18215, "sdxl": 0.13025}  # each family's latent format, as ComfyUI's

Seed = Annotated[int, Field(ge=0, le=0xFFFFFFFFFFFFFFFF)]
Steps = Annotated[int, Field(ge=1, le=10000)]
Cfg = Annotated[float, Field(ge=0.0, le=100.0)]
StepIndex = Annotated[int, Field(ge=0, le=10000)]


def comfy_noise(samples: Any, seed: int | list[int]) -> Any:
    """ComfyUI's initial noise: randn of the latent's shape, float32, from a CPU generator seeded with `seed`,
    and the generator. For a batch node's per-sample seeds (a list), each latent's from its own seed, and the
    list of generators."""
    import torch

    if isinstance(seed, list):
        parts = [comfy_noise(sample[None], each) for sample, each in zip(samples, seed)]
        return torch.cat([noise for noise, _ in parts]), [generator for _, generator in parts]
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(samples.shape, generator=generator, dtype=torch.float32), generator


def _time_ids(model: MODEL, latents: Any, negative: bool) -> list[float]:
    height, width = latents.shape[-2] * 8, latents.shape[-1] * 8
    if model.requires_aesthetics_score:
        return [height, width, 0, 0, 2.5 if negative else 6.0]
    return [height, width, 0, 0, height, width]


def _added(model: MODEL, entries: list[ConditioningEntry], latents: Any, negatives: list[bool]) -> Any:
    """SDXL's added conditioning for a batch of entries, one latent each; None for SD 1.x/2.x."""
    import torch

    if model.family != "sdxl":
        return None
    if any(entry.pooled is None for entry in entries):
        raise ValueError("the conditioning has no pooled output: encode it with an SDXL checkpoint's CLIP")
    batch = latents.shape[0]
    pooled = torch.cat([entry.pooled.repeat_interleave(batch // len(entry.pooled), 0) for entry in entries])
    ids = torch.tensor([_time_ids(model, latents, neg) for neg in negatives for _ in range(batch)])
    return {"text_embeds": pooled.to(latents.device, latents.dtype), "time_ids": ids.to(latents.device, latents.dtype)}


def _same_length(first: Any, second: Any) -> tuple[Any, Any]:
    """Both hidden states repeated to a common token count, as ComfyUI batches prompts of different lengths
    (attention over repeated tokens is attention over the tokens)."""
    a, b = first.shape[1], second.shape[1]
    common = a * b // math.gcd(a, b)
    return first.repeat(1, common // a, 1), second.repeat(1, common // b, 1)


def _whole(entries: tuple[ConditioningEntry, ...]) -> bool:
    return len(entries) == 1 and entries[0].area is None


def _batched_guidance(model: MODEL, positive: ConditioningEntry, negative: ConditioningEntry, cfg: float,
                      latents: Any) -> _Guidance:
    """One prompt each side (or one per stacked prompt): the [negatives, positives] batch of the diffusers
    pipelines."""
    import torch

    guided = not math.isclose(cfg, 1.0)
    per_prompt = latents.shape[0] // len(positive.embeds)  # the latents of one prompt; 1 when prompts are stacked
    cond = positive.embeds.repeat_interleave(per_prompt, 0)
    if guided:
        uncond, cond = _same_length(negative.embeds.repeat_interleave(per_prompt, 0), cond)
        embeds = torch.cat([uncond, cond])
        added = _added(model, [negative, positive], latents, [True, False])
    else:
        embeds, added = cond, _added(model, [positive], latents, [False])
    return _Guidance(embeds.to(latents.device), guided, cfg, 0.0, _timestep_cond(model, cfg, latents),
                     prepare_controls(positive, negative, guided, latents), added)


_FEATHER = 8  # latents over which an area's weight fades in from its edges inside the image, as ComfyUI's


def _area_weight(latents: Any, area: tuple[int, int, int, int], strength: float) -> Any:
    """An area's weight over its crop: `strength`, fading in over 8 latents from each edge not on the image's."""
    import torch

    height, width, y, x = area
    full_height, full_width = latents.shape[-2:]
    height, width = min(height, full_height - y), min(width, full_width - x)
    weight = torch.full((height, width), float(strength), dtype=latents.dtype, device=latents.device)
    ramp = torch.arange(1, _FEATHER + 1, dtype=latents.dtype, device=latents.device) / _FEATHER
    rows, columns = ramp[:height, None], ramp[None, :width]
    if y != 0:
        weight[:_FEATHER] *= rows
    if y + height < full_height:
        weight[-_FEATHER:] *= rows.flip(0)[-height:]
    if x != 0:
        weight[:, :_FEATHER] *= columns
    if x + width < full_width:
        weight[:, -_FEATHER:] *= columns.flip(1)[:, -width:]
    return weight


def _area_prediction(module: Any, instance: Any, model: MODEL, entries: tuple[ConditioningEntry, ...],
                     latents: Any, t: Any, negative: bool) -> Any:
    """The entries' predictions averaged, each over its area (height, width, y, x in latents) with its weight;
    0 where no entry reaches. SDXL's size ids stay the whole image's."""
    import torch

    total, weights = torch.zeros_like(latents), torch.zeros_like(latents[:, :1])
    for entry in entries:
        if entry.controls:
            raise ValueError("ControlNets apply to a single whole-image prompt per side; this conditioning has "
                             f"{len(entries)} entries or an area")
        area = entry.area or (latents.shape[-2], latents.shape[-1], 0, 0)
        height, width, y, x = area
        window = (slice(None), slice(None), slice(y, y + height), slice(x, x + width))
        guidance = _Guidance(entry.embeds.repeat_interleave(latents.shape[0], 0).to(latents.device), False, 1.0, 0.0,
                             None, (), _added(model, [entry], latents, [negative]))
        weight = _area_weight(latents, area, entry.strength)
        total[window] += _predict(module, instance, latents[window], t, guidance) * weight
        weights[window] += weight
    return total / weights.clamp_min(1e-37)


def _noise_mask(latent: LATENT, samples: Any) -> Any:
    import torch.nn.functional as F

    mask = latent.noise_mask.float()
    mask = mask.reshape(-1, 1, *mask.shape[-2:])
    return F.interpolate(mask, size=samples.shape[-2:], mode="bilinear").to(samples.device, samples.dtype)


def sample(ctx: Context, node_name: str, model: MODEL, noise_seed: int | list[int], add_noise: bool, steps: int,
           cfg: float, sampler_name: str, scheduler: str, positive: CONDITIONING, negative: CONDITIONING,
           latent: LATENT, denoise: float = 1.0, start_at_step: int = 0, end_at_step: int = 10000,
           force_full_denoise: bool = True) -> LATENT:
    """The work of both sampler nodes (see the module's note)."""
    import torch

    if model.scheduler is None:
        raise ValueError(f"{node_name}: input 'model' carries no scheduler config; load it with a checkpoint loader")
    if denoise <= 0.0:
        return latent
    instance = comfy_scheduler(model.scheduler, sampler_name, scheduler, node_name).create()
    total = int(steps / denoise)
    set_steps(instance, total, ctx.device)
    start, end = total - steps + start_at_step, min(total - steps + end_at_step, total)
    if start >= end:
        return latent
    if force_full_denoise and end < total and instance.order == 1 and hasattr(instance, "sigmas"):
        # ComfyUI ends on σ 0 unless asked for leftover noise; second-order samplers keep their own last σ
        instance.sigmas[end] = 0.0
    timesteps = instance.timesteps[start * instance.order:]
    if hasattr(instance, "set_begin_index"):
        instance.set_begin_index(start * instance.order)
    scale = LATENT_SCALE[model.family]
    known = latent.samples.to(ctx.device, torch.float32) * scale
    noise, generator = comfy_noise(known, noise_seed)
    noise = noise.to(ctx.device) if add_noise else torch.zeros_like(known)
    if start == 0:
        latents = known + noise * instance.init_noise_sigma
    else:
        latents = instance.add_noise(known, noise, timesteps[:1].repeat(known.shape[0]))
    latents = latents.to(model.dtype)
    mask = _noise_mask(latent, latents) if latent.noise_mask is not None else None
    result = _run(ctx, model, instance, timesteps, (end - start) * instance.order, latents, generator, cfg,
                  positive, negative, known, noise, mask)
    if mask is not None:
        result = result * mask + known.to(result.dtype) * (1 - mask)
    return LATENT(result.float() / scale, None, latent.noise_mask)


def _run(ctx: Context, model: MODEL, instance: Any, timesteps: Any, last: int, latents: Any, generator: Any,
         cfg: float, positive: CONDITIONING, negative: CONDITIONING, known: Any, noise: Any, mask: Any) -> Any:
    import torch

    batched = _whole(positive.entries) and _whole(negative.entries)
    guidance = _batched_guidance(model, positive.entries[0], negative.entries[0], cfg, latents) if batched else None
    prepared = guidance.controls if guidance is not None else ()
    with ctx.models.use(model) as module, controls_in_use(ctx, prepared) as controls, torch.no_grad():
        def predict(x: Any, t: Any, index: int) -> Any:
            if guidance is not None:
                return _predict(module, instance, x, t, guidance, controls, index, len(timesteps))
            cond = _area_prediction(module, instance, model, positive.entries, x, t, False)
            if math.isclose(cfg, 1.0):
                return cond
            return guide(_area_prediction(module, instance, model, negative.entries, x, t, True), cond, cfg)

        def keep_known(x: Any, t: Any) -> Any:
            return x * mask + instance.add_noise(known, noise, t.reshape(1)).to(x.dtype) * (1 - mask)

        return denoise_loop(ctx, instance, timesteps, latents, generator, predict, last=last,
                            prepare=keep_known if mask is not None else None)


@node("KSampler", category="sampling", version="1.0.0", output="LATENT", batch=True, per_sample=("seed",))
def ksampler(
    ctx: Context, model: MODEL, *, seed: Seed = 0, steps: Steps = 20, cfg: Cfg = 8.0,
    sampler_name: SamplerName = "euler", scheduler: SchedulerName = "normal",
    positive: CONDITIONING, negative: CONDITIONING, latent_image: LATENT,
    denoise: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0,
) -> LATENT:
    """Denoise `latent_image` with the sampler and scheduler named as in ComfyUI, mapped onto diffusers
    schedulers (see nodes/comfy_samplers.py for which pairs are exact). `denoise` < 1 keeps that much of the
    schedule's end (img2img)."""
    return sample(ctx, "KSampler", model, seed, True, steps, cfg, sampler_name, scheduler, positive, negative,
                  latent_image, denoise)


@node("KSamplerAdvanced", category="sampling", version="1.0.0", output="LATENT", display_name="KSampler (Advanced)",
      batch=True, per_sample=("noise_seed",))
def ksampler_advanced(
    ctx: Context, model: MODEL, *, add_noise: Literal["enable", "disable"] = "enable", noise_seed: Seed = 0,
    steps: Steps = 20, cfg: Cfg = 8.0, sampler_name: SamplerName = "euler", scheduler: SchedulerName = "normal",
    positive: CONDITIONING, negative: CONDITIONING, latent_image: LATENT,
    start_at_step: StepIndex = 0, end_at_step: StepIndex = 10000,
    return_with_leftover_noise: Literal["disable", "enable"] = "disable",
) -> LATENT:
    """KSampler over steps `start_at_step` to `end_at_step` of the schedule; "disable" add_noise takes the
    latent as already noisy (a second pass), "enable" return_with_leftover_noise stops short of σ 0."""
    return sample(ctx, "KSamplerAdvanced", model, noise_seed, add_noise == "enable", steps, cfg, sampler_name,
                  scheduler, positive, negative, latent_image, 1.0, start_at_step, end_at_step,
                  return_with_leftover_noise == "disable")

