"""VQ-Diffusion (discrete latents) and VQModel decoding (VQ-GAN class indices, MoVQ latents).

Text conditioning → discrete denoise → `vq.decode_indices`. The loop follows
VQDiffusionPipeline step for step, so that the same seed gives the same image.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodes.folder_inputs import ModelName
from nodes.model_locator import locate

from ._pipeline_folders import (
    DType, Placement, load_component, model_fingerprint, pin, read_model_index, read_scheduler,
)
from .denoise_loop import denoise_loop, guide, model_batch
from .latents import Seed
from .sampling import Guidance, Steps
from .schedulers import set_steps
from .types import (
    Conditioning, DiscreteLatents, Image, LearnedClassifierFreeEmbeddings, Latents, Scheduler, TextEncoder, Tokenizer,
    VQDiffusionTransformer, VQModel,
)

EMBEDDINGS = "learned_classifier_free_sampling_embeddings"
LOG_PROB_FLOOR = -70.0  # the pipeline clamps log-probabilities here before each step


class VQDiffusionModel(NamedTuple):
    transformer: VQDiffusionTransformer
    vqvae: VQModel
    tokenizer: Tokenizer
    text_encoder: TextEncoder
    scheduler: Scheduler
    null_text: LearnedClassifierFreeEmbeddings


@node("vq.load_model", category="loaders", version="1.1.0", display_name="Load VQ-Diffusion Model",
      fingerprint=model_fingerprint)
def load_model(
    ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> VQDiffusionModel:
    """Load a VQ-Diffusion folder or hub id (e.g. microsoft/vq-diffusion-ithq): discrete transformer, VQ-VAE,
    CLIP tokenizer and text encoder, its own scheduler, and the learned null-text embeddings."""
    ref = locate(ctx.folders, model).ref
    # diffusers is imported once the model is found, so that a missing model fails at once.
    from diffusers.pipelines.deprecated.vq_diffusion import LearnedClassifierFreeSamplingEmbeddings

    index = read_model_index(ref)
    # Published folders name this class's module "vq_diffusion", gone from diffusers: resolve it by name.
    classes = {"LearnedClassifierFreeSamplingEmbeddings": LearnedClassifierFreeSamplingEmbeddings}
    transformer = load_component(ref, "transformer", index, dtype)
    vqvae = load_component(ref, "vqvae", index, dtype)
    text_encoder = load_component(ref, "text_encoder", index, dtype)
    null_text = load_component(ref, EMBEDDINGS, index, dtype, classes)
    return pin(VQDiffusionModel(
        VQDiffusionTransformer(transformer, source=ref, dtype=transformer.dtype),
        VQModel(vqvae, source=ref, dtype=vqvae.dtype),
        Tokenizer(load_component(ref, "tokenizer", index), source=ref),
        TextEncoder(text_encoder, source=ref, dtype=text_encoder.dtype),
        read_scheduler(ref),
        LearnedClassifierFreeEmbeddings(null_text, source=ref, dtype=null_text.dtype),
    ), device)


def _unit(embeds):
    return embeds / embeds.norm(dim=-1, keepdim=True)


def truncate(log_probs, rate: float):
    """Keep, per latent pixel, the most likely classes whose cumulative probability stays below `rate`
    (always the top one); the rest get probability zero."""
    import torch

    ordered, order = torch.sort(log_probs, 1, descending=True)
    keep = ordered.exp().cumsum(dim=1) < rate
    keep = torch.cat([torch.ones_like(keep[:, :1]), keep], dim=1)[:, :-1]
    keep = keep.gather(1, order.argsort(1))
    truncated = log_probs.clone()
    truncated[~keep] = -torch.inf
    return truncated


@node("vq.denoise", category="sampling", version="1.0.0", display_name="VQ-Diffusion Denoise")
def denoise(
    ctx: Context,
    transformer: VQDiffusionTransformer,
    scheduler: Scheduler,
    positive: Conditioning,
    null_text: LearnedClassifierFreeEmbeddings,
    negative: Conditioning | None = None,
    seed: Seed = 0,
    steps: Steps = 100,
    guidance_scale: Guidance = 5.0,
    truncation_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0,
) -> DiscreteLatents:
    """Denoise latent class indices from all-masked, guided by the text (guidance > 1 against the learned
    null-text embeddings, or against `negative` — the empty prompt's conditioning — for models without
    them). `truncation_rate` < 1 drops each pixel's least likely classes."""
    import torch

    device, guided = torch.device(ctx.device), guidance_scale > 1
    embeds = _unit(positive.embeds.to(device))
    batch = len(embeds)
    if guided:
        uncond = _learned_uncond(ctx, null_text, device, batch)
        if uncond is None and negative is None:
            raise ValueError("this model has no learned null-text embeddings: link the empty prompt's "
                             "conditioning to `negative` for guidance, or set guidance_scale to 1")
        if uncond is None:
            uncond = _unit(negative.embeds.to(device)).repeat(batch, 1, 1)
        embeds = torch.cat([uncond, embeds])
    sampler = scheduler.create()
    with ctx.models.use(transformer) as model, torch.no_grad():
        masked = model.config.num_vector_embeds - 1
        sample = torch.full((batch, model.num_latent_pixels), masked).to(device)
        set_steps(sampler, steps, device)
        # The scheduler draws its Gumbel noise on the sample's device, which needs a generator there
        # (VQDiffusionPipeline on a GPU likewise takes a torch.Generator("cuda")).
        generator = torch.Generator(device).manual_seed(seed)

        def predict(sample, t, index: int):
            log_probs = model(model_batch(sample, guided), encoder_hidden_states=embeds, timestep=t).sample
            if guided:
                log_probs = guide(*log_probs.chunk(2), guidance_scale)
                log_probs -= torch.logsumexp(log_probs, dim=1, keepdim=True)
            return truncate(log_probs, truncation_rate).clamp(LOG_PROB_FLOOR)

        sample = denoise_loop(ctx, sampler, sampler.timesteps.to(device), sample, generator, predict, preview=None)
    return DiscreteLatents(sample, masked, model.height, model.width)


def _learned_uncond(ctx: Context, null_text: LearnedClassifierFreeEmbeddings, device, batch: int):
    """The learned null-text embeddings, one row per image; None for a model that did not learn them."""
    with ctx.models.use(null_text) as learned:
        if not learned.learnable:
            return None
        return learned.embeddings.to(device).unsqueeze(0).repeat(batch, 1, 1)


@node("vq.decode_indices", category="latent", version="1.0.0", display_name="Decode VQ Indices")
def decode_indices(ctx: Context, vqvae: VQModel, latents: DiscreteLatents) -> Image:
    """Pixels from latent class indices: look each index up in the VQ codebook, then decode."""
    import torch

    with ctx.models.use(vqvae) as model, torch.no_grad():
        shape = (len(latents.indices), latents.height, latents.width, model.config.vq_embed_dim)
        codes = model.quantize.get_codebook_entry(latents.indices.to(ctx.device), shape=shape)
        pixels = model.decode(codes, force_not_quantize=True).sample
    return Image(_to_unit_range(pixels))


@node("vq.decode_latents", category="latent", version="1.0.0", display_name="Decode MoVQ Latents")
def decode_latents(ctx: Context, movq: VQModel, latents: Latents) -> Image:
    """Pixels from continuous MoVQ latents (the Kandinsky decoder's output), decoded without re-quantising."""
    import torch

    with ctx.models.use(movq) as model, torch.no_grad():
        pixels = model.decode(latents.samples.to(ctx.device, model.dtype), force_not_quantize=True).sample
    return Image(_to_unit_range(pixels))


def _to_unit_range(pixels):
    return (pixels / 2 + 0.5).clamp(0, 1).float().cpu()
