"""The one denoising loop every family's denoise node runs (SD, SDXL, ControlNet, inpaint, DiT, Kandinsky, the
unCLIP prior, VQ-Diffusion).

A family brings its `predict(latents, t, index)`: the model's guided prediction at timestep `t`, the model
already in use. The loop does the rest, as the diffusers pipelines do: the interrupt check before each step,
the scheduler step with the seed's generator (and eta=0, where the scheduler takes them), progress with
latent previews. The helpers below are the classifier-free guidance that the families share.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from nodeflow import Context
from nodes.latents import latent_preview
from nodes.schedulers import step_kwargs

Predict = Callable[[Any, Any, int], Any]  # (latents, t, step index) → the guided prediction


def denoise_loop(ctx: Context, sampler: Any, timesteps: Any, latents: Any, generator: Any, predict: Predict, *,
                 last: int | None = None, prepare: Callable[[Any, Any], Any] | None = None,
                 after_step: Callable[[int, Any], Any] | None = None,
                 preview: Callable[[Any], Any] | None = latent_preview, next_timestep: bool = False) -> Any:
    """Step `sampler` through `timesteps` (the first `last` of them, when given) from `latents`.

    `prepare(latents, t)`, when given, replaces the latents before the prediction, and the scheduler steps
    from what it returns (DiT). `after_step(index, latents)` replaces them after step number `index`
    (inpainting's blend). `preview` makes the progress picture (None: progress without one).
    `next_timestep` passes the next timestep as `prev_timestep` to schedulers that take it, as the unCLIP
    pipelines do."""
    last = len(timesteps) if last is None else last
    extra = step_kwargs(sampler, generator)
    takes_next = next_timestep and "prev_timestep" in inspect.signature(sampler.step).parameters
    for index, t in enumerate(timesteps[:last]):
        ctx.check_interrupt()
        if prepare is not None:
            latents = prepare(latents, t)
        prediction = predict(latents, t, index)
        if takes_next:
            extra["prev_timestep"] = timesteps[index + 1] if index + 1 < len(timesteps) else None
        latents = sampler.step(prediction, t, latents, **extra, return_dict=False)[0]
        if after_step is not None:
            latents = after_step(index, latents)
        ctx.progress(index + 1, last, preview(latents) if preview is not None and ctx.wants_previews else None)
    return latents


def model_batch(latents: Any, guided: bool) -> Any:
    """The model's input batch: the latents twice under guidance (for [negative, positive]), else once."""
    import torch

    return torch.cat([latents] * 2) if guided else latents


def guide(uncond: Any, cond: Any, scale: float) -> Any:
    """Classifier-free guidance: uncond + scale·(cond − uncond)."""
    return uncond + scale * (cond - uncond)
