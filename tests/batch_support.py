"""The batch parity tests' common part: the same workflows run as one batch and each alone, and their pixels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nodeflow import Executor, Folders, Workflow
from nodeflow.batch_run import BatchRun
from nodeflow.executor import BatchItem
from nodeflow.registry import default_registry
from nodes.image import to_pil
from tests.pipeline_support import WORKFLOWS, pattern_image


def workflows(name: str, per_prompt: list[dict[str, Any]], **params: Any) -> list[Workflow]:
    """workflows/<name>.json once per entry of `per_prompt`, with `params` and that entry's params applied."""
    workflow = Workflow.from_dict(json.loads((WORKFLOWS / f"{name}.json").read_text()))
    return [workflow.with_params({**params, **own}) for own in per_prompt]


def _executor(root: Path, models: Path | None = None) -> Executor:
    folders = Folders(output=root, input=root.parent / "in", trust_paths=True)
    if models is not None:
        folders.models = [models]
    return Executor(default_registry(), device="cpu", folders=folders)


def _pixels(report: Any, decoded: tuple[str, str]) -> np.ndarray:
    """The decoded image as the save node writes it (8-bit)."""
    [image] = to_pil(report.value(*decoded))
    return np.asarray(image).astype(int)


def solo_image(root: Path, workflow: Workflow, decoded: tuple[str, str] = ("decode", "image")) -> np.ndarray:
    """The image of `workflow` run alone, on an executor of its own."""
    report = _executor(root).run(workflow)
    assert report.ok, report.failures
    return _pixels(report, decoded)


def batched_and_solo(tmp_path: Path, runs: list[Workflow], monkeypatch: Any,
                     decoded: tuple[str, str] = ("decode", "image"),
                     models: Path | None = None) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """The images of `runs` as one batch and each alone, and the sizes of the batched calls that ran as one (not
    those that fell back to a call per prompt)."""
    batch_sizes: list[int] = []
    per_prompt_calls = []
    real_batched, real_attempt = BatchRun.batched, BatchRun.attempt

    def counting(self: BatchRun, index: int, batched_runs: list) -> None:
        calls_before = len(per_prompt_calls)
        real_batched(self, index, batched_runs)
        if len(per_prompt_calls) == calls_before:
            batch_sizes.append(len(batched_runs))

    def attempt(self: BatchRun, run: Any, index: int) -> None:
        per_prompt_calls.append(index)
        real_attempt(self, run, index)

    monkeypatch.setattr(BatchRun, "batched", counting)
    monkeypatch.setattr(BatchRun, "attempt", attempt)
    batched = _executor(tmp_path / "batched", models).run_batch([BatchItem(w, f"b{i}") for i, w in enumerate(runs)])
    solo = [_executor(tmp_path / f"solo{i}", models).run(w) for i, w in enumerate(runs)]
    assert all(report.ok for report in batched + solo), [r.failures for r in batched + solo]
    return [_pixels(r, decoded) for r in batched], [_pixels(r, decoded) for r in solo], batch_sizes


def largest_difference(batched: list[np.ndarray], solo: list[np.ndarray]) -> int:
    """The largest difference of an 8-bit channel value between a prompt's batched and solo image."""
    return max(int(np.abs(ours - alone).max()) for ours, alone in zip(batched, solo))


def img2img_batch_difference(tmp_path: Path, monkeypatch: Any, name: str, per_prompt: list[dict[str, Any]],
                             **params: Any) -> int:
    """The largest difference between batched and solo images of workflows/<name>.json (an img2img workflow)
    from a pattern image; asserts that the denoiser and the decoder each ran once for all."""
    (tmp_path / "in").mkdir()
    pattern_image().save(tmp_path / "in" / "start.png")
    runs = workflows(name, per_prompt, image="start.png", **params)
    batched, solo, batch_sizes = batched_and_solo(tmp_path, runs, monkeypatch)
    assert batch_sizes == [len(runs)] * 2
    return largest_difference(batched, solo)
