"""Tiny random-weight SDXL base and refiner folders, built in code (for tests and the demo).

The base has two CLIP text encoders (the second with projection) whose hidden
states the UNet reads side by side, and a UNet with SDXL's "text_time" added
conditioning; the refiner has only the second encoder and takes an aesthetic
score instead of the target size, as stabilityai's refiner does. Random
weights: the images are noise-like patterns, good only for parity checks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tiny_models.clip import tiny_clip_text_config, write_tiny_clip_tokenizer

SDXL_SCHEDULER_CONFIG = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, steps_offset=1,
    timestep_spacing="leading",
)
_TIME_EMBED_DIM = 8
_TEXT_WIDTH = 32  # hidden size and projection size of each tiny CLIP text encoder


def _unet(cross_attention_dim: int, time_ids: int, pooled_width: int = _TEXT_WIDTH) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_attention_dim, attention_head_dim=4, norm_num_groups=4, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=_TIME_EMBED_DIM,
        projection_class_embeddings_input_dim=_TIME_EMBED_DIM * time_ids + pooled_width,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32,
    )


def _tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    write_tiny_clip_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(folder)


def make_tiny_sdxl(folder: str | Path, seed: int = 0, second_width: int = _TEXT_WIDTH) -> Path:
    """Save a tiny StableDiffusionXLPipeline (random weights, deterministic for `seed`) into `folder`.
    `second_width` sizes the second text encoder (wider than the first in the real model, which single-file
    loaders rely on to tell the two apart)."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    tokenizer = _tokenizer(folder / "tokenizer")
    torch.manual_seed(seed)
    pipeline = StableDiffusionXLPipeline(
        vae=_vae(), text_encoder=CLIPTextModel(tiny_clip_text_config()),
        text_encoder_2=CLIPTextModelWithProjection(tiny_clip_text_config(hidden_size=second_width,
                                                                         projection_dim=second_width)),
        tokenizer=tokenizer, tokenizer_2=tokenizer,
        unet=_unet(cross_attention_dim=_TEXT_WIDTH + second_width, time_ids=6, pooled_width=second_width),
        scheduler=EulerDiscreteScheduler(**SDXL_SCHEDULER_CONFIG), add_watermarker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


def make_tiny_sdxl_refiner(folder: str | Path, seed: int = 1) -> Path:
    """Save a tiny SDXL refiner (StableDiffusionXLImg2ImgPipeline with the second text encoder only, aesthetic
    score conditioning, no zeros for an empty negative prompt) into `folder`."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLImg2ImgPipeline
    from transformers import CLIPTextModelWithProjection

    folder = Path(folder)
    tokenizer = _tokenizer(folder / "tokenizer_2")
    torch.manual_seed(seed)
    pipeline = StableDiffusionXLImg2ImgPipeline(
        vae=_vae(), text_encoder=None, text_encoder_2=CLIPTextModelWithProjection(tiny_clip_text_config()),
        tokenizer=None, tokenizer_2=tokenizer, unet=_unet(cross_attention_dim=_TEXT_WIDTH, time_ids=5),
        scheduler=EulerDiscreteScheduler(**SDXL_SCHEDULER_CONFIG), requires_aesthetics_score=True,
        force_zeros_for_empty_prompt=False, add_watermarker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.sdxl", {"sdxl": make_tiny_sdxl, "sdxl-refiner": make_tiny_sdxl_refiner}, argv)


if __name__ == "__main__":
    sys.exit(main())
