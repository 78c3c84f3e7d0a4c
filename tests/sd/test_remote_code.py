"""A model folder that ships its own code is never run, and nobody is asked on stdin whether to run it."""

from __future__ import annotations

import builtins
import json

import pytest

from nodeflow import Context, Folders
from nodeflow.model_service import ModelService
from nodes import sd as sd_nodes


@pytest.fixture
def custom_code_encoder(tmp_path):
    """A text encoder whose config names an unknown model type and maps AutoConfig to code in its folder."""
    from transformers import CLIPTextModel

    from tiny_models.clip import tiny_clip_text_config

    folder = tmp_path / "models" / "custom" / "text_encoder"
    CLIPTextModel(tiny_clip_text_config()).save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="custom_clip", auto_map={"AutoConfig": "custom.CustomConfig"})
    (folder / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "custom code ran"
    (folder / "custom.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    return tmp_path / "models", marker


def test_text_encoder_with_custom_code_is_refused_without_asking_or_running_it(custom_code_encoder, monkeypatch):
    models, marker = custom_code_encoder
    asked = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": asked.append(prompt) or "n")
    ctx = Context("load", "sd.load_text_encoder", "cpu", ModelService().on("cpu"), Folders(models=[models]))
    with pytest.raises(ValueError, match="custom code"):
        sd_nodes.load_text_encoder(ctx, "custom")
    assert asked == [] and not marker.exists()
