"""DiT: class-conditional image generation with a diffusion transformer (Peebles & Xie).

Loader → class labels (ImageNet words or ids) → denoise → the VAE decode node.
The denoise loop follows DiTPipeline step for step, so that the same seed gives
the same image.
"""

from __future__ import annotations

import difflib
from typing import NamedTuple

from nodeflow import Context, node
from nodes.compiling import compile_denoiser
from nodes.folder_inputs import ModelName
from nodes.model_locator import locate

from ._pipeline_folders import (
    DType, Placement, load_component, model_fingerprint, module_config, pin, read_model_index, read_scheduler,
)
from .denoise_loop import denoise_loop, guide, model_batch
from .latents import Seed
from .sampling import Guidance, Steps
from .schedulers import generator_state, seeded_generators, set_steps
from .types import VAE, ClassLabels, DiTTransformer, Latents, Scheduler

LabelInput = list[str | int] | str | int


class DiTModel(NamedTuple):
    transformer: DiTTransformer
    vae: VAE
    scheduler: Scheduler


def labels_from_id2label(id2label: dict | None) -> dict[str, int]:
    """Word → class id, each comma-separated synonym its own word (as DiTPipeline builds `labels`)."""
    labels = {}
    for key, value in (id2label or {}).items():
        for word in value.split(","):
            labels[word.strip()] = int(key)
    return dict(sorted(labels.items()))


@node("dit.load_model", category="loaders", version="1.3.0", display_name="Load DiT Model",
      fingerprint=model_fingerprint)
def load_model(
    ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto", compile: bool = False
) -> DiTModel:
    """Load a DiT pipeline folder or hub id: transformer (with the ImageNet labels of its
    model_index.json), VAE, and the folder's own scheduler. `compile` compiles the transformer with
    torch.compile (see Load SD Model)."""
    ref = locate(ctx.folders, model).ref
    index = read_model_index(ref)
    transformer = load_component(ref, "transformer", index, dtype)
    if compile:
        compile_denoiser(transformer, ctx.device)
    vae = load_component(ref, "vae", index, dtype)
    labels = labels_from_id2label(index.get("id2label"))
    # The number of classes the label node checks ids against, without bringing the transformer onto a device.
    classes = transformer.config.num_embeds_ada_norm
    return pin(DiTModel(
        DiTTransformer(transformer, source=ref, dtype=transformer.dtype,
                       config={"labels": labels, "num_classes": classes}),
        VAE(vae, source=ref, dtype=vae.dtype, config=module_config(vae)),
        read_scheduler(ref),
    ), device)


def resolve_class_ids(labels: LabelInput, words: dict[str, int], num_classes: int) -> list[int]:
    """Class ids for ImageNet words or ids; an unknown word raises naming the closest known words."""
    items = labels if isinstance(labels, list) else [labels]
    if not items:
        raise ValueError("no class labels given")
    ids = []
    for item in items:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item)
        if isinstance(item, int):
            if not 0 <= item < num_classes:
                raise ValueError(f"class id {item} is out of range: this model knows ids 0..{num_classes - 1}")
            ids.append(item)
        elif item in words:
            ids.append(words[item])
        else:
            ids.append(_unknown_word(item, words))
    return ids


def _unknown_word(word: str, words: dict[str, int]) -> int:
    if not words:
        raise ValueError(f"{word!r}: this model has no id2label table in its model_index.json; give class ids")
    by_lower = {known.lower(): known for known in words}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=5, cutoff=0.5)
    hint = ", ".join(f"{by_lower[c]!r} ({words[by_lower[c]]})" for c in close) or "none"
    raise ValueError(f"unknown class label {word!r}; close matches: {hint}. List them all with dit.list_labels")


@node("dit.class_labels", category="conditioning", version="1.0.0", display_name="DiT Class Labels")
def class_labels(transformer: DiTTransformer, labels: LabelInput = "golden retriever") -> ClassLabels:
    """ImageNet class words (any synonym of the model's id2label, e.g. "white shark") or ids (207),
    one image per label."""
    import torch

    ids = resolve_class_ids(labels, transformer.config.get("labels", {}), transformer.config["num_classes"])
    return ClassLabels(torch.tensor(ids))


@node("dit.list_labels", category="conditioning", version="1.0.0", display_name="List DiT Labels",
      output="labels", output_node=True)
def list_labels(ctx: Context, transformer: DiTTransformer) -> str:
    """Every class word the model knows, one "word: id" per line (also shown in the editor)."""
    text = "\n".join(f"{word}: {class_id}" for word, class_id in transformer.config.get("labels", {}).items())
    ctx.show(text=[text])
    return text


@node("dit.denoise", category="sampling", version="1.0.0", display_name="DiT Denoise", batch=True,
      per_sample=("seed",))
def denoise(
    ctx: Context,
    transformer: DiTTransformer,
    scheduler: Scheduler,
    class_labels: ClassLabels,
    seed: Seed = 0,
    steps: Steps = 50,
    guidance_scale: Guidance = 4.0,
) -> Latents:
    """Denoise from seeded noise to latents, guided towards the class labels (guidance > 1 mixes in the
    null class on the first latent channels; a learned-sigma output is split off before the step). In a batch
    of prompts, each label's noise and steps come from its own prompt's seed."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    sampler = scheduler.create()
    with ctx.models.use(transformer) as model, torch.no_grad():
        config = model.config
        channels, size, batch = config.in_channels, config.sample_size, len(class_labels.ids)
        guided = guidance_scale > 1
        generator = seeded_generators(seed)
        noise = randn_tensor((batch, channels, size, size), generator=generator, device=torch.device(ctx.device),
                             dtype=model.dtype)
        labels = class_labels.ids.to(ctx.device).reshape(-1)
        if guided:  # the id after the last class is the "no class" DiT was trained with (1000 for ImageNet)
            labels = torch.cat([labels, torch.full_like(labels, config.num_embeds_ada_norm)])
        set_steps(sampler, steps)

        def prepare(sample, t):
            """DiTPipeline steps from its scaled model input: under guidance the first half, twice."""
            return sampler.scale_model_input(model_batch(sample[:batch], guided), t)

        def predict(sample, t, index: int):
            timesteps = t[None].to(sample.device).expand(sample.shape[0])
            prediction = model(sample, timestep=timesteps, class_labels=labels).sample
            if guided:
                prediction = _guide_first_channels(prediction, channels, guidance_scale)
            if config.out_channels // 2 == channels:
                prediction = prediction[:, :channels]
            return prediction

        # DiTPipeline passes no generator; passing it keeps ancestral schedulers seeded (others ignore it).
        sample = denoise_loop(ctx, sampler, sampler.timesteps, noise, generator, predict, prepare=prepare)
    return Latents(sample[:batch], generator_state(generator))


def _guide_first_channels(prediction, channels: int, guidance_scale: float):
    """Classifier-free guidance on the noise channels only; the learned-variance channels pass through."""
    import torch

    eps, rest = prediction[:, :channels], prediction[:, channels:]
    cond, uncond = eps.chunk(2)
    guided = guide(uncond, cond, guidance_scale)
    return torch.cat([torch.cat([guided, guided]), rest], dim=1)
