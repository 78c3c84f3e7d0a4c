"""A tiny random DiT (class-conditional transformer + AutoencoderKL + scheduler) saved as a diffusers folder.

Random weights: for tests and benchmarks only. The folder looks like the
published DiT repos, whose `model_index.json` carries the ImageNet `id2label`
table that `save_pretrained` does not write.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# A few real ImageNet entries (several synonyms per id, as in the published table);
# every other id gets a placeholder name so the table covers all 1000 classes.
SAMPLE_LABELS = {
    0: "tench, Tinca tinca",
    2: "great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias",
    207: "golden retriever",
    360: "otter",
    879: "umbrella",
}


def imagenet_like_id2label() -> dict[str, str]:
    return {str(i): SAMPLE_LABELS.get(i, f"class {i}") for i in range(1000)}


def tiny_vae():
    """A tiny AutoencoderKL: 4 latent channels, one downsampling (latents are half the image size)."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(1)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4, sample_size=16,
    ).eval()


def tiny_dit_transformer(learned_sigma: bool = True):
    import torch
    from diffusers import DiTTransformer2DModel

    torch.manual_seed(0)
    return DiTTransformer2DModel(
        num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=8 if learned_sigma else 4,
        num_layers=2, norm_num_groups=4, sample_size=8, patch_size=2, num_embeds_ada_norm=1000,
    ).eval()


def save_tiny_dit(folder: str | Path, learned_sigma: bool = True, legacy_class_name: bool = False) -> Path:
    """Save a tiny DiT pipeline folder (with `id2label` in model_index.json); returns the folder.

    `legacy_class_name` writes the transformer config as the published repos do
    (`Transformer2DModel`), which diffusers remaps to DiTTransformer2DModel.
    """
    from diffusers import DDIMScheduler, DiTPipeline

    folder = Path(folder)
    # The published DiT repos ship a DDIM scheduler with the linear betas of DiT training.
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False)
    pipe = DiTPipeline(transformer=tiny_dit_transformer(learned_sigma), vae=tiny_vae(), scheduler=scheduler)
    pipe.save_pretrained(folder, safe_serialization=True)
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["id2label"] = imagenet_like_id2label()
    index_path.write_text(json.dumps(index, indent=2))
    if legacy_class_name:
        config_path = folder / "transformer" / "config.json"
        config = json.loads(config_path.read_text())
        config["_class_name"] = "Transformer2DModel"
        config_path.write_text(json.dumps(config, indent=2))
    return folder


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.dit", {"dit": save_tiny_dit}, argv)


if __name__ == "__main__":
    sys.exit(main())
