"""Stable Diffusion loaders: a whole diffusers folder (or hub id), single components, or a single-file checkpoint.

Each component becomes its own handle, so that the tokenizer, text encoder,
UNet, VAE and scheduler can be cached, shared and swapped separately. Only
safetensors weights are read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import Context, node
from nodes.compiling import compile_denoiser
from nodeflow.fingerprint import path_fingerprint, source_fingerprint
from nodes.folder_inputs import CheckpointFile, ModelName
from nodes.model_locator import locate
from nodes._pipeline_folders import (
    NO_REMOTE_CODE, DType, Placement, load_component, model_fingerprint, pin, read_model_index, read_scheduler,
    torch_dtype,
)
from nodes.types import VAE, Scheduler, TextEncoder, Tokenizer, UNet


class SDModel(NamedTuple):
    tokenizer: Tokenizer
    text_encoder: TextEncoder
    unet: UNet
    vae: VAE
    scheduler: Scheduler


def _config(module: Any) -> dict[str, Any]:
    config = module.config
    return dict(config.to_dict() if hasattr(config, "to_dict") else config)


def _handles(components: dict[str, Any], scheduler: Scheduler, source: str) -> SDModel:
    text_encoder, unet, vae = components["text_encoder"], components["unet"], components["vae"]
    return SDModel(
        Tokenizer(components["tokenizer"], source),
        TextEncoder(text_encoder, source, text_encoder.dtype, _config(text_encoder)),
        UNet(unet, source, unet.dtype, _config(unet)),
        VAE(vae, source, vae.dtype, _config(vae)),
        scheduler,
    )


def _as_sd_pipelines_load(config_ref: str, index: dict[str, Any]) -> Scheduler:
    """The scheduler as StableDiffusionPipeline loads it: the class model_index.json names, with the fixes the
    pipeline applies to outdated configs (steps_offset → 1, clip_sample → False), defaults included."""
    import diffusers

    class_name = index["scheduler"][1]
    config = dict(getattr(diffusers, class_name).from_config(read_scheduler(config_ref).config).config)
    fixed = {}
    if config.get("steps_offset", 1) != 1:
        fixed["steps_offset"] = 1
    if config.get("clip_sample", False) is True:
        fixed["clip_sample"] = False
    # `_use_default_values` lists the keys the file left out: another class built from this config takes its
    # own defaults for them, as `X.from_config(pipe.scheduler.config)` does; the fixed keys are not defaults.
    defaults = [key for key in config.get("_use_default_values", []) if key not in fixed]
    return Scheduler(class_name, {**config, **fixed, "_use_default_values": defaults, "_class_name": class_name})


@node("sd.load_model", category="loaders", version="1.2.0", display_name="Load SD Model", fingerprint=model_fingerprint)
def load_model(ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto",
               compile: bool = False) -> SDModel:
    """A Stable Diffusion model: a diffusers folder (in the models folder) or a hub id, split into its parts.
    `compile` compiles the UNet with torch.compile: the first prompt (and each new size) takes longer while it
    compiles, the later ones run faster (on a GPU)."""
    ref = locate(ctx.folders, model).ref
    index = read_model_index(ref)
    names = ("tokenizer", "text_encoder", "unet", "vae")
    components = {name: load_component(ref, name, index, dtype) for name in names}
    if compile:
        compile_denoiser(components["unet"], ctx.device)
    return pin(_handles(components, _as_sd_pipelines_load(ref, index), ref), device)


def checkpoint_fingerprint(literals: dict[str, Any], folders: Any) -> str:
    checkpoint = folders.readable("models", literals["checkpoint"], "checkpoint")
    config = folders.model_source(literals["config"], input_name="config")
    return f"{path_fingerprint(checkpoint)}|{source_fingerprint(config)}"


@node("sd.load_checkpoint", category="loaders", version="1.1.0", display_name="Load SD Checkpoint",
      fingerprint=checkpoint_fingerprint)
def load_checkpoint(
    ctx: Context, checkpoint: CheckpointFile, config: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> SDModel:
    """A single-file original-layout checkpoint (.safetensors only) with the diffusers folder (or hub id) whose
    configs, tokenizer and scheduler describe it, split into its parts."""
    loaded = load_single_file(ctx, checkpoint, config, dtype)
    return pin(_handles(loaded.components, _as_sd_pipelines_load(loaded.config_ref, loaded.index), loaded.path),
               device)


class SingleFile(NamedTuple):
    components: dict[str, Any]
    index: dict[str, Any]
    config_ref: str
    path: str


def load_single_file(ctx: Context, checkpoint: str, config: str, dtype: str) -> SingleFile:
    """A single-file checkpoint (.safetensors only) read with the pipeline class its config folder names."""
    path = ctx.folders.readable("models", checkpoint, "checkpoint")
    if path.suffix != ".safetensors" or not path.is_file():
        raise ValueError(f"{checkpoint!r} is not a .safetensors file in the model folders (other formats unpickle)")
    config_source = locate(ctx.folders, config, input_name="config")
    import diffusers  # once the config is found, so that a missing one fails at once

    index = read_model_index(config_source.ref)
    pipeline_class = getattr(diffusers, index["_class_name"])
    pipeline = pipeline_class.from_single_file(str(path), config=config_source.ref, torch_dtype=torch_dtype(dtype),
                                               local_files_only=config_source.path is not None)
    return SingleFile(pipeline.components, index, config_source.ref, str(path))


def _component_fingerprint(literals: dict[str, Any], folders: Any) -> str:
    return source_fingerprint(folders.model_source(literals["model"], literals["subfolder"]))


def _load_one(ctx: Context, model: str, subfolder: str, dtype: str, role: str) -> Any:
    ref = locate(ctx.folders, model, subfolder).ref
    return load_component(ref, subfolder, {subfolder: _component_class(ref, subfolder, role)}, dtype), ref


def _component_class(ref: str, subfolder: str, role: str) -> list[str]:
    """(library, class) of a component folder, read from its own config so that no model_index.json is needed."""
    if role == "tokenizer":
        return ["transformers", "CLIPTokenizer"]
    if role == "text_encoder":
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(ref, subfolder=subfolder, **NO_REMOTE_CODE)
        architectures = config.architectures or ["CLIPTextModel"]
        return ["transformers", architectures[0]]
    return ["diffusers", {"unet": "UNet2DConditionModel", "vae": "AutoencoderKL"}[role]]


@node("sd.load_unet", category="loaders", version="1.1.0", display_name="Load UNet",
      output="unet", fingerprint=_component_fingerprint)
def load_unet(
    ctx: Context, model: ModelName, subfolder: str = "unet", dtype: DType = "float32", device: Placement = "auto"
) -> UNet:
    """A UNet2DConditionModel from one subfolder of a diffusers folder or hub repo."""
    module, ref = _load_one(ctx, model, subfolder, dtype, "unet")
    return pin(UNet(module, ref, module.dtype, _config(module)), device)


@node("sd.load_vae", category="loaders", version="1.1.0", display_name="Load VAE Folder",
      output="vae", fingerprint=_component_fingerprint)
def load_vae(
    ctx: Context, model: ModelName, subfolder: str = "vae", dtype: DType = "float32", device: Placement = "auto"
) -> VAE:
    """An AutoencoderKL from one subfolder of a diffusers folder or hub repo."""
    module, ref = _load_one(ctx, model, subfolder, dtype, "vae")
    return pin(VAE(module, ref, module.dtype, _config(module)), device)


@node("sd.load_text_encoder", category="loaders", version="1.1.0", fingerprint=_component_fingerprint)
def load_text_encoder(
    ctx: Context, model: ModelName, subfolder: str = "text_encoder", dtype: DType = "float32",
    device: Placement = "auto",
) -> TextEncoder:
    """A CLIPTextModel or CLIPTextModelWithProjection from one subfolder (the class its config names)."""
    module, ref = _load_one(ctx, model, subfolder, dtype, "text_encoder")
    return pin(TextEncoder(module, ref, module.dtype, _config(module)), device)


@node("sd.load_tokenizer", category="loaders", version="1.0.0", fingerprint=_component_fingerprint)
def load_tokenizer(ctx: Context, model: ModelName, subfolder: str = "tokenizer") -> Tokenizer:
    """A CLIP tokenizer from one subfolder (vocab.json + merges.txt, or tokenizer.json)."""
    module, ref = _load_one(ctx, model, subfolder, "float32", "tokenizer")
    return Tokenizer(module, ref)


@node("sd.load_scheduler", category="loaders", version="1.0.0", fingerprint=_component_fingerprint)
def load_scheduler(ctx: Context, model: ModelName, subfolder: str = "scheduler") -> Scheduler:
    """The scheduler recipe (class and config) stored in one subfolder."""
    return read_scheduler(locate(ctx.folders, model, subfolder).ref, subfolder)
