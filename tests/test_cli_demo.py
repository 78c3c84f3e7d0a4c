"""`nodeflow demo` builds the tiny random-weight demo models and prints a `nodeflow run` line for every shipped
workflow; each line runs offline, and the README's workflow table gives the same lines."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nodeflow.cli import EXIT_OK, main
from tiny_models import demo

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "workflows"
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
# Runs each line read from stdin as the `nodeflow` command would, all in one process to pay the imports once.
RUN_LINES = """
import shlex, sys
from nodeflow.cli import main
for line in sys.stdin.read().splitlines():
    print("exit", main(shlex.split(line)[1:]), flush=True)
"""


def printed_runs(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("nodeflow run ")]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    """A folder where `nodeflow demo` ran (models/, input/), with its stdout in demo.out."""
    folder = tmp_path_factory.mktemp("demo")
    result = subprocess.run([sys.executable, "-m", "nodeflow", "demo"], cwd=folder, env=OFFLINE,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_OK, result.stderr
    (folder / "demo.out").write_text(result.stdout)
    return folder


def test_demo_builds_every_demo_model_the_img2img_picture_and_the_inpainting_mask(demo_folder):
    names = ["tiny-sd-demo", "tiny-sd-inpaint-demo", "tiny-sdxl-demo", "tiny-sdxl-refiner-demo", "tiny-dit-demo",
             "tiny-prior-demo", "tiny-kandinsky-demo", "tiny-vq-demo"]
    assert all((demo_folder / "models" / name / "model_index.json").is_file() for name in names)
    assert (demo_folder / "input" / demo.DEMO_IMAGE).is_file()
    assert (demo_folder / "input" / demo.DEMO_MASK).is_file()


def test_every_printed_line_runs_offline_quietly_and_writes_its_output(demo_folder):
    lines = printed_runs((demo_folder / "demo.out").read_text())
    result = subprocess.run([sys.executable, "-c", RUN_LINES], input="\n".join(lines), cwd=demo_folder,
                            env=OFFLINE, capture_output=True, text=True, timeout=600)
    assert result.stderr == ""  # no error, no library warning, no progress bar off a terminal
    printed = result.stdout.splitlines()
    shipped = len(list(SHIPPED.glob("*.json")))
    assert printed.count("exit 0") == len(lines) == shipped
    written = [demo_folder / line for line in printed if not line.startswith("exit ")]
    assert len(written) == shipped and all(path.is_file() for path in written)
    assert sorted(path.suffix for path in written) == [".png"] * (shipped - 1) + [".safetensors"]  # prior_only


def test_demo_skips_what_is_already_built(demo_folder, monkeypatch, capsys):
    monkeypatch.chdir(demo_folder)
    assert main(["demo", "sd"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "models/tiny-sd-demo: already built" in out and "input/demo.png: already there" in out
    assert "building" not in out


def test_demo_run_in_the_checkout_prints_the_workflows_relative_to_it(demo_folder, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    models, pictures = demo_folder / "models", demo_folder / "input"
    assert main(["demo", "--models-dir", str(models), "--input-dir", str(pictures)]) == EXIT_OK
    assert printed_runs(capsys.readouterr().out) == demo.run_lines(demo.chosen("all"), Path("workflows"), models,
                                                                   pictures)


def test_demo_lines_run_every_shipped_workflow():
    lines = demo.run_lines(demo.chosen("all"), Path("workflows"))
    assert sorted(Path(shlex.split(line)[2]).name for line in lines) == sorted(
        path.name for path in (REPO / "workflows").glob("*.json"))


def test_demo_lines_name_folders_that_are_not_the_defaults():
    txt2img, img2img, *_ = demo.run_lines(demo.chosen("sd"), Path("workflows"), Path("elsewhere"), Path("pictures"))
    assert txt2img.endswith("--param model=tiny-sd-demo --models-dir elsewhere")
    assert img2img.endswith("--param image=demo.png --models-dir elsewhere --input-dir pictures")


def test_readme_workflow_table_gives_the_demo_lines():
    readme = (REPO / "README.md").read_text()
    in_table = re.findall(r"^\|.*`(nodeflow run [^`]*)` \|$", readme, flags=re.MULTILINE)
    assert in_table == demo.run_lines(demo.chosen("all"), Path("workflows"))


@pytest.mark.parametrize("module, kind, written", [
    ("sd", None, "model_index.json"), ("dit", None, "model_index.json"), ("vq", None, "model_index.json"),
    ("kandinsky", "prior", "model_index.json"), ("kandinsky", "decoder", "model_index.json"),
    ("sdxl", "sdxl", "model_index.json"), ("sdxl", "sdxl-refiner", "model_index.json"), ("clip", None, "vocab.json"),
])
def test_each_tiny_model_module_builds_into_the_folder_it_is_given(module, kind, written, tmp_path, capsys):
    from importlib import import_module

    target = tmp_path / "built"
    assert import_module(f"tiny_models.{module}").main([*([kind] if kind else []), str(target)]) == 0
    assert (target / written).is_file()
    assert capsys.readouterr().out == f"wrote {target}\n"


def test_tiny_model_module_run_with_python_m_says_what_it_needs():
    result = subprocess.run([sys.executable, "-m", "tiny_models.dit"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "usage: python -m tiny_models.dit [-h] path" in result.stderr
