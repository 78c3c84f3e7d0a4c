"""sd_lora.json writes the same pixels as StableDiffusionPipeline with the same LoRAs loaded, for one and for two
stacked LoRAs at strengths other than 1, in the diffusers and the kohya layout."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests.sd.conftest import DEVICE, WORKFLOWS, assert_same_pixels, make_pipeline, run_workflow

PROMPT = "the cat on a mat"
RUN = dict(seed=3, steps=3, guidance_scale=4.0, prompt=PROMPT, negative_prompt="blurry")


def _pipeline_image(tiny_sd: Path, loras: list[tuple[Path, float, float]]):
    """The pipeline's image with `loras` (file, UNet strength, text-encoder strength) loaded and set."""
    from diffusers import StableDiffusionPipeline

    components = StableDiffusionPipeline.from_pretrained(tiny_sd).components  # fresh: loading LoRAs changes them
    pipeline = make_pipeline(StableDiffusionPipeline, components)
    names = [f"lora{i}" for i in range(len(loras))]
    for name, (path, _, _) in zip(names, loras):
        pipeline.load_lora_weights(str(path), adapter_name=name)
    pipeline.set_adapters(names, adapter_weights=[{"unet": unet, "text_encoder": text} for _, unet, text in loras])
    return pipeline(PROMPT, negative_prompt="blurry", num_inference_steps=3, guidance_scale=4.0,
                    generator=torch.Generator().manual_seed(3)).images[0]


def _two_lora_workflow(folder: Path, second: Path, strength: float, text_encoder_strength: float) -> str:
    """sd_lora.json with a second Apply LoRA chained after the first (what a user does in the editor)."""
    workflow = json.loads((WORKFLOWS / "sd_lora.json").read_text())
    nodes = workflow["nodes"]
    for node in nodes.values():
        for value in node["inputs"].values():
            if isinstance(value, dict) and value.get("node") == "lora":
                value["node"] = "lora_2"
    nodes["lora_2"] = {"type": "lora.apply", "inputs": {
        "unet": {"node": "lora", "output": "unet"}, "text_encoder": {"node": "lora", "output": "text_encoder"},
        "lora": str(second), "strength": strength, "text_encoder_strength": text_encoder_strength}}
    path = folder / "sd_two_loras.json"
    path.write_text(json.dumps(workflow))
    return str(path)


def test_one_lora_at_a_strength_equals_the_pipeline(tiny_sd, loras, tmp_path):
    ours = run_workflow("sd_lora", tmp_path, model=tiny_sd, lora=loras["first"], lora_strength=0.7,
                        lora_text_encoder_strength=0.7, **RUN)
    assert_same_pixels(ours, _pipeline_image(tiny_sd, [(loras["first"], 0.7, 0.7)]))


def test_kohya_lora_with_separate_strengths_equals_the_pipeline(tiny_sd, loras, tmp_path):
    ours = run_workflow("sd_lora", tmp_path, model=tiny_sd, lora=loras["kohya"], lora_strength=1.4,
                        lora_text_encoder_strength=0.5, **RUN)
    assert_same_pixels(ours, _pipeline_image(tiny_sd, [(loras["kohya"], 1.4, 0.5)]))


def test_two_stacked_loras_equal_the_pipeline_with_both_set(tiny_sd, loras, tmp_path):
    from tests import pipeline_support

    workflow = _two_lora_workflow(tmp_path, loras["kohya"], 0.6, 0.3)
    output = tmp_path / "out"
    args = ["run", workflow, "--output", str(output), "--device", DEVICE, "--param", f"model={tiny_sd}",
            "--param", f"lora={loras['first']}", "--param", "lora_strength=0.8",
            "--param", "lora_text_encoder_strength=1.2"]
    for key, value in RUN.items():
        args += ["--param", f"{key}={value}"]
    assert pipeline_support.nodeflow_main(args) == 0
    [ours] = pipeline_support.read_pngs(output)
    assert_same_pixels(ours, _pipeline_image(tiny_sd, [(loras["first"], 0.8, 1.2), (loras["kohya"], 0.6, 0.3)]))
