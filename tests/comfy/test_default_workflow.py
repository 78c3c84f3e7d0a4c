"""ComfyUI's default SD 1.5 workflow file runs unchanged, in its UI and API formats, through `nodeflow run` and
`POST /prompt`, on a tiny checkpoint saved under the name the file asks for. Its image equals our sd_txt2img
workflow's with the mapped scheduler (euler + normal = Euler over linspace timesteps), pixel for pixel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from nodeflow import default_registry
from nodeflow.cli import EXIT_OK, main
from nodes.comfy_samplers import SCHEDULERS
from tests.pipeline_support import assert_same_images
from tests.server_support import start_client, ws_until_done

from .conftest import API_FILE

pytestmark = pytest.mark.timeout(240)

HERE = Path(__file__).parent
WORKFLOWS = HERE.parent.parent / "workflows"
UI_FILE = HERE / "default_sd15_ui.json"


def _run(comfy_user: Path, workflow: Path, output: Path, *params: str) -> np.ndarray:
    args = ["run", str(workflow), "--models-dir", str(comfy_user / "models"), "--input-dir", str(comfy_user / "input"),
            "--output", str(output), "--device", "cpu"]
    for param in params:
        args += ["--param", param]
    assert main(args) == EXIT_OK
    [png] = sorted(output.glob("*.png"))
    with PIL.Image.open(png) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def reference(tiny_sd, comfy_user, tmp_path_factory) -> np.ndarray:
    """sd_txt2img on the tiny model's folder with the default workflow's settings and ComfyUI's euler + normal
    as our mapping makes it. The tiny VAE has 2 pixels per latent, so the 64×64 latents of a 512×512
    EmptyLatentImage (ComfyUI divides by 8) decode to 128×128."""
    api = json.loads(API_FILE.read_text())
    sampler, positive, negative = api["3"]["inputs"], api["6"]["inputs"]["text"], api["7"]["inputs"]["text"]
    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    spacing = SCHEDULERS[sampler["scheduler"]].settings["timestep_spacing"]
    workflow["nodes"]["scheduler"]["inputs"].update(name=sampler["sampler_name"], timestep_spacing=spacing)
    path = tmp_path_factory.mktemp("reference") / "sd_txt2img.json"
    path.write_text(json.dumps(workflow))
    params = [f"model={tiny_sd}", f"seed={sampler['seed']}", f"steps={sampler['steps']}",
              f"guidance_scale={sampler['cfg']}", f"prompt={positive}", f"negative_prompt={negative}",
              "width=128", "height=128"]
    return _run(comfy_user, path, path.parent / "out", *params)


@pytest.mark.parametrize("workflow", [UI_FILE, API_FILE], ids=["ui", "api"])
def test_nodeflow_run_renders_the_default_comfyui_workflow_unchanged(comfy_user, reference, workflow, tmp_path):
    assert_same_images([_run(comfy_user, workflow, tmp_path)], [reference])


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["ui", "api"])
async def test_post_prompt_renders_the_default_comfyui_workflow_unchanged(aiohttp_client, comfy_user, reference, fmt,
                                                                         tmp_path):
    client = await start_client(aiohttp_client, tmp_path, default_registry(), models_dirs=[comfy_user / "models"])
    ws = await client.ws_connect("/ws?clientId=comfy")
    await ws.receive_json()  # status
    prompt = json.loads((UI_FILE if fmt == "ui" else API_FILE).read_text())
    reply = await client.post("/prompt", json={"prompt": prompt, "client_id": "comfy"})
    assert reply.status == 200, await reply.text()
    prompt_id = (await reply.json())["prompt_id"]
    await asyncio.wait_for(ws_until_done(ws, prompt_id, timeout=200), 210)
    history = (await (await client.get(f"/history/{prompt_id}")).json())[prompt_id]
    [image] = history["outputs"]["9"]["images"]
    assert image["filename"] == "ComfyUI_00001_.png"
    with PIL.Image.open(tmp_path / "output" / image["filename"]) as png:
        assert json.loads(png.text["prompt"])["3"]["class_type"] == "KSampler"
        assert_same_images([np.asarray(png.convert("RGB"))], [reference])
