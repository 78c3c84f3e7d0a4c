"""Loaders offline: a hub id with no network (or HF_HUB_OFFLINE) loads from the local Hugging Face cache, or fails
at once with one message that says why, names the model folders and what they hold, and suggests the demo models.

No test touches the real internet: the hub endpoint is pointed at local sockets.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from huggingface_hub import constants

from nodeflow import Context, Folders
from nodeflow.folders import ModelSource
from nodeflow.model_service import ModelService
from nodes import dit, kandinsky, prior, sd, vq
from nodes.model_locator import ModelNotFound, check_model, locate

REPO = Path(__file__).resolve().parents[2]
HUB_ID = "org/not-here"


def _ctx(*models: Path) -> Context:
    return Context("load", "sd.load_model", "cpu", ModelService().on("cpu"), Folders(models=list(models)))


@pytest.fixture
def models(tmp_path) -> Path:
    """A model folder holding one (empty) model, to be listed."""
    folder = tmp_path / "models"
    (folder / "tiny-sd-demo").mkdir(parents=True)
    (folder / "tiny-sd-demo" / "model_index.json").write_text("{}")
    return folder


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cache_snapshot(cache: Path, repo_id: str, model: Path) -> Path:
    """Lay `model` out as huggingface_hub caches a download of `repo_id`."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return Path(shutil.copytree(model, repo / "snapshots" / commit))


def test_hub_id_with_HF_HUB_OFFLINE_fails_at_once_naming_the_folders_and_the_models_found(models, offline, hf_cache):
    with pytest.raises(ModelNotFound) as caught:
        sd.load_model(_ctx(models), HUB_ID)
    message = str(caught.value)
    assert "\n" not in message
    assert "input 'model'" in message and repr(HUB_ID) in message
    assert "HF_HUB_OFFLINE is set" in message
    assert str(models.absolute()) in message and "tiny-sd-demo" in message
    assert "nodeflow demo" in message and "--param model=NAME" in message and "--models-dir" in message


def test_with_no_model_in_the_folders_the_message_says_so_and_suggests_the_demo_models(tmp_path, offline, hf_cache):
    with pytest.raises(ModelNotFound, match=r"no models there; run `nodeflow demo`"):
        sd.load_model(_ctx(tmp_path), HUB_ID)


@pytest.mark.parametrize("loader", [sd.load_model, sd.load_unet, sd.load_vae, sd.load_text_encoder,
                                    sd.load_tokenizer, sd.load_scheduler, dit.load_model, prior.load_model,
                                    kandinsky.load_decoder, vq.load_model])
def test_every_loader_looks_a_hub_id_up_offline(loader, models, offline, hf_cache):
    with pytest.raises(ModelNotFound, match="HF_HUB_OFFLINE is set"):
        loader(_ctx(models), HUB_ID)


def test_checkpoint_config_given_as_a_hub_id_is_looked_up_offline(models, offline, hf_cache):
    from safetensors.torch import save_file
    import torch

    save_file({"x": torch.zeros(1)}, models / "model.safetensors")
    with pytest.raises(ModelNotFound, match="input 'config'.*HF_HUB_OFFLINE is set"):
        sd.load_checkpoint(_ctx(models), "model.safetensors", HUB_ID)


def test_hub_id_with_the_hub_unreachable_fails_fast_saying_there_is_no_network(models, hf_cache, closed_port,
                                                                               monkeypatch):
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    with pytest.raises(ModelNotFound, match=rf"no network \(http://127.0.0.1:{closed_port} cannot be reached\)"):
        sd.load_model(_ctx(models), HUB_ID)
    assert time.monotonic() - started < 10


def test_a_hub_that_does_not_answer_counts_as_unreachable(models, hf_cache, monkeypatch):
    with socket.socket() as silent:  # accepts connections (the kernel does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(ModelNotFound, match="no network"):
            sd.load_model(_ctx(models), HUB_ID)
        assert time.monotonic() - started < 10


def test_hub_id_in_the_local_cache_loads_offline(tiny_sd, tmp_path, offline, hf_cache):
    snapshot = _cache_snapshot(hf_cache, HUB_ID, tiny_sd)
    loaded = sd.load_model(_ctx(tmp_path), HUB_ID)
    assert loaded.unet.source == str(snapshot)
    assert loaded.unet.config["sample_size"] == json.loads((tiny_sd / "unet" / "config.json").read_text())["sample_size"]


def test_component_of_a_cached_hub_id_loads_from_its_subfolder_offline(tiny_sd, tmp_path, offline, hf_cache):
    _cache_snapshot(hf_cache, HUB_ID, tiny_sd)
    assert sd.load_scheduler(_ctx(tmp_path), HUB_ID).class_name == sd.load_model(_ctx(tmp_path), HUB_ID).scheduler.class_name


def test_model_folder_loads_offline_as_before(tiny_sd, offline, hf_cache):
    loaded = sd.load_model(_ctx(tiny_sd.parent), tiny_sd.name)
    assert loaded.unet.source == str(tiny_sd)


def test_value_that_is_neither_a_model_folder_nor_a_hub_id_fails_without_asking_the_hub(models, closed_port,
                                                                                     monkeypatch):
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ModelNotFound, match=r"'my model' is not in the model folders .* nor a hub id"):
        sd.load_model(_ctx(models), "my model")


class _HubWithoutRepos(http.server.BaseHTTPRequestHandler):
    """A hub endpoint that answers, and knows no repository."""

    def do_HEAD(self):
        self.send_response(200)
        self.end_headers()

    def do_GET(self):
        body = b'{"error": "Repository not found"}'
        self.send_response(404)
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def answering_hub(monkeypatch):
    """The hub endpoint pointed at a local server that answers (and knows no repository)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HubWithoutRepos)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    yield endpoint
    server.shutdown()


def test_when_the_hub_answers_a_hub_id_is_handed_to_from_pretrained_as_it_is(models, answering_hub):
    assert locate(Folders(models=[models]), HUB_ID, "unet") == ModelSource(HUB_ID, "unet", None)


def test_deep_check_online_says_a_hub_id_is_neither_in_the_folders_nor_on_the_hub(models, answering_hub):
    with pytest.raises(ModelNotFound, match=rf"not in the model folders \(.*\) nor on the hub \({answering_hub}\)"):
        check_model(Folders(models=[models]), HUB_ID, "model")


def test_deep_check_accepts_a_model_folder(models, offline):
    check_model(Folders(models=[models]), "tiny-sd-demo", "model")


def test_nodeflow_run_of_the_default_workflow_offline_exits_1_with_one_error_line_naming_the_node(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf-cache"), "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "nodeflow", "run", str(REPO / "workflows" / "sd_txt2img.json"), "--output",
         str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )
    assert result.returncode == 1
    [line] = re.findall(r"error: .*", result.stderr)  # the progress bar may share the line, not an error
    assert line.startswith("error: node 'model' (sd.load_model) failed: input 'model': ")
    assert "HF_HUB_OFFLINE is set" in line and "nodeflow demo" in line
    assert time.monotonic() - started < 30
