"""SD loaders read only inside the model folders: subfolders, linked model folders and checkpoints included."""

from __future__ import annotations

import os
import shutil

import pytest

from nodeflow import Context, Executor, Folders, UnsafePath, Workflow, default_registry
from nodeflow.model_service import ModelService
from nodes import sd as sd_nodes


def _ctx(*models) -> Context:
    return Context("load", "sd.load_unet", "cpu", ModelService().on("cpu"), Folders(models=list(models)))


@pytest.fixture
def outside_unet(tiny_sd, tmp_path):
    return shutil.copytree(tiny_sd / "unet", tmp_path / "outside" / "unet")


def test_unet_subfolder_climbing_out_of_the_model_folder_is_refused(tiny_sd, outside_unet):
    climbing = os.path.relpath(outside_unet, tiny_sd)
    with pytest.raises(UnsafePath, match="input 'subfolder'.*'..' step"):
        sd_nodes.load_unet(_ctx(tiny_sd.parent), tiny_sd.name, subfolder=climbing)


def test_unet_subfolder_given_as_an_absolute_path_is_refused(tiny_sd, outside_unet):
    with pytest.raises(UnsafePath, match="input 'subfolder'.*absolute path"):
        sd_nodes.load_unet(_ctx(tiny_sd.parent), tiny_sd.name, subfolder=str(outside_unet))


def test_scheduler_subfolder_outside_the_model_fails_its_node_without_walking_there(tiny_sd):
    executor = Executor(default_registry(), device="cpu", folders=Folders(models=[tiny_sd.parent]))
    report = executor.run(Workflow.from_dict({"nodeflow": 1, "nodes": {
        "scheduler": {"type": "sd.load_scheduler", "inputs": {"model": tiny_sd.name, "subfolder": "/usr"}},
        "pick": {"type": "schedulers.scheduler",
                 "inputs": {"scheduler": {"node": "scheduler", "output": "scheduler"}}},
    }}), targets=["pick"])
    [failure] = report.failures
    assert failure.node_id == "scheduler" and "input 'subfolder': '/usr' is an absolute path" in failure.message


def test_model_folder_linking_outside_the_model_folders_is_refused_not_taken_for_a_hub_id(tiny_sd, tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "linked").symlink_to(tiny_sd)
    with pytest.raises(UnsafePath, match=r"add .* as a model folder \(--models-dir\)"):
        sd_nodes.load_scheduler(_ctx(tmp_path / "models"), "linked")


def test_checkpoint_linking_outside_the_model_folders_is_refused(tiny_sd, tmp_path):
    (tmp_path / "elsewhere.safetensors").write_bytes(b"")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(UnsafePath, match="input 'checkpoint': 'model.safetensors' leads out of the models folders"):
        sd_nodes.load_checkpoint(_ctx(tmp_path / "models", tiny_sd.parent), "model.safetensors", tiny_sd.name)
