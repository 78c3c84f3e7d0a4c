"""Value types that flow through the sockets of the built-in nodes.

Each kind of thing gets its own class, so that the validator and the editor keep
worlds apart: a DiT transformer is not a UNet, discrete latents are not
continuous latents, an image embedding is not a text conditioning. Link
compatibility is "same class or subclass". Nothing here imports diffusers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from nodeflow import ModelHandle


class Tokenizer(ModelHandle):
    """A CLIP tokenizer (transformers)."""


class TextEncoder(ModelHandle):
    """A CLIP text encoder: CLIPTextModel or CLIPTextModelWithProjection."""


class UNet(ModelHandle):
    """A UNet2DConditionModel conditioned on text embeddings (Stable Diffusion)."""


class ImageConditionedUNet(ModelHandle):
    """A UNet2DConditionModel conditioned on image embeddings (Kandinsky 2.2 decoder)."""


class VAE(ModelHandle):
    """An AutoencoderKL: pixels ⇄ continuous latents."""


class VQModel(ModelHandle):
    """A VQModel (VQ-GAN / MoVQ): quantised latents → pixels."""


class DiTTransformer(ModelHandle):
    """A class-conditional DiT transformer (DiTTransformer2DModel or legacy Transformer2DModel)."""


class PriorTransformer(ModelHandle):
    """An unCLIP PriorTransformer with its CLIP image-embedding statistics."""


class VQDiffusionTransformer(ModelHandle):
    """A Transformer2DModel over vector-quantised latent classes (VQ-Diffusion)."""


class LearnedClassifierFreeEmbeddings(ModelHandle):
    """VQ-Diffusion's learned null-text embeddings for classifier-free guidance."""


@dataclass(eq=False)
class Scheduler:
    """A scheduler recipe: diffusers class name and config. Denoise nodes build a fresh instance each run,
    so a cached scheduler is never mutated by `set_timesteps`."""

    class_name: str
    config: dict[str, Any]

    def create(self) -> Any:
        import diffusers

        return getattr(diffusers, self.class_name).from_config(self.config)


@dataclass(eq=False)
class SchedulerState:
    """A scheduler instance with its timesteps set, part-way through a hand-built loop. Step nodes copy it
    before stepping, so a cached state is never mutated."""

    instance: Any
    begin_index: int = 0


@dataclass(eq=False)
class Tokens:
    """Token ids (and attention mask) of one or more prompts."""

    input_ids: Any
    attention_mask: Any = None
    prompts: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Conditioning:
    """Text-encoder hidden states (and pooled/projected embeddings) for cross-attention.

    Stacks for batch nodes (`nodeflow.batching`) along the batch dimension, unless ControlNets are attached."""

    embeds: Any
    pooled: Any = None
    attention_mask: Any = None
    controls: tuple = ()  # Control entries (ControlNet apply nodes), applied in order by the denoise nodes

    @classmethod
    def stacked(cls, values: list[Conditioning]) -> Conditioning | None:
        if any(value.controls for value in values):
            return None
        fields = {}
        for name in ("embeds", "pooled", "attention_mask"):
            tensors = [getattr(value, name) for value in values]
            fields[name] = None if all(tensor is None for tensor in tensors) else stacked_tensors(tensors)
            if fields[name] is None and any(tensor is not None for tensor in tensors):
                return None
        return cls(**fields)

    def unstacked(self, count: int) -> list[Conditioning]:
        parts = [unstacked_tensor(tensor, count) for tensor in (self.embeds, self.pooled, self.attention_mask)]
        return [Conditioning(*fields) for fields in zip(*parts)]


@dataclass(eq=False)
class ImageEmbeds:
    """CLIP image embeddings (unCLIP prior output, Kandinsky decoder input)."""

    embeds: Any

    @classmethod
    def stacked(cls, values: list[ImageEmbeds]) -> ImageEmbeds | None:
        embeds = stacked_tensors([value.embeds for value in values])
        return None if embeds is None else cls(embeds)

    def unstacked(self, count: int) -> list[ImageEmbeds]:
        return [ImageEmbeds(embeds) for embeds in unstacked_tensor(self.embeds, count)]


@dataclass(eq=False)
class Latents:
    """Continuous latents (B, C, H, W) in the model's latent space (unscaled by the VAE factor).

    `generator_state` is the CPU torch.Generator state after the random draws that made these latents
    (noise, VAE sampling), so that later draws (ancestral steps, img2img noise) continue the seed's stream
    exactly as a diffusers pipeline's single generator does; None when nothing random made them."""

    samples: Any
    generator_state: Any = None

    @classmethod
    def stacked(cls, values: list[Latents]) -> Latents | None:
        """The latents of several prompts, each with the random stream of its own seed (a list of generator
        states, one per sample); None when a prompt holds several samples drawn from one stream."""
        randoms = [value.generator_state is not None for value in values]
        if any(randoms) and (not all(randoms) or any(len(value.samples) != 1 for value in values)):
            return None
        samples = stacked_tensors([value.samples for value in values])
        if samples is None:
            return None
        return cls(samples, [value.generator_state for value in values] if all(randoms) else None)

    def unstacked(self, count: int) -> list[Latents]:
        states = self.generator_state if isinstance(self.generator_state, list) else [self.generator_state] * count
        return [Latents(samples, state) for samples, state in zip(unstacked_tensor(self.samples, count), states)]


@dataclass(eq=False)
class DiscreteLatents:
    """Vector-quantised latent class indices (B, H*W) plus the codebook size."""

    indices: Any
    num_classes: int
    height: int
    width: int


@dataclass(eq=False)
class Image:
    """Images as a float tensor (B, C, H, W) with values in [0, 1], on the CPU."""

    pixels: Any

    @classmethod
    def stacked(cls, values: list[Image]) -> Image | None:
        pixels = stacked_tensors([value.pixels for value in values])
        return None if pixels is None else cls(pixels)

    def unstacked(self, count: int) -> list[Image]:
        return [type(self)(pixels) for pixels in unstacked_tensor(self.pixels, count)]


@dataclass(eq=False)
class ClassLabels:
    """Integer class ids (ImageNet for DiT) as a 1-D tensor."""

    ids: Any

    @classmethod
    def stacked(cls, values: list[ClassLabels]) -> ClassLabels | None:
        """One label per prompt (a prompt of several draws them from one seed's stream: it runs alone)."""
        if any(len(value.ids) != 1 for value in values):
            return None
        return cls(stacked_tensors([value.ids for value in values]))

    def unstacked(self, count: int) -> list[ClassLabels]:
        return [ClassLabels(ids) for ids in unstacked_tensor(self.ids, count)]


# ControlNet


class ControlNet(ModelHandle):
    """A ControlNetModel: residuals for a UNet's down and mid blocks, from a conditioning image."""


@dataclass(eq=False, frozen=True)
class Control:
    """One ControlNet applied to a conditioning: its image (pixels in [0, 1]), the scale of its residuals, and
    the fractions of the denoising steps between which it acts (control_guidance_start/end)."""

    controlnet: ControlNet
    image: Image
    scale: float
    start: float
    end: float


# --- SDXL ---------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class SDXLUNet(ModelHandle):
    """An SDXL UNet2DConditionModel (added "text_time" conditioning: pooled text embeds + size/crop ids), with the
    pipeline settings its folder records: whether it takes an aesthetic score instead of the target size (refiner),
    whether an empty negative prompt means zeros, and the VAE's pixels per latent (for the default sizes)."""

    requires_aesthetics_score: bool = False
    force_zeros_for_empty_prompt: bool = True
    vae_scale_factor: int = 8


@dataclass(eq=False)
class SDXLConditioning:
    """SDXL text conditioning: both encoders' hidden states side by side, the second's pooled projection, and the
    size and crop conditioning (sizes are (height, width); None means the image's size). `empty_prompt` marks the
    pipeline's "no negative prompt", which the model may turn into zeros.

    Stacks for batch nodes when the prompts share everything but the embeddings, and no ControlNets are attached."""

    embeds: Any
    pooled: Any
    empty_prompt: bool = False
    original_size: tuple[int, int] | None = None
    crops_coords_top_left: tuple[int, int] = (0, 0)
    target_size: tuple[int, int] | None = None
    aesthetic_score: float = 6.0
    controls: tuple = ()

    @classmethod
    def stacked(cls, values: list[SDXLConditioning]) -> SDXLConditioning | None:
        first = values[0]
        if any(value.controls or value._size_conditioning() != first._size_conditioning() for value in values):
            return None
        embeds = stacked_tensors([value.embeds for value in values])
        pooled = stacked_tensors([value.pooled for value in values])
        if embeds is None or pooled is None:
            return None
        return replace(first, embeds=embeds, pooled=pooled)

    def unstacked(self, count: int) -> list[SDXLConditioning]:
        return [replace(self, embeds=embeds, pooled=pooled)
                for embeds, pooled in zip(unstacked_tensor(self.embeds, count), unstacked_tensor(self.pooled, count))]

    def _size_conditioning(self) -> tuple:
        return (self.empty_prompt, self.original_size, self.crops_coords_top_left, self.target_size,
                self.aesthetic_score)


# Inpainting


@dataclass(eq=False)
class Mask:
    """Masks as a float tensor (B, 1, H, W) in [0, 1] on the CPU: 1 (white in a mask image) = repaint, 0 = keep."""

    values: Any


@dataclass(eq=False)
class InpaintCrop:
    """Where `padding_mask_crop` cut the image, (x1, y1, x2, y2), with the original pixels (B, 3, H, W) and the
    mask as used (B, 1, H, W), to paste the repainted crop back into the original."""

    coords: tuple[int, int, int, int]
    original: Any
    mask: Any


@dataclass(eq=False)
class InpaintLatents:
    """What StableDiffusionInpaintPipeline prepares before its loop, at latent size: the noise, the mask
    (1 = repaint), the latents of the image with its masked part blanked, and the latents of the whole image
    (None where neither the start nor a plain UNet's blend needs them). `generator_state` continues the seed's
    stream after these draws; `crop` is set when the work was done on a crop around the mask."""

    noise: Any
    mask: Any
    masked_image_latents: Any
    image_latents: Any
    strength: float
    generator_state: Any
    crop: InpaintCrop | None = None


def stacked_tensors(tensors: list[Any]) -> Any:
    """The tensors concatenated along the batch dimension; None when they do not fit one batch (a None among
    them, other shapes, dtypes or devices)."""
    import torch

    first = tensors[0]
    if any(t is None or t.shape[1:] != first.shape[1:] or t.dtype != first.dtype or t.device != first.device
           for t in tensors):
        return None
    return torch.cat(tensors)


def unstacked_tensor(tensor: Any, count: int) -> list[Any]:
    """`count` equal parts along the batch dimension, each its own copy (a view would keep the batch alive in the
    cache); a None gives Nones."""
    if tensor is None:
        return [None] * count
    return [part.clone() for part in tensor.chunk(count)]
