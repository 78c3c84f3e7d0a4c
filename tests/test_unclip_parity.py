"""The unCLIP workflows equal Kandinsky 2.2's pipelines: prior_only.json = KandinskyV22PriorPipeline, and
unclip_prior_decoder.json = that prior run followed by KandinskyV22Pipeline, each with a fresh generator
seeded with the workflow's seed."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

from tests.pipeline_support import WORKFLOWS, assert_same_images, run_workflow

PROMPT = "the cat on a mat"
SIZE = 32


@pytest.fixture(scope="session")
def tiny_prior(tmp_path_factory):
    from tiny_models.kandinsky import save_tiny_prior

    return save_tiny_prior(tmp_path_factory.mktemp("tiny_prior") / "model")


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory):
    from tiny_models.kandinsky import save_tiny_decoder

    return save_tiny_decoder(tmp_path_factory.mktemp("tiny_decoder") / "model")


@pytest.fixture(scope="session")
def pipelines(tiny_prior, tiny_decoder):
    from diffusers import KandinskyV22Pipeline, KandinskyV22PriorPipeline

    prior = KandinskyV22PriorPipeline.from_pretrained(tiny_prior)
    decoder = KandinskyV22Pipeline.from_pretrained(tiny_decoder)
    for pipeline in (prior, decoder):
        pipeline.set_progress_bar_config(disable=True)
    return prior, decoder


def _prior_output(prior, seed, steps, guidance, negative):
    return prior(PROMPT, negative_prompt=negative or None, num_inference_steps=steps, guidance_scale=guidance,
                 generator=torch.Generator().manual_seed(seed))


def test_fixture_prior_has_nonzero_clip_std(pipelines):
    assert pipelines[0].prior.clip_std.abs().min() > 0


@pytest.mark.parametrize("negative, guidance", [("", 4.0), ("blurry", 4.0), ("", 1.0)],
                         ids=["no-negative", "negative", "no-guidance"])
def test_prior_only_saves_the_pipeline_embeddings(tiny_prior, pipelines, tmp_path, negative, guidance):
    from safetensors.torch import load_file

    assert run_workflow_files(tmp_path, model=tiny_prior, prompt=PROMPT, negative_prompt=negative, seed=3,
                              steps=4, guidance_scale=guidance) == 1
    saved = load_file(next(tmp_path.glob("*.safetensors")))
    expected = _prior_output(pipelines[0], 3, 4, guidance, negative)
    assert saved["image_embeds"].std() > 0
    assert torch.equal(saved["image_embeds"], expected.image_embeds)
    assert torch.equal(saved["negative_image_embeds"], expected.negative_image_embeds)


def run_workflow_files(output, **params) -> int:
    from nodeflow.cli import main

    args = ["run", str(WORKFLOWS / "prior_only.json"), "--output", str(output), "--device", "cpu"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    assert main(args) == 0
    return len(list(output.glob("*.safetensors")))


@pytest.mark.parametrize("negative, scheduler, decoder_class",
                         [("", "default", None), ("blurry", "ddim", "DDIMScheduler")], ids=["own-ddpm", "negative-ddim"])
def test_prior_then_decoder_equals_the_two_pipelines(tiny_prior, tiny_decoder, pipelines, tmp_path, negative,
                                                      scheduler, decoder_class):
    import diffusers

    prior, decoder = pipelines
    ours = run_workflow("unclip_prior_decoder", tmp_path, prior_model=tiny_prior, decoder_model=tiny_decoder,
                        prompt=PROMPT, negative_prompt=negative, seed=11, steps=3, prior_steps=3, width=SIZE,
                        height=SIZE, scheduler=scheduler)
    embeds = _prior_output(prior, 11, 3, 4.0, negative)
    original = decoder.scheduler
    if decoder_class:
        decoder.scheduler = getattr(diffusers, decoder_class).from_config(original.config)
    try:
        theirs = decoder(embeds.image_embeds, embeds.negative_image_embeds, height=SIZE, width=SIZE,
                         num_inference_steps=3, generator=torch.Generator().manual_seed(11)).images
    finally:
        decoder.scheduler = original
    assert_same_images(ours, theirs)


def test_workflow_defaults_are_the_pipeline_defaults():
    from diffusers import KandinskyV22Pipeline, KandinskyV22PriorPipeline

    prior = inspect.signature(KandinskyV22PriorPipeline.__call__).parameters
    decoder = inspect.signature(KandinskyV22Pipeline.__call__).parameters
    values = _param_values("unclip_prior_decoder")
    assert values["prior_steps"] == prior["num_inference_steps"].default
    assert values["prior_guidance_scale"] == prior["guidance_scale"].default
    assert values["steps"] == decoder["num_inference_steps"].default
    assert values["guidance_scale"] == decoder["guidance_scale"].default
    assert (values["width"], values["height"]) == (decoder["width"].default, decoder["height"].default)
    assert values["negative_prompt"] == "" and values["scheduler"] == "default"
    prior_only = _param_values("prior_only")
    assert prior_only["steps"] == values["prior_steps"]
    assert prior_only["guidance_scale"] == values["prior_guidance_scale"]


def _param_values(name: str) -> dict:
    workflow = json.loads((WORKFLOWS / f"{name}.json").read_text())
    return {key: workflow["nodes"][p["node"]]["inputs"][p["input"]] for key, p in workflow["params"].items()}
