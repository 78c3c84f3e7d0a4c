"""The socket types of the ComfyUI core node pack, named as ComfyUI names them.

The ComfyUI frontend and ComfyUI workflow files connect sockets by these names
(`MODEL`, `CLIP`, `VAE`, `CONDITIONING`, `LATENT`, `IMAGE`, `MASK`,
`CONTROL_NET`). Each is a subclass of the built-in type it carries where one
exists, so that a pack node's output also plugs into nodeflow's own nodes
(an `IMAGE` into `image.save`, a `CONTROL_NET` into `controlnet.apply`).
`VAE` is nodeflow's own `VAE` class: it already has ComfyUI's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .types import (VAE, ControlNet, Image, Latents, Mask, Scheduler, TextEncoder, Tokenizer, UNet, stacked_tensors,
                    unstacked_tensor)

__all__ = ["MODEL", "CLIP", "VAE", "CONDITIONING", "ConditioningEntry", "LATENT", "IMAGE", "MASK", "CONTROL_NET"]

Family = str  # "sd1", "sd2" or "sdxl": which text encoders, latent size and added conditioning a checkpoint has


@dataclass(eq=False)
class MODEL(UNet):
    """A checkpoint's denoiser: the UNet handle with what sampling needs to know of its checkpoint: the family,
    the scheduler recipe its config describes (betas, prediction type), and for SDXL whether it is a refiner
    (it takes an aesthetic score instead of the target size)."""

    family: Family = "sd1"
    scheduler: Scheduler | None = None
    requires_aesthetics_score: bool = False


@dataclass(eq=False, frozen=True)
class CLIP:
    """A checkpoint's text side: one tokenizer and encoder (SD 1.x/2.x) or two (SDXL, in the pipeline's order),
    and the encoder layer to stop at (-1 = the last; ComfyUI's CLIPSetLastLayer sets -2 for "clip skip 2").

    Its handles are reached through `__nodeflow_handles__` so that the model service owns, drops and reloads
    them like any loader output."""

    tokenizers: tuple[Tokenizer, ...]
    encoders: tuple[TextEncoder, ...]
    family: Family = "sd1"
    stop_at_layer: int = -1

    def __nodeflow_handles__(self) -> dict[str, Any]:
        return {**{f"tokenizer_{i}": t for i, t in enumerate(self.tokenizers)},
                **{f"encoder_{i}": e for i, e in enumerate(self.encoders)}}


@dataclass(eq=False, frozen=True)
class ConditioningEntry:
    """One prompt's conditioning as ComfyUI keeps it: hidden states (1, tokens, dim), the pooled embedding (SDXL),
    and what the conditioning nodes set: an area (height, width, y, x in latent pixels) with its strength, and the
    ControlNets applied (`Control` entries, in order)."""

    embeds: Any
    pooled: Any = None
    area: tuple[int, int, int, int] | None = None
    strength: float = 1.0
    controls: tuple = ()


@dataclass(eq=False, frozen=True)
class CONDITIONING:
    """A list of conditioning entries: ConditioningCombine concatenates them and a sampler sums their predictions,
    each over its area and weighted by its strength."""

    entries: tuple[ConditioningEntry, ...]

    @classmethod
    def stacked(cls, values: list[CONDITIONING]) -> CONDITIONING | None:
        """Whole-image prompts of one entry each, without ControlNets (combined or area prompts run alone)."""
        if any(len(value.entries) != 1 for value in values):
            return None
        entries = [value.entries[0] for value in values]
        first = entries[0]
        if any(entry.area is not None or entry.controls or entry.strength != first.strength for entry in entries):
            return None
        embeds = stacked_tensors([entry.embeds for entry in entries])
        pooled = None if first.pooled is None else stacked_tensors([entry.pooled for entry in entries])
        if embeds is None or (pooled is None) != (first.pooled is None):
            return None
        return cls((ConditioningEntry(embeds, pooled, None, first.strength),))

    def unstacked(self, count: int) -> list[CONDITIONING]:
        [entry] = self.entries
        return [CONDITIONING((ConditioningEntry(embeds, pooled, None, entry.strength),))
                for embeds, pooled in zip(unstacked_tensor(entry.embeds, count), unstacked_tensor(entry.pooled, count))]


@dataclass(eq=False)
class LATENT(Latents):
    """Latents as ComfyUI's LATENT carries them: `samples` (B, C, H, W), unscaled as the VAE makes them (the
    sampler applies the model's scaling factor), and a `noise_mask` (B, 1, H, W), 1 = denoise, set by
    VAEEncodeForInpaint and SetLatentNoiseMask."""

    noise_mask: Any = None

    @classmethod
    def stacked(cls, values: list[Latents]) -> LATENT | None:
        """One latent per prompt (a batched sampler keeps one random stream per latent, from its prompt's seed),
        all with a noise mask or none."""
        masks = [getattr(value, "noise_mask", None) for value in values]
        if any(len(value.samples) != 1 or (mask is None) != (masks[0] is None) for value, mask in zip(values, masks)):
            return None
        samples = stacked_tensors([value.samples for value in values])
        mask = None if masks[0] is None else stacked_tensors(masks)
        if samples is None or (mask is None) != (masks[0] is None):
            return None
        return cls(samples, None, mask)

    def unstacked(self, count: int) -> list[LATENT]:
        masks = unstacked_tensor(self.noise_mask, count)
        return [LATENT(samples, None, mask) for samples, mask in zip(unstacked_tensor(self.samples, count), masks)]


@dataclass(eq=False)
class IMAGE(Image):
    """Images (B, C, H, W) in [0, 1] on the CPU, as nodeflow's `Image`."""


@dataclass(eq=False)
class MASK(Mask):
    """Masks (B, 1, H, W) in [0, 1] on the CPU, 1 = repaint, as nodeflow's `Mask`."""


@dataclass(eq=False)
class CONTROL_NET(ControlNet):
    """A ControlNetModel handle, as nodeflow's `ControlNet`."""
