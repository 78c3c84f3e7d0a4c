"""Text nodes: CLIP tokenizer and text encoders (CLIPTextModel, CLIPTextModelWithProjection) with clip-skip."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from nodeflow import Context, node
from nodes.types import Conditioning, TextEncoder, Tokenizer, Tokens

@node("text.clip_tokenize", category="conditioning", version="1.0.0", display_name="CLIP Tokenize")
def clip_tokenize(
    ctx: Context, tokenizer: Tokenizer, prompt: str = "", too_long: Literal["truncate", "error"] = "truncate"
) -> Tokens:
    """Token ids padded to the tokenizer's model max length (77 for SD). A longer prompt is cut there, as the
    diffusers pipelines do, with a warning naming the dropped words; or refused with too_long="error"."""
    with ctx.models.use(tokenizer) as module:
        max_length = module.model_max_length
        encoded = module(prompt, padding="max_length", max_length=max_length, truncation=True, return_tensors="pt")
        full_ids = module(prompt, padding="longest", return_tensors="pt").input_ids
        cut = full_ids.shape[-1] > max_length
        dropped = module.batch_decode(full_ids[:, max_length - 1 : -1])[0] if cut else ""
    if cut:
        if too_long == "error":
            raise ValueError(f"prompt is longer than {max_length} tokens; these words would be dropped: {dropped!r}")
        ctx.warn(f"prompt cut at {max_length} tokens (CLIP's limit); dropped: {dropped!r}")
    return Tokens(encoded.input_ids, encoded.attention_mask, [prompt])


@node("text.clip_encode", category="conditioning", version="1.0.0", display_name="CLIP Text Encode")
def clip_encode(
    ctx: Context, text_encoder: TextEncoder, tokens: Tokens,
    clip_skip: Annotated[int, Field(ge=0, le=24)] = 0,
) -> Conditioning:
    """Hidden states for cross-attention, plus the pooled (or projected) embedding. `clip_skip` = n takes the
    hidden states n layers before the last, through the final layer norm, as the diffusers pipelines do."""
    import torch

    with ctx.models.use(text_encoder) as module, torch.no_grad():
        config = module.config
        mask = tokens.attention_mask if getattr(config, "use_attention_mask", False) else None
        input_ids = tokens.input_ids.to(ctx.device)
        mask = mask.to(ctx.device) if mask is not None else None
        output = module(input_ids, attention_mask=mask, output_hidden_states=clip_skip > 0)
        if clip_skip:
            # transformers 5 flattened CLIPTextModel (no `.text_model`); older versions nest it.
            final_layer_norm = getattr(module, "text_model", module).final_layer_norm
            embeds = final_layer_norm(output.hidden_states[-(clip_skip + 1)])
        else:
            embeds = output.last_hidden_state
        pooled = output.text_embeds if hasattr(output, "text_embeds") else output.pooler_output
    return Conditioning(embeds.to(dtype=module.dtype), pooled, tokens.attention_mask)
