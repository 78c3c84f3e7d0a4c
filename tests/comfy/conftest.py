"""Fixtures for the ComfyUI pack's tests: the tiny SD model wrapped as ComfyUI's MODEL, CLIP and VAE (what
CheckpointLoaderSimple gives), and a context to call the nodes with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from nodeflow import Context, Folders
from nodeflow.model_service import ModelService
from nodes import sd as sd_nodes
from nodes.comfy_types import CLIP, MODEL, VAE
from tests.sd.conftest import tiny_sd  # noqa: F401  (the session's tiny model folder)

API_FILE = Path(__file__).parent / "default_sd15_api.json"  # ComfyUI's default SD 1.5 workflow, API format
CHECKPOINT = "v1-5-pruned-emaonly.safetensors"  # the checkpoint it names


class Checkpoint(NamedTuple):
    model: MODEL
    clip: CLIP
    vae: VAE
    parts: Any  # the SDModel the three wrap


def comfy_checkpoint(parts: Any) -> Checkpoint:
    """An `sd.load_model` result as ComfyUI's three loader outputs."""
    unet = parts.unet
    model = MODEL(unet.module, unet.source, unet.dtype, unet.config, family="sd1", scheduler=parts.scheduler)
    return Checkpoint(model, CLIP((parts.tokenizer,), (parts.text_encoder,)), parts.vae, parts)


def make_context(tmp_path: Any) -> Context:
    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp",
                      models=[tmp_path / "models"], trust_paths=True)
    return Context("node", "test.node", "cpu", ModelService().on("cpu"), folders, lambda: {"nodeflow": 1})


@pytest.fixture
def ctx(tmp_path) -> Context:
    return make_context(tmp_path)


@pytest.fixture(scope="module")
def checkpoint(tiny_sd, tmp_path_factory) -> Checkpoint:  # noqa: F811
    ctx = make_context(tmp_path_factory.mktemp("load"))
    return comfy_checkpoint(sd_nodes.load_model(ctx, str(tiny_sd)))


@pytest.fixture(scope="session")
def comfy_user(tiny_sd, tmp_path_factory) -> Path:  # noqa: F811
    """Folders as a ComfyUI user has them: the checkpoint the default workflow names, in models/checkpoints (the
    tiny model's), and the tokenizer its text encoder's vocabulary needs, in models/tokenizers."""
    from tiny_models.clip import write_tiny_clip_tokenizer
    from tiny_models.sd_single_file import write_single_file_checkpoint

    root = tmp_path_factory.mktemp("comfy_user")
    write_single_file_checkpoint(tiny_sd, root / "models" / "checkpoints" / CHECKPOINT)
    write_tiny_clip_tokenizer(root / "models" / "tokenizers" / "tiny-clip")
    (root / "input").mkdir()
    return root
