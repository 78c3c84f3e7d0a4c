"""Tiny random LoRA files for a tiny Stable Diffusion or SDXL folder, in the diffusers/peft layout and in kohya's.

peft injects random adapters (`LoraConfig`) into the folder's UNet and text
encoder(s); diffusers writes them (the pipeline's `save_lora_weights`) or
renames them to kohya's keys (`convert_state_dict_to_kohya`), as trainers and
model sites ship them. Kohya files for SDXL get diffusers' block names
(`lora_unet_down_blocks_1_…`), which diffusers reads too: diffusers has no
converter to the SGM names (`lora_unet_input_blocks_4_1_…`) kohya's trainer writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
TEXT_ENCODERS = ("text_encoder", "text_encoder_2")  # SDXL has both; SD the first; an SDXL refiner the second
Layout = Literal["diffusers", "kohya"]


def write_tiny_lora(model: str | Path, path: str | Path, seed: int = 0, rank: int = 4,
                    layout: Layout = "diffusers") -> Path:
    """Write a LoRA (random weights, deterministic for `seed`) for the UNet and text encoder(s) of the diffusers
    folder `model` (Stable Diffusion or SDXL) to the .safetensors file `path`."""
    import diffusers
    import torch
    import transformers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    index = json.loads((Path(model) / "model_index.json").read_text())
    unet = diffusers.UNet2DConditionModel.from_pretrained(model, subfolder="unet")
    encoders = {name: getattr(transformers, index[name][1]).from_pretrained(model, subfolder=name)
                for name in TEXT_ENCODERS if (index.get(name) or [None, None])[1] is not None}
    torch.manual_seed(seed)
    # init_lora_weights=False: random A and B, so that the LoRA changes the image (peft's default B is zero).
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=UNET_TARGETS, init_lora_weights=False))
    for encoder in encoders.values():
        encoder.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=TEXT_ENCODER_TARGETS,
                                       init_lora_weights=False))
    layers = {"unet": get_peft_model_state_dict(unet),
              **{name: get_peft_model_state_dict(encoder) for name, encoder in encoders.items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "diffusers":
        pipeline_class = getattr(diffusers, index["_class_name"])
        pipeline_class.save_lora_weights(path.parent, weight_name=path.name,
                                         **{f"{name}_lora_layers": value for name, value in layers.items()})
    else:
        _save_kohya(layers, path)
    return path


def _save_kohya(layers: dict[str, dict[str, Any]], path: Path) -> None:
    from diffusers.utils import convert_state_dict_to_kohya
    from safetensors.torch import save_file

    prefixed = {f"{component}.{key}": value for component, each in layers.items() for key, value in each.items()}
    kohya = convert_state_dict_to_kohya(prefixed)  # text_encoder → lora_te1, text_encoder_2 → lora_te2
    if "text_encoder_2" not in layers:  # SD 1.x kohya files call their one text encoder `lora_te`
        kohya = {key.replace("lora_te1_", "lora_te_"): value for key, value in kohya.items()}
    save_file({key: value.contiguous() for key, value in kohya.items()}, str(path))
