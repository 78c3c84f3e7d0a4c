"""dit_class_to_image.json writes the same pixels as DiTPipeline, with the model's DDIM and with DPM-Solver."""

from __future__ import annotations

import json

import pytest
import torch

from tests.pipeline_support import WORKFLOWS, assert_same_images, run_workflow


@pytest.fixture(scope="session")
def tiny_dit(tmp_path_factory):
    from tiny_models.dit import save_tiny_dit

    return save_tiny_dit(tmp_path_factory.mktemp("tiny_dit") / "model")


@pytest.fixture(scope="session")
def dit_pipeline(tiny_dit):
    from diffusers import DiTPipeline

    pipeline = DiTPipeline.from_pretrained(tiny_dit)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _pipeline_images(pipeline, class_names, seed, steps, guidance, scheduler_class=None):
    import diffusers

    original = pipeline.scheduler
    if scheduler_class:
        pipeline.scheduler = getattr(diffusers, scheduler_class).from_config(original.config)
    try:
        ids = pipeline.get_label_ids(class_names)
        return pipeline(class_labels=ids, num_inference_steps=steps, guidance_scale=guidance,
                        generator=torch.Generator().manual_seed(seed)).images
    finally:
        pipeline.scheduler = original


@pytest.mark.parametrize("scheduler, scheduler_class", [("default", None), ("dpmpp_2m", "DPMSolverMultistepScheduler"),
                                                       ("euler", "EulerDiscreteScheduler")],
                         ids=["ddim-own", "dpm-solver-multistep", "euler-scales-its-input"])
def test_two_classes_with_guidance_equal_pipeline(tiny_dit, dit_pipeline, tmp_path, scheduler, scheduler_class):
    labels = ["white shark", "golden retriever"]
    ours = run_workflow("dit_class_to_image", tmp_path, model=tiny_dit, seed=5, steps=4, scheduler=scheduler,
                        class_labels=json.dumps(labels))
    assert_same_images(ours, _pipeline_images(dit_pipeline, labels, 5, 4, 4.0, scheduler_class))


def test_without_guidance_and_by_class_id_equals_pipeline(tiny_dit, dit_pipeline, tmp_path):
    ours = run_workflow("dit_class_to_image", tmp_path, model=tiny_dit, seed=9, steps=3, guidance_scale=1.0,
                        class_labels=360, scheduler="ddim")
    assert_same_images(ours, _pipeline_images(dit_pipeline, ["otter"], 9, 3, 1.0, "DDIMScheduler"))


def test_legacy_transformer2d_config_gives_the_same_image(tiny_dit, tmp_path):
    from tiny_models.dit import save_tiny_dit

    legacy = save_tiny_dit(tmp_path / "legacy", legacy_class_name=True)
    assert json.loads((legacy / "transformer" / "config.json").read_text())["_class_name"] == "Transformer2DModel"
    ours = run_workflow("dit_class_to_image", tmp_path / "new", model=tiny_dit, seed=2, steps=2)
    theirs = run_workflow("dit_class_to_image", tmp_path / "old", model=legacy, seed=2, steps=2)
    assert_same_images(ours, theirs)


def test_workflow_defaults_are_the_pipeline_defaults():
    import inspect

    from diffusers import DiTPipeline

    workflow = json.loads((WORKFLOWS / "dit_class_to_image.json").read_text())
    defaults = inspect.signature(DiTPipeline.__call__).parameters
    values = {name: workflow["nodes"][p["node"]]["inputs"][p["input"]] for name, p in workflow["params"].items()}
    assert values["steps"] == defaults["num_inference_steps"].default
    assert values["guidance_scale"] == defaults["guidance_scale"].default
    assert values["scheduler"] == "default"


def test_label_list_shows_every_synonym_with_its_id(tiny_dit, tmp_path):
    from nodeflow import Executor, Folders, Graph

    graph = Graph()
    model = graph.add("dit.load_model", model=tiny_dit.name)
    listing = graph.add("dit.list_labels", transformer=model.out.transformer)
    folders = Folders(output=tmp_path, models=[tiny_dit.parent])
    report = Executor(graph.registry, device="cpu", folders=folders).run(graph.workflow)
    lines = report.value(listing.id, "labels").splitlines()
    assert "white shark: 2" in lines and "great white shark: 2" in lines and "otter: 360" in lines
    assert report.ui[listing.id]["text"] == ["\n".join(lines)]


def test_ancestral_scheduler_is_seeded_by_the_workflow_seed(tiny_dit, tmp_path):
    first = run_workflow("dit_class_to_image", tmp_path / "a", model=tiny_dit, seed=8, steps=3,
                         scheduler="euler_ancestral")
    again = run_workflow("dit_class_to_image", tmp_path / "b", model=tiny_dit, seed=8, steps=3,
                         scheduler="euler_ancestral")
    assert_same_images(first, again)
