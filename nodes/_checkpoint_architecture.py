"""What a single-file (LDM / A1111 layout) checkpoint is, read offline from its keys and tensor shapes.

The family comes from which text encoders the file holds (ComfyUI and diffusers
tell them apart the same way); the sizes (channels, layers, attention widths,
vocabulary) from the shapes, so that any checkpoint of a known family, tiny
test ones included, gets the diffusers config it needs. What shapes cannot tell
(attention heads, norm groups, scaling factor, scheduler) is the released
models' published config: 64-wide heads (8 heads in SD 1.x's UNet), 32 norm groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNET = "model.diffusion_model."
VAE = "first_stage_model."
CLIP_L = {"sd1": "cond_stage_model.transformer.text_model.", "sdxl": "conditioner.embedders.0.transformer.text_model."}
OPEN_CLIP = {"sd2": "cond_stage_model.model.", "sdxl": "conditioner.embedders.1.model.",
             "sdxl_refiner": "conditioner.embedders.0.model."}


@dataclass(frozen=True)
class Architecture:
    """A checkpoint's family ("sd1", "sd2", "sdxl", "sdxl_refiner"), the diffusers pipeline class that reads it,
    and its diffusers configs by component folder."""

    family: str
    pipeline: str
    configs: dict[str, dict[str, Any]]


class Shapes(dict):
    """Tensor name → shape, read from a safetensors header without loading a tensor."""

    @classmethod
    def of(cls, path: Path) -> Shapes:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as file:
            return cls({key: tuple(file.get_slice(key).get_shape()) for key in file.keys()})

    def count(self, prefix: str) -> int:
        """How many numbered children `prefix<N>.` has (layers, blocks)."""
        return len({key[len(prefix):].split(".")[0] for key in self if key.startswith(prefix)})

    def has(self, prefix: str) -> bool:
        return any(key.startswith(prefix) for key in self)


def family_of(shapes: Shapes) -> str | None:
    """The family the text encoders say, or None for a layout that is not an SD 1.x/2.x/XL checkpoint."""
    if not (shapes.has(UNET) and shapes.has(VAE)):
        return None
    if shapes.has(OPEN_CLIP["sdxl"]) and shapes.has("conditioner.embedders.0.transformer."):
        return "sdxl"
    if shapes.has(OPEN_CLIP["sdxl_refiner"]):
        return "sdxl_refiner"
    if shapes.has(OPEN_CLIP["sd2"]):
        return "sd2"
    if shapes.has(CLIP_L["sd1"]):
        return "sd1"
    return None


def layout_summary(shapes: Shapes) -> str:
    """The top-level key prefixes of a checkpoint, for an error message."""
    heads = sorted({".".join(key.split(".")[:2]) for key in shapes})
    return ", ".join(heads[:8]) + (", ..." if len(heads) > 8 else "")


def architecture(shapes: Shapes, family: str, v_prediction: bool) -> Architecture:
    text = _text_configs(shapes, family)
    unet = unet_config(shapes, family)
    pipeline = {"sd1": "StableDiffusionPipeline", "sd2": "StableDiffusionPipeline",
                "sdxl": "StableDiffusionXLPipeline", "sdxl_refiner": "StableDiffusionXLImg2ImgPipeline"}[family]
    return Architecture(family, pipeline, {**text, "unet": unet, "vae": vae_config(shapes, family),
                                           "scheduler": _scheduler_config(family, v_prediction)})


def _groups(channels: list[int]) -> int:
    return math.gcd(32, *channels)


def _heads(width: int) -> int:
    return max(1, width // 64)


def unet_config(shapes: Shapes, family: str, prefix: str = UNET) -> dict[str, Any]:
    """A UNet's (or a ControlNet's: the same encoder half, under `prefix`) diffusers config."""
    levels: list[list[int]] = [[]]
    block = 1
    while shapes.has(f"{prefix}input_blocks.{block}."):
        if f"{prefix}input_blocks.{block}.0.op.weight" in shapes:
            levels.append([])
        else:
            levels[-1].append(block)
        block += 1
    channels = [shapes[f"{prefix}input_blocks.{level[0]}.0.out_layers.3.weight"][0] for level in levels]
    attention = [shapes.has(f"{prefix}input_blocks.{level[0]}.1.") for level in levels]
    # diffusers sizes the middle block by the last level's depth, which has no attention in SDXL's refiner: a
    # level without attention takes the middle block's depth (it has no transformer for it to size).
    middle = max(1, shapes.count(f"{prefix}middle_block.1.transformer_blocks."))
    depth = [shapes.count(f"{prefix}input_blocks.{level[0]}.1.transformer_blocks.") or middle for level in levels]
    first = next(f"{prefix}input_blocks.{level[0]}.1." for level, has in zip(levels, attention) if has)
    down = ["CrossAttnDownBlock2D" if has else "DownBlock2D" for has in attention]
    config: dict[str, Any] = dict(
        _class_name="UNet2DConditionModel", sample_size={"sd1": 64, "sd2": 96}.get(family, 128),
        in_channels=shapes[f"{prefix}input_blocks.0.0.weight"][1],
        out_channels=shapes.get(f"{prefix}out.2.weight", (4,))[0],  # a ControlNet has no output layer
        block_out_channels=channels, layers_per_block=len(levels[0]), down_block_types=down,
        up_block_types=[name.replace("Down", "Up") for name in reversed(down)],
        cross_attention_dim=shapes[f"{first}transformer_blocks.0.attn2.to_k.weight"][1],
        attention_head_dim=8 if family == "sd1" else [_heads(c) for c in channels],
        use_linear_projection=len(shapes[f"{first}proj_in.weight"]) == 2, norm_num_groups=_groups(channels),
        transformer_layers_per_block=depth,
    )
    if f"{prefix}label_emb.0.0.weight" in shapes and family in OPEN_CLIP:
        # SDXL's "text_time": the pooled text embedding and 6 (refiner: 5) size ids
        pooled = shapes[f"{OPEN_CLIP[family]}text_projection"][1]
        ids = 5 if family == "sdxl_refiner" else 6
        added = shapes[f"{prefix}label_emb.0.0.weight"][1]
        config.update(addition_embed_type="text_time", projection_class_embeddings_input_dim=added,
                      addition_time_embed_dim=(added - pooled) // ids)
    return config


def vae_config(shapes: Shapes, family: str, prefix: str = VAE) -> dict[str, Any]:
    """An AutoencoderKL's diffusers config; its keys are under `prefix` ("" in a VAE file of its own)."""
    levels = shapes.count(f"{prefix}encoder.down.")
    channels = [shapes[f"{prefix}encoder.down.{level}.block.0.conv1.weight"][0] for level in range(levels)]
    return dict(
        _class_name="AutoencoderKL", in_channels=shapes[f"{prefix}encoder.conv_in.weight"][1],
        out_channels=shapes[f"{prefix}decoder.conv_out.weight"][0], latent_channels=shapes[f"{prefix}quant_conv.weight"][0] // 2,
        block_out_channels=channels, layers_per_block=shapes.count(f"{prefix}encoder.down.0.block."),
        down_block_types=["DownEncoderBlock2D"] * levels, up_block_types=["UpDecoderBlock2D"] * levels,
        norm_num_groups=_groups(channels), sample_size={"sd1": 512, "sd2": 768}.get(family, 1024),
        scaling_factor=0.13025 if family.startswith("sdxl") else 0.18215, force_upcast=family.startswith("sdxl"),
    )


def _text_configs(shapes: Shapes, family: str) -> dict[str, dict[str, Any]]:
    configs = {}
    if family in ("sd1", "sdxl"):
        configs["text_encoder"] = _clip_l(shapes, CLIP_L[family])
    if family != "sd1":
        # SD 2.x runs its encoder without the last layer: diffusers' SD 2 configs leave it out.
        name = "text_encoder" if family == "sd2" else "text_encoder_2"
        configs[name] = _open_clip(shapes, OPEN_CLIP[family], dropped=1 if family == "sd2" else 0,
                                   with_projection=family != "sd2")
    return configs


def _clip_config(vocab: int, hidden: int, positions: int, layers: int, inner: int, **rest: Any) -> dict[str, Any]:
    # eos_token_id 2 is the released configs' value: the pooled output is taken at the highest id (the end token).
    return dict(vocab_size=vocab, hidden_size=hidden, max_position_embeddings=positions, num_hidden_layers=layers,
                intermediate_size=inner, num_attention_heads=_heads(hidden), bos_token_id=0, eos_token_id=2,
                pad_token_id=1, layer_norm_eps=1e-5, model_type="clip_text_model", **rest)


def _clip_l(shapes: Shapes, prefix: str) -> dict[str, Any]:
    vocab, hidden = shapes[f"{prefix}embeddings.token_embedding.weight"]
    return _clip_config(vocab, hidden, shapes[f"{prefix}embeddings.position_embedding.weight"][0],
                        shapes.count(f"{prefix}encoder.layers."), shapes[f"{prefix}encoder.layers.0.mlp.fc1.weight"][0],
                        hidden_act="quick_gelu", projection_dim=hidden, architectures=["CLIPTextModel"])


def _open_clip(shapes: Shapes, prefix: str, dropped: int, with_projection: bool) -> dict[str, Any]:
    vocab, hidden = shapes[f"{prefix}token_embedding.weight"]
    projection = shapes.get(f"{prefix}text_projection", (hidden, hidden))[1]
    return _clip_config(vocab, hidden, shapes[f"{prefix}positional_embedding"][0],
                        shapes.count(f"{prefix}transformer.resblocks.") - dropped,
                        shapes[f"{prefix}transformer.resblocks.0.mlp.c_fc.weight"][0], hidden_act="gelu",
                        projection_dim=projection,
                        architectures=["CLIPTextModelWithProjection" if with_projection else "CLIPTextModel"])


_SD_BETAS = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                 steps_offset=1, clip_sample=False, set_alpha_to_one=False)


def _scheduler_config(family: str, v_prediction: bool) -> dict[str, Any]:
    """The scheduler of the released pipelines: SD 1.x PNDM, SD 2.x DDIM, SDXL Euler."""
    if family == "sd1":
        return dict(_class_name="PNDMScheduler", skip_prk_steps=True, **_SD_BETAS)
    if family == "sd2":
        return dict(_class_name="DDIMScheduler", prediction_type="v_prediction" if v_prediction else "epsilon",
                    **_SD_BETAS)
    return dict(_class_name="EulerDiscreteScheduler", interpolation_type="linear", timestep_spacing="leading",
                prediction_type="epsilon", use_karras_sigmas=False, **_SD_BETAS)


def controlnet_config(shapes: Shapes, prefix: str) -> dict[str, Any]:
    """A ControlNet's diffusers config from its original-layout weights (under `prefix`): the UNet encoder's
    sizes, the conditioning embedding's widths, and SDXL's added embedding when it has one (its widths are the
    UNet's, and the size ids' embedding width, which no weight shows, SDXL's 256)."""
    added = shapes.get(f"{prefix}label_emb.0.0.weight")
    unet = unet_config(shapes, "sd1" if added is None else "sdxl", prefix)
    if added is None and unet["use_linear_projection"]:  # SD 2.x: 64-wide heads
        unet = unet_config(shapes, "sd2", prefix)
    config = {key: unet[key] for key in ("in_channels", "block_out_channels", "layers_per_block", "down_block_types",
                                         "cross_attention_dim", "attention_head_dim", "use_linear_projection",
                                         "norm_num_groups", "transformer_layers_per_block")}
    hint = [shapes[f"{prefix}input_hint_block.{index}.weight"][0] for index in range(0, 14, 4)
            if f"{prefix}input_hint_block.{index}.weight" in shapes]
    config.update(_class_name="ControlNetModel", conditioning_embedding_out_channels=hint)
    if added is not None:
        config.update(addition_embed_type="text_time", projection_class_embeddings_input_dim=added[1],
                      addition_time_embed_dim=256)
    return config
