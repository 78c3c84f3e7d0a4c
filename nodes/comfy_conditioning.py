"""ComfyUI's conditioning nodes: CLIPTextEncode with its prompt syntax, ConditioningCombine, SetArea, ZeroOut.

The prompt syntax, as ComfyUI reads it: `(words)` multiplies the weight by 1.1 (nested: again), `(words:1.3)`
sets it to 1.3, `\\(` and `\\)` are literal parentheses, brackets mean nothing, and a word `embedding:name`
stands for the textual-inversion vectors of models/embeddings/name.safetensors. Words are tokenized one by one
and packed 75 tokens to a chunk (a word of 8 tokens or more may be split, a shorter one moves to the next
chunk); chunks are encoded separately and joined along the tokens. A weight w moves a token's hidden state
away from the empty prompt's at the same position: empty + w · (state − empty).
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Annotated, Any, Iterator, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodes.comfy_types import CLIP, CONDITIONING, ConditioningEntry

_OPEN, _CLOSE = "\ue000", "\ue001"  # escaped parentheses while parsing
_CHUNK = 75  # tokens per chunk between the start and end tokens
_LARGE_WORD = 8  # words of this many tokens or more may be split between chunks
_EMBEDDING = "embedding:"


def prompt_weights(text: str) -> list[tuple[str, float]]:
    """The prompt as (text, weight) runs, ComfyUI's way (see the module's note)."""
    escaped = text.replace("\\(", _OPEN).replace("\\)", _CLOSE)
    return [(run.replace(_OPEN, "(").replace(_CLOSE, ")"), weight) for run, weight in _weighted(escaped, 1.0)]


def _weighted(text: str, weight: float) -> list[tuple[str, float]]:
    runs: list[tuple[str, float]] = []
    for group in _groups(text):
        if len(group) >= 2 and group[0] == "(" and group[-1] == ")":
            inner, inner_weight = group[1:-1], weight * 1.1
            colon = inner.rfind(":")
            if colon > 0:
                try:
                    inner, inner_weight = inner[:colon], float(inner[colon + 1:])
                except ValueError:
                    pass
            runs += _weighted(inner, inner_weight)
        else:
            runs.append((group, weight))
    return runs


def _groups(text: str) -> list[str]:
    """Top-level runs: plain text and balanced "(…)" groups; an unclosed "(" keeps the rest as plain text."""
    groups, current, depth = [], "", 0
    for char in text:
        if char == "(" and depth == 0 and current:
            groups.append(current)
            current = ""
        current += char
        depth += char == "("
        if char == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                groups.append(current)
                current = ""
    return [*groups, current] if current else groups


class Token(NamedTuple):
    id: int
    weight: float
    vector: Any = None  # a textual-inversion vector that replaces the id's embedding


def _word_tokens(ctx: Context, tokenizer: Any, width: int, word: str, weight: float) -> list[Token]:
    if word.startswith(_EMBEDDING):
        vectors = _embedding_vectors(ctx, word[len(_EMBEDDING):], width)
        # the start token's id as a stand-in: the encoder pools at the end token, which must stay the prompt's own
        return [Token(tokenizer.bos_token_id, weight, vector) for vector in vectors]
    return [Token(i, weight) for i in tokenizer(word, add_special_tokens=False).input_ids]


def _embedding_vectors(ctx: Context, name: str, width: int) -> Any:
    """The rows of a textual-inversion file (models/embeddings/<name>.safetensors) for an encoder `width` wide."""
    from safetensors.torch import load_file

    file = name if name.endswith(".safetensors") else f"{name}.safetensors"
    path = ctx.folders.readable("models", f"embeddings/{file}", "text")
    if not path.is_file():
        raise FileNotFoundError(f"CLIPTextEncode: input 'text': no embedding {file!r} in models/embeddings")
    tensors = [t for t in load_file(str(path)).values() if t.shape[-1] == width]
    if not tensors:
        raise ValueError(f"CLIPTextEncode: embedding {name!r} has no vectors {width} wide for this text encoder")
    return tensors[0].reshape(-1, width)


def _chunks(words: list[list[Token]]) -> list[list[Token]]:
    """The words packed into chunks of at most 75 tokens, as the module's note says."""
    chunks, current = [], []
    for word in words:
        while word:
            room = _CHUNK - len(current)
            if len(word) <= room:
                current, word = current + word, []
                continue
            if len(word) >= _LARGE_WORD:
                current, word = current + word[:room], word[room:]
            chunks.append(current)
            current = []
    return [*chunks, current] if current or not chunks else chunks


def tokenize(ctx: Context, tokenizer: Any, width: int, text: str) -> list[list[Token]]:
    """The chunks of (start, 75 tokens, end, padding) for one tokenizer."""
    words = [_word_tokens(ctx, tokenizer, width, word, weight)
             for run, weight in prompt_weights(text) for word in run.replace("\n", " ").split(" ") if word]
    start, end, pad = Token(tokenizer.bos_token_id, 1.0), Token(tokenizer.eos_token_id, 1.0), tokenizer.pad_token_id
    return [[start, *chunk, end] + [Token(pad, 1.0)] * (_CHUNK - len(chunk)) for chunk in _chunks(words)]


@contextmanager
def _vectors_in(module: Any, rows: list[tuple[int, int, Any]]) -> Iterator[None]:
    """Token embeddings replaced at (chunk, position) by textual-inversion vectors for the block."""

    def replace(_: Any, __: Any, output: Any) -> Any:
        output = output.clone()
        for chunk, position, vector in rows:
            output[chunk, position] = vector.to(output.dtype)
        return output

    hook = module.get_input_embeddings().register_forward_hook(replace) if rows else None
    try:
        yield
    finally:
        if hook is not None:
            hook.remove()


def _hidden(module: Any, ids: Any, layer: int | None, family: str) -> tuple[Any, Any]:
    """(hidden states, pooled) of one encoder; `layer` None is the family's default."""
    output = module(ids, output_hidden_states=True)
    pooled = output[0] if output[0].ndim == 2 else None
    if family == "sdxl":  # SDXL reads a layer as it is, the penultimate by default
        return output.hidden_states[-2 if layer is None else layer], pooled
    if layer is None or layer == -1:
        return output.last_hidden_state, pooled
    return getattr(module, "text_model", module).final_layer_norm(output.hidden_states[layer]), pooled


def _encode(ctx: Context, clip: CLIP, index: int, text: str) -> tuple[Any, Any]:
    """One encoder's weighted hidden states, chunks joined (1, 77·n, D), and the first chunk's pooled output."""
    import torch

    width = clip.encoders[index].config.get("hidden_size")
    with ctx.models.use(clip.tokenizers[index]) as tokenizer:
        chunks = tokenize(ctx, tokenizer, width, text)
        empty = tokenize(ctx, tokenizer, width, "")[0]
    weights = torch.tensor([[token.weight for token in chunk] for chunk in chunks])
    weighted = bool((weights != 1.0).any())
    rows = [(c, p, t.vector) for c, chunk in enumerate(chunks) for p, t in enumerate(chunk) if t.vector is not None]
    ids = torch.tensor([[token.id for token in chunk] for chunk in chunks + ([empty] if weighted else [])])
    layer = None if clip.stop_at_layer == -1 and clip.family == "sdxl" else clip.stop_at_layer
    with ctx.models.use(clip.encoders[index]) as module, torch.no_grad(), _vectors_in(module, rows):
        hidden, pooled = _hidden(module, ids.to(ctx.device), layer, clip.family)
    if weighted:
        hidden, baseline = hidden[:-1], hidden[-1:]
        factor = weights.to(hidden.device, hidden.dtype).unsqueeze(-1)
        hidden = torch.where(factor != 1.0, (hidden - baseline) * factor + baseline, hidden)
    return hidden.reshape(1, -1, hidden.shape[-1]), None if pooled is None else pooled[:1]


@node("CLIPTextEncode", category="conditioning", version="1.0.0", output="CONDITIONING",
      display_name="CLIP Text Encode (Prompt)")
def clip_text_encode(ctx: Context, text: str, clip: CLIP) -> CONDITIONING:
    """A prompt, with ComfyUI's weights, long-prompt chunks and embeddings, through the checkpoint's text
    encoders (SDXL: both, side by side, with the second's pooled output)."""
    import torch

    encoded = [_encode(ctx, clip, index, text) for index in range(len(clip.encoders))]
    hidden = torch.cat([states for states, _ in encoded], dim=-1)
    return CONDITIONING((ConditioningEntry(hidden, encoded[-1][1]),))


@node("ConditioningCombine", category="conditioning", version="1.0.0", output="CONDITIONING",
      display_name="Conditioning (Combine)")
def conditioning_combine(conditioning_1: CONDITIONING, conditioning_2: CONDITIONING) -> CONDITIONING:
    """Both conditionings' entries: the sampler averages their predictions."""
    return CONDITIONING((*conditioning_1.entries, *conditioning_2.entries))


Pixels = Annotated[int, Field(ge=64, le=16384)]
Offset = Annotated[int, Field(ge=0, le=16384)]


@node("ConditioningSetArea", category="conditioning", version="1.0.0", output="CONDITIONING",
      display_name="Conditioning (Set Area)")
def conditioning_set_area(
    conditioning: CONDITIONING, width: Pixels = 64, height: Pixels = 64, x: Offset = 0, y: Offset = 0,
    strength: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0,
) -> CONDITIONING:
    """Each entry limited to the width×height area at (x, y) in image pixels (latent pixels × 8), weighted by
    `strength` where areas overlap."""
    area = (height // 8, width // 8, y // 8, x // 8)
    return CONDITIONING(tuple(dataclasses.replace(e, area=area, strength=strength) for e in conditioning.entries))


@node("ConditioningZeroOut", category="advanced/conditioning", version="1.0.0", output="CONDITIONING")
def conditioning_zero_out(conditioning: CONDITIONING) -> CONDITIONING:
    """Every entry's hidden states and pooled output as zeros (SDXL's "no negative prompt")."""
    import torch

    def zeroed(entry: ConditioningEntry) -> ConditioningEntry:
        pooled = None if entry.pooled is None else torch.zeros_like(entry.pooled)
        return dataclasses.replace(entry, embeds=torch.zeros_like(entry.embeds), pooled=pooled)

    return CONDITIONING(tuple(zeroed(entry) for entry in conditioning.entries))
