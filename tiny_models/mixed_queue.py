"""A queue of prompts that interleaves three model families on the demo models: SD, DiT, and the Kandinsky
prior with its decoder. The model service's budget tests and `bench/model_swap.py` run it, so that each family
must come back after the other two pushed it out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiny_models import demo

FAMILIES = {
    "sd": ("sd_txt2img.json", {"model": demo.SD.name, "steps": 4}),
    "dit": ("dit_class_to_image.json", {"model": demo.DIT.name, "steps": 4}),
    "kandinsky": ("unclip_prior_decoder.json", {"prior_model": demo.PRIOR.name, "decoder_model": demo.DECODER.name,
                                                "width": 64, "height": 64, "steps": 4, "prior_steps": 4}),
}
PROMPTS = ("a red house", "a blue boat", "a green tree", "a small cat")


@dataclass(frozen=True)
class QueuedRun:
    family: str
    workflow: str  # a file of workflows/
    params: dict[str, Any]


def build_models(models_dir: Path) -> None:
    """The demo models the queue needs, built in `models_dir` unless they are there."""
    for _ in demo.ensure_models([demo.SYSTEMS["sd"], demo.SYSTEMS["dit"], demo.SYSTEMS["unclip"]], models_dir):
        pass


def queue(rounds: int) -> list[QueuedRun]:
    """`rounds` times SD, DiT and Kandinsky in turn, each round with its own seed and prompt (DiT: class)."""
    runs = []
    for index in range(rounds):
        for family, (workflow, params) in FAMILIES.items():
            varied = {"seed": index, "class_labels": index} if family == "dit" else {
                "seed": index, "prompt": PROMPTS[index % len(PROMPTS)]}
            runs.append(QueuedRun(family, workflow, {**params, **varied}))
    return runs
