"""The ComfyUI core pack's loaders, under ComfyUI's type ids, input names and output names.

Models come from ComfyUI's model folders inside nodeflow's model folders: `checkpoints`, `vae`, `loras`,
`controlnet`. Only safetensors files are read (a .ckpt unpickles, and may run code).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, NamedTuple

from pydantic import Field

import nodes.comfy_types as comfy
from nodeflow import Context, node
from nodeflow.fingerprint import path_fingerprint
from nodes._pipeline_folders import module_config
from nodes._checkpoint_architecture import VAE, Shapes, controlnet_config, layout_summary, vae_config
from nodes._checkpoint_loading import read_checkpoint, single_file_model
from nodes.folder_inputs import CheckpointName, ControlNetName, LoraName, VaeName
from nodes.lora import read_lora, with_lora
from nodes.types import TextEncoder, Tokenizer


Strength = Annotated[float, Field(ge=-100.0, le=100.0)]  # ComfyUI's bounds for LoRA strengths


def comfy_file(folders: Any, subfolder: str, name: str, node_type: str, input_name: str) -> Path:
    """A safetensors file of one of ComfyUI's model folders; a clear refusal for anything else."""
    path = folders.readable("models", f"{subfolder}/{name}", input_name)
    if path.suffix != ".safetensors":
        raise ValueError(f"{node_type}: input {input_name!r}: {name!r} is not a .safetensors file; other formats "
                         "(.ckpt, .pt) are pickles, which nodeflow does not load: convert it to safetensors")
    if not path.is_file():
        raise FileNotFoundError(f"{node_type}: input {input_name!r}: no file {name!r} in the {subfolder} model "
                                f"folder ({', '.join(str(root / subfolder) for root in folders.models)})")
    return path


def _fingerprint(subfolder: str, input_name: str) -> Any:
    def fingerprint(literals: dict[str, Any], folders: Any) -> str:
        return path_fingerprint(folders.readable("models", f"{subfolder}/{literals[input_name]}", input_name))

    return fingerprint


class Checkpoint(NamedTuple):
    MODEL: comfy.MODEL
    CLIP: comfy.CLIP
    VAE: comfy.VAE


@node("CheckpointLoaderSimple", category="loaders", display_name="Load Checkpoint",
      fingerprint=_fingerprint("checkpoints", "ckpt_name"))
def checkpoint_loader_simple(ctx: Context, ckpt_name: CheckpointName) -> Checkpoint:
    """An SD 1.x, SD 2.x or SDXL (base or refiner) checkpoint, one .safetensors file in the original layout, its
    architecture and sizes read from the file; CLIP's tokenizer comes from models/tokenizers or the hub cache."""
    import torch

    path = comfy_file(ctx.folders, "checkpoints", ckpt_name, "CheckpointLoaderSimple", "ckpt_name")
    loaded, scheduler = read_checkpoint(ctx.folders, path, ckpt_name, "CheckpointLoaderSimple", torch.float32)
    parts, family, source = loaded.components, loaded.architecture.family, str(path)
    names = [name for name in ("text_encoder", "text_encoder_2") if parts.get(name) is not None]
    clip = comfy.CLIP(
        tuple(Tokenizer(parts[name.replace("text_encoder", "tokenizer")], source) for name in names),
        tuple(TextEncoder(parts[name], source, parts[name].dtype, module_config(parts[name])) for name in names),
        family="sdxl" if family.startswith("sdxl") else family,
    )
    unet, vae = parts["unet"], parts["vae"]
    model = comfy.MODEL(unet, source, unet.dtype, module_config(unet), family=clip.family, scheduler=scheduler,
                        requires_aesthetics_score=family == "sdxl_refiner")
    return Checkpoint(model, clip, comfy.VAE(vae, source, vae.dtype, module_config(vae)))


def _original_layout(path: Path, name: str, node_type: str, what: str, prefixes: tuple[str, ...], marker: str
                     ) -> tuple[Shapes, str]:
    """The file's shapes and the prefix its `marker` keys are under; a refusal naming what was found otherwise."""
    shapes = Shapes.of(path)
    for prefix in prefixes:
        if shapes.has(prefix + marker):
            return shapes, prefix
    raise ValueError(f"{node_type}: {name!r} is not {what} in the original layout (found keys under "
                     f"{layout_summary(shapes)})")


@node("VAELoader", category="loaders", display_name="Load VAE", output="VAE", fingerprint=_fingerprint("vae", "vae_name"))
def vae_loader(ctx: Context, vae_name: VaeName) -> comfy.VAE:
    """A VAE from models/vae: a single .safetensors file in the original layout (a VAE of its own, or a
    checkpoint's) or a diffusers folder. Its scaling factor is SD's: ComfyUI's samplers apply the model's."""
    from diffusers import AutoencoderKL

    path = ctx.folders.readable("models", f"vae/{vae_name}", "vae_name")
    if path.is_dir():
        module = AutoencoderKL.from_pretrained(str(path), use_safetensors=True)
    else:
        path = comfy_file(ctx.folders, "vae", vae_name, "VAELoader", "vae_name")
        shapes, prefix = _original_layout(path, vae_name, "VAELoader", "a VAE", (VAE, ""), "encoder.down.")
        module = single_file_model(AutoencoderKL, path, vae_config(shapes, "sd1", prefix))
    return comfy.VAE(module, str(path), module.dtype, module_config(module))


@node("CLIPSetLastLayer", category="conditioning", display_name="CLIP Set Last Layer", output="CLIP")
def clip_set_last_layer(clip: comfy.CLIP, stop_at_clip_layer: Annotated[int, Field(ge=-24, le=-1)] = -1) -> comfy.CLIP:
    """The same CLIP, encoding up to layer `stop_at_clip_layer` (-1 = the last, -2 = "clip skip 2")."""
    return dataclasses.replace(clip, stop_at_layer=stop_at_clip_layer)


class ModelAndClip(NamedTuple):
    MODEL: comfy.MODEL
    CLIP: comfy.CLIP


def _lora_loader_mixin(family: str) -> Any:
    from diffusers.loaders import StableDiffusionLoraLoaderMixin, StableDiffusionXLLoraLoaderMixin

    return StableDiffusionXLLoraLoaderMixin if family == "sdxl" else StableDiffusionLoraLoaderMixin


def _read_lora(ctx: Context, model: comfy.MODEL, lora_name: str, node_type: str) -> Any:
    from diffusers.configuration_utils import FrozenDict

    comfy_file(ctx.folders, "loras", lora_name, node_type, "lora_name")
    options = {"unet_config": FrozenDict(model.config)} if model.family == "sdxl" else {}
    return read_lora(ctx, f"loras/{lora_name}", _lora_loader_mixin(model.family), **options)


@node("LoraLoader", category="loaders", display_name="Load LoRA", fingerprint=_fingerprint("loras", "lora_name"))
def lora_loader(
    ctx: Context, model: comfy.MODEL, clip: comfy.CLIP, lora_name: LoraName, strength_model: Strength = 1.0,
    strength_clip: Strength = 1.0,
) -> ModelAndClip:
    """A LoRA from models/loras applied to the model at `strength_model` and to its text encoder(s) at
    `strength_clip`; the loaded model is left as it was for other branches."""
    lora = _read_lora(ctx, model, lora_name, "LoraLoader")
    components = ("text_encoder", "text_encoder_2") if len(clip.encoders) == 2 else (
        ("text_encoder_2",) if model.requires_aesthetics_score else ("text_encoder",))
    encoders = tuple(with_lora(encoder, component, lora, strength_clip)
                     for encoder, component in zip(clip.encoders, components))
    return ModelAndClip(with_lora(model, "unet", lora, strength_model), dataclasses.replace(clip, encoders=encoders))


@node("LoraLoaderModelOnly", category="loaders", display_name="LoraLoaderModelOnly", output="MODEL",
      fingerprint=_fingerprint("loras", "lora_name"))
def lora_loader_model_only(
    ctx: Context, model: comfy.MODEL, lora_name: LoraName, strength_model: Strength = 1.0
) -> comfy.MODEL:
    """A LoRA from models/loras applied to the model only."""
    return with_lora(model, "unet", _read_lora(ctx, model, lora_name, "LoraLoaderModelOnly"), strength_model)


@node("ControlNetLoader", category="loaders", display_name="Load ControlNet Model", output="CONTROL_NET",
      fingerprint=_fingerprint("controlnet", "control_net_name"))
def controlnet_loader(ctx: Context, control_net_name: ControlNetName) -> comfy.CONTROL_NET:
    """A ControlNet from models/controlnet: one .safetensors file in the original layout (lllyasviel's, with or
    without `control_model.`), its sizes read from the file."""
    from diffusers import ControlNetModel

    path = comfy_file(ctx.folders, "controlnet", control_net_name, "ControlNetLoader", "control_net_name")
    shapes, prefix = _original_layout(path, control_net_name, "ControlNetLoader", "a ControlNet",
                                      ("control_model.", ""), "input_hint_block.")
    module = single_file_model(ControlNetModel, path, controlnet_config(shapes, prefix)).eval()
    return comfy.CONTROL_NET(module, str(path), module.dtype, module_config(module))
