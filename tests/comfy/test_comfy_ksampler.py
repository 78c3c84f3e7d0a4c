"""KSampler and KSamplerAdvanced: the same pixels as our sd_txt2img workflow with the mapped scheduler, ComfyUI's
noise, denoise and start/end steps, the sampler × scheduler mapping and its refusals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nodeflow.cli import main as nodeflow_main
from nodes.comfy_conditioning import clip_text_encode, conditioning_combine, conditioning_set_area
from nodes.comfy_image import save_image
from nodes.comfy_latent import empty_latent_image, set_latent_noise_mask, vae_decode
from nodes.comfy_sampling import comfy_noise, ksampler, ksampler_advanced
from nodes.comfy_types import LATENT, MASK
from tests.pipeline_support import WORKFLOWS, assert_same_images, read_pngs


def _txt2img_workflow(tmp_path, scheduler_inputs: dict) -> str:
    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    workflow["nodes"]["scheduler"]["inputs"].update(scheduler_inputs)
    path = tmp_path / "sd_txt2img.json"
    path.write_text(json.dumps(workflow))
    return str(path)


def _ksampler_image(ctx, checkpoint, sampler_name: str, scheduler: str, steps: int) -> np.ndarray:
    """ComfyUI's default graph: two CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, SaveImage."""
    positive = clip_text_encode(ctx, "a photo of a cat", checkpoint.clip)
    negative = clip_text_encode(ctx, "", checkpoint.clip)
    latent = empty_latent_image(width=128, height=128, batch_size=1)  # 16×16 latents, the tiny model's size
    samples = ksampler(ctx, checkpoint.model, seed=0, steps=steps, cfg=7.5, sampler_name=sampler_name,
                       scheduler=scheduler, positive=positive, negative=negative, latent_image=latent)
    save_image(ctx, vae_decode(ctx, samples, checkpoint.vae), "ksampler")
    [image] = read_pngs(ctx.folders.output)
    return image


@pytest.mark.parametrize(("sampler_name", "scheduler", "overrides"), [
    ("euler", "karras", {"karras_sigmas": True}),
    ("euler", "normal", {}),
    ("dpmpp_2m", "karras", {"name": "dpmpp_2m", "karras_sigmas": True}),
])
def test_ksampler_graph_equals_sd_txt2img_with_the_mapped_scheduler(tiny_sd, checkpoint, ctx, tmp_path,
                                                                     sampler_name, scheduler, overrides):
    workflow = _txt2img_workflow(tmp_path, {"name": "euler", "timestep_spacing": "linspace", **overrides})
    out = tmp_path / "workflow_out"
    assert nodeflow_main(["run", workflow, "--output", str(out), "--device", "cpu", "--param", f"model={tiny_sd}",
                          "--param", "steps=10"]) == 0
    assert_same_images([_ksampler_image(ctx, checkpoint, sampler_name, scheduler, 10)], read_pngs(out))


def test_noise_is_torch_randn_of_the_latent_shape_seeded_on_the_cpu():
    torch.manual_seed(1234)
    expected = torch.randn(2, 4, 8, 8)
    noise, _ = comfy_noise(torch.zeros(2, 4, 8, 8), 1234)
    assert noise.dtype == torch.float32 and torch.equal(noise, expected)


@pytest.fixture(scope="module")
def prompts(checkpoint, tmp_path_factory):
    from tests.comfy.conftest import make_context

    ctx = make_context(tmp_path_factory.mktemp("prompts"))
    return clip_text_encode(ctx, "a cat", checkpoint.clip), clip_text_encode(ctx, "", checkpoint.clip)


def _sample(ctx, checkpoint, prompts, latent, **inputs):
    positive, negative = prompts
    inputs = {"seed": 3, "steps": 4, "cfg": 5.0, "sampler_name": "euler", "scheduler": "karras", **inputs}
    return ksampler(ctx, checkpoint.model, positive=positive, negative=negative, latent_image=latent, **inputs)


def test_denoise_runs_the_last_steps_of_steps_over_denoise(ctx, checkpoint, prompts):
    latent = LATENT(torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(5)))
    partial = _sample(ctx, checkpoint, prompts, latent, steps=4, denoise=0.5)
    positive, negative = prompts
    advanced = ksampler_advanced(ctx, checkpoint.model, noise_seed=3, steps=8, cfg=5.0, sampler_name="euler",
                                 scheduler="karras", positive=positive, negative=negative, latent_image=latent,
                                 start_at_step=4)
    assert torch.equal(partial.samples, advanced.samples)
    assert not torch.equal(partial.samples, _sample(ctx, checkpoint, prompts, latent, steps=4).samples)


def test_two_advanced_passes_split_one_run_when_the_first_keeps_its_leftover_noise(ctx, checkpoint, prompts):
    positive, negative = prompts
    latent = empty_latent_image(128, 128, 1)
    common = {"steps": 6, "cfg": 5.0, "sampler_name": "euler", "scheduler": "karras", "positive": positive,
              "negative": negative}
    whole = ksampler_advanced(ctx, checkpoint.model, noise_seed=9, latent_image=latent, **common)
    first = ksampler_advanced(ctx, checkpoint.model, noise_seed=9, latent_image=latent, end_at_step=3,
                              return_with_leftover_noise="enable", **common)
    second = ksampler_advanced(ctx, checkpoint.model, add_noise="disable", latent_image=first, start_at_step=3,
                               **common)
    torch.testing.assert_close(second.samples, whole.samples, rtol=1e-4, atol=1e-3)


def test_a_noise_mask_keeps_the_latents_outside_it(ctx, checkpoint, prompts):
    known = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1.0
    masked = set_latent_noise_mask(LATENT(known), MASK(mask))
    result = _sample(ctx, checkpoint, prompts, masked).samples
    assert torch.allclose(result[..., :4, :], known[..., :4, :], atol=1e-5)
    assert not torch.allclose(result[..., 4:12, 4:12], known[..., 4:12, 4:12], atol=1e-2)


def test_combined_prompts_average_and_an_area_limits_its_prompt(ctx, checkpoint, prompts):
    positive, negative = prompts
    latent = empty_latent_image(128, 128, 1)
    alone = _sample(ctx, checkpoint, prompts, latent, cfg=1.0).samples
    twice = ksampler(ctx, checkpoint.model, seed=3, steps=4, cfg=1.0, sampler_name="euler", scheduler="karras",
                     positive=conditioning_combine(positive, positive), negative=negative, latent_image=latent)
    torch.testing.assert_close(twice.samples, alone, rtol=1e-4, atol=1e-3)
    other = clip_text_encode(ctx, "a dog", checkpoint.clip)
    left = conditioning_set_area(other, width=64, height=128, x=0, y=0)
    mixed = ksampler(ctx, checkpoint.model, seed=3, steps=4, cfg=1.0, sampler_name="euler", scheduler="karras",
                     positive=conditioning_combine(positive, left), negative=negative, latent_image=latent).samples
    assert not torch.allclose(mixed[..., :8], alone[..., :8], atol=1e-3)


def test_a_pair_without_a_diffusers_counterpart_is_refused_naming_both(ctx, checkpoint, prompts):
    latent = empty_latent_image(128, 128, 1)
    with pytest.raises(ValueError, match="sampler 'ddpm' with scheduler 'karras'"):
        _sample(ctx, checkpoint, prompts, latent, sampler_name="ddpm", scheduler="karras")
    with pytest.raises(ValueError, match="KSampler: input 'sampler_name': 'dpm_fast'"):
        _sample(ctx, checkpoint, prompts, latent, sampler_name="dpm_fast")
    with pytest.raises(ValueError, match="input 'scheduler': 'kl_optimal'"):
        _sample(ctx, checkpoint, prompts, latent, scheduler="kl_optimal")


def test_ksampler_inputs_are_comfyuis_in_its_order_with_its_defaults():
    from nodes.comfy_sampling import ksampler as node_function

    definition = node_function.__nodeflow__
    assert list(definition.inputs) == ["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
                                       "negative", "latent_image", "denoise"]
    assert {n: s.default for n, s in definition.inputs.items() if s.is_widget} == {
        "seed": 0, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}
    assert all(definition.inputs[n].required for n in ("model", "positive", "negative", "latent_image"))
    assert definition.output_names == ("LATENT",)
    assert math.isclose(definition.inputs["seed"].adapter.validate_python(0xFFFFFFFFFFFFFFFF), 2**64 - 1)


def test_sdxl_ksampler_equals_sdxl_denoise_with_the_latent_size_times_8_as_size_ids(ctx, tmp_path):
    from nodes import sdxl as sdxl_nodes
    from nodes import sdxl_sampling, sdxl_text
    from nodes.comfy_samplers import comfy_scheduler
    from nodes.comfy_types import CLIP, MODEL
    from nodes.types import Latents
    from tiny_models.sdxl import make_tiny_sdxl

    parts = sdxl_nodes.load_model(ctx, str(make_tiny_sdxl(tmp_path / "sdxl")))
    unet = parts.unet
    model = MODEL(unet.module, unet.source, unet.dtype, unet.config, family="sdxl", scheduler=parts.scheduler)
    clip = CLIP((parts.tokenizer, parts.tokenizer_2), (parts.text_encoder, parts.text_encoder_2), family="sdxl")
    latent = empty_latent_image(width=128, height=128)
    ours = ksampler(ctx, model, seed=2, steps=4, cfg=5.0, sampler_name="euler", scheduler="karras",
                    positive=clip_text_encode(ctx, "a cat", clip), negative=clip_text_encode(ctx, "blurry", clip),
                    latent_image=latent)

    def encode(prompt: str):
        return sdxl_text.encode_prompt(ctx, parts.tokenizer_2, parts.text_encoder_2, parts.tokenizer,
                                       parts.text_encoder, prompt, original_width=128, original_height=128,
                                       target_width=128, target_height=128)

    noise, _ = comfy_noise(latent.samples, 2)
    reference = sdxl_sampling.denoise(ctx, unet, comfy_scheduler(parts.scheduler, "euler", "karras", "test"),
                                      Latents(noise), encode("a cat"), encode("blurry"), steps=4, guidance_scale=5.0)
    assert torch.equal(ours.samples, reference.samples / 0.13025)


def test_an_applied_controlnet_acts_as_controlnet_apply_does_in_our_denoise(ctx, checkpoint, tiny_sd, tmp_path):
    from nodes import controlnet as controlnet_nodes
    from nodes import sampling
    from nodes.comfy_image import controlnet_apply_advanced
    from nodes.comfy_samplers import comfy_scheduler
    from nodes.comfy_types import IMAGE
    from nodes.types import Latents
    from tiny_models.controlnet import make_tiny_controlnet

    controlnet = controlnet_nodes.load_controlnet(ctx, str(make_tiny_controlnet(tmp_path / "cn", sd_folder=tiny_sd)))
    image = IMAGE(torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    positive, negative = clip_text_encode(ctx, "a cat", checkpoint.clip), clip_text_encode(ctx, "", checkpoint.clip)
    controlled = controlnet_apply_advanced(positive, negative, controlnet, image, 0.8, 0.0, 0.5)
    latent = empty_latent_image(width=128, height=128)
    ours = ksampler(ctx, checkpoint.model, seed=1, steps=4, cfg=6.0, sampler_name="euler", scheduler="karras",
                    positive=controlled.positive, negative=controlled.negative, latent_image=latent)
    plain = _text_encode_pair(ctx, checkpoint)
    reference_conditioning = controlnet_nodes.apply_controlnet(*plain, controlnet, image, 0.8, 0.0, 0.5)
    noise, _ = comfy_noise(latent.samples, 1)
    reference = sampling.denoise(ctx, checkpoint.parts.unet, comfy_scheduler(checkpoint.model.scheduler, "euler",
                                 "karras", "test"), Latents(noise), *reference_conditioning, steps=4,
                                 guidance_scale=6.0)
    assert torch.equal(ours.samples, reference.samples / 0.18215)
    without = ksampler(ctx, checkpoint.model, seed=1, steps=4, cfg=6.0, sampler_name="euler", scheduler="karras",
                       positive=positive, negative=negative, latent_image=latent)
    assert not torch.equal(ours.samples, without.samples)


def _text_encode_pair(ctx, checkpoint):
    from nodes import text as text_nodes

    def encode(prompt: str):
        tokens = text_nodes.clip_tokenize(ctx, checkpoint.parts.tokenizer, prompt)
        return text_nodes.clip_encode(ctx, checkpoint.parts.text_encoder, tokens)

    return encode("a cat"), encode("")


def test_an_area_weight_fades_in_over_8_latents_from_edges_inside_the_image():
    from nodes.comfy_sampling import _area_weight

    weight = _area_weight(torch.zeros(1, 4, 32, 32), (16, 32, 8, 0), 2.0)
    assert weight.shape == (16, 32)
    assert torch.allclose(weight[:8, 5], 2.0 * torch.arange(1, 9) / 8)  # top edge inside the image
    assert torch.allclose(weight[8:, 5], 2.0 * torch.arange(8, 0, -1) / 8)  # bottom edge inside too
    assert torch.equal(weight[4, :], torch.full((32,), weight[4, 0].item()))  # left and right on the border
