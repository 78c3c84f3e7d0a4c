"""sdxl_lora.json writes the same pixels as StableDiffusionXLPipeline with the same LoRAs loaded, for one and for
two stacked LoRAs at strengths other than 1, in the diffusers and the kohya layout; on a refiner (no first text
encoder) as StableDiffusionXLImg2ImgPipeline."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests import pipeline_support
from tests.sd.conftest import DEVICE, WORKFLOWS, assert_same_pixels, run_workflow
from tests.sdxl.conftest import sdxl_pipeline

PROMPT = "the cat on a mat"
RUN = dict(seed=3, steps=2, guidance_scale=4.0, prompt=PROMPT, negative_prompt="blurry")
Strengths = tuple[float, float, float]  # UNet, text encoder, text encoder 2


def _pipeline_image(tiny_sdxl: Path, loras: list[tuple[Path, Strengths]]):
    """The pipeline's image with `loras` (file, strengths) loaded and set."""
    from diffusers import StableDiffusionXLPipeline

    pipeline = sdxl_pipeline(StableDiffusionXLPipeline, tiny_sdxl)  # fresh: loading LoRAs changes its modules
    names = [f"lora{i}" for i in range(len(loras))]
    for name, (path, _) in zip(names, loras):
        pipeline.load_lora_weights(str(path), adapter_name=name)
    pipeline.set_adapters(names, adapter_weights=[dict(zip(("unet", "text_encoder", "text_encoder_2"), strengths))
                                                  for _, strengths in loras])
    return pipeline(PROMPT, negative_prompt="blurry", num_inference_steps=2, guidance_scale=4.0,
                    generator=torch.Generator().manual_seed(3)).images[0]


def _strength_params(strengths: Strengths) -> dict[str, float]:
    return dict(zip(("lora_strength", "lora_text_encoder_strength", "lora_text_encoder_2_strength"), strengths))


def _two_lora_workflow(folder: Path, second: Path, strengths: Strengths) -> Path:
    """sdxl_lora.json with a second Apply SDXL LoRA chained after the first (what a user does in the editor)."""
    workflow = json.loads((WORKFLOWS / "sdxl_lora.json").read_text())
    nodes = workflow["nodes"]
    for node in nodes.values():
        for value in node["inputs"].values():
            if isinstance(value, dict) and value.get("node") == "lora":
                value["node"] = "lora_2"
    nodes["lora_2"] = {"type": "lora.apply_sdxl", "inputs": {
        **{name: {"node": "lora", "output": name} for name in ("unet", "text_encoder", "text_encoder_2")},
        "lora": str(second), **dict(zip(("strength", "text_encoder_strength", "text_encoder_2_strength"),
                                        strengths))}}
    path = folder / "sdxl_two_loras.json"
    path.write_text(json.dumps(workflow))
    return path


def test_one_lora_at_a_strength_equals_the_pipeline(tiny_sdxl, sdxl_loras, tmp_path):
    strengths = (0.7, 0.7, 0.7)
    ours = run_workflow("sdxl_lora", tmp_path, model=tiny_sdxl, lora=sdxl_loras["first"],
                        **_strength_params(strengths), **RUN)
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, [(sdxl_loras["first"], strengths)]))


def test_kohya_lora_with_a_strength_per_model_equals_the_pipeline(tiny_sdxl, sdxl_loras, tmp_path):
    strengths = (1.4, 0.5, -0.8)
    ours = run_workflow("sdxl_lora", tmp_path, model=tiny_sdxl, lora=sdxl_loras["kohya"],
                        **_strength_params(strengths), **RUN)
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, [(sdxl_loras["kohya"], strengths)]))


def test_two_stacked_loras_equal_the_pipeline_with_both_set(tiny_sdxl, sdxl_loras, tmp_path):
    first, second = (0.8, 1.2, 0.6), (0.6, 0.3, 1.1)
    workflow = _two_lora_workflow(tmp_path, sdxl_loras["kohya"], second)
    output = tmp_path / "out"
    args = ["run", str(workflow), "--output", str(output), "--device", DEVICE, "--param", f"model={tiny_sdxl}",
            "--param", f"lora={sdxl_loras['first']}"]
    for key, value in {**_strength_params(first), **RUN}.items():
        args += ["--param", f"{key}={value}"]
    assert pipeline_support.nodeflow_main(args) == 0
    [ours] = pipeline_support.read_pngs(output)
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, [(sdxl_loras["first"], first), (sdxl_loras["kohya"], second)]))


def _refiner_lora_workflow(folder: Path, lora: Path, strength: float, text_encoder_2_strength: float) -> Path:
    """sdxl_img2img.json for a refiner, with Apply SDXL LoRA between the loader and its users: the encoders get the
    second tokenizer and text encoder only, as a refiner has no first, and the negative the pipeline's negative
    aesthetic score."""
    workflow = json.loads((WORKFLOWS / "sdxl_img2img.json").read_text())
    nodes = workflow["nodes"]
    nodes["encode_negative"]["inputs"]["aesthetic_score"] = 2.5
    for node in nodes.values():
        node["inputs"].pop("tokenizer", None)
        node["inputs"].pop("text_encoder", None)
        for value in node["inputs"].values():
            if isinstance(value, dict) and value == {"node": "model", "output": value["output"]} and \
                    value["output"] in ("unet", "text_encoder_2"):
                value["node"] = "lora"
    nodes["lora"] = {"type": "lora.apply_sdxl", "inputs": {
        "unet": {"node": "model", "output": "unet"}, "text_encoder_2": {"node": "model", "output": "text_encoder_2"},
        "lora": str(lora), "strength": strength, "text_encoder_2_strength": text_encoder_2_strength}}
    path = folder / "refiner_lora.json"
    path.write_text(json.dumps(workflow))
    return path


def test_lora_on_a_refiner_without_a_first_text_encoder_equals_the_pipeline(tiny_sdxl_refiner, refiner_lora,
                                                                            tmp_path):
    import numpy as np
    from diffusers import StableDiffusionXLImg2ImgPipeline
    from PIL import Image

    start = Image.fromarray((np.mgrid[0:32, 0:32].sum(axis=0) * 4 % 256).astype(np.uint8)).convert("RGB")
    (tmp_path / "in").mkdir()
    start.save(tmp_path / "in" / "start.png")
    workflow = _refiner_lora_workflow(tmp_path, refiner_lora, 0.7, 1.3)
    output = tmp_path / "out"
    args = ["run", str(workflow), "--output", str(output), "--device", DEVICE, "--input-dir", str(tmp_path / "in")]
    for key, value in dict(model=tiny_sdxl_refiner, image="start.png", strength=0.6, seed=4, steps=3,
                           guidance_scale=4.0, prompt=PROMPT, negative_prompt="blurry").items():
        args += ["--param", f"{key}={value}"]
    assert pipeline_support.nodeflow_main(args) == 0
    [ours] = pipeline_support.read_pngs(output)
    pipeline = sdxl_pipeline(StableDiffusionXLImg2ImgPipeline, tiny_sdxl_refiner)
    pipeline.load_lora_weights(str(refiner_lora), adapter_name="refiner")
    pipeline.set_adapters(["refiner"], adapter_weights=[{"unet": 0.7, "text_encoder_2": 1.3}])
    theirs = pipeline(PROMPT, image=start, strength=0.6, negative_prompt="blurry", num_inference_steps=3,
                      guidance_scale=4.0, generator=torch.Generator().manual_seed(4)).images[0]
    assert_same_pixels(ours, theirs)
