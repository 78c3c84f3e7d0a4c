"""A tiny CLIP tokenizer (vocab.json + merges.txt written in code) and a tiny CLIP text config.

Byte-level BPE like the real CLIP tokenizer: every byte is a token, with and
without the end-of-word marker `</w>`, plus a handful of merges of common
letter pairs so that words do become multi-byte tokens. Random-weight models
built on it are for tests only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MODEL_MAX_LENGTH = 77
_END_OF_WORD = "</w>"
_MERGES = [("t", "h"), ("a", "n"), ("i", "n"), ("e", "r"), ("o", "n"), ("th", "e</w>"), ("c", "a"), ("ca", "t</w>")]


def _byte_symbols() -> list[str]:
    """The printable unicode character that byte-level BPE uses for each byte 0..255."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            symbols[byte] = chr(byte)
        else:
            symbols[byte] = chr(256 + shifted)
            shifted += 1
    return [symbols[byte] for byte in range(256)]


def _vocab() -> dict[str, int]:
    symbols = _byte_symbols()
    tokens = [*symbols, *(s + _END_OF_WORD for s in symbols), *("".join(pair) for pair in _MERGES)]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}


TINY_VOCAB = _vocab()
BOS_TOKEN_ID = TINY_VOCAB["<|startoftext|>"]
EOS_TOKEN_ID = TINY_VOCAB["<|endoftext|>"]


def write_tiny_clip_tokenizer(folder: str | Path, model_max_length: int = MODEL_MAX_LENGTH) -> None:
    """Write vocab.json, merges.txt and tokenizer_config.json of a tiny CLIP tokenizer into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(TINY_VOCAB, ensure_ascii=False), encoding="utf-8")
    merges = "\n".join(f"{left} {right}" for left, right in _MERGES)
    (folder / "merges.txt").write_text(f"#version: 0.2\n{merges}\n", encoding="utf-8")
    config = {"tokenizer_class": "CLIPTokenizer", "model_max_length": model_max_length,
              "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
              "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def tiny_clip_text_config(**overrides: Any):
    """A transformers CLIPTextConfig small enough for CPU tests, matching the tiny tokenizer's ids."""
    from transformers import CLIPTextConfig

    settings: dict[str, Any] = dict(
        vocab_size=len(TINY_VOCAB), hidden_size=32, intermediate_size=37, num_attention_heads=4,
        num_hidden_layers=3, max_position_embeddings=MODEL_MAX_LENGTH, projection_dim=32,
        bos_token_id=BOS_TOKEN_ID, eos_token_id=EOS_TOKEN_ID, pad_token_id=EOS_TOKEN_ID, layer_norm_eps=1e-5,
    )
    settings.update(overrides)
    return CLIPTextConfig(**settings)


def main(argv: list[str] | None = None) -> int:
    from tiny_models.command import build_command

    return build_command("tiny_models.clip", {"tokenizer": write_tiny_clip_tokenizer}, argv)


if __name__ == "__main__":
    sys.exit(main())
