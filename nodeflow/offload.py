"""Running a model bigger than the whole VRAM budget: diffusers' group offloading.

The one place the engine reaches into diffusers, and only for a model that needs it: such a module is a
diffusers or transformers module, so diffusers is there. Leaf-level groups keep the least on the GPU (one
layer's weights at a time, as `enable_sequential_cpu_offload` does) and work on any torch module, a
transformers text encoder included.
"""

from __future__ import annotations

from typing import Any


def group_offload(module: Any, device: str) -> None:
    """Hooks on `module` that bring each of its layers onto `device` for its forward pass and back after; its
    weights stay on the CPU. The module must be on the CPU."""
    from diffusers.hooks import apply_group_offloading

    apply_group_offloading(module, onload_device=device, offload_device="cpu", offload_type="leaf_level")
