"""A re-run that takes values from the cache gives the pixels a fresh `nodeflow run` process gives: nothing a
run leaves behind (cached models, encodings, scheduler recipes) changes the next image."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from nodeflow import Executor, Folders, Workflow, default_registry
from nodes.image import to_pil

from .conftest import DEVICE, WORKFLOWS, read_single_png

PARAMS = {"prompt": "a dog on a mat", "negative_prompt": "ugly", "steps": 2, "guidance_scale": 3.0}


def fresh_process_pixels(tiny_sd, output, seed: int) -> np.ndarray:
    command = [sys.executable, "-m", "nodeflow", "run", str(WORKFLOWS / "sd_txt2img.json"), "--output", str(output),
               "--device", DEVICE, "--param", f"model={tiny_sd}", "--param", f"seed={seed}"]
    command += [arg for key, value in PARAMS.items() for arg in ("--param", f"{key}={value}")]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    return read_single_png(output)


def png_pixels(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as png:
        return np.asarray(png.convert("RGB"))


def test_partly_and_fully_cached_reruns_give_a_fresh_processs_pixels(tiny_sd, tmp_path):
    fresh = fresh_process_pixels(tiny_sd, tmp_path / "fresh", seed=1)
    folders = Folders(output=tmp_path / "again", models=[tiny_sd.parent])
    executor = Executor(default_registry(), device=DEVICE, folders=folders)
    workflow = Workflow.load(WORKFLOWS / "sd_txt2img.json")

    def run(seed: int):
        report = executor.run(workflow, params={**PARAMS, "model": tiny_sd.name, "seed": seed})
        assert report.ok, report.failures
        return report

    run(seed=2)
    partly = run(seed=1)
    assert {"model", "encode_positive", "encode_negative"} <= set(partly.cached) and "denoise" in partly.executed
    [saved] = partly.ui["save"]["images"]
    partly_pixels = png_pixels(folders.output / saved["filename"])
    assert np.array_equal(partly_pixels, fresh), "a partly cached run drew another image"

    run(seed=2)
    fully = run(seed=1)
    assert fully.executed == []
    cached_image = np.asarray(to_pil(fully.value("decode", "image"))[0])
    assert np.array_equal(cached_image, fresh), "the cached image changed"
