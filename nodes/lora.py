"""LoRA: a LoRA file applied at a strength to a UNet and its text encoder(s), read as diffusers' `load_lora_weights`
reads it (diffusers/peft and kohya layouts), stackable, for Stable Diffusion and SDXL.

The applied model is a derived handle (see `ModelHandle.base`): it owns no module. Around each use of the base
module, its LoRAs are injected as peft adapters if the module lacks them (first use, or a reload after the model
service dropped it), activated at their strengths with diffusers' `set_adapters`, and switched off again when the
use ends, so that the base model, and every other LoRA'd model on it, computes exactly what it did before.
"""

from __future__ import annotations

import dataclasses
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Iterator, NamedTuple, TypeVar

from pydantic import Field

from nodeflow import Context, ModelHandle, node
from nodeflow.fingerprint import path_fingerprint
from nodes.folder_inputs import LoraFile
from nodes.types import SDXLUNet, TextEncoder, UNet

Strength = Annotated[float, Field(ge=-20.0, le=20.0)]
Handle = TypeVar("Handle", bound=ModelHandle)


@dataclass(frozen=True, eq=False)
class Lora:
    """One LoRA file as diffusers reads it: keys in diffusers' layout, kohya's network alphas (or None), and the
    pipeline's LoRA loader mixin that read it and injects it (StableDiffusionLoraLoaderMixin, the SDXL one, …)."""

    loader: Any
    adapter: str  # the peft adapter name in a module: one per file version
    source: str
    state_dict: dict[str, Any]
    network_alphas: dict[str, float] | None


@dataclass(frozen=True, eq=False)
class LoraStack:
    """The LoRAs of one derived handle, with their strengths, for one component (`unet`, `text_encoder`, …: the
    key prefix diffusers' loader reads for that module)."""

    component: str
    loras: tuple[tuple[Lora, float], ...]

    def adding(self, lora: Lora, strength: float) -> LoraStack:
        if any(present.adapter == lora.adapter for present, _ in self.loras):
            raise ValueError(f"LoRA {lora.source!r} is already applied to this {self.component}")
        return LoraStack(self.component, (*self.loras, (lora, strength)))

    @contextmanager
    def __call__(self, module: Any) -> Iterator[Any]:
        from diffusers.utils.peft_utils import set_adapter_layers

        names, weights = self._injected(module)
        if not names:  # none of the LoRAs has weights for this component
            yield module
            return
        set_adapter_layers(module, enabled=True)
        try:
            _set_adapters(module, names, weights)
            yield module
        finally:
            set_adapter_layers(module, enabled=False)

    def _injected(self, module: Any) -> tuple[list[str], list[float]]:
        """Inject the LoRAs the module lacks; the adapter names it has for them, and their strengths."""
        names, weights = [], []
        for lora, strength in self.loras:
            if lora.adapter not in getattr(module, "peft_config", {}):
                state_dict, alphas = dict(lora.state_dict), dict(lora.network_alphas or {}) or None
                if self.component == "unet":
                    lora.loader.load_lora_into_unet(state_dict, alphas, module, adapter_name=lora.adapter)
                else:
                    lora.loader.load_lora_into_text_encoder(state_dict, alphas, module, prefix=self.component,
                                                            adapter_name=lora.adapter)
            if lora.adapter in getattr(module, "peft_config", {}):
                names.append(lora.adapter)
                weights.append(strength)
        return names, weights


def _set_adapters(module: Any, names: list[str], weights: list[float]) -> None:
    """As the pipeline's `set_adapters` does it per component: the model's own method on diffusers models, the
    text-encoder helper on transformers ones."""
    from diffusers import ModelMixin
    from diffusers.loaders.lora_base import set_adapters_for_text_encoder

    if isinstance(module, ModelMixin):
        module.set_adapters(names, weights)
    else:
        set_adapters_for_text_encoder(names, module, weights)


def read_lora(ctx: Context, lora: str, loader: Any, **read_options: Any) -> Lora:
    """The LoRA file `lora` of the model folders, read (and its kohya keys converted) by diffusers' LoRA loader
    mixin `loader` with the options its pipeline's `load_lora_weights` gives it."""
    path = ctx.folders.readable("models", lora, "lora")
    if path.suffix != ".safetensors" or not path.is_file():
        raise ValueError(f"input 'lora': {lora!r} is not a .safetensors file in the model folders")
    state_dict, alphas = loader.lora_state_dict(str(path), **read_options)
    if not state_dict or not all("lora" in key for key in state_dict):
        raise ValueError(f"input 'lora': {lora!r} holds no LoRA weights diffusers can read")
    adapter = "lora_" + hashlib.blake2b(path_fingerprint(path).encode(), digest_size=8).hexdigest()
    return Lora(loader, adapter, str(path), state_dict, alphas)


def with_lora(handle: Handle, component: str, lora: Lora, strength: float) -> Handle:
    """A derived handle of the same class: `handle`'s model (itself maybe LoRA'd) with `lora` added on top."""
    stack = handle.applied if isinstance(handle.applied, LoraStack) else LoraStack(component, ())
    return dataclasses.replace(handle, module=None, recipe=None, base=handle.owner,
                               applied=stack.adding(lora, strength), source=f"{handle.source} + {lora.source}")


class LoraModel(NamedTuple):
    unet: UNet
    text_encoder: TextEncoder


def _lora_fingerprint(literals: dict[str, Any], folders: Any) -> str:
    return path_fingerprint(folders.readable("models", literals["lora"], "lora"))


@node("lora.apply", category="loaders", version="1.0.0", display_name="Apply LoRA", fingerprint=_lora_fingerprint)
def apply_lora(
    ctx: Context, unet: UNet, text_encoder: TextEncoder, lora: LoraFile, strength: Strength = 1.0,
    text_encoder_strength: Strength = 1.0,
) -> LoraModel:
    """A LoRA file (.safetensors, diffusers/peft or kohya layout) applied to a Stable Diffusion UNet at `strength`
    and to its text encoder at `text_encoder_strength`, as the pipeline's `load_lora_weights` and
    `set_adapters(…, adapter_weights=…)` do. Link its outputs into another Apply LoRA to stack LoRAs. The base
    model is left as it was: other workflows on it do not see the LoRA."""
    from diffusers.loaders import StableDiffusionLoraLoaderMixin

    read = read_lora(ctx, lora, StableDiffusionLoraLoaderMixin)
    return LoraModel(with_lora(unet, "unet", read, strength),
                     with_lora(text_encoder, "text_encoder", read, text_encoder_strength))


class SDXLLoraModel(NamedTuple):
    unet: SDXLUNet
    text_encoder: TextEncoder | None
    text_encoder_2: TextEncoder


@node("lora.apply_sdxl", category="loaders", version="1.0.0", display_name="Apply SDXL LoRA",
      fingerprint=_lora_fingerprint)
def apply_sdxl_lora(
    ctx: Context, unet: SDXLUNet, text_encoder_2: TextEncoder, lora: LoraFile, text_encoder: TextEncoder | None = None,
    strength: Strength = 1.0, text_encoder_strength: Strength = 1.0, text_encoder_2_strength: Strength = 1.0,
) -> SDXLLoraModel:
    """A LoRA file (.safetensors, diffusers/peft or kohya layout) applied to an SDXL UNet at `strength` and to its
    text encoders at their strengths, as StableDiffusionXLPipeline's `load_lora_weights` and `set_adapters(…,
    adapter_weights=…)` do. A refiner has no first text encoder: leave `text_encoder` unlinked. Link its outputs
    into another Apply SDXL LoRA to stack LoRAs. The base model is left as it was."""
    from diffusers.configuration_utils import FrozenDict
    from diffusers.loaders import StableDiffusionXLLoraLoaderMixin

    # The UNet's config maps kohya's SGM block names (input_blocks_4_1_…) to diffusers' blocks.
    read = read_lora(ctx, lora, StableDiffusionXLLoraLoaderMixin, unet_config=FrozenDict(unet.config))
    return SDXLLoraModel(
        with_lora(unet, "unet", read, strength),
        None if text_encoder is None else with_lora(text_encoder, "text_encoder", read, text_encoder_strength),
        with_lora(text_encoder_2, "text_encoder_2", read, text_encoder_2_strength))
