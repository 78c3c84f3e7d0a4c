"""sd_txt2img.json writes the same pixels as StableDiffusionPipeline, for every scheduler and guidance setting."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
import torch

from .conftest import DEVICE, WORKFLOWS, assert_same_pixels, make_pipeline, read_single_png, run_workflow

PROMPT = "the cat on a mat"
# workflow scheduler name → (diffusers class, overrides); None = the model's own (PNDM for SD)
SCHEDULERS = {
    "default": (None, {}),
    "ddim": ("DDIMScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
}
GUIDANCE = [pytest.param(1.0, "", id="no-guidance"), pytest.param(6.0, "blurry, ugly", id="cfg-negative")]


def _pipeline_image(components, scheduler: str, seed: int, steps: int, guidance: float, negative: str,
                    scheduler_config: dict | None = None, **extra):
    from diffusers import StableDiffusionPipeline

    class_name, overrides = {**SCHEDULERS, **EXTRA_SCHEDULERS, "dpmpp_sde": SDE_SCHEDULER}.get(scheduler, (None, {}))
    pipeline = make_pipeline(StableDiffusionPipeline, components, class_name, **overrides, **(scheduler_config or {}))
    return pipeline(PROMPT, negative_prompt=negative, num_inference_steps=steps, guidance_scale=guidance,
                    generator=torch.Generator().manual_seed(seed), output_type="pil", **extra).images[0]


@pytest.mark.parametrize("guidance, negative", GUIDANCE)
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_txt2img_equals_pipeline(tiny_sd, sd_components, tmp_path, scheduler, guidance, negative):
    ours = run_workflow("sd_txt2img", tmp_path, model=tiny_sd, seed=7, steps=3, scheduler=scheduler,
                        guidance_scale=guidance, prompt=PROMPT, negative_prompt=negative)
    assert_same_pixels(ours, _pipeline_image(sd_components, scheduler, 7, 3, guidance, negative))


EXTRA_SCHEDULERS = {
    "euler": ("EulerDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "kdpm2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "lms_karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
}
SDE_SCHEDULER = ("DPMSolverSDEScheduler", {})


@pytest.mark.parametrize("scheduler", list(EXTRA_SCHEDULERS))
def test_more_schedulers_equal_pipeline(tiny_sd, sd_components, tmp_path, scheduler):
    ours = run_workflow("sd_txt2img", tmp_path, model=tiny_sd, seed=11, steps=3, scheduler=scheduler,
                        guidance_scale=3.0, prompt=PROMPT, negative_prompt="dark")
    assert_same_pixels(ours, _pipeline_image(sd_components, scheduler, 11, 3, 3.0, "dark"))


def test_dpm_sde_is_seeded_by_the_workflow_seed_and_equals_the_pipeline_given_that_seed(tiny_sd, sd_components, tmp_path):
    from nodes.schedulers import noise_sampler_seed

    generator = torch.Generator().manual_seed(11)
    torch.randn((1, 4, 16, 16), generator=generator)  # the initial noise draw comes first
    seeded = {"noise_sampler_seed": noise_sampler_seed(generator)}
    ours = run_workflow("sd_txt2img", tmp_path, model=tiny_sd, seed=11, steps=3, scheduler="dpmpp_sde",
                        guidance_scale=3.0, prompt=PROMPT, negative_prompt="dark")
    assert_same_pixels(ours, _pipeline_image(sd_components, "dpmpp_sde", 11, 3, 3.0, "dark", scheduler_config=seeded))


def test_non_square_size_equals_pipeline(tiny_sd, sd_components, tmp_path):
    ours = run_workflow("sd_txt2img", tmp_path, model=tiny_sd, seed=2, steps=2, width=48, height=24,
                        guidance_scale=2.0, prompt=PROMPT, negative_prompt="")
    assert_same_pixels(ours, _pipeline_image(sd_components, "default", 2, 2, 2.0, "", width=48, height=24))


def test_nodeflow_run_command_writes_the_pipeline_image_with_the_workflow_embedded(tiny_sd, sd_components, tmp_path):
    command = [sys.executable, "-m", "nodeflow", "run", str(WORKFLOWS / "sd_txt2img.json"), "--output", str(tmp_path),
               "--device", DEVICE, "--param", f"model={tiny_sd}", "--param", "seed=5", "--param", "steps=2",
               "--param", f"prompt={PROMPT}", "--param", "negative_prompt=ugly"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert_same_pixels(read_single_png(tmp_path), _pipeline_image(sd_components, "default", 5, 2, 7.5, "ugly"))
    from PIL import Image

    with Image.open(next(tmp_path.glob("*.png"))) as png:
        embedded = json.loads(png.text["nodeflow"])
    assert embedded["nodes"]["noise"]["inputs"]["seed"] == 5
    assert embedded["nodes"]["tokenize_positive"]["inputs"]["prompt"] == PROMPT


def test_workflow_defaults_are_the_pipeline_defaults(tiny_sd, sd_components, tmp_path):
    from diffusers import StableDiffusionPipeline

    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    nodes = workflow["nodes"]
    call_defaults = {name: p.default for name, p in inspect.signature(StableDiffusionPipeline.__call__).parameters.items()}
    assert nodes["denoise"]["inputs"]["steps"] == call_defaults["num_inference_steps"] == 50
    assert nodes["denoise"]["inputs"]["guidance_scale"] == call_defaults["guidance_scale"] == 7.5
    assert nodes["scheduler"]["inputs"]["name"] == "default"
    assert nodes["tokenize_negative"]["inputs"]["prompt"] == ""  # the pipeline's stand-in for no negative prompt
    # Size: leave width/height at their defaults and compare with the pipeline's default-size image.
    ours = run_workflow("sd_txt2img", tmp_path, model=tiny_sd, seed=1, steps=2, prompt=PROMPT)
    assert_same_pixels(ours, _pipeline_image(sd_components, "default", 1, 2, 7.5, None))


@pytest.fixture(scope="module")
def outdated_model(tiny_sd, tmp_path_factory):
    """A DDIM model folder whose scheduler config is outdated and sparse, like old hub folders."""
    import shutil

    model = shutil.copytree(tiny_sd, tmp_path_factory.mktemp("outdated") / "old_model")
    config_path = model / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config.update({"_class_name": "DDIMScheduler", "steps_offset": 0})
    for left_out in ("clip_sample", "timestep_spacing"):  # DDIM's clip_sample default is True; Euler's spacing differs
        config.pop(left_out, None)
    config_path.write_text(json.dumps(config))
    index = json.loads((model / "model_index.json").read_text())
    (model / "model_index.json").write_text(json.dumps({**index, "scheduler": ["diffusers", "DDIMScheduler"]}))
    return model


@pytest.mark.parametrize("scheduler, swap_to", [("default", None), ("euler", "EulerDiscreteScheduler")])
def test_outdated_sparse_scheduler_config_loads_as_the_pipeline_loads_it(outdated_model, tmp_path, scheduler, swap_to):
    import diffusers

    ours = run_workflow("sd_txt2img", tmp_path, model=outdated_model, seed=4, steps=3, prompt=PROMPT,
                        guidance_scale=2.0, negative_prompt="", scheduler=scheduler)
    pipeline = diffusers.StableDiffusionPipeline.from_pretrained(outdated_model).to(DEVICE)
    pipeline.set_progress_bar_config(disable=True)
    if swap_to:
        pipeline.scheduler = getattr(diffusers, swap_to).from_config(pipeline.scheduler.config)
    theirs = pipeline(PROMPT, negative_prompt="", num_inference_steps=3, guidance_scale=2.0,
                      generator=torch.Generator().manual_seed(4)).images[0]
    assert_same_pixels(ours, theirs)
