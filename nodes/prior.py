"""unCLIP prior (Kandinsky 2.2 style): text tokens → CLIP image embedding, plus mixing and saving embeddings.

The prior loop follows KandinskyV22PriorPipeline step for step (same batches,
same random draws), so that the same seed gives the same embedding.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodeflow.fingerprint import path_fingerprint
from nodes.folder_inputs import InputEmbeds, ModelName
from nodes.model_locator import locate

from ._pipeline_folders import (
    DType, Placement, load_component, model_fingerprint, pin, read_model_index, read_scheduler,
)
from .denoise_loop import denoise_loop, guide, model_batch
from .latents import Seed
from .sampling import Guidance, Steps
from .schedulers import set_steps
from .types import ImageEmbeds, PriorTransformer, Scheduler, TextEncoder, Tokenizer, Tokens


class PriorModel(NamedTuple):
    prior: PriorTransformer
    tokenizer: Tokenizer
    text_encoder: TextEncoder
    scheduler: Scheduler
    blank_image_embeds: ImageEmbeds


class PriorOutput(NamedTuple):
    image_embeds: ImageEmbeds
    negative_image_embeds: ImageEmbeds


@node("prior.load_model", category="loaders", version="1.1.0", display_name="Load unCLIP Prior",
      fingerprint=model_fingerprint)
def load_model(
    ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> PriorModel:
    """Load an unCLIP prior folder or hub id (e.g. kandinsky-2-2-prior): prior, CLIP tokenizer and text
    encoder with projection, its own scheduler, and the CLIP image embedding of a blank image (the
    negative embedding when there is no negative prompt)."""
    import torch

    ref = locate(ctx.folders, model).ref
    index = read_model_index(ref)
    prior = load_component(ref, "prior", index, dtype)
    text_encoder = load_component(ref, "text_encoder", index, dtype)
    image_encoder = load_component(ref, "image_encoder", index, dtype).to(ctx.device)
    size = image_encoder.config.image_size
    with torch.no_grad():
        blank = torch.zeros(1, 3, size, size, device=ctx.device, dtype=image_encoder.dtype)
        blank_embeds = image_encoder(blank)["image_embeds"]
    return pin(PriorModel(
        PriorTransformer(prior, source=ref, dtype=prior.dtype),
        Tokenizer(load_component(ref, "tokenizer", index), source=ref),
        TextEncoder(text_encoder, source=ref, dtype=text_encoder.dtype),
        read_scheduler(ref),
        ImageEmbeds(blank_embeds),
    ), device)


def _is_empty_prompt(tokens: Tokens) -> bool:
    if tokens.prompts:
        return all(prompt == "" for prompt in tokens.prompts)
    return bool((tokens.attention_mask.sum(-1) <= 2).all())  # only start and end tokens


def _encode(text_encoder, input_ids, attention_mask, device):
    output = text_encoder(input_ids.to(device))
    return output.text_embeds, output.last_hidden_state, attention_mask.bool().to(device)


def _text_condition(encoder, prompt: Tokens, negative: Tokens, has_negative: bool, guided: bool, device):
    """Projected embeds, hidden states and masks in the pipeline's batch layout — [prompt, negative prompt if
    any] — preceded, for guidance, by as many rows of `negative` (the empty prompt when there is none)."""
    import torch

    ids, mask = prompt.input_ids, prompt.attention_mask
    if has_negative:
        ids, mask = torch.cat([ids, negative.input_ids]), torch.cat([mask, negative.attention_mask])
    condition = _encode(encoder, ids, mask, device)
    if not guided:
        return condition
    rows = (len(ids), 1)
    uncond = _encode(encoder, negative.input_ids.repeat(*rows), negative.attention_mask.repeat(*rows), device)
    return tuple(torch.cat(pair) for pair in zip(uncond, condition))


@node("prior.image_embeds", category="conditioning", version="1.0.0", display_name="Prior Image Embeds")
def image_embeds(
    ctx: Context,
    prior: PriorTransformer,
    text_encoder: TextEncoder,
    scheduler: Scheduler,
    prompt: Tokens,
    negative: Tokens,
    blank_image_embeds: ImageEmbeds,
    seed: Seed = 0,
    steps: Steps = 25,
    guidance_scale: Guidance = 4.0,
) -> PriorOutput:
    """Denoise a CLIP image embedding for the prompt from seeded noise. An empty negative prompt means none:
    the negative embedding is then the blank-image embedding; otherwise the prior also denoises one for the
    negative prompt (in the same batch, as KandinskyV22PriorPipeline does)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    device, guided = torch.device(ctx.device), guidance_scale > 1
    has_negative = not _is_empty_prompt(negative)
    sampler = scheduler.create()
    with ctx.models.use(text_encoder) as encoder, ctx.models.use(prior) as model, torch.no_grad():
        embeds, hidden, text_mask = _text_condition(encoder, prompt, negative, has_negative, guided, device)
        batch = 2 * len(prompt.input_ids) if has_negative else len(prompt.input_ids)
        set_steps(sampler, steps, device)
        generator = torch.Generator().manual_seed(seed)
        latents = randn_tensor((batch, model.config.embedding_dim), generator=generator, device=device,
                               dtype=embeds.dtype) * sampler.init_noise_sigma

        def predict(latents, t, index: int):
            predicted = model(model_batch(latents, guided), timestep=t, proj_embedding=embeds,
                              encoder_hidden_states=hidden, attention_mask=text_mask).predicted_image_embedding
            return guide(*predicted.chunk(2), guidance_scale) if guided else predicted

        latents = denoise_loop(ctx, sampler, sampler.timesteps, latents, generator, predict, preview=None,
                               next_timestep=True)
        latents = model.post_process_latents(latents)
    if has_negative:
        positive, negative_embeds = latents.chunk(2)
    else:
        positive, negative_embeds = latents, blank_image_embeds.embeds.to(latents.device).repeat(batch, 1)
    return PriorOutput(ImageEmbeds(positive), ImageEmbeds(negative_embeds))


@node("prior.mix_embeds", category="conditioning", version="1.0.0", display_name="Mix Image Embeds",
      output="image_embeds")
def mix_embeds(
    first: ImageEmbeds,
    second: ImageEmbeds,
    first_weight: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.5,
    second_weight: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.5,
) -> ImageEmbeds:
    """Interpolate two image embeddings (of two prompts, or a prompt and an image): the weighted sum
    first·w1 + second·w2, as KandinskyV22PriorPipeline.interpolate mixes its conditions."""
    import torch

    weighted = [first.embeds * first_weight, second.embeds.to(first.embeds.device) * second_weight]
    return ImageEmbeds(torch.stack(weighted).sum(dim=0))


@node("prior.save_embeds", category="conditioning", version="1.0.0", display_name="Save Image Embeds", output_node=True)
def save_embeds(ctx: Context, image_embeds: ImageEmbeds, negative_image_embeds: ImageEmbeds | None = None,
                filename_prefix: str = "image_embeds") -> None:
    """Save image embeddings to the output folder as .safetensors (keys `image_embeds` and, when given,
    `negative_image_embeds`), numbered like saved images; prior.load_embeds reads them back."""
    from safetensors.torch import save

    tensors = {"image_embeds": image_embeds.embeds}
    if negative_image_embeds is not None:
        tensors["negative_image_embeds"] = negative_image_embeds.embeds
    data = save({key: value.detach().cpu().contiguous() for key, value in tensors.items()})
    with ctx.folders.create_numbered("output", filename_prefix, ".safetensors") as new:
        new.file.write(data)
    ctx.show(files=[{"filename": new.path.name, "subfolder": new.subfolder, "type": "output"}])


def _input_fingerprint(literals: dict, folders) -> str:
    return path_fingerprint(folders.readable("input", literals["file"]))


@node("prior.load_embeds", category="conditioning", version="1.0.0", display_name="Load Image Embeds",
      fingerprint=_input_fingerprint)
def load_embeds(ctx: Context, file: InputEmbeds) -> PriorOutput:
    """Image embeddings from a .safetensors file in the input folder (as prior.save_embeds writes them),
    e.g. to run the decoder on an embedding made earlier."""
    from safetensors.torch import load_file

    path = ctx.folders.readable("input", file)
    if not path.is_file():
        raise FileNotFoundError(f"no embeddings file {file!r} in the input folder {ctx.folders.input}")
    tensors = load_file(str(path))
    missing = [key for key in ("image_embeds", "negative_image_embeds") if key not in tensors]
    if missing:
        raise ValueError(f"{file!r} has no {' or '.join(missing)} tensor (keys: {', '.join(tensors) or 'none'})")
    return PriorOutput(ImageEmbeds(tensors["image_embeds"]), ImageEmbeds(tensors["negative_image_embeds"]))
