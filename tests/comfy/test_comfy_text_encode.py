"""CLIPTextEncode: ComfyUI's prompt weights, long-prompt chunks, embeddings and clip skip; SDXL's two encoders;
and the conditioning nodes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from nodes import text as text_nodes
from nodes.comfy_conditioning import (
    clip_text_encode, conditioning_combine, conditioning_set_area, conditioning_zero_out, prompt_weights,
)
from nodes.comfy_types import CLIP


@pytest.mark.parametrize(("prompt", "runs"), [
    ("a (cat:1.5)", [("a ", 1.0), ("cat", 1.5)]),
    ("(cat)", [("cat", 1.1)]),
    ("((cat))", [("cat", pytest.approx(1.21))]),
    ("((cat:0.5))", [("cat", 0.5)]),
    ("(a (b:1.5))", [("a ", pytest.approx(1.1)), ("b", 1.5)]),
    ("[cat]", [("[cat]", 1.0)]),
    (r"\(cat\) (dog:x)", [("(cat) ", 1.0), ("dog:x", pytest.approx(1.1))]),
    ("a (cat", [("a ", 1.0), ("(cat", 1.0)]),
])
def test_prompt_weights_follow_comfyuis_syntax(prompt, runs):
    assert prompt_weights(prompt) == runs


def _plain(ctx, checkpoint, prompt: str, clip_skip: int = 0):
    tokens = text_nodes.clip_tokenize(ctx, checkpoint.parts.tokenizer, prompt)
    return text_nodes.clip_encode(ctx, checkpoint.parts.text_encoder, tokens, clip_skip=clip_skip).embeds


def test_an_unweighted_prompt_is_exactly_our_clip_encode(ctx, checkpoint):
    [entry] = clip_text_encode(ctx, "a photo of the cat", checkpoint.clip).entries
    assert torch.equal(entry.embeds, _plain(ctx, checkpoint, "a photo of the cat"))


def test_a_weight_moves_its_tokens_away_from_the_empty_prompt(ctx, checkpoint):
    [entry] = clip_text_encode(ctx, "a (cat:1.5)", checkpoint.clip).entries
    plain, empty = _plain(ctx, checkpoint, "a cat"), _plain(ctx, checkpoint, "")
    cat = 2  # start, "a", "cat"
    torch.testing.assert_close(entry.embeds[:, cat], empty[:, cat] + 1.5 * (plain[:, cat] - empty[:, cat]))
    others = [i for i in range(77) if i != cat]
    assert torch.equal(entry.embeds[:, others], plain[:, others])


def test_a_long_prompt_is_encoded_75_tokens_at_a_time(ctx, checkpoint):
    [entry] = clip_text_encode(ctx, "cat " * 100, checkpoint.clip).entries
    assert entry.embeds.shape == (1, 154, 32)
    assert torch.equal(entry.embeds[:, :77], _plain(ctx, checkpoint, "cat " * 75))
    assert torch.equal(entry.embeds[:, 77:], _plain(ctx, checkpoint, "cat " * 25))


def test_stop_at_layer_reads_an_earlier_layer_as_clip_skip_does(ctx, checkpoint):
    clip = dataclasses.replace(checkpoint.clip, stop_at_layer=-2)
    [entry] = clip_text_encode(ctx, "a cat", clip).entries
    assert torch.equal(entry.embeds, _plain(ctx, checkpoint, "a cat", clip_skip=1))


def test_an_embedding_word_inserts_its_vectors_as_tokens(ctx, checkpoint):
    from safetensors.torch import save_file

    tokenizer, encoder = checkpoint.parts.tokenizer.module, checkpoint.parts.text_encoder.module
    ids = tokenizer("cat the", add_special_tokens=False).input_ids
    vectors = encoder.get_input_embeddings().weight[ids].detach().clone()
    folder = ctx.folders.models[0] / "embeddings"
    folder.mkdir(parents=True)
    save_file({"emb_params": vectors}, str(folder / "kitten.safetensors"))
    [entry] = clip_text_encode(ctx, "a embedding:kitten", checkpoint.clip).entries
    torch.testing.assert_close(entry.embeds, _plain(ctx, checkpoint, "a cat the"))


def test_a_missing_embedding_names_the_file(ctx, checkpoint):
    with pytest.raises(FileNotFoundError, match="no embedding 'nowhere.safetensors'"):
        clip_text_encode(ctx, "embedding:nowhere", checkpoint.clip)


def test_sdxl_joins_both_encoders_penultimate_layers_and_pools_the_second(ctx, tmp_path):
    from nodes import sdxl as sdxl_nodes
    from tiny_models.sdxl import make_tiny_sdxl

    parts = sdxl_nodes.load_model(ctx, str(make_tiny_sdxl(tmp_path / "sdxl")))
    clip = CLIP((parts.tokenizer, parts.tokenizer_2), (parts.text_encoder, parts.text_encoder_2), family="sdxl")
    [entry] = clip_text_encode(ctx, "a cat", clip).entries
    tokens = text_nodes.clip_tokenize(ctx, parts.tokenizer_2, "a cat").input_ids
    with torch.no_grad():
        first = parts.text_encoder.module(tokens, output_hidden_states=True)
        second = parts.text_encoder_2.module(tokens, output_hidden_states=True)
    assert torch.equal(entry.embeds, torch.cat([first.hidden_states[-2], second.hidden_states[-2]], dim=-1))
    assert torch.equal(entry.pooled, second.text_embeds)


def test_combine_keeps_both_entries_and_set_area_marks_them_in_latents(ctx, checkpoint):
    cat = clip_text_encode(ctx, "a cat", checkpoint.clip)
    dog = clip_text_encode(ctx, "a dog", checkpoint.clip)
    combined = conditioning_combine(cat, dog)
    assert [e.embeds for e in combined.entries] == [cat.entries[0].embeds, dog.entries[0].embeds]
    [area] = conditioning_set_area(dog, width=256, height=128, x=64, y=8, strength=0.5).entries
    assert (area.area, area.strength) == ((16, 32, 1, 8), 0.5)


def test_zero_out_gives_zeros_of_the_same_shapes(ctx, checkpoint):
    [entry] = conditioning_zero_out(clip_text_encode(ctx, "a cat", checkpoint.clip)).entries
    assert entry.embeds.shape == (1, 77, 32) and not entry.embeds.any()
