"""A tiny random-weight Stable Diffusion model folder, built in code (for tests, benchmarks and the demo).

The weights are random: the images are noise-like patterns, useful only to
check that two ways of running the same model give the same pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tiny_models.clip import tiny_clip_text_config, write_tiny_clip_tokenizer

SD_SCHEDULER_CONFIG = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1,
)


def make_tiny_sd(folder: str | Path, seed: int = 0, pipeline_class: str = "StableDiffusionPipeline",
                 in_channels: int = 4, **unet_options: Any) -> Path:
    """Save a complete tiny Stable Diffusion pipeline (random weights, deterministic for `seed`) into `folder`.
    Its heads and norm groups follow the rules of the released SD 1.x configs (8 UNet heads, gcd(32, channels)
    norm groups, 64-wide text heads), which a single-file checkpoint cannot record: one written from it loads back
    through CheckpointLoaderSimple into modules that compute the same.
    `unet_options` change the UNet config, e.g. `time_cond_proj_dim=8` for a guidance-distilled (LCM) UNet."""
    import diffusers
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    tokenizer_folder = folder / "tokenizer"
    write_tiny_clip_tokenizer(tokenizer_folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=in_channels, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8, **unet_options,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32,
    )
    text_encoder = CLIPTextModel(tiny_clip_text_config(num_attention_heads=1))
    pipeline = getattr(diffusers, pipeline_class)(
        vae=vae, text_encoder=text_encoder, tokenizer=CLIPTokenizer.from_pretrained(tokenizer_folder), unet=unet,
        scheduler=PNDMScheduler(**SD_SCHEDULER_CONFIG), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


def make_tiny_sd_inpaint(folder: str | Path, seed: int = 0) -> Path:
    """The tiny Stable Diffusion with an inpainting UNet (9 input channels: latents, mask, masked-image latents),
    saved as a StableDiffusionInpaintPipeline folder."""
    return make_tiny_sd(folder, seed, "StableDiffusionInpaintPipeline", in_channels=9)


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.sd", {"sd": make_tiny_sd}, argv)


if __name__ == "__main__":
    sys.exit(main())
