"""ComfyUI's CheckpointLoaderSimple reads a single-file checkpoint from models/checkpoints with no config folder:
the architecture and sizes come from the file, CLIP's tokenizer from models/tokenizers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from nodeflow import Context, Folders
from nodeflow.model_service import ModelService
from nodes import comfy_loaders
from tests.pipeline_support import assert_same_weights


def _models_folder(root: Path) -> Path:
    from tiny_models.clip import write_tiny_clip_tokenizer

    write_tiny_clip_tokenizer(root / "tokenizers" / "tiny-clip")
    return root


def _load(models: Path, name: str) -> comfy_loaders.Checkpoint:
    ctx = Context("ckpt", "CheckpointLoaderSimple", "cpu", ModelService().on("cpu"), Folders(models=[models]))
    return comfy_loaders.checkpoint_loader_simple(ctx, name)


@pytest.fixture(scope="module")
def sd1_models(tiny_sd, tmp_path_factory) -> Path:
    from tiny_models.sd_single_file import write_single_file_checkpoint

    models = _models_folder(tmp_path_factory.mktemp("models"))
    write_single_file_checkpoint(tiny_sd, models / "checkpoints" / "tiny_sd1.safetensors")
    return models


def test_an_sd1_checkpoint_loads_the_weights_it_was_written_from(sd1_models, sd_components):
    model, clip, vae = _load(sd1_models, "tiny_sd1.safetensors")
    assert model.family == clip.family == "sd1" and model.requires_aesthetics_score is False
    assert model.scheduler.class_name == "PNDMScheduler" and model.scheduler.config["prediction_type"] == "epsilon"
    assert_same_weights(model.module, sd_components["unet"])
    assert_same_weights(vae.module, sd_components["vae"])
    [encoder], [tokenizer] = clip.encoders, clip.tokenizers
    assert_same_weights(encoder.module, sd_components["text_encoder"])
    assert tokenizer.module("a cat").input_ids == sd_components["tokenizer"]("a cat").input_ids


def test_an_sdxl_checkpoint_is_read_as_sdxl_with_its_sizes_and_weights(tmp_path):
    from diffusers import StableDiffusionXLPipeline

    from tiny_models.sd_single_file import write_single_file_checkpoint
    from tiny_models.sdxl import make_tiny_sdxl

    folder = make_tiny_sdxl(tmp_path / "sdxl", second_width=48)
    models = _models_folder(tmp_path / "models")
    write_single_file_checkpoint(folder, models / "checkpoints" / "tiny_sdxl.safetensors")
    model, clip, vae = _load(models, "tiny_sdxl.safetensors")
    theirs = StableDiffusionXLPipeline.from_pretrained(folder).components
    assert model.family == clip.family == "sdxl" and model.scheduler.class_name == "EulerDiscreteScheduler"
    for key in ("block_out_channels", "cross_attention_dim", "projection_class_embeddings_input_dim",
                "addition_time_embed_dim", "use_linear_projection"):
        assert model.config[key] == theirs["unet"].config[key] or list(model.config[key]) == list(
            theirs["unet"].config[key]), key
    assert_same_weights(model.module, theirs["unet"])
    assert_same_weights(vae.module, theirs["vae"])
    for ours, name in zip(clip.encoders, ("text_encoder", "text_encoder_2")):
        assert_same_weights(ours.module, theirs[name])
    assert clip.tokenizers[1].module.pad_token == "!"


def test_an_sdxl_refiner_checkpoint_is_read_as_a_refiner_with_its_one_encoder(tmp_path):
    from diffusers import StableDiffusionXLImg2ImgPipeline

    from tiny_models.sd_single_file import write_single_file_checkpoint
    from tiny_models.sdxl import make_tiny_sdxl_refiner

    folder = make_tiny_sdxl_refiner(tmp_path / "refiner")
    models = _models_folder(tmp_path / "models")
    write_single_file_checkpoint(folder, models / "checkpoints" / "tiny_refiner.safetensors")
    model, clip, _ = _load(models, "tiny_refiner.safetensors")
    theirs = StableDiffusionXLImg2ImgPipeline.from_pretrained(folder).components
    assert model.family == "sdxl" and model.requires_aesthetics_score is True
    assert_same_weights(model.module, theirs["unet"])
    [encoder] = clip.encoders
    assert_same_weights(encoder.module, theirs["text_encoder_2"])


def test_an_unknown_checkpoint_layout_is_refused_naming_what_was_found(tmp_path):
    from safetensors.torch import save_file

    models = _models_folder(tmp_path)
    (models / "checkpoints").mkdir()
    save_file({"transformer.blocks.0.weight": torch.zeros(2)}, str(models / "checkpoints" / "other.safetensors"))
    with pytest.raises(ValueError, match=r"CheckpointLoaderSimple: 'other.safetensors' is not .*transformer.blocks"):
        _load(models, "other.safetensors")


def test_a_pickled_checkpoint_is_refused(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "old.ckpt").write_bytes(b"not read")
    with pytest.raises(ValueError, match="CheckpointLoaderSimple: input 'ckpt_name': 'old.ckpt' is not a .safetensors"):
        _load(tmp_path, "old.ckpt")


def test_a_checkpoint_without_a_tokenizer_to_hand_names_where_to_put_one(sd1_models, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_cache"))
    (tmp_path / "checkpoints").mkdir()
    shutil.copyfile(sd1_models / "checkpoints" / "tiny_sd1.safetensors", tmp_path / "checkpoints" / "a.safetensors")
    with pytest.raises(FileNotFoundError, match="CheckpointLoaderSimple: .*CLIP's tokenizer .*tokenizers"):
        _load(tmp_path, "a.safetensors")
