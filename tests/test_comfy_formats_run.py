"""`nodeflow run`/`validate` take ComfyUI's UI and API formats, and saved PNGs carry ComfyUI's chunks."""

from __future__ import annotations

import json
from pathlib import Path

import PIL.Image
import pytest

from nodeflow.cli import EXIT_INVALID, EXIT_OK, main
from tests.comfy_ui_support import load_and_save


@pytest.fixture
def folders(tmp_path):
    (tmp_path / "input").mkdir()
    PIL.Image.new("RGB", (8, 8), (200, 30, 60)).save(tmp_path / "input" / "cat.png")
    return tmp_path


def _write(path: Path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def _run(folders: Path, workflow) -> dict[str, str]:
    """Run the workflow; the text chunks of the one PNG it saves."""
    path = _write(folders / "wf.json", workflow)
    args = ["run", path, "--input-dir", str(folders / "input"), "--output", str(folders / "out"), "--device", "cpu"]
    assert main(args) == EXIT_OK
    [png] = (folders / "out").glob("*.png")
    with PIL.Image.open(png) as image:
        return {key: json.loads(value) for key, value in image.text.items()}


def test_a_ui_format_file_runs_and_its_pngs_restore_the_graph_in_either_editor(folders):
    ui = load_and_save()
    chunks = _run(folders, ui)
    assert chunks["workflow"] == ui
    assert chunks["prompt"] == {"1": {"class_type": "image.load", "inputs": {"image": "cat.png"}},
                                "3": {"class_type": "image.save", "inputs": {"filename_prefix": "ui", "image": ["1", 0]}}}
    assert chunks["nodeflow"]["nodes"]["3"]["type"] == "image.save"


def test_an_api_format_file_runs_and_its_pngs_carry_it_as_the_prompt(folders):
    prompt = {"1": {"class_type": "image.load", "inputs": {"image": "cat.png"}},
              "2": {"class_type": "image.save", "inputs": {"image": ["1", 0], "filename_prefix": "api"}}}
    chunks = _run(folders, prompt)
    assert chunks["prompt"] == prompt and "workflow" not in chunks


def test_a_format_1_run_saves_its_workflow_in_comfyuis_api_format_too(folders):
    workflow = {"nodeflow": 1, "nodes": {
        "load": {"type": "image.load", "inputs": {"image": "cat.png"}},
        "save": {"type": "image.save", "inputs": {"image": {"node": "load", "output": "image"}}}}}
    chunks = _run(folders, workflow)
    assert chunks["nodeflow"] == workflow and "workflow" not in chunks
    assert chunks["prompt"]["save"] == {"class_type": "image.save", "inputs": {"image": ["load", 0]},
                                        "_meta": {"title": "image.save"}}


def test_validate_takes_a_ui_format_file_and_names_a_missing_comfyui_node_type(folders, capsys):
    ui = load_and_save()
    assert main(["validate", _write(folders / "ok.json", ui)]) == EXIT_OK
    ui["nodes"][2]["type"] = "SaveAnimatedWEBP"
    assert main(["validate", _write(folders / "bad.json", ui)]) == EXIT_INVALID
    assert "node '3': ComfyUI node type 'SaveAnimatedWEBP' is not available" in capsys.readouterr().err
