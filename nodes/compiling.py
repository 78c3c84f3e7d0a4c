"""The loaders' `compile` option: a denoiser (UNet, transformer) compiled with torch.compile."""

from __future__ import annotations

from typing import Any


def compile_denoiser(module: Any, device: str) -> None:
    """Compile `module` in place (`nn.Module.compile`): its forward is compiled at its first call for the shapes
    it meets, and stays compiled as long as the model service keeps the module, so later prompts do not compile
    again. On a GPU its memory is laid out channels-last first, which its convolutions run faster on."""
    import torch

    if device.startswith("cuda"):
        module.to(memory_format=torch.channels_last)
    module.compile()
