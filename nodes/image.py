"""Image nodes: load from the input folder, save PNGs (with the workflow embedded) and previews.

Pixels ⇄ tensors go through diffusers' VaeImageProcessor conversions, the ones
the pipelines use, so that a saved PNG equals the pipeline's PIL output bit for bit.
"""

from __future__ import annotations

import json
from typing import Any

from nodeflow import Context, node
from nodeflow.fingerprint import path_fingerprint
from nodeflow.folders import FolderKind
from nodes.folder_inputs import InputImage
from nodes.types import Image


def _input_fingerprint(literals: dict[str, Any], folders: Any) -> str:
    return path_fingerprint(folders.readable("input", literals["image"], "image"))


@node("image.load", category="image", version="1.0.0", display_name="Load Input Image", fingerprint=_input_fingerprint)
def load_image(ctx: Context, image: InputImage) -> Image:
    """An image file from the input folder, as RGB pixels in [0, 1]."""
    import PIL.Image
    from diffusers.image_processor import VaeImageProcessor

    path = ctx.folders.readable("input", image, "image")
    if not path.is_file():
        raise FileNotFoundError(f"no image {image!r} in the input folder {ctx.folders.input}")
    with PIL.Image.open(path) as opened:
        rgb = opened.convert("RGB")
    return Image(VaeImageProcessor.numpy_to_pt(VaeImageProcessor.pil_to_numpy(rgb)))


def to_pil(image: Image) -> list[Any]:
    """The images as PIL images, rounded the way VaeImageProcessor.postprocess(output_type="pil") rounds."""
    from diffusers.image_processor import VaeImageProcessor

    return VaeImageProcessor.numpy_to_pil(VaeImageProcessor.pt_to_numpy(image.pixels.detach().float().cpu()))


def _write_pngs(ctx: Context, image: Image, prefix: str, kind: FolderKind) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for chunk, value in ctx.image_metadata.items():
        info.add_text(chunk, json.dumps(value))
    shown = []
    for picture in to_pil(image):
        with ctx.folders.create_numbered(kind, prefix, ".png") as new:
            picture.save(new.file, format="PNG", pnginfo=info, compress_level=4)
        shown.append({"filename": new.path.name, "subfolder": new.subfolder, "type": kind})
    ctx.show(images=shown)


@node("image.save", category="image", version="1.0.0", display_name="Save PNG", output_node=True)
def save_image(ctx: Context, image: Image, filename_prefix: str = "nodeflow") -> None:
    """Save PNGs to the output folder, with the workflow JSON in the PNG text chunk "nodeflow" and ComfyUI's
    "prompt" and "workflow" chunks, so that either editor restores the graph from a dropped PNG."""
    _write_pngs(ctx, image, filename_prefix, "output")


@node("image.preview", category="image", version="1.0.0", display_name="Preview PNG", output_node=True)
def preview_image(ctx: Context, image: Image) -> None:
    """Show images without keeping them: PNGs in the temp folder."""
    _write_pngs(ctx, image, "preview", "temp")
