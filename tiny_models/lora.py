"""Tiny random LoRA files for a tiny Stable Diffusion folder, in the diffusers/peft layout and in kohya's.

peft injects random adapters (`LoraConfig`) into the folder's UNet and text
encoder; diffusers writes them (`save_lora_weights`) or renames them to kohya's
keys (`convert_state_dict_to_kohya`), as trainers and model sites ship them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
Layout = Literal["diffusers", "kohya"]


def write_tiny_lora(model: str | Path, path: str | Path, seed: int = 0, rank: int = 4,
                    layout: Layout = "diffusers") -> Path:
    """Write a LoRA (random weights, deterministic for `seed`) for the UNet and text encoder of the diffusers
    folder `model` to the .safetensors file `path`."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet")
    text_encoder = CLIPTextModel.from_pretrained(model, subfolder="text_encoder")
    torch.manual_seed(seed)
    # init_lora_weights=False: random A and B, so that the LoRA changes the image (peft's default B is zero).
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=UNET_TARGETS, init_lora_weights=False))
    text_encoder.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=TEXT_ENCODER_TARGETS,
                                        init_lora_weights=False))
    unet_layers, text_encoder_layers = get_peft_model_state_dict(unet), get_peft_model_state_dict(text_encoder)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "diffusers":
        StableDiffusionPipeline.save_lora_weights(path.parent, unet_lora_layers=unet_layers,
                                                  text_encoder_lora_layers=text_encoder_layers, weight_name=path.name)
    else:
        _save_kohya(unet_layers, text_encoder_layers, path)
    return path


def _save_kohya(unet_layers: dict, text_encoder_layers: dict, path: Path) -> None:
    from diffusers.utils import convert_state_dict_to_kohya
    from safetensors.torch import save_file

    prefixed = {**{f"unet.{key}": value for key, value in unet_layers.items()},
                **{f"text_encoder.{key}": value for key, value in text_encoder_layers.items()}}
    # diffusers names the text encoder `lora_te1` (SDXL's first); SD 1.x kohya files call it `lora_te`.
    kohya = {key.replace("lora_te1_", "lora_te_"): value.contiguous()
             for key, value in convert_state_dict_to_kohya(prefixed).items()}
    save_file(kohya, str(path))
