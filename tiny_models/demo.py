"""The demo models of `nodeflow demo`, and the `nodeflow run` line that runs each shipped workflow on them.

    python -m tiny_models.demo [sd|sdxl|dit|unclip|vq|all] [--models-dir DIR] [--input-dir DIR]   # = nodeflow demo

Every model is built in code with RANDOM weights (its images are noise-like
patterns, not pictures), so that every shipped workflow runs offline in seconds
on a CPU. The README's workflow table shows the same lines (a test keeps them equal).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from tiny_models.controlnet import make_tiny_controlnet, make_tiny_sdxl_controlnet
from tiny_models.dit import save_tiny_dit
from tiny_models.kandinsky import save_tiny_decoder, save_tiny_prior
from tiny_models.lora import write_tiny_lora
from tiny_models.sd import make_tiny_sd, make_tiny_sd_inpaint
from tiny_models.sdxl import make_tiny_sdxl, make_tiny_sdxl_refiner
from tiny_models.vq import save_tiny_vq_diffusion

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_INPUT_DIR = Path("input")
DEMO_IMAGE = "demo.png"
DEMO_MASK = "demo_mask.png"
DEMO_IMAGE_SIZE = 32  # the tiny SD and SDXL models' own size


@dataclass(frozen=True)
class DemoModel:
    name: str  # its folder in the models folder, or its file (a LoRA's .safetensors)
    what: str
    build: Callable[[Path], Any]

    def built_in(self, models_dir: Path) -> bool:
        path = models_dir / self.name
        if path.suffix == ".safetensors":
            return path.is_file()
        return (path / "model_index.json").is_file() or (path / "config.json").is_file()  # a pipeline, a model


@dataclass(frozen=True)
class DemoRun:
    workflow: str  # a file of workflows/
    params: tuple[tuple[str, str], ...]

    def command(self, workflows: Path, models_dir: Path = DEFAULT_MODELS_DIR,
                input_dir: Path = DEFAULT_INPUT_DIR) -> str:
        """The `nodeflow run` line, with the folder flags only where they are not the defaults."""
        words = ["nodeflow", "run", str(workflows / self.workflow)]
        for name, value in self.params:
            words += ["--param", f"{name}={value}"]
        if Path(models_dir) != DEFAULT_MODELS_DIR:
            words += ["--models-dir", str(models_dir)]
        if self.needs_image and Path(input_dir) != DEFAULT_INPUT_DIR:
            words += ["--input-dir", str(input_dir)]
        return shlex.join(words)

    @property
    def needs_image(self) -> bool:
        return any(name == "image" for name, _ in self.params)

    @property
    def needs_mask(self) -> bool:
        return any(name == "mask" for name, _ in self.params)


@dataclass(frozen=True)
class DemoSystem:
    models: tuple[DemoModel, ...]
    runs: tuple[DemoRun, ...]


def lora_of(base: DemoModel) -> DemoModel:
    """A tiny LoRA file for `base`, built after it, beside it in the models folder."""
    return DemoModel(f"{base.name}-lora.safetensors", f"tiny LoRA for the {base.what}",
                     lambda path: write_tiny_lora(path.parent / base.name, path))


SD = DemoModel("tiny-sd-demo", "tiny Stable Diffusion", make_tiny_sd)
SD_CONTROLNET = DemoModel("tiny-sd-controlnet-demo", "tiny ControlNet for the tiny Stable Diffusion",
                          make_tiny_controlnet)
SD_LORA = lora_of(SD)
SDXL = DemoModel("tiny-sdxl-demo", "tiny SDXL base", make_tiny_sdxl)
SDXL_REFINER = DemoModel("tiny-sdxl-refiner-demo", "tiny SDXL refiner", make_tiny_sdxl_refiner)
SD_INPAINT = DemoModel("tiny-sd-inpaint-demo", "tiny Stable Diffusion inpainting (9-channel UNet)",
                       make_tiny_sd_inpaint)
SDXL_CONTROLNET = DemoModel("tiny-sdxl-controlnet-demo", "tiny ControlNet for the tiny SDXL base",
                            make_tiny_sdxl_controlnet)
SDXL_LORA = lora_of(SDXL)
DIT = DemoModel("tiny-dit-demo", "tiny DiT", save_tiny_dit)
PRIOR = DemoModel("tiny-prior-demo", "tiny unCLIP prior (Kandinsky 2.2 layout)", save_tiny_prior)
DECODER = DemoModel("tiny-kandinsky-demo", "tiny Kandinsky 2.2 decoder", save_tiny_decoder)
VQ = DemoModel("tiny-vq-demo", "tiny VQ-Diffusion", save_tiny_vq_diffusion)

# Params are the workflows' defaults except where those would take minutes on a CPU: unCLIP's 512² decoder.
SYSTEMS = {
    "sd": DemoSystem((SD, SD_CONTROLNET, SD_LORA, SD_INPAINT), (
        DemoRun("sd_txt2img.json", (("model", SD.name),)),
        DemoRun("sd_img2img.json", (("model", SD.name), ("image", DEMO_IMAGE))),
        DemoRun("sd_unet_step_loop.json", (("model", SD.name),)),
        DemoRun("sd_controlnet.json", (("model", SD.name), ("controlnet", SD_CONTROLNET.name),
                                       ("image", DEMO_IMAGE))),
        DemoRun("sd_lora.json", (("model", SD.name), ("lora", SD_LORA.name))),
        DemoRun("sd_inpaint.json", (("model", SD_INPAINT.name), ("image", DEMO_IMAGE), ("mask", DEMO_MASK))),
    )),
    "sdxl": DemoSystem((SDXL, SDXL_REFINER, SDXL_CONTROLNET, SDXL_LORA), (
        DemoRun("sdxl_txt2img.json", (("model", SDXL.name),)),
        DemoRun("sdxl_img2img.json", (("model", SDXL.name), ("image", DEMO_IMAGE))),
        DemoRun("sdxl_base_refiner.json", (("model", SDXL.name), ("refiner_model", SDXL_REFINER.name))),
        DemoRun("sdxl_controlnet.json", (("model", SDXL.name), ("controlnet", SDXL_CONTROLNET.name),
                                         ("image", DEMO_IMAGE))),
        DemoRun("sdxl_lora.json", (("model", SDXL.name), ("lora", SDXL_LORA.name))),
    )),
    "dit": DemoSystem((DIT,), (DemoRun("dit_class_to_image.json", (("model", DIT.name),)),)),
    "unclip": DemoSystem((PRIOR, DECODER), (
        DemoRun("unclip_prior_decoder.json", (("prior_model", PRIOR.name), ("decoder_model", DECODER.name),
                                              ("width", "64"), ("height", "64"))),
        DemoRun("prior_only.json", (("model", PRIOR.name),)),
    )),
    "vq": DemoSystem((VQ,), (DemoRun("vq_diffusion.json", (("model", VQ.name),)),)),
}


def chosen(system: str) -> list[DemoSystem]:
    """One system by name, or all of them for "all"."""
    return list(SYSTEMS.values()) if system == "all" else [SYSTEMS[system]]


def prepare(systems: list[DemoSystem], models_dir: Path, input_dir: Path) -> Iterator[str]:
    """Build what the systems' runs need and is not there yet (models, the img2img picture, the inpainting
    mask); a line for each."""
    yield from ensure_models(systems, models_dir)
    if any(run.needs_image for system in systems for run in system.runs):
        yield ensure_demo_image(input_dir)
    if any(run.needs_mask for system in systems for run in system.runs):
        yield ensure_demo_mask(input_dir)


def ensure_models(systems: list[DemoSystem], models_dir: Path) -> Iterator[str]:
    """Build the systems' models that are not in `models_dir` yet; yields a line about each."""
    for system in systems:
        for model in system.models:
            folder = models_dir / model.name
            if model.built_in(models_dir):
                yield f"{folder}: already built"
                continue
            if folder.exists():
                raise FileExistsError(f"{folder} exists but holds no model_index.json; move it away to build the "
                                      f"{model.what} there")
            yield f"building {folder}: {model.what}, random weights"
            _build_into(folder, model.build)


def _build_into(folder: Path, build: Callable[[Path], Any]) -> None:
    """Build in a scratch folder beside `folder`, then rename it: an interrupted build leaves no half model."""
    from transformers.utils import logging as transformers_logging

    scratch = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    showed_bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # "Writing model shards" of a one-shard model says nothing
    try:
        build(scratch)
        scratch.rename(folder)
    finally:
        if scratch.is_file():
            scratch.unlink()
        shutil.rmtree(scratch, ignore_errors=True)
        if showed_bars:
            transformers_logging.enable_progress_bar()


def ensure_demo_image(input_dir: Path) -> str:
    """The picture sd_img2img starts from and sd_controlnet takes its edges of, in the input folder (an existing one is kept)."""
    from PIL import Image

    path = input_dir / DEMO_IMAGE
    if path.exists():
        return f"{path}: already there"
    side = DEMO_IMAGE_SIZE
    gradient = Image.new("RGB", (side, side))
    gradient.putdata([(255 * x // side, 255 * y // side, 255 - 255 * (x + y) // (2 * side))
                      for y in range(side) for x in range(side)])
    input_dir.mkdir(parents=True, exist_ok=True)
    gradient.save(path)
    return f"wrote {path} (the picture sd_img2img starts from, sd_controlnet takes its edges)"


def ensure_demo_mask(input_dir: Path) -> str:
    """The mask sd_inpaint repaints through (white = repaint: a square in the middle), in the input folder."""
    from PIL import Image

    path = input_dir / DEMO_MASK
    if path.exists():
        return f"{path}: already there"
    side, quarter = DEMO_IMAGE_SIZE, DEMO_IMAGE_SIZE // 4
    mask = Image.new("L", (side, side), 0)
    mask.paste(255, (quarter, quarter, side - quarter, side - quarter))
    input_dir.mkdir(parents=True, exist_ok=True)
    mask.save(path)
    return f"wrote {path} (the mask sd_inpaint repaints through)"


def run_lines(systems: list[DemoSystem], workflows: Path, models_dir: Path = DEFAULT_MODELS_DIR,
              input_dir: Path = DEFAULT_INPUT_DIR) -> list[str]:
    return [run.command(workflows, models_dir, input_dir) for system in systems for run in system.runs]


if __name__ == "__main__":
    from nodeflow.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
