"""vq_diffusion.json writes the same pixels as VQDiffusionPipeline, loading folders whose model_index.json
names the learned classifier-free embeddings the way the published repos do (a module diffusers lost)."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

from tests.pipeline_support import WORKFLOWS, assert_same_images, run_workflow

PROMPT = "teddy bear in the pool"


def _save(tmp_path_factory, learnable: bool):
    from tiny_models.vq import save_tiny_vq_diffusion

    return save_tiny_vq_diffusion(tmp_path_factory.mktemp("tiny_vq") / "model", learnable=learnable)


@pytest.fixture(scope="session")
def tiny_vq(tmp_path_factory):
    return _save(tmp_path_factory, learnable=True)


@pytest.fixture(scope="session")
def tiny_vq_unlearned(tmp_path_factory):
    return _save(tmp_path_factory, learnable=False)


def _pipeline(folder):
    """VQDiffusionPipeline from the folder's parts (its from_pretrained cannot resolve the embeddings class)."""
    from diffusers import Transformer2DModel, VQDiffusionScheduler, VQModel
    from diffusers.pipelines.deprecated.vq_diffusion import (
        LearnedClassifierFreeSamplingEmbeddings, VQDiffusionPipeline,
    )
    from transformers import CLIPTextModel, CLIPTokenizer

    pipeline = VQDiffusionPipeline(
        vqvae=VQModel.from_pretrained(folder, subfolder="vqvae"),
        text_encoder=CLIPTextModel.from_pretrained(folder, subfolder="text_encoder"),
        tokenizer=CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer"),
        transformer=Transformer2DModel.from_pretrained(folder, subfolder="transformer"),
        scheduler=VQDiffusionScheduler.from_pretrained(folder, subfolder="scheduler"),
        learned_classifier_free_sampling_embeddings=LearnedClassifierFreeSamplingEmbeddings.from_pretrained(
            folder, subfolder="learned_classifier_free_sampling_embeddings"),
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _pipeline_images(folder, seed, steps, guidance, truncation):
    return _pipeline(folder)(PROMPT, num_inference_steps=steps, guidance_scale=guidance, truncation_rate=truncation,
                             generator=torch.Generator().manual_seed(seed)).images


def test_diffusers_itself_cannot_load_the_folder(tiny_vq):
    from diffusers.pipelines.deprecated.vq_diffusion import VQDiffusionPipeline

    assert json.loads((tiny_vq / "model_index.json").read_text())[
        "learned_classifier_free_sampling_embeddings"][0] == "vq_diffusion"
    with pytest.raises(ValueError, match="vq_diffusion"):
        VQDiffusionPipeline.from_pretrained(tiny_vq)


@pytest.mark.parametrize("guidance, truncation", [(5.0, 1.0), (5.0, 0.6), (1.0, 1.0)],
                         ids=["learned-null-text", "truncated", "no-guidance"])
def test_vq_diffusion_equals_pipeline(tiny_vq, tmp_path, guidance, truncation):
    ours = run_workflow("vq_diffusion", tmp_path, model=tiny_vq, prompt=PROMPT, seed=4, steps=4,
                        guidance_scale=guidance, truncation_rate=truncation)
    assert_same_images(ours, _pipeline_images(tiny_vq, 4, 4, guidance, truncation))


def test_model_without_learned_null_text_guides_against_the_empty_prompt(tiny_vq_unlearned, tmp_path):
    ours = run_workflow("vq_diffusion", tmp_path, model=tiny_vq_unlearned, prompt=PROMPT, seed=6, steps=3)
    assert_same_images(ours, _pipeline_images(tiny_vq_unlearned, 6, 3, 5.0, 1.0))


def test_workflow_defaults_are_the_pipeline_defaults():
    from diffusers.pipelines.deprecated.vq_diffusion import VQDiffusionPipeline

    defaults = inspect.signature(VQDiffusionPipeline.__call__).parameters
    workflow = json.loads((WORKFLOWS / "vq_diffusion.json").read_text())
    values = {key: workflow["nodes"][p["node"]]["inputs"][p["input"]] for key, p in workflow["params"].items()}
    assert values["steps"] == defaults["num_inference_steps"].default
    assert values["guidance_scale"] == defaults["guidance_scale"].default
    assert values["truncation_rate"] == defaults["truncation_rate"].default
