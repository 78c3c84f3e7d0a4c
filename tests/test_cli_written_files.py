"""Files a run writes: `nodeflow run` prints the path of each, and each gets the default mode (umask applied)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from nodeflow.cli import EXIT_OK, main


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def embeddings_run(tmp_path) -> list[str]:
    """`nodeflow run` of prior.load_embeds → prior.save_embeds; its argv."""
    import torch
    from safetensors.torch import save_file

    (tmp_path / "input").mkdir()
    save_file({"image_embeds": torch.ones(1, 4), "negative_image_embeds": torch.zeros(1, 4)},
              str(tmp_path / "input" / "made_earlier.safetensors"))
    workflow = tmp_path / "again.json"
    workflow.write_text(json.dumps({"nodeflow": 1, "nodes": {
        "load": {"type": "prior.load_embeds", "inputs": {"file": "made_earlier.safetensors"}},
        "save": {"type": "prior.save_embeds", "inputs": {
            "image_embeds": {"node": "load", "output": "image_embeds"},
            "negative_image_embeds": {"node": "load", "output": "negative_image_embeds"}}},
    }}))
    return ["run", str(workflow), "--input-dir", str(tmp_path / "input"), "--output", str(tmp_path / "output"),
            "--device", "cpu"]


def test_run_prints_the_path_of_the_embeddings_file_it_writes(embeddings_run, tmp_path, capsys):
    assert main(embeddings_run) == EXIT_OK
    assert capsys.readouterr().out == f"{tmp_path / 'output' / 'image_embeds_00001_.safetensors'}\n"


def test_saved_embeddings_get_the_mode_an_ordinary_new_file_gets(embeddings_run, tmp_path, umask_022):
    assert main(embeddings_run) == EXIT_OK
    probe = tmp_path / "probe"
    probe.open("w").close()
    saved = tmp_path / "output" / "image_embeds_00001_.safetensors"
    assert stat.S_IMODE(saved.stat().st_mode) == stat.S_IMODE(probe.stat().st_mode) == 0o644


def test_saving_again_takes_the_next_number(embeddings_run, tmp_path, capsys):
    assert main(embeddings_run) == EXIT_OK
    assert main(embeddings_run) == EXIT_OK
    assert [Path(line).name for line in capsys.readouterr().out.splitlines()] == [
        "image_embeds_00001_.safetensors", "image_embeds_00002_.safetensors"]
