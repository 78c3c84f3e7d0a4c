"""Every path a node reads stays inside the allowed folders, links included; fingerprint walks are bounded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nodeflow import Executor, Folders, Registry, UnsafePath, Workflow, node
from nodeflow.events import RunInterrupted
from nodeflow.fingerprint import FolderTooLarge, path_fingerprint


@pytest.fixture
def models(tmp_path) -> Path:
    (tmp_path / "models" / "tiny" / "unet").mkdir(parents=True)
    (tmp_path / "outside" / "unet").mkdir(parents=True)
    return tmp_path / "models"


@pytest.mark.parametrize("subfolder", ["../../outside/unet", "unet/../../../outside/unet", "/usr", "unet\x00"])
def test_subfolder_that_is_not_a_plain_relative_path_is_refused_naming_the_input(models, subfolder):
    with pytest.raises(UnsafePath, match="input 'subfolder'"):
        Folders(models=[models]).model_source("tiny", subfolder)


def test_subfolder_that_links_out_of_its_model_folder_is_refused(models):
    (models / "tiny" / "text_encoder").symlink_to(models.parent / "outside" / "unet")
    with pytest.raises(UnsafePath, match="input 'subfolder': 'text_encoder' leads out of the model folder"):
        Folders(models=[models]).model_source("tiny", "text_encoder")


def test_subfolder_of_a_model_folder_is_read_from_disk(models):
    source = Folders(models=[models]).model_source("tiny", "unet")
    assert (source.ref, source.subfolder, source.path) == (str(models / "tiny"), "unet", models / "tiny" / "unet")


def test_model_folder_linking_outside_the_model_folders_is_refused_with_a_hint_to_add_its_target(models):
    (models / "linked").symlink_to(models.parent / "outside")
    with pytest.raises(UnsafePath, match=r"links to .*outside.*add .* as a model folder \(--models-dir\) instead"):
        Folders(models=[models]).model_source("linked")


def test_model_folder_linking_into_another_model_folder_is_read_from_there(models, tmp_path):
    (tmp_path / "more" / "real").mkdir(parents=True)
    (models / "alias").symlink_to(tmp_path / "more" / "real")
    source = Folders(models=[models, tmp_path / "more"]).model_source("alias")
    assert source.path == models / "alias"


def test_hub_id_keeps_a_plain_subfolder(models):
    source = Folders(models=[models]).model_source("org/name", "unet")
    assert (source.ref, source.subfolder, source.path) == ("org/name", "unet", None)


def test_absolute_model_path_is_refused_naming_the_model_folders(models):
    with pytest.raises(UnsafePath, match=f"input 'config': '/etc' is an absolute path.*{re.escape(str(models))}"):
        Folders(models=[models]).model_source("/etc", input_name="config")


def test_trusted_paths_allow_an_absolute_model_folder_but_not_a_subfolder_leaving_it(models):
    folders = Folders(models=[], trust_paths=True)
    assert folders.model_source(str(models / "tiny"), "unet").path == models / "tiny" / "unet"
    with pytest.raises(UnsafePath, match="input 'subfolder'"):
        folders.model_source(str(models / "tiny"), "../../outside/unet")


def test_input_file_linking_out_of_the_input_folder_is_refused_naming_the_input(tmp_path):
    (tmp_path / "input").mkdir()
    (tmp_path / "secret.png").write_bytes(b"x")
    (tmp_path / "input" / "cat.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(UnsafePath, match=r"input 'image': 'cat.png' leads out of the input folder \("):
        Folders(input=tmp_path / "input").readable("input", "cat.png", "image")


def test_fingerprint_of_a_folder_with_too_many_entries_stops_with_a_clear_error(tmp_path):
    for index in range(30):
        (tmp_path / f"{index}.bin").write_bytes(b"")
    assert path_fingerprint(tmp_path, max_entries=30)
    with pytest.raises(FolderTooLarge, match="more than 29 files and folders, far more than a model folder"):
        path_fingerprint(tmp_path, max_entries=29)


def test_fingerprint_that_fails_is_reported_as_the_failure_of_its_node(registry, tmp_path):
    executor = Executor(registry, device="cpu", folders=Folders(input=tmp_path))
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "r": {"type": "text.read_file", "inputs": {"name": "../outside.txt"}},
        "s": {"type": "io.show", "inputs": {"value": {"node": "r", "output": "text"}}},
    }})
    report = executor.run(workflow)
    [failure] = report.failures
    assert (failure.node_id, failure.exception_type) == ("r", "UnsafePath")
    assert "input 'name'" in failure.message and report.skipped == ["s"]


def test_interrupt_while_fingerprinting_ends_the_run_as_interrupted_before_the_next_fingerprint():
    fingerprinted = []

    def interrupting(literals: dict, folders: Folders) -> str:
        fingerprinted.append("a")
        executor.interrupt()
        return ""

    @node("paths.first", category="test", output="text", fingerprint=interrupting)
    def first() -> str:
        return "first"

    @node("paths.second", category="test", output_node=True,
          fingerprint=lambda literals, folders: fingerprinted.append("b") or "")
    def second(text: str) -> None:
        pass

    executor = Executor(Registry([first, second]), device="cpu")
    events = []
    report = executor.run(Workflow.from_dict({"nodeflow": 1, "nodes": {
        "a": {"type": "paths.first"},
        "b": {"type": "paths.second", "inputs": {"text": {"node": "a", "output": "text"}}},
    }}), on_event=events.append)
    assert report.interrupted and report.executed == []
    assert fingerprinted == ["a"]
    assert [e.node_id for e in events if isinstance(e, RunInterrupted)] == ["b"]
