"""ComfyUI's default txt2img prompt (API format) runs through the engine on the pack's nodes."""

from __future__ import annotations

from typing import NamedTuple

from nodeflow import Context, Executor, Folders, default_registry, node
from nodeflow.workflow import from_comfy
from nodes import sd as sd_nodes
from nodes.comfy_types import CLIP, MODEL, VAE
from tests.comfy.conftest import comfy_checkpoint
from tests.comfy.test_comfy_ksampler import _ksampler_image
from tests.pipeline_support import assert_same_images, read_pngs


class TinyCheckpoint(NamedTuple):
    MODEL: MODEL
    CLIP: CLIP
    VAE: VAE


@node("TestTinyCheckpointLoader", category="loaders")
def tiny_checkpoint_loader(ctx: Context, folder: str) -> TinyCheckpoint:
    """The tiny SD folder as a checkpoint loader's three outputs (CheckpointLoaderSimple's stand-in here)."""
    return TinyCheckpoint(*comfy_checkpoint(sd_nodes.load_model(ctx, folder))[:3])


def _default_prompt(folder: str) -> dict:
    """ComfyUI's default workflow in API format, with the stand-in loader and a tiny image."""
    return {
        "4": {"class_type": "TestTinyCheckpointLoader", "inputs": {"folder": folder}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 128, "height": 128, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 0, "steps": 10, "cfg": 7.5, "sampler_name": "euler", "scheduler": "karras", "denoise": 1.0,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }


def test_the_default_comfyui_prompt_runs_on_the_pack_and_saves_the_graphs_pixels(tiny_sd, checkpoint, ctx,
                                                                                 tmp_path):
    registry = default_registry()
    registry.add(tiny_checkpoint_loader)
    out = tmp_path / "engine_out"
    executor = Executor(registry, device="cpu", folders=Folders(output=out, models=[tiny_sd.parent],
                                                                trust_paths=True))
    report = executor.run(from_comfy(_default_prompt(str(tiny_sd))))
    assert not report.failures
    assert [p.name for p in out.glob("*.png")] == ["ComfyUI_00001_.png"]
    assert_same_images(read_pngs(out), [_ksampler_image(ctx, checkpoint, "euler", "karras", 10)])
