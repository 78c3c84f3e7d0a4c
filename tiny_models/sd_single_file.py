"""Write a diffusers Stable Diffusion folder as one original-layout (LDM / A1111) `.safetensors` checkpoint.

The inverse of the renaming that diffusers' `from_single_file` does, for SD 1.x
and SDXL (base and refiner) UNets, VAEs and text encoders: enough to test that a single-file
checkpoint loads the same model.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

_UNET_TOP = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
             "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
_UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
                "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}
_VAE_TOP = {"encoder.conv_norm_out": "encoder.norm_out", "decoder.conv_norm_out": "decoder.norm_out"}
_VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename_first(rest: str, names: dict[str, str]) -> str:
    head, _, tail = rest.partition(".")
    for old, new in names.items():
        if rest.startswith(old + "."):
            return new + rest[len(old):]
    return f"{head}.{tail}"


def _unet_key(key: str, layers: int, block_has_attention: list[bool]) -> str:
    for old, new in _UNET_TOP.items():
        if key.startswith(old + "."):
            return new + key[len(old):]
    parts = key.split(".")
    if parts[0] == "mid_block":
        index = {"resnets.0": 0, "attentions.0": 1, "resnets.1": 2}[f"{parts[1]}.{parts[2]}"]
        rest = ".".join(parts[3:])
        return f"middle_block.{index}." + (_rename_first(rest, _UNET_RESNET) if parts[1] == "resnets" else rest)
    block, kind, index, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
    if parts[0] == "down_blocks":
        base = 1 + block * (layers + 1)
        if kind == "downsamplers":
            return f"input_blocks.{base + layers}.0.op." + rest.removeprefix("conv.")
        sub = 0 if kind == "resnets" else 1
        return f"input_blocks.{base + index}.{sub}." + (_rename_first(rest, _UNET_RESNET) if sub == 0 else rest)
    base = block * (layers + 1)
    if kind == "upsamplers":
        return f"output_blocks.{base + layers}.{2 if block_has_attention[block] else 1}.{rest}"
    sub = 0 if kind == "resnets" else 1
    return f"output_blocks.{base + index}.{sub}." + (_rename_first(rest, _UNET_RESNET) if sub == 0 else rest)


def _vae_key(key: str, blocks: int) -> str:
    for old, new in _VAE_TOP.items():
        if key.startswith(old + "."):
            return new + key[len(old):]
    parts = key.split(".")
    if len(parts) < 3 or parts[1] not in ("down_blocks", "up_blocks", "mid_block"):
        return key
    coder = parts[0]
    if parts[1] == "mid_block":
        kind, index, rest = parts[2], int(parts[3]), ".".join(parts[4:])
        if kind == "attentions":
            return f"{coder}.mid.attn_1." + _rename_first(rest, _VAE_ATTENTION)
        return f"{coder}.mid.block_{index + 1}." + rest.replace("conv_shortcut", "nin_shortcut")
    block, kind, index, rest = int(parts[2]), parts[3], parts[4], ".".join(parts[5:])
    level = block if coder == "encoder" else blocks - 1 - block
    name = "down" if coder == "encoder" else "up"
    if kind in ("downsamplers", "upsamplers"):
        return f"{coder}.{name}.{level}.{'downsample' if coder == 'encoder' else 'upsample'}.{rest}"
    return f"{coder}.{name}.{level}.block.{index}." + rest.replace("conv_shortcut", "nin_shortcut")


def _vae_tensor(ldm_key: str, tensor: Any) -> Any:
    """Attention projections are 1×1 convolutions in the original VAE, linear layers in diffusers."""
    if ".mid.attn_1." in ldm_key and ldm_key.endswith(("q.weight", "k.weight", "v.weight", "proj_out.weight")):
        return tensor[:, :, None, None]
    return tensor


def _open_clip_state(text_encoder: Any) -> dict[str, Any]:
    """A CLIPTextModelWithProjection's weights in OpenCLIP's layout (SD 2.x, SDXL's second encoder): one packed
    in_proj per attention, the projection as a matrix applied from the right."""
    import torch

    weights = {key.removeprefix("text_model."): tensor for key, tensor in text_encoder.state_dict().items()}
    state = {"token_embedding.weight": weights.pop("embeddings.token_embedding.weight"),
             "positional_embedding": weights.pop("embeddings.position_embedding.weight"),
             "text_projection": weights.pop("text_projection.weight").T,
             "ln_final.weight": weights.pop("final_layer_norm.weight"),
             "ln_final.bias": weights.pop("final_layer_norm.bias")}
    weights.pop("embeddings.position_ids", None)
    for layer in range(text_encoder.config.num_hidden_layers):
        ours, theirs = f"encoder.layers.{layer}.", f"transformer.resblocks.{layer}."
        for kind in ("weight", "bias"):
            state[f"{theirs}attn.in_proj_{kind}"] = torch.cat(
                [weights.pop(f"{ours}self_attn.{p}_proj.{kind}") for p in "qkv"])
            for old, new in (("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"),
                             ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj")):
                state[f"{theirs}{new}.{kind}"] = weights.pop(f"{ours}{old}.{kind}")
    return state


def _clip_state(text_encoder: Any) -> dict[str, Any]:
    # Original checkpoints nest the text model (`text_model.`); transformers 5 flattened CLIPTextModel.
    return {("" if key.startswith("text_model.") else "text_model.") + key: tensor
            for key, tensor in text_encoder.state_dict().items()}


def write_single_file_checkpoint(model_folder: str | Path, path: str | Path) -> Path:
    """Save the UNet, VAE and CLIP text encoder(s) of a diffusers SD or SDXL folder as one LDM-layout safetensors
    file (SDXL: the first encoder as CLIP-L under `conditioner.embedders.0.transformer.`, the second in OpenCLIP's
    layout under `conditioner.embedders.1.model.`; a refiner's only encoder under `conditioner.embedders.0.model.`)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    model_folder, path = Path(model_folder), Path(path)
    unet = UNet2DConditionModel.from_pretrained(model_folder, subfolder="unet")
    vae = AutoencoderKL.from_pretrained(model_folder, subfolder="vae")
    layers = unet.config.layers_per_block
    has_attention = ["CrossAttn" in name for name in unet.config.up_block_types]
    blocks = len(vae.config.block_out_channels)
    state: dict[str, Any] = {}
    for key, tensor in unet.state_dict().items():
        state["model.diffusion_model." + _unet_key(key, layers, has_attention)] = tensor
    for key, tensor in vae.state_dict().items():
        ldm_key = _vae_key(key, blocks)
        state["first_stage_model." + ldm_key] = _vae_tensor(ldm_key, tensor)
    first = (CLIPTextModel.from_pretrained(model_folder, subfolder="text_encoder")
             if (model_folder / "text_encoder").is_dir() else None)
    second = (CLIPTextModelWithProjection.from_pretrained(model_folder, subfolder="text_encoder_2")
              if (model_folder / "text_encoder_2").is_dir() else None)
    if first is None:  # an SDXL refiner: the OpenCLIP encoder alone, first in line
        encoders = {"conditioner.embedders.0.model.": _open_clip_state(second)}
    elif second is None:
        encoders = {"cond_stage_model.transformer.": _clip_state(first)}
    else:
        encoders = {"conditioner.embedders.0.transformer.": _clip_state(first),
                    "conditioner.embedders.1.model.": _open_clip_state(second)}
    for prefix, weights in encoders.items():
        state.update({prefix + key: tensor for key, tensor in weights.items() if not key.endswith("position_ids")})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: tensor.contiguous() for key, tensor in state.items()}, str(path))
    return path


def write_tiny_checkpoint(path: str | Path) -> Path:
    """A single-file checkpoint of a fresh tiny SD model (random weights), written at `path`."""
    from tiny_models.sd import make_tiny_sd

    with tempfile.TemporaryDirectory() as scratch:
        return write_single_file_checkpoint(make_tiny_sd(Path(scratch) / "model"), path)


def write_tiny_sdxl_checkpoint(path: str | Path) -> Path:
    """A single-file checkpoint of a fresh tiny SDXL base model (random weights), written at `path`."""
    from tiny_models.sdxl import make_tiny_sdxl

    with tempfile.TemporaryDirectory() as scratch:
        return write_single_file_checkpoint(make_tiny_sdxl(Path(scratch) / "model", second_width=48), path)


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    writers = {"checkpoint": write_tiny_checkpoint, "sdxl-checkpoint": write_tiny_sdxl_checkpoint}
    return build_command("tiny_models.sd_single_file", writers, argv)


if __name__ == "__main__":
    sys.exit(main())
