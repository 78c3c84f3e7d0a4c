"""A tiny random VQ-Diffusion folder (VQModel, CLIP text encoder, discrete Transformer2DModel, scheduler,
learned classifier-free embeddings). Random weights: for tests and benchmarks only.

`save_tiny_vq_diffusion` writes model_index.json the way the published VQ-Diffusion
repos do, naming the embeddings' module `vq_diffusion`, which current diffusers
cannot import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tiny_models.clip import tiny_clip_text_config, write_tiny_clip_tokenizer

CODEBOOK_SIZE = 16  # VQ codebook entries; the transformer adds one "masked" class
LATENT_SIDE = 4
TEXT_LENGTH = 77
PUBLISHED_EMBEDDINGS_ENTRY = ["vq_diffusion", "LearnedClassifierFreeSamplingEmbeddings"]


def _tiny_vqvae():
    from diffusers import VQModel

    return VQModel(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4, layers_per_block=1, norm_num_groups=4, num_vq_embeddings=CODEBOOK_SIZE, vq_embed_dim=4,
    ).eval()


def _tiny_transformer():
    from diffusers import Transformer2DModel

    return Transformer2DModel(
        num_attention_heads=2, attention_head_dim=8, num_vector_embeds=CODEBOOK_SIZE + 1, sample_size=LATENT_SIDE,
        num_layers=1, cross_attention_dim=32, activation_fn="geglu-approximate", num_embeds_ada_norm=100,
        norm_type="ada_norm", norm_num_groups=4,
    ).eval()


def save_tiny_vq_diffusion(folder: str | Path, learnable: bool = True) -> Path:
    """Save a tiny VQDiffusionPipeline folder (learned null-text embeddings when `learnable`); returns it."""
    import torch
    from diffusers import VQDiffusionScheduler
    from diffusers.pipelines.deprecated.vq_diffusion import (
        LearnedClassifierFreeSamplingEmbeddings, VQDiffusionPipeline,
    )
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    write_tiny_clip_tokenizer(folder / "tokenizer")
    torch.manual_seed(0)
    embeddings = LearnedClassifierFreeSamplingEmbeddings(learnable, hidden_size=32, length=TEXT_LENGTH)
    if learnable:
        with torch.no_grad():
            embeddings.embeddings.normal_()
    pipe = VQDiffusionPipeline(
        vqvae=_tiny_vqvae(), text_encoder=CLIPTextModel(tiny_clip_text_config()).eval(),
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"), transformer=_tiny_transformer(),
        scheduler=VQDiffusionScheduler(num_vec_classes=CODEBOOK_SIZE + 1, num_train_timesteps=100),
        learned_classifier_free_sampling_embeddings=embeddings,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["learned_classifier_free_sampling_embeddings"] = PUBLISHED_EMBEDDINGS_ENTRY
    index_path.write_text(json.dumps(index, indent=2))
    return folder


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.vq", {"vq": save_tiny_vq_diffusion}, argv)


if __name__ == "__main__":
    sys.exit(main())
