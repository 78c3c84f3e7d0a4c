"""`nodeflow params WORKFLOW`: each param with its type, default (the workflow's value), bounds and description."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nodeflow.cli import EXIT_INVALID, EXIT_OK, main

REPO = Path(__file__).resolve().parents[1]
PACK = str(REPO / "tests" / "engine" / "pack")
TXT2IMG = str(REPO / "workflows" / "sd_txt2img.json")


def write(path: Path, nodes: dict, params: dict) -> str:
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes, "params": params}))
    return str(path)


def test_params_prints_type_default_bounds_and_description(capsys):
    assert main(["params", TXT2IMG]) == EXIT_OK
    out = capsys.readouterr().out
    assert "steps (int) = 50  [≥ 1, ≤ 1000]\n    number of denoising steps\n" in out
    assert 'model (str) = "stable-diffusion-v1-5/stable-diffusion-v1-5"\n' in out
    assert "width (int | None) = null  [≥ 8, ≤ 16384]" in out
    assert 'scheduler (str) = "default"  [one of "default", "ddim",' in out


def test_params_default_is_the_value_in_the_workflow_else_the_nodes_default(tmp_path, capsys):
    path = write(tmp_path / "wf.json", {"add": {"type": "math.add", "inputs": {"x": 5}}},
                 {"x": {"node": "add", "input": "x", "description": "first"}, "y": {"node": "add", "input": "y"}})
    assert main(["--nodes-dir", PACK, "params", path]) == EXIT_OK
    assert capsys.readouterr().out == "x (int) = 5\n    first\ny (int) = 0  [≥ -1000, ≤ 1000]\n"


def test_params_json_gives_the_same_facts(capsys):
    assert main(["params", TXT2IMG, "--json"]) == EXIT_OK
    steps = {param["name"]: param for param in json.loads(capsys.readouterr().out)}["steps"]
    assert steps == {"name": "steps", "node": "denoise", "input": "steps", "type": "int", "default": 50,
                     "bounds": {"minimum": 1, "maximum": 1000}, "description": "number of denoising steps",
                     "required": False}


def test_param_on_an_unknown_input_is_one_error_line(tmp_path, capsys):
    path = write(tmp_path / "wf.json", {"add": {"type": "math.add", "inputs": {"x": 5}}},
                 {"z": {"node": "add", "input": "z"}})
    assert main(["--nodes-dir", PACK, "params", path]) == EXIT_INVALID
    assert capsys.readouterr().err == "error: node 'add', input 'z': param 'z' points to an unknown input [bad_param]\n"


def test_params_does_not_import_diffusers():
    code = ("import sys; from nodeflow.cli import main\n"
            f"assert main(['params', {TXT2IMG!r}]) == 0\n"
            "assert not [m for m in ('diffusers', 'transformers', 'torch') if m in sys.modules]\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
