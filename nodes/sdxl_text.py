"""SDXL prompt encoding: both CLIP text encoders side by side, the second's pooled projection, and the size and crop
conditioning, as StableDiffusionXLPipeline.encode_prompt computes them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from nodeflow import Context, node
from nodes.text import clip_tokenize
from nodes.types import SDXLConditioning, TextEncoder, Tokenizer

Pixels = Annotated[int, Field(ge=1, le=16384)] | None
Offset = Annotated[int, Field(ge=0, le=16384)]
ClipSkip = Annotated[int, Field(ge=0, le=24)]


def _size(height: int | None, width: int | None, name: str) -> tuple[int, int] | None:
    if (height is None) != (width is None):
        raise ValueError(f"inputs '{name}_width' and '{name}_height': give both, or neither for the image's size")
    return None if height is None or width is None else (height, width)


def _hidden_states(ctx: Context, encoder: TextEncoder, ids: Any, clip_skip: int) -> tuple[Any, Any]:
    """(hidden states, pooled projection or None) of one encoder. SDXL reads the penultimate layer, with no final
    layer norm; clip_skip = n reads n layers before that."""
    import torch

    with ctx.models.use(encoder) as module, torch.no_grad():
        output = module(ids.to(ctx.device), output_hidden_states=True)
    pooled = output[0] if output[0].ndim == 2 else None  # only the projecting encoder returns 2-D text_embeds first
    return output.hidden_states[-(clip_skip + 2)], pooled


@node("sdxl.encode_prompt", category="conditioning", version="1.0.0", display_name="SDXL Text Encode",
      output="conditioning")
def encode_prompt(
    ctx: Context, tokenizer_2: Tokenizer, text_encoder_2: TextEncoder, tokenizer: Tokenizer | None = None,
    text_encoder: TextEncoder | None = None, prompt: str = "", prompt_2: str = "", clip_skip: ClipSkip = 0,
    original_width: Pixels = None, original_height: Pixels = None, crop_left: Offset = 0, crop_top: Offset = 0,
    target_width: Pixels = None, target_height: Pixels = None,
    aesthetic_score: Annotated[float, Field(ge=0.0, le=10.0)] = 6.0,
    too_long: Literal["truncate", "error"] = "truncate",
) -> SDXLConditioning:
    """A prompt for SDXL: `prompt` goes to the first encoder, `prompt_2` (empty: the same prompt) to the second; a
    refiner, with the second encoder only, reads `prompt`. Sizes left empty are the image's; the aesthetic score
    is read by refiners only (the pipelines' default is 6.0, and 2.5 for a negative prompt). As a negative prompt,
    an empty one is the pipelines' negative_prompt=None: zeros when the model says so."""
    import torch

    if (tokenizer is None) != (text_encoder is None):
        raise ValueError("inputs 'tokenizer' and 'text_encoder': link both (SDXL base) or neither (refiner)")
    pairs = [(tokenizer, text_encoder, prompt), (tokenizer_2, text_encoder_2, prompt_2 or prompt)]
    if tokenizer is None:
        pairs = [(tokenizer_2, text_encoder_2, prompt)]
    states, pooled = [], None
    for each_tokenizer, encoder, text in pairs:
        tokens = clip_tokenize(ctx, each_tokenizer, text, too_long)
        hidden, pooled = _hidden_states(ctx, encoder, tokens.input_ids, clip_skip)
        states.append(hidden)
    if pooled is None:
        raise ValueError("input 'text_encoder_2': this encoder has no projection (pooled output); SDXL's second "
                         "text encoder is a CLIPTextModelWithProjection")
    return SDXLConditioning(
        torch.cat(states, dim=-1).to(dtype=text_encoder_2.dtype), pooled, empty_prompt=not (prompt or prompt_2),
        original_size=_size(original_height, original_width, "original"), crops_coords_top_left=(crop_top, crop_left),
        target_size=_size(target_height, target_width, "target"), aesthetic_score=aesthetic_score,
    )
