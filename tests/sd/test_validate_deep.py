"""`nodeflow validate --deep` also looks up the models and input files a workflow names, and reports each one that
is not there as a problem naming its node and input, all at once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import constants

from nodeflow.cli import EXIT_INVALID, EXIT_OK, main

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(autouse=True)
def offline_in_empty_folders(tmp_path, monkeypatch):
    """Offline, in a working directory with empty ./models and ./input and an empty hub cache."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "input").mkdir()


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]


def test_missing_model_folder_and_input_image_are_each_reported_with_node_and_input(tmp_path, capsys):
    code = main(["validate", "--deep", str(WORKFLOWS / "sd_img2img.json"), "--param", "model=tiny-sd-demo",
                 "--param", "image=missing.png"])
    assert code == EXIT_INVALID
    image, model = error_lines(capsys)
    assert image.startswith("error: node 'image', input 'image': no file 'missing.png' in the input folder "
                            f"({tmp_path / 'input'})")
    assert model.startswith(f"error: node 'model', input 'model': 'tiny-sd-demo' is not in the model folders "
                            f"({tmp_path / 'models'})")


def test_hub_ids_while_offline_are_each_reported_with_node_and_input(capsys):
    assert main(["validate", "--deep", str(WORKFLOWS / "unclip_prior_decoder.json")]) == EXIT_INVALID
    decoder, prior = error_lines(capsys)
    assert decoder.startswith("error: node 'decoder_model', input 'model': 'kandinsky-community/kandinsky-2-2-decoder'")
    assert prior.startswith("error: node 'prior_model', input 'model': 'kandinsky-community/kandinsky-2-2-prior'")
    assert all("HF_HUB_OFFLINE is set" in line and "nodeflow demo" in line for line in (decoder, prior))


def test_the_models_dir_flag_is_searched(tiny_sd, capsys):
    code = main(["validate", "--deep", str(WORKFLOWS / "sd_txt2img.json"), "--param", f"model={tiny_sd.name}",
                 "--models-dir", str(tiny_sd.parent)])
    assert code == EXIT_OK
    assert capsys.readouterr().out.strip().endswith("sd_txt2img.json: ok")


def test_with_the_demo_model_in_the_models_folder_it_says_ok(tiny_sd, tmp_path, capsys):
    shutil.copytree(tiny_sd, tmp_path / "models" / "tiny-sd-demo")
    assert main(["validate", "--deep", str(WORKFLOWS / "sd_txt2img.json"), "--param", "model=tiny-sd-demo"]) == EXIT_OK
    assert capsys.readouterr().out.strip().endswith("sd_txt2img.json: ok")


def test_deep_validation_of_local_models_imports_neither_diffusers_nor_huggingface_hub(tiny_sd):
    code = (
        "import sys; from nodeflow.cli import main\n"
        f"code = main(['validate', '--deep', {str(WORKFLOWS / 'sd_txt2img.json')!r}, '--param', "
        f"'model={tiny_sd.name}', '--models-dir', {str(tiny_sd.parent)!r}])\n"
        "heavy = [m for m in ('diffusers', 'transformers', 'huggingface_hub', 'aiohttp') if m in sys.modules]\n"
        "assert code == 0 and not heavy, (code, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
