"""Tiny random Kandinsky 2.2 style folders: an unCLIP prior and an image-embedding-conditioned decoder.

Random weights: for tests and benchmarks only. The prior folder has the layout
of KandinskyV22PriorPipeline (prior, CLIP text encoder with projection,
tokenizer, CLIP image encoder, UnCLIPScheduler); the decoder folder that of
KandinskyV22Pipeline (UNet with `addition_embed_type="image"`, MoVQ, DDPM).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tiny_models.clip import tiny_clip_text_config, write_tiny_clip_tokenizer

EMBED_DIM = 32  # CLIP projection size = prior embedding size = decoder image-embedding size


def _tiny_prior():
    import torch
    from diffusers import PriorTransformer

    prior = PriorTransformer(num_attention_heads=2, attention_head_dim=16, num_layers=1, embedding_dim=EMBED_DIM)
    with torch.no_grad():
        # A fresh prior has clip_std == 0, which would collapse every image embedding to clip_mean.
        prior.clip_mean.copy_(torch.randn_like(prior.clip_mean) * 0.1)
        prior.clip_std.copy_(torch.rand_like(prior.clip_std) + 0.5)
    return prior.eval()


def _tiny_image_encoder():
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                              image_size=32, patch_size=16, projection_dim=EMBED_DIM)
    return CLIPVisionModelWithProjection(config).eval()


def save_tiny_prior(folder: str | Path) -> Path:
    """Save a tiny KandinskyV22PriorPipeline folder; returns it."""
    import torch
    from diffusers import KandinskyV22PriorPipeline, UnCLIPScheduler
    from transformers import CLIPImageProcessor, CLIPTextModelWithProjection, CLIPTokenizer

    folder = Path(folder)
    write_tiny_clip_tokenizer(folder / "tokenizer")
    torch.manual_seed(0)
    pipe = KandinskyV22PriorPipeline(
        prior=_tiny_prior(),
        image_encoder=_tiny_image_encoder(),
        text_encoder=CLIPTextModelWithProjection(tiny_clip_text_config(projection_dim=EMBED_DIM)).eval(),
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
        scheduler=UnCLIPScheduler(variance_type="fixed_small_log", prediction_type="sample",
                                  clip_sample=True, clip_sample_range=10.0),
        image_processor=CLIPImageProcessor(crop_size=32, size=32),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def _tiny_decoder_unet():
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        in_channels=4, out_channels=8, block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn", attention_head_dim=4, cross_attention_dim=16,
        addition_embed_type="image", encoder_hid_dim=EMBED_DIM, encoder_hid_dim_type="image_proj",
        resnet_time_scale_shift="scale_shift", class_embed_type=None,
    ).eval()


def tiny_movq():
    """A tiny MoVQ-style VQModel (spatially normalised decoder, whose norms need 32-channel multiples), 2× scale."""
    from diffusers import VQModel

    return VQModel(
        block_out_channels=(32, 32), down_block_types=("DownEncoderBlock2D", "AttnDownEncoderBlock2D"),
        up_block_types=("AttnUpDecoderBlock2D", "UpDecoderBlock2D"), latent_channels=4, layers_per_block=1,
        norm_num_groups=8, num_vq_embeddings=16, vq_embed_dim=4, norm_type="spatial",
    ).eval()


def save_tiny_decoder(folder: str | Path) -> Path:
    """Save a tiny KandinskyV22Pipeline (decoder) folder; returns it."""
    import torch
    from diffusers import DDPMScheduler, KandinskyV22Pipeline

    folder = Path(folder)
    torch.manual_seed(0)
    scheduler = DDPMScheduler(beta_schedule="linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
                              steps_offset=1, variance_type="fixed_small")
    pipe = KandinskyV22Pipeline(unet=_tiny_decoder_unet(), scheduler=scheduler, movq=tiny_movq())
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.kandinsky", {"prior": save_tiny_prior, "decoder": save_tiny_decoder}, argv)


if __name__ == "__main__":
    sys.exit(main())
