"""ComfyUI's other loaders: VAELoader, CLIPSetLastLayer, LoraLoader(ModelOnly), ControlNetLoader, each reading
from its ComfyUI model folder; and the checkpoint's models are owned, dropped and made again like any loader's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nodeflow import Context, Executor, Folders, Graph, Registry, node
from nodeflow.model_service import ModelService
from nodes import comfy_loaders
from nodes.comfy_types import CLIP
from tests.pipeline_support import assert_same_weights


@pytest.fixture(scope="module")
def models(tiny_sd, tmp_path_factory) -> Path:
    from tiny_models.clip import write_tiny_clip_tokenizer
    from tiny_models.sd_single_file import write_single_file_checkpoint

    root = tmp_path_factory.mktemp("models")
    write_tiny_clip_tokenizer(root / "tokenizers" / "tiny-clip")
    write_single_file_checkpoint(tiny_sd, root / "checkpoints" / "tiny.safetensors")
    return root


def _ctx(models: Path) -> Context:
    return Context("n", "test", "cpu", ModelService().on("cpu"), Folders(models=[models]))


@node("test.clip_sum", category="test", output="value")
def clip_sum(ctx: Context, clip: CLIP, seed: int = 0) -> float:
    with ctx.models.use(clip.encoders[0]) as encoder:
        return float(encoder.get_input_embeddings().weight.detach().sum()) + seed


@node("test.show", category="test", output_node=True)
def show(ctx: Context, value: float) -> None:
    ctx.show(values=[value])


def test_a_checkpoints_clip_is_dropped_and_made_again_like_its_other_models(models):
    g = Graph(Registry([comfy_loaders.checkpoint_loader_simple, clip_sum, show]))
    loader = g.add("CheckpointLoaderSimple", ckpt_name="tiny.safetensors")
    reader = g.add("test.clip_sum", clip=loader.out.CLIP)
    g.param("seed", reader, "seed")
    shown = g.add("test.show", value=reader).id
    executor = Executor(g.registry, device="cpu", folders=Folders(models=[models]))
    first = g.run(params={"seed": 0}, executor=executor)
    assert first.ok, first.failures
    assert len(executor.models.loaded()) == 4  # MODEL, VAE, CLIP's tokenizer and encoder
    assert executor.models.unload() == 4
    second = g.run(params={"seed": 1}, executor=executor)
    assert second.ok, second.failures
    assert second.ui[shown]["values"][0] == first.ui[shown]["values"][0] + 1


def test_clip_set_last_layer_keeps_the_encoders_and_sets_the_layer(models):
    _, clip, _ = comfy_loaders.checkpoint_loader_simple(_ctx(models), "tiny.safetensors")
    skipped = comfy_loaders.clip_set_last_layer(clip, -2)
    assert skipped.stop_at_layer == -2 and skipped.encoders == clip.encoders and clip.stop_at_layer == -1


def test_clip_set_last_layer_takes_layers_from_minus_24_to_minus_1():
    spec = comfy_loaders.clip_set_last_layer.__nodeflow__.inputs["stop_at_clip_layer"]
    assert spec.adapter.validate_python(-24) == -24
    for outside in (0, -25):
        with pytest.raises(Exception):
            spec.adapter.validate_python(outside)


def test_vae_loader_reads_a_vae_file_of_its_own_in_the_original_layout(models, sd_components, tmp_path):
    from safetensors.torch import load_file, save_file

    checkpoint = load_file(str(models / "checkpoints" / "tiny.safetensors"))
    (tmp_path / "vae").mkdir()
    save_file({key.removeprefix("first_stage_model."): tensor for key, tensor in checkpoint.items()
               if key.startswith("first_stage_model.")}, str(tmp_path / "vae" / "tiny_vae.safetensors"))
    assert_same_weights(comfy_loaders.vae_loader(_ctx(tmp_path), "tiny_vae.safetensors").module, sd_components["vae"])


def test_vae_loader_reads_a_diffusers_vae_folder(tiny_sd, sd_components, tmp_path):
    shutil.copytree(tiny_sd / "vae", tmp_path / "vae" / "tiny")
    assert_same_weights(comfy_loaders.vae_loader(_ctx(tmp_path), "tiny").module, sd_components["vae"])


@pytest.fixture(scope="module")
def lora(tiny_sd, models) -> str:
    from tiny_models.lora import write_tiny_lora

    write_tiny_lora(tiny_sd, models / "loras" / "tiny_lora.safetensors")
    return "tiny_lora.safetensors"


def test_lora_loader_derives_the_model_and_clip_at_their_strengths(models, lora):
    model, clip, _ = comfy_loaders.checkpoint_loader_simple(_ctx(models), "tiny.safetensors")
    lora_model, lora_clip = comfy_loaders.lora_loader(_ctx(models), model, clip, lora, 0.5, 0.25)
    assert lora_model.base is model and lora_model.family == "sd1" and lora_model.scheduler == model.scheduler
    assert [strength for _, strength in lora_model.applied.loras] == [0.5]
    [encoder] = lora_clip.encoders
    assert encoder.base is clip.encoders[0] and [s for _, s in encoder.applied.loras] == [0.25]
    assert lora_clip.tokenizers == clip.tokenizers


def test_lora_loader_model_only_leaves_clip_alone(models, lora):
    model, _, _ = comfy_loaders.checkpoint_loader_simple(_ctx(models), "tiny.safetensors")
    lora_model = comfy_loaders.lora_loader_model_only(_ctx(models), model, lora, 0.7)
    assert lora_model.base is model and [s for _, s in lora_model.applied.loras] == [0.7]


def test_controlnet_loader_reads_an_original_layout_controlnet(tiny_sd, tmp_path):
    from diffusers import ControlNetModel

    from tiny_models.controlnet import make_tiny_controlnet, write_controlnet_checkpoint

    folder = make_tiny_controlnet(tmp_path / "cn", sd_folder=tiny_sd)
    write_controlnet_checkpoint(folder, tmp_path / "controlnet" / "tiny_cn.safetensors")
    loaded = comfy_loaders.controlnet_loader(_ctx(tmp_path), "tiny_cn.safetensors")
    assert_same_weights(loaded.module, ControlNetModel.from_pretrained(folder))
