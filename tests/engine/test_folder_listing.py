"""Inputs marked `InFolder` list what the allowed folders hold: model folders, and files by suffix."""

from __future__ import annotations

import json
from typing import Annotated

from nodeflow import Folders, InFolder, Registry, node
from nodeflow.schema import node_schema

MODELS = InFolder("models", other="hub id")
IMAGES = InFolder("input", "files", (".png",))


def _model(path):
    path.mkdir(parents=True)
    (path / "model_index.json").write_text(json.dumps({"_class_name": "X"}))


def test_model_folders_are_listed_one_level_deep_or_as_org_name(tmp_path):
    models = tmp_path / "models"
    _model(models / "tiny-sd")
    _model(models / "org" / "name")
    (models / "org" / "notes").mkdir()
    (models / "loose.safetensors").write_bytes(b"")
    (models / "empty").mkdir()
    extra = tmp_path / "more"
    _model(extra / "dit")
    folders = Folders(models=[models, extra])
    assert folders.listing(MODELS) == ["dit", "org/name", "tiny-sd"]


def test_files_are_listed_by_suffix_without_hidden_ones(tmp_path):
    (tmp_path / "input" / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.PNG", "c.txt", ".hidden.png"):
        (tmp_path / "input" / name).write_bytes(b"")
    assert Folders(input=tmp_path / "input").listing(IMAGES) == ["a.png", "sub/b.PNG"]


def test_files_of_a_model_subfolder_are_listed_relative_to_it_in_every_model_folder(tmp_path):
    for name in ("models/checkpoints/sd15.safetensors", "models/checkpoints/xl/base.safetensors",
                 "more/checkpoints/other.safetensors", "models/loras/style.safetensors", "models/loose.safetensors"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    checkpoints = InFolder("models", "files", (".safetensors",), subfolder="checkpoints")
    folders = Folders(models=[tmp_path / "models", tmp_path / "more"])
    assert folders.listing(checkpoints) == ["other.safetensors", "sd15.safetensors", "xl/base.safetensors"]


def test_links_out_of_the_folder_are_not_listed(tmp_path):
    _model(tmp_path / "outside" / "secret")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "secret").symlink_to(tmp_path / "outside" / "secret")
    assert Folders(models=[tmp_path / "models"]).listing(MODELS) == []


def test_a_missing_folder_lists_nothing(tmp_path):
    assert Folders(models=[tmp_path / "nope"]).listing(MODELS) == []


def test_the_schema_marks_folder_inputs():
    @node("t.load", category="t")
    def load(model: Annotated[str, MODELS], name: str = "x") -> str:
        return model

    inputs = node_schema(Registry([load])["t.load"])["inputs"]
    assert inputs["model"]["folder"] == {"kind": "models", "entries": "folders", "suffixes": [], "other": "hub id"}
    assert inputs["model"]["schema"] == {"type": "string"}
    assert "folder" not in inputs["name"]
