"""Tiny random-weight ControlNets for the tiny Stable Diffusion and SDXL UNets, built in code (tests and the demo).

A fresh ControlNet starts with its output convolutions at zero (it adds nothing
until trained); here every weight is random, so that its residuals change the
image and a parity test of the control path proves something.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

# Two stages: the control image is halved once, as the tiny VAE halves its images into latents.
CONDITIONING_CHANNELS = (8, 16)


def make_tiny_controlnet(folder: str | Path, seed: int = 0, sd_folder: str | Path | None = None) -> Path:
    """Save a ControlNetModel shaped like the tiny SD UNet (of `sd_folder`, else a fresh tiny SD model) into
    `folder`, every weight random and deterministic for `seed`."""
    from tiny_models.sd import make_tiny_sd

    return _random_controlnet_like(make_tiny_sd, sd_folder, folder, seed)


def make_tiny_sdxl_controlnet(folder: str | Path, seed: int = 0, sdxl_folder: str | Path | None = None) -> Path:
    """Save a ControlNetModel shaped like the tiny SDXL base UNet (of `sdxl_folder`, else a fresh tiny SDXL base),
    with its added text/time conditioning, into `folder`, every weight random and deterministic for `seed`."""
    from tiny_models.sdxl import make_tiny_sdxl

    return _random_controlnet_like(make_tiny_sdxl, sdxl_folder, folder, seed)


def _random_controlnet_like(make_model: Callable[[Path], Path], model_folder: str | Path | None,
                            folder: str | Path, seed: int) -> Path:
    import tempfile

    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(model_folder) if model_folder is not None else make_model(Path(scratch) / "model")
        unet = UNet2DConditionModel.from_pretrained(source, subfolder="unet")
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=CONDITIONING_CHANNELS,
                                           load_weights_from_unet=False)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in controlnet.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    folder = Path(folder)
    controlnet.save_pretrained(folder, safe_serialization=True)
    return folder


def _original_key(key: str, layers: int) -> str:
    """The original (lllyasviel) ControlNet name of a diffusers ControlNetModel weight."""
    from tiny_models.sd_single_file import _unet_key

    head, _, rest = key.partition(".")
    if head == "controlnet_down_blocks":
        index, _, rest = rest.partition(".")
        return f"zero_convs.{index}.0.{rest}"
    if head == "controlnet_mid_block":
        return f"middle_block_out.0.{rest}"
    if head == "controlnet_cond_embedding":
        part, _, rest = rest.partition(".")
        if part == "blocks":
            index, _, rest = rest.partition(".")
            return f"input_hint_block.{2 * (int(index) + 1)}.{rest}"
        # diffusers reads the last convolution at index 14, where SD 1.x ControlNets (six blocks) have it.
        return f"input_hint_block.{0 if part == 'conv_in' else 14}.{rest}"
    return _unet_key(key, layers, block_has_attention=[])


def write_controlnet_checkpoint(controlnet_folder: str | Path, path: str | Path) -> Path:
    """Save a diffusers ControlNet folder as one original-layout (`control_model.…`) safetensors file."""
    from diffusers import ControlNetModel
    from safetensors.torch import save_file

    controlnet = ControlNetModel.from_pretrained(controlnet_folder)
    layers = controlnet.config.layers_per_block
    state = {"control_model." + _original_key(key, layers): tensor.contiguous()
             for key, tensor in controlnet.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    builders = {"controlnet": make_tiny_controlnet, "sdxl-controlnet": make_tiny_sdxl_controlnet}
    return build_command("tiny_models.controlnet", builders, argv)


if __name__ == "__main__":
    sys.exit(main())
