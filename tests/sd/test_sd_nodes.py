"""Behaviour of the single SD nodes: text, schedulers, loaders, latents, VAE, images, progress and interrupt."""

from __future__ import annotations


import pytest
import torch

from nodeflow import Context, Executor, Folders, Workflow, default_registry
from nodeflow.events import NodeProgress
from nodeflow.model_service import ModelService
from nodes import image as image_nodes
from nodes import latents as latent_nodes
from nodes import schedulers as scheduler_nodes
from nodes import sd as sd_nodes
from nodes import text as text_nodes
from nodes import vae as vae_nodes
from nodes.types import Image, Latents, Scheduler

from .conftest import WORKFLOWS


@pytest.fixture
def ctx(tmp_path) -> Context:
    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp", models=[tmp_path],
                      trust_paths=True)
    return Context("node", "test.node", "cpu", ModelService().on("cpu"), folders, lambda: {"nodeflow": 1})


@pytest.fixture(scope="module")
def model(tiny_sd):
    folders = Folders(models=[tiny_sd.parent], trust_paths=True)
    return sd_nodes.load_model(Context("m", "sd.load_model", "cpu", ModelService().on("cpu"), folders), str(tiny_sd))


def test_loader_device_pins_every_model_it_loads(tiny_sd, ctx):
    from nodeflow import ModelHandle

    pinned = sd_nodes.load_model(ctx, str(tiny_sd), device="cpu")
    handles = [value for value in pinned if isinstance(value, ModelHandle)]
    assert len(handles) == 4 and {h.placement for h in handles} == {"cpu"}
    assert {h.placement for h in sd_nodes.load_model(ctx, str(tiny_sd)) if isinstance(h, ModelHandle)} == {None}


def test_long_prompt_is_cut_at_the_model_max_length_with_a_warning(model, ctx):
    tokens = text_nodes.clip_tokenize(ctx, model.tokenizer, "cat " * 100)
    assert tokens.input_ids.shape == (1, model.tokenizer.module.model_max_length)
    [warning] = ctx.ui["warnings"]
    assert "cut at" in warning and "dropped" in warning


def test_long_prompt_is_refused_on_request_naming_the_dropped_words(model, ctx):
    with pytest.raises(ValueError, match="would be dropped: .*dog"):
        text_nodes.clip_tokenize(ctx, model.tokenizer, "cat " * 80 + "dog", too_long="error")


def test_clip_skip_takes_an_earlier_layer_through_the_final_layer_norm(model, ctx):
    # StableDiffusionPipeline.encode_prompt(clip_skip=n) computes exactly this, but under transformers 5 it
    # fails (it reaches for `text_encoder.text_model`, which the flattened CLIPTextModel no longer has).
    tokens = text_nodes.clip_tokenize(ctx, model.tokenizer, "a cat")
    encoder = model.text_encoder.module
    with torch.no_grad():
        hidden = encoder(tokens.input_ids, output_hidden_states=True).hidden_states
        expected = encoder.final_layer_norm(hidden[-2])
    ours = text_nodes.clip_encode(ctx, model.text_encoder, tokens, clip_skip=1)
    assert torch.equal(ours.embeds, expected)
    assert not torch.equal(text_nodes.clip_encode(ctx, model.text_encoder, tokens).embeds, expected)


def test_projection_text_encoder_gives_the_projected_embedding_as_pooled(model, ctx, tmp_path):
    from transformers import CLIPTextModelWithProjection

    from tiny_models.clip import tiny_clip_text_config

    torch.manual_seed(0)
    CLIPTextModelWithProjection(tiny_clip_text_config()).save_pretrained(tmp_path / "sdxl" / "text_encoder_2")
    encoder = sd_nodes.load_text_encoder(ctx, str(tmp_path / "sdxl"), subfolder="text_encoder_2")
    assert isinstance(encoder.module, CLIPTextModelWithProjection)
    tokens = text_nodes.clip_tokenize(ctx, model.tokenizer, "a cat")
    conditioning = text_nodes.clip_encode(ctx, encoder, tokens)
    with torch.no_grad():
        expected = encoder.module(tokens.input_ids).text_embeds
    assert torch.equal(conditioning.pooled, expected) and conditioning.pooled.shape == (1, 32)


def _settings(recipe: Scheduler) -> dict:
    return {key: value for key, value in recipe.create().config.items() if not key.startswith("_")}


def test_single_component_loaders_load_what_the_folder_loader_loads(model, ctx, tiny_sd):
    unet = sd_nodes.load_unet(ctx, str(tiny_sd))
    vae = sd_nodes.load_vae(ctx, str(tiny_sd))
    assert unet.config == model.unet.config and vae.config == model.vae.config
    assert all(torch.equal(a, b) for a, b in zip(unet.module.state_dict().values(), model.unet.module.state_dict().values()))
    assert _settings(sd_nodes.load_scheduler(ctx, str(tiny_sd))) == _settings(model.scheduler)
    assert sd_nodes.load_tokenizer(ctx, str(tiny_sd)).module("a cat").input_ids == model.tokenizer.module("a cat").input_ids


def test_scheduler_accepts_any_diffusers_scheduler_class_by_name(model):
    chosen = scheduler_nodes.scheduler(model.scheduler, class_name="UniPCMultistepScheduler")
    assert type(chosen.create()).__name__ == "UniPCMultistepScheduler"
    assert chosen.create().config.beta_schedule == "scaled_linear"  # the model's config is kept


def test_scheduler_refuses_an_override_its_class_lacks(model):
    with pytest.raises(ValueError, match="DDIMScheduler has no setting use_karras_sigmas"):
        scheduler_nodes.scheduler(model.scheduler, name="ddim", karras_sigmas=True)


def test_scheduler_refuses_a_class_that_is_not_a_scheduler(model):
    with pytest.raises(ValueError, match="not a diffusers scheduler"):
        scheduler_nodes.scheduler(model.scheduler, class_name="UNet2DConditionModel")


@pytest.mark.parametrize("name", ["dpmpp_sde", "lms"])
def test_scheduler_with_an_optional_dependency_builds(model, name):
    assert scheduler_nodes.scheduler(model.scheduler, name=name).create() is not None


def test_scheduler_whose_dependency_is_missing_says_what_to_install(model, monkeypatch):
    import diffusers

    class StandIn:  # what diffusers exports in place of a class whose backend is not installed
        _backends = ["torchsde"]

    monkeypatch.setattr(diffusers, "DPMSolverSDEScheduler", StandIn)
    with pytest.raises(ValueError, match="pip install torchsde"):
        scheduler_nodes.scheduler(model.scheduler, name="dpmpp_sde")


def test_noise_size_must_fit_the_vae_factor(model, ctx):
    with pytest.raises(ValueError, match="multiples of 2"):
        latent_nodes.empty_latents(ctx, model.unet, model.vae, width=33, height=32)


def test_noise_defaults_to_the_size_the_configs_imply(model, ctx):
    noise = latent_nodes.empty_latents(ctx, model.unet, model.vae, seed=3)
    assert noise.samples.shape == (1, 4, 16, 16)  # UNet sample_size 16; the image is 16 × 2 = 32 pixels


def test_latents_upscale_scales_both_sides():
    upscaled = latent_nodes.upscale_latents(Latents(torch.ones(1, 4, 8, 6)), scale_by=1.5)
    assert upscaled.samples.shape == (1, 4, 12, 9)


def test_sliced_vae_decode_equals_full_and_leaves_the_shared_module_as_it_was(model, ctx):
    latents = Latents(torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0)))
    full = vae_nodes.vae_decode(ctx, model.vae, latents)
    sliced = vae_nodes.vae_decode(ctx, model.vae, latents, memory="sliced")
    torch.testing.assert_close(sliced.pixels, full.pixels, rtol=0, atol=1e-6)
    assert not model.vae.module.use_slicing and not model.vae.module.use_tiling


def test_preview_writes_to_the_temp_folder(ctx):
    image_nodes.preview_image(ctx, Image(torch.rand(2, 3, 8, 8)))
    assert [entry["type"] for entry in ctx.ui["images"]] == ["temp", "temp"]
    assert len(list(ctx.folders.temp.glob("preview_*.png"))) == 2


def test_changing_the_input_image_file_reruns_image_load(tmp_path):
    from PIL import Image as PILImage

    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp", models=[tmp_path])
    folders.input.mkdir()
    PILImage.new("RGB", (4, 4), "red").save(folders.input / "a.png")
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "load": {"type": "image.load", "inputs": {"image": "a.png"}},
        "save": {"type": "image.save", "inputs": {"image": {"node": "load", "output": "image"}}}}})
    executor = Executor(default_registry(), device="cpu", folders=folders)
    assert executor.run(workflow).executed == ["load", "save"]
    assert executor.run(workflow).executed == []
    PILImage.new("RGB", (4, 4), "blue").save(folders.input / "a.png")
    assert executor.run(workflow).executed == ["load", "save"]


@pytest.fixture
def sd_executor(tiny_sd, tmp_path) -> Executor:
    folders = Folders(output=tmp_path / "out", input=tmp_path / "in", temp=tmp_path / "temp", models=[tiny_sd.parent])
    return Executor(default_registry(), device="cpu", folders=folders)


PARAMS = {"model": "model", "steps": 3, "prompt": "a cat", "scheduler": "ddim"}  # one timestep per step


def test_denoise_reports_progress_once_per_step(sd_executor):
    events = []
    report = sd_executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params=PARAMS, on_event=events.append)
    assert report.ok
    steps = [(e.value, e.total) for e in events if isinstance(e, NodeProgress) and e.node_id == "denoise"]
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_denoise_sends_a_latent_preview_per_step_only_when_asked(sd_executor):
    def previews(wanted: bool) -> list:
        sd_executor.cache.clear()
        events = []
        sd_executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params=PARAMS, on_event=events.append,
                        previews=wanted)
        return [e.preview for e in events if isinstance(e, NodeProgress) and e.node_id == "denoise"]

    assert previews(False) == [None, None, None]
    shown = previews(True)
    assert len(shown) == 3 and all(p.size == (16, 16) and p.mode == "RGB" for p in shown)
    assert shown[0].tobytes() != shown[-1].tobytes(), "the preview follows the latents"


def test_interrupt_stops_the_denoise_loop_between_steps(sd_executor):
    seen = []

    def interrupt_after_first_step(event):
        if isinstance(event, NodeProgress) and event.node_id == "denoise":
            seen.append(event.value)
            sd_executor.interrupt()

    report = sd_executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params=PARAMS,
                             on_event=interrupt_after_first_step)
    assert report.interrupted and seen == [1]
    assert "denoise" not in report.executed and "save" not in report.executed
