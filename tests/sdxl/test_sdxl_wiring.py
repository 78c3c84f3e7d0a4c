"""SD and SDXL parts cannot be wired together, and the SDXL workflows start from the pipelines' defaults."""

from __future__ import annotations

import inspect
import json

import pytest

from nodeflow.cli import main
from tests.pipeline_support import WORKFLOWS


def _validate(workflow: dict, tmp_path, capsys) -> str:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    assert main(["validate", str(path)]) != 0
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_sd_conditioning_cannot_feed_the_sdxl_denoise(tmp_path, capsys):
    workflow = json.loads((WORKFLOWS / "sdxl_txt2img.json").read_text())
    workflow["nodes"]["sd_encode"] = {"type": "text.clip_encode", "inputs": {
        "text_encoder": {"node": "model", "output": "text_encoder"},
        "tokens": {"node": "tokens", "output": "tokens"}}}
    workflow["nodes"]["tokens"] = {"type": "text.clip_tokenize", "inputs": {
        "tokenizer": {"node": "model", "output": "tokenizer"}}}
    workflow["nodes"]["denoise"]["inputs"]["positive"] = {"node": "sd_encode", "output": "conditioning"}
    message = _validate(workflow, tmp_path, capsys)
    assert "'denoise'" in message and "Conditioning cannot feed an input of type SDXLConditioning" in message


def test_the_sd_apply_controlnet_cannot_take_or_feed_sdxl_conditionings(tmp_path, capsys):
    workflow = json.loads((WORKFLOWS / "sdxl_controlnet.json").read_text())
    workflow["nodes"]["apply_controlnet"]["type"] = "controlnet.apply"
    message = _validate(workflow, tmp_path, capsys)
    assert "SDXLConditioning cannot feed an input of type Conditioning" in message  # into the apply
    assert "an output of type Conditioning cannot feed an input of type SDXLConditioning" in message  # out of it


def test_sdxl_unet_cannot_feed_the_sd_denoise(tmp_path, capsys):
    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    workflow["nodes"]["sdxl"] = {"type": "sdxl.load_model", "inputs": {"model": "x"}}
    workflow["nodes"]["denoise"]["inputs"]["unet"] = {"node": "sdxl", "output": "unet"}
    assert "SDXLUNet cannot feed an input of type UNet" in _validate(workflow, tmp_path, capsys)


@pytest.mark.parametrize("name, pipeline", [("sdxl_txt2img", "StableDiffusionXLPipeline"),
                                            ("sdxl_base_refiner", "StableDiffusionXLPipeline")])
def test_base_denoise_defaults_are_the_pipeline_defaults(name, pipeline):
    import diffusers

    inputs = json.loads((WORKFLOWS / f"{name}.json").read_text())["nodes"]["denoise"]["inputs"]
    defaults = {n: p.default for n, p in inspect.signature(getattr(diffusers, pipeline).__call__).parameters.items()}
    assert inputs["guidance_scale"] == defaults["guidance_scale"] == 5.0
    if name == "sdxl_txt2img":
        assert inputs["steps"] == defaults["num_inference_steps"]


def test_refiner_encodes_with_the_pipelines_aesthetic_scores():
    import diffusers

    nodes = json.loads((WORKFLOWS / "sdxl_base_refiner.json").read_text())["nodes"]
    defaults = inspect.signature(diffusers.StableDiffusionXLImg2ImgPipeline.__call__).parameters
    assert nodes["refine_positive"]["inputs"]["aesthetic_score"] == defaults["aesthetic_score"].default
    assert nodes["refine_negative"]["inputs"]["aesthetic_score"] == defaults["negative_aesthetic_score"].default
