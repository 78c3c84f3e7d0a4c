"""ControlNet nodes: load a ControlNetModel, apply it (stackable) to the conditionings of SD or SDXL; and the
residuals the denoise nodes add to the UNet, computed as StableDiffusion(XL)ControlNetPipeline computes them.

A ControlNet acts on the whole guided batch ([negative, positive]) with one image, as in the pipeline; several
applied in a row sum their residuals (MultiControlNetModel). The control image is prepared once per denoise,
at the size of the latents, with the pipeline's `prepare_image`.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack, contextmanager
from typing import Annotated, Any, Iterator, NamedTuple, Sequence, TypeVar

from pydantic import Field

from nodeflow import Context, node
from nodes._pipeline_folders import DType, Placement, model_fingerprint, module_config, pin, torch_dtype
from nodes.folder_inputs import CheckpointFile, ModelName
from nodes.image import to_pil
from nodes.model_locator import locate
from nodes.sd import checkpoint_fingerprint
from nodes.types import Conditioning, Control, ControlNet, Image, SDXLConditioning

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _handle(module: Any, source: str, device: Placement) -> ControlNet:
    if module.config.get("global_pool_conditions"):
        raise ValueError(f"ControlNet {source!r} pools its conditions (guess mode, e.g. shuffle), which these nodes "
                         "do not run")
    return pin(ControlNet(module.eval(), source, module.dtype, module_config(module)), device)


@node("controlnet.load", category="loaders", version="1.0.0", display_name="Load ControlNet", output="controlnet",
      fingerprint=model_fingerprint)
def load_controlnet(ctx: Context, model: ModelName, dtype: DType = "float32", device: Placement = "auto") -> ControlNet:
    """A ControlNetModel: a diffusers folder (in the models folder) or a hub id."""
    ref = locate(ctx.folders, model).ref
    from diffusers import ControlNetModel

    return _handle(ControlNetModel.from_pretrained(ref, torch_dtype=torch_dtype(dtype), use_safetensors=True), ref,
                   device)


@node("controlnet.load_checkpoint", category="loaders", version="1.0.0", display_name="Load ControlNet Checkpoint",
      output="controlnet", fingerprint=checkpoint_fingerprint)
def load_controlnet_checkpoint(
    ctx: Context, checkpoint: CheckpointFile, config: ModelName, dtype: DType = "float32", device: Placement = "auto"
) -> ControlNet:
    """A single-file ControlNet (.safetensors only; original or diffusers layout) with the diffusers ControlNet
    folder (or hub id) whose config describes it."""
    path = ctx.folders.readable("models", checkpoint, "checkpoint")
    if path.suffix != ".safetensors" or not path.is_file():
        raise ValueError(f"{checkpoint!r} is not a .safetensors file in the model folders (other formats unpickle)")
    config_source = locate(ctx.folders, config, input_name="config")
    from diffusers import ControlNetModel

    module = ControlNetModel.from_single_file(str(path), config=config_source.ref, torch_dtype=torch_dtype(dtype),
                                              local_files_only=config_source.path is not None)
    return _handle(module, str(path), device)


class ControlledConditioning(NamedTuple):
    positive: Conditioning
    negative: Conditioning


class ControlledSDXLConditioning(NamedTuple):
    positive: SDXLConditioning
    negative: SDXLConditioning


AnyConditioning = TypeVar("AnyConditioning", Conditioning, SDXLConditioning)
Scale = Annotated[float, Field(ge=0.0, le=10.0)]


def _with_control(positive: AnyConditioning, negative: AnyConditioning, controlnet: ControlNet, image: Image,
                  scale: float, start: float, end: float, for_sdxl: bool) -> tuple[AnyConditioning, AnyConditioning]:
    """Both conditionings with the control appended to the ones they carry (the work of both apply nodes)."""
    if start >= end:
        raise ValueError(f"start ({start}) must be below end ({end})")
    if (controlnet.config.get("addition_embed_type") == "text_time") != for_sdxl:
        made_for, node_name = ("SD", "Apply ControlNet (SD)") if for_sdxl else ("SDXL", "Apply ControlNet (SDXL)")
        raise ValueError(f"input 'controlnet': {controlnet.source!r} is a ControlNet for {made_for}: apply it with "
                         f"{node_name}")
    control = Control(controlnet, image, scale, start, end)
    return (dataclasses.replace(positive, controls=(*positive.controls, control)),
            dataclasses.replace(negative, controls=(*negative.controls, control)))


@node("controlnet.apply", category="conditioning", version="1.0.0", display_name="Apply ControlNet (SD)")
def apply_controlnet(
    positive: Conditioning, negative: Conditioning, controlnet: ControlNet, image: Image, scale: Scale = 1.0,
    start: Fraction = 0.0, end: Fraction = 1.0,
) -> ControlledConditioning:
    """Both conditionings with this ControlNet added to the ones they carry: its residuals, times `scale`, join
    the UNet's from the `start` to the `end` fraction of the steps (controlnet_conditioning_scale,
    control_guidance_start/end). Chain several to stack them."""
    return ControlledConditioning(*_with_control(positive, negative, controlnet, image, scale, start, end, False))


@node("controlnet.apply_sdxl", category="conditioning", version="1.0.0", display_name="Apply ControlNet (SDXL)")
def apply_controlnet_sdxl(
    positive: SDXLConditioning, negative: SDXLConditioning, controlnet: ControlNet, image: Image,
    scale: Scale = 1.0, start: Fraction = 0.0, end: Fraction = 1.0,
) -> ControlledSDXLConditioning:
    """Apply ControlNet for SDXL conditionings and an SDXL ControlNet, which reads the pooled text embeds and the
    size/crop ids as the UNet does (StableDiffusionXLControlNetPipeline). Chain several to stack them."""
    return ControlledSDXLConditioning(*_with_control(positive, negative, controlnet, image, scale, start, end, True))


class PreparedControl(NamedTuple):
    """A Control with its image as the ControlNet takes it for one denoise."""

    control: Control
    image: Any


def prepare_controls(positive: Conditioning | SDXLConditioning, negative: Conditioning | SDXLConditioning | None,
                     guided: bool, latents: Any) -> tuple[PreparedControl, ...]:
    """The positive conditioning's controls, images prepared for `latents` as the pipeline's `prepare_image` does
    (resized to the latents' size in pixels, repeated over the batch, twice under guidance)."""
    controls = positive.controls
    if guided and negative is not None and negative.controls != controls:
        raise ValueError("the negative conditioning carries other ControlNets than the positive one; a ControlNet "
                         "acts on both: link both through the same Apply ControlNet (SD) nodes")
    return tuple(PreparedControl(control, _prepare_image(control, guided, latents)) for control in controls)


def _prepare_image(control: Control, guided: bool, latents: Any) -> Any:
    import torch
    from diffusers.image_processor import VaeImageProcessor

    config = control.controlnet.config
    factor = 2 ** (len(config["conditioning_embedding_out_channels"]) - 1)
    processor = VaeImageProcessor(vae_scale_factor=factor, do_convert_rgb=True, do_normalize=False)
    batch, height, width = latents.shape[0], latents.shape[-2] * factor, latents.shape[-1] * factor
    # Through PIL, as the pipeline reads the images it is given: the same resampling when the size differs.
    image = processor.preprocess(to_pil(control.image), height=height, width=width).to(dtype=torch.float32)
    if image.shape[0] == 1:
        image = image.repeat_interleave(batch, dim=0)
    elif image.shape[0] != batch:
        raise ValueError(f"a ControlNet image batch of {image.shape[0]} does not fit latents of batch {batch}")
    image = image.to(device=latents.device, dtype=control.controlnet.dtype)
    return torch.cat([image] * 2) if guided else image


class ActiveControl(NamedTuple):
    """A prepared control with its ControlNet module in use."""

    module: Any
    prepared: PreparedControl


@contextmanager
def controls_in_use(ctx: Context, prepared: Sequence[PreparedControl]) -> Iterator[list[ActiveControl]]:
    """The ControlNet modules of `prepared`, each through `ctx.models.use` for the duration of the block."""
    with ExitStack() as stack:
        yield [ActiveControl(stack.enter_context(ctx.models.use(p.control.controlnet)), p) for p in prepared]


def control_residuals(controls: Sequence[ActiveControl], model_input: Any, t: Any, embeds: Any, step: int,
                      steps: int, added_cond_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The UNet keyword arguments that add the summed residuals of the controls acting at step `step` of `steps`
    ({} when none does). A control acts where the pipeline's controlnet_keep is 1; the others would add zeros.
    `added_cond_kwargs` are SDXL's (text_embeds, time_ids), which its ControlNets take as its UNet does."""
    down, mid = None, None
    for active in controls:
        control = active.prepared.control
        if step / steps < control.start or (step + 1) / steps > control.end:
            continue
        down_samples, mid_sample = active.module(
            model_input, t, encoder_hidden_states=embeds, controlnet_cond=active.prepared.image,
            conditioning_scale=control.scale, added_cond_kwargs=added_cond_kwargs, return_dict=False)
        if down is None:
            down, mid = down_samples, mid_sample
        else:
            down, mid = [a + b for a, b in zip(down, down_samples)], mid + mid_sample
    if down is None:
        return {}
    return {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
