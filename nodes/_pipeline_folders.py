"""Loading the components of a diffusers pipeline folder (or hub id) by what its model_index.json names.

Shared by the DiT, unCLIP prior, Kandinsky decoder and VQ-Diffusion loaders.
Only safetensors weights are read. diffusers and transformers are imported
inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal, TypeVar

from nodeflow import ModelHandle
from nodeflow.fingerprint import source_fingerprint

from .types import Scheduler

T = TypeVar("T")
DType = Literal["float32", "float16", "bfloat16"]
# Where a loader's models run: "auto" follows the run's device; "cpu" keeps them off the GPU (saving VRAM).
Placement = Literal["auto", "cpu", "cuda"]
# For every transformers loading call: code shipped in a model folder never runs, and transformers never asks
# on stdin whether to run it (where a piped "y" would say yes).
NO_REMOTE_CODE = {"trust_remote_code": False}


def pin(outputs: T, device: Placement) -> T:
    """Pin the model handle(s) a loader returns to `device` ("auto": the run's device)."""
    for value in (outputs,) if isinstance(outputs, ModelHandle) else outputs:
        if isinstance(value, ModelHandle):
            value.placement = None if device == "auto" else device
    return outputs


def model_fingerprint(literals: dict[str, Any], folders) -> str:
    """Cache key part of a loader: what is on disk under its `model` input."""
    return source_fingerprint(folders.model_source(literals["model"]))


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def read_model_index(ref: str) -> dict[str, Any]:
    """The pipeline's model_index.json (local folder or hub id), extra keys such as `id2label` included."""
    from diffusers import DiffusionPipeline

    return dict(DiffusionPipeline.load_config(ref))


def read_scheduler(ref: str, subfolder: str = "scheduler") -> Scheduler:
    """The folder's own scheduler, as a recipe (class name + config)."""
    from diffusers import DDPMScheduler

    # Any scheduler class reads scheduler_config.json; the class it names is kept, not DDPM.
    config = dict(DDPMScheduler.load_config(ref, subfolder=subfolder))
    return Scheduler(class_name=config["_class_name"], config=config)


def load_component(ref: str, name: str, index: dict[str, Any], dtype: str = "float32",
                   classes: dict[str, type] | None = None) -> Any:
    """Load subfolder `name` with the class model_index.json names for it.

    `classes` resolves class names by name alone, for folders whose index names a
    module that no longer exists (e.g. VQ-Diffusion's `["vq_diffusion", ...]`).
    """
    entry = index.get(name)
    if not isinstance(entry, (list, tuple)) or len(entry) != 2 or entry[1] is None:
        raise ValueError(f"model_index.json of {ref!r} has no component {name!r}")
    library, class_name = entry
    cls = (classes or {}).get(class_name) or _import_class(library, class_name, ref)
    if class_name.endswith(("Tokenizer", "TokenizerFast")):
        return cls.from_pretrained(ref, subfolder=name, **NO_REMOTE_CODE)
    extra = NO_REMOTE_CODE if cls.__module__.startswith("transformers.") else {}  # diffusers has no such option
    loaded = cls.from_pretrained(ref, subfolder=name, torch_dtype=torch_dtype(dtype), use_safetensors=True, **extra)
    return loaded.eval() if hasattr(loaded, "eval") else loaded


def _import_class(library: str, class_name: str, ref: str) -> type:
    # Only the two libraries are searched: importing whatever module a downloaded index names would run its code.
    for module_name in ("diffusers", "transformers"):
        module = importlib.import_module(module_name)
        if hasattr(module, class_name):
            return getattr(module, class_name)
    raise ValueError(f"model_index.json of {ref!r} names {library}.{class_name}, which is neither a diffusers "
                     "nor a transformers class")


def module_config(module: Any) -> dict[str, Any]:
    """A loaded module's config as a plain dict (what model handles carry in `.config`)."""
    config = module.config
    return dict(config.to_dict() if hasattr(config, "to_dict") else config)
