"""Saving nodes run by several workers at once never overwrite each other's files: each file is created new,
under the next free number of its prefix."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from nodeflow import Context, Folders
from nodeflow.model_service import ModelService
from nodes.image import save_image
from nodes.prior import save_embeds
from nodes.types import Image, ImageEmbeds

THREADS, SAVES = 8, 5


@pytest.fixture
def folders(tmp_path) -> Folders:
    return Folders(output=tmp_path / "output", input=tmp_path / "input", temp=tmp_path / "temp")


def save_all_at_once(folders: Folders, save: Callable[[Context, int], None]) -> dict[int, dict]:
    """Every thread saves SAVES values with the same prefix, all threads together; value → the file shown for it."""
    start = threading.Barrier(THREADS)

    def thread(first: int) -> dict[int, dict]:
        start.wait()
        shown = {}
        for value in range(first, first + SAVES):
            ctx = Context("save", "test.save", "cpu", ModelService().on("cpu"), folders)
            save(ctx, value)
            [entry] = next(iter(ctx.ui.values()))
            shown[value] = entry
        return shown

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(thread, range(0, THREADS * SAVES, SAVES)))
    return {value: entry for shown in results for value, entry in shown.items()}


def saved_png_value(path: Path) -> int:
    from PIL import Image as PILImage

    with PILImage.open(path) as png:
        pixels = np.asarray(png.convert("RGB"))
    assert (pixels == pixels.flat[0]).all()
    return int(pixels.flat[0])


def test_image_saves_at_once_with_one_prefix_give_distinct_intact_files(folders):
    shown = save_all_at_once(folders, lambda ctx, value: save_image(
        ctx, Image(torch.full((1, 3, 8, 8), value / 255)), filename_prefix="same"))
    files = sorted(path.name for path in folders.output.iterdir())
    assert len(files) == THREADS * SAVES and len({entry["filename"] for entry in shown.values()}) == THREADS * SAVES
    for value, entry in shown.items():
        assert saved_png_value(folders.output / entry["filename"]) == value, f"{entry['filename']} was overwritten"


def test_embedding_saves_at_once_with_one_prefix_give_distinct_intact_files(folders):
    from safetensors.torch import load_file

    shown = save_all_at_once(folders, lambda ctx, value: save_embeds(
        ctx, ImageEmbeds(torch.full((1, 4), float(value))), filename_prefix="sub/same"))
    files = sorted(path.name for path in (folders.output / "sub").iterdir())
    assert len(files) == THREADS * SAVES and len({entry["filename"] for entry in shown.values()}) == THREADS * SAVES
    for value, entry in shown.items():
        assert entry["subfolder"] == "sub"
        saved = load_file(folders.output / "sub" / entry["filename"])["image_embeds"]
        assert torch.equal(saved, torch.full((1, 4), float(value))), f"{entry['filename']} was overwritten"
