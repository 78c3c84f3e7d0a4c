"""Inputs that name an entry of the allowed folders: a model folder (or hub id), a checkpoint, an input file.

The `InFolder` marker on each lets the editor and `/object_info` list what is
there, and lets `nodeflow validate --deep` check that the value resolves.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable

from nodeflow import InFolder
from nodeflow.folders import FolderKind
from nodes.model_locator import check_model

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def file_in(kind: FolderKind, subfolder: str = "") -> Callable[[Any, str, str], None]:
    """A deep check: `value` is a file in the `kind` folder(s) (in their `subfolder`)."""

    def check(folders: Any, value: str, input_name: str) -> None:
        if not folders.readable(kind, f"{subfolder}/{value}" if subfolder else value, input_name).is_file():
            roots = folders.models if kind == "models" else [folders.root(kind)]
            roots = [root / subfolder for root in roots] if subfolder else roots
            raise FileNotFoundError(f"input {input_name!r}: no file {value!r} in the {subfolder or kind} folder "
                                    f"({', '.join(str(root.absolute()) for root in roots)})")

    return check


ModelName = Annotated[str, InFolder("models", other="hub id", check=check_model)]
CheckpointFile = Annotated[str, InFolder("models", "files", (".safetensors",), check=file_in("models"))]
InputImage = Annotated[str, InFolder("input", "files", IMAGE_SUFFIXES, check=file_in("input"))]
InputEmbeds = Annotated[str, InFolder("input", "files", (".safetensors",), check=file_in("input"))]
LoraFile = Annotated[str, InFolder("models", "files", (".safetensors",), check=file_in("models"))]


def comfy_model_file(subfolder: str) -> InFolder:
    """A file in one of ComfyUI's model folders (`models/<subfolder>`), named relative to it as ComfyUI names it."""
    return InFolder("models", "files", (".safetensors",), check=file_in("models", subfolder), subfolder=subfolder)


CheckpointName = Annotated[str, comfy_model_file("checkpoints")]
VaeName = Annotated[str, comfy_model_file("vae")]
LoraName = Annotated[str, comfy_model_file("loras")]
ControlNetName = Annotated[str, comfy_model_file("controlnet")]
