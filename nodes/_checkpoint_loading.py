"""Load a single-file SD 1.x / 2.x / XL checkpoint with no config folder: the architecture and sizes are read from
the file (`_checkpoint_architecture.py`), written as a diffusers config folder in a scratch directory, and the file
is read with diffusers' `from_single_file` against it, offline.

A checkpoint holds no tokenizer. All these models use CLIP's BPE vocabulary; it is taken from a tokenizer folder
in the model folders (`tokenizers/<name>/` with vocab.json and merges.txt) whose vocabulary is as large as the
text encoder's embedding, else from openai/clip-vit-large-patch14 in the hub cache.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from nodes._checkpoint_architecture import UNET, Architecture, Shapes, architecture, family_of, layout_summary

CLIP_TOKENIZER_HUB_ID = "openai/clip-vit-large-patch14"
_TOKENIZER_FILES = ("vocab.json", "merges.txt")


class LoadedCheckpoint(NamedTuple):
    components: dict[str, Any]
    architecture: Architecture
    scratch_index: dict[str, Any]


def read_checkpoint(folders: Any, path: Path, name: str, node: str, dtype: Any) -> tuple[LoadedCheckpoint, Any]:
    """The checkpoint's pipeline components and architecture, and its scheduler recipe."""
    from nodes.sd import _as_sd_pipelines_load

    shapes = Shapes.of(path)
    family = family_of(shapes)
    if family is None:
        raise ValueError(f"{node}: {name!r} is not an SD 1.x, SD 2.x or SDXL checkpoint in the original layout "
                         f"(found keys under {layout_summary(shapes)})")
    arch = architecture(shapes, family, family == "sd2" and _is_v_prediction(path, shapes))
    with tempfile.TemporaryDirectory() as scratch:
        index = _write_config_folder(Path(scratch), arch, folders, node)
        import diffusers

        pipeline = getattr(diffusers, arch.pipeline).from_single_file(str(path), config=scratch, torch_dtype=dtype,
                                                                      local_files_only=True)
        scheduler = _as_sd_pipelines_load(scratch, index)
    return LoadedCheckpoint(pipeline.components, arch, index), scheduler


def single_file_model(model_class: Any, path: Path, config: dict[str, Any], dtype: Any = None) -> Any:
    """A diffusers model read from one original-layout file with `config` (derived from its shapes), offline."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "config.json").write_text(json.dumps(config))
        return model_class.from_single_file(str(path), config=scratch, torch_dtype=dtype, local_files_only=True)


def _is_v_prediction(path: Path, shapes: Shapes) -> bool:
    """SD 2.x 768 models predict v, the 512 base ones noise; the file says so only by a `v_pred` key (some
    converters write one) or, as ComfyUI tells them apart, by the spread of one norm's bias (> 0.09 in v models)."""
    if "v_pred" in shapes:
        return True
    key = f"{UNET}output_blocks.11.1.transformer_blocks.0.norm1.bias"
    if key not in shapes:
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as file:
        return float(file.get_tensor(key).float().std(unbiased=False)) > 0.09


def _write_config_folder(folder: Path, arch: Architecture, folders: Any, node: str) -> dict[str, Any]:
    index: dict[str, Any] = {"_class_name": arch.pipeline}
    for component, config in arch.configs.items():
        (folder / component).mkdir()
        name = "scheduler_config.json" if component == "scheduler" else "config.json"
        (folder / component / name).write_text(json.dumps(config))
        library = "transformers" if component.startswith("text_encoder") else "diffusers"
        class_name = config["architectures"][0] if library == "transformers" else config["_class_name"]
        index[component] = [library, class_name]
        if component.startswith("text_encoder"):
            tokenizer = component.replace("text_encoder", "tokenizer")
            _write_tokenizer(folder / tokenizer, config["vocab_size"], second=component == "text_encoder_2"
                             or arch.family == "sd2", folders=folders, node=node)
            index[tokenizer] = ["transformers", "CLIPTokenizer"]
    if arch.family in ("sd1", "sd2"):
        index.update(safety_checker=[None, None], feature_extractor=[None, None], requires_safety_checker=False)
    else:
        refiner = arch.family == "sdxl_refiner"
        index.update(image_encoder=[None, None], feature_extractor=[None, None],
                     force_zeros_for_empty_prompt=not refiner)
        if refiner:
            index.update(text_encoder=[None, None], tokenizer=[None, None], requires_aesthetics_score=True)
    (folder / "model_index.json").write_text(json.dumps(index))
    return index


def _write_tokenizer(folder: Path, vocab_size: int, second: bool, folders: Any, node: str) -> None:
    """CLIP's tokenizer for an encoder of `vocab_size` tokens; the OpenCLIP encoders (SD 2.x, SDXL's second) pad
    with "!" where CLIP-L pads with the end token."""
    source = clip_vocabulary(folders, vocab_size, node)
    folder.mkdir()
    for name in _TOKENIZER_FILES:
        shutil.copyfile(source / name, folder / name)
    end = "<|endoftext|>"
    config = {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "bos_token": "<|startoftext|>",
              "eos_token": end, "unk_token": end, "pad_token": "!" if second else end}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def clip_vocabulary(folders: Any, vocab_size: int, node: str) -> Path:
    """A folder with CLIP's vocab.json and merges.txt of `vocab_size` tokens: `tokenizers/<name>/` in the model
    folders, else the hub cache's copy of openai/clip-vit-large-patch14; one clear error otherwise."""
    for root in folders.models:
        for candidate in sorted((root / "tokenizers").glob("*/vocab.json")):
            if (candidate.parent / "merges.txt").is_file() and _vocabulary_size(candidate) == vocab_size:
                return candidate.parent
    from huggingface_hub import try_to_load_from_cache

    cached = [try_to_load_from_cache(CLIP_TOKENIZER_HUB_ID, name) for name in _TOKENIZER_FILES]
    if all(isinstance(path, str) for path in cached) and _vocabulary_size(Path(cached[0])) == vocab_size:
        return Path(cached[0]).parent
    roots = ", ".join(str(root / "tokenizers") for root in folders.models)
    raise FileNotFoundError(
        f"{node}: the checkpoint's text encoder needs CLIP's tokenizer ({vocab_size} tokens), which a checkpoint "
        f"does not hold; put its vocab.json and merges.txt in a folder under {roots} (e.g. tokenizers/clip/ from "
        f"{CLIP_TOKENIZER_HUB_ID}), or have {CLIP_TOKENIZER_HUB_ID} in the hub cache")


def _vocabulary_size(vocab_json: Path) -> int:
    return len(json.loads(vocab_json.read_text(encoding="utf-8")))
