"""SDXL loaders: a base or refiner diffusers folder (or hub id), or a single-file checkpoint with its config folder.

A base has two tokenizers and text encoders; a refiner only the second, so its
`tokenizer` and `text_encoder` outputs are None (the SDXL encode node takes
them as optional). The UNet handle carries the pipeline settings the folder's
model_index.json records, which the denoise nodes follow as the pipelines do.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import Context, node
from nodes._pipeline_folders import (
    DType, Placement, load_component, model_fingerprint, module_config, pin, read_model_index, read_scheduler,
)
from nodes.folder_inputs import CheckpointFile, ModelName
from nodes.latents import vae_scale_factor
from nodes.model_locator import locate
from nodes.sd import checkpoint_fingerprint, load_single_file
from nodes.types import VAE, Scheduler, SDXLUNet, TextEncoder, Tokenizer

_ENCODER_PARTS = ("tokenizer", "text_encoder", "tokenizer_2", "text_encoder_2")


class SDXLModel(NamedTuple):
    tokenizer: Tokenizer | None
    text_encoder: TextEncoder | None
    tokenizer_2: Tokenizer
    text_encoder_2: TextEncoder
    unet: SDXLUNet
    vae: VAE
    scheduler: Scheduler


def _present(index: dict[str, Any], name: str) -> bool:
    entry = index.get(name)
    return isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[1] is not None


def _as_loaded(config_ref: str, index: dict[str, Any]) -> Scheduler:
    """The scheduler as the SDXL pipelines load it: the class model_index.json names, its defaults filled in
    (`_use_default_values` lists them, so that another class built from this config takes its own)."""
    import diffusers

    class_name = index["scheduler"][1]
    config = dict(getattr(diffusers, class_name).from_config(read_scheduler(config_ref).config).config)
    return Scheduler(class_name, {**config, "_class_name": class_name})


def _handles(components: dict[str, Any], index: dict[str, Any], scheduler: Scheduler, source: str) -> SDXLModel:
    def handle(cls: type, name: str) -> Any:
        module = components.get(name)
        if module is None:
            return None
        if cls is Tokenizer:
            return Tokenizer(module, source)
        return cls(module, source, module.dtype, module_config(module))

    vae = handle(VAE, "vae")
    unet, text_encoder_2 = components["unet"], components.get("text_encoder_2")
    if text_encoder_2 is None:
        raise ValueError(f"{source!r} has no text_encoder_2: not an SDXL base or refiner")
    return SDXLModel(
        handle(Tokenizer, "tokenizer"), handle(TextEncoder, "text_encoder"), handle(Tokenizer, "tokenizer_2"),
        handle(TextEncoder, "text_encoder_2"),
        SDXLUNet(unet, source, unet.dtype, module_config(unet),
                 requires_aesthetics_score=bool(index.get("requires_aesthetics_score", False)),
                 force_zeros_for_empty_prompt=bool(index.get("force_zeros_for_empty_prompt", True)),
                 vae_scale_factor=vae_scale_factor(vae)),
        vae, scheduler,
    )


@node("sdxl.load_model", category="loaders", version="1.0.0", display_name="Load SDXL Model",
      fingerprint=model_fingerprint)
def load_model(ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto") -> SDXLModel:
    """An SDXL base or refiner: a diffusers folder (in the models folder) or a hub id, split into its parts.
    A refiner has no first tokenizer and text encoder: those outputs are None."""
    ref = locate(ctx.folders, model).ref
    index = read_model_index(ref)
    names = [name for name in (*_ENCODER_PARTS, "unet", "vae") if _present(index, name)]
    components = {name: load_component(ref, name, index, dtype) for name in names}
    return pin(_handles(components, index, _as_loaded(ref, index), ref), device)


@node("sdxl.load_checkpoint", category="loaders", version="1.0.0", display_name="Load SDXL Checkpoint",
      fingerprint=checkpoint_fingerprint)
def load_checkpoint(
    ctx: Context, checkpoint: CheckpointFile, config: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> SDXLModel:
    """A single-file original-layout SDXL checkpoint (.safetensors only) with the diffusers folder (or hub id)
    whose configs, tokenizers and scheduler describe it, split into its parts."""
    loaded = load_single_file(ctx, checkpoint, config, dtype)
    return pin(_handles(loaded.components, loaded.index, _as_loaded(loaded.config_ref, loaded.index), loaded.path),
               device)
