"""Inpainting nodes: a mask from an image file, and StableDiffusionInpaintPipeline's preparation and loop.

The pipeline's two ways are both here: an inpainting UNet (9 input channels) takes the mask and the masked
image's latents beside its latents at every step; a plain UNet (4) denoises everything and, after each step,
the known region is put back, re-noised to the next timestep. The random draws come in the pipeline's order
(image latents where needed, noise, masked-image latents) from one CPU generator, so images equal its.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal, NamedTuple

from pydantic import Field

from nodeflow import Context, node
from nodeflow.fingerprint import path_fingerprint
from nodes.folder_inputs import InputImage
from nodes.image import to_pil
from nodes.latents import Seed, vae_scale_factor
from nodes.sampling import Guidance, _guidance, _loop, strength_timesteps
from nodes.schedulers import Steps, generator_state, set_steps
from nodes.types import VAE, Conditioning, Image, InpaintCrop, InpaintLatents, Latents, Mask, Scheduler, UNet
from nodes.vae import encode_normalized

MaskChannel = Literal["auto", "alpha", "luminance", "red", "green", "blue"]
Strength = Annotated[float, Field(ge=0.0, le=1.0)]


def _mask_fingerprint(literals: dict[str, Any], folders: Any) -> str:
    return path_fingerprint(folders.readable("input", literals["mask"], "mask"))


@node("inpaint.load_mask", category="image", version="1.0.0", display_name="Load Mask", fingerprint=_mask_fingerprint)
def load_mask(ctx: Context, mask: InputImage, channel: MaskChannel = "auto") -> Mask:
    """A mask from an image file of the input folder, 1 = repaint.

    "alpha" follows ComfyUI's LoadImage MASK: mask = 1 − alpha, so transparent pixels are repainted (the editor's
    mask painter, like ComfyUI's /upload/mask, stores the image with the painted mask in its alpha).
    "luminance" reads the file as the pipeline reads `mask_image`: its grey level, white = repaint.
    "red", "green", "blue": that channel, white = repaint. "auto": alpha when the file has one, else luminance.
    """
    import PIL.Image
    from diffusers.image_processor import VaeImageProcessor

    path = ctx.folders.readable("input", mask, "mask")
    if not path.is_file():
        raise FileNotFoundError(f"input 'mask': no image {mask!r} in the input folder {ctx.folders.input}")
    with PIL.Image.open(path) as opened:
        band = _mask_band(opened, channel)
    return Mask(VaeImageProcessor.numpy_to_pt(VaeImageProcessor.pil_to_numpy(band)))


def _mask_band(opened: Any, channel: MaskChannel) -> Any:
    """The mask as a PIL "L" image, white = repaint."""
    from PIL import ImageOps

    if channel == "auto":
        channel = "alpha" if opened.has_transparency_data else "luminance"
    if channel == "alpha":
        return ImageOps.invert(opened.convert("RGBA").getchannel("A"))
    if channel == "luminance":
        return opened.convert("L")
    return opened.convert("RGB").getchannel(channel[0].upper())


def _takes_mask(unet: UNet, latent: int) -> bool:
    """True for an inpainting UNet (latents + mask + masked-image latents in), False for a plain one."""
    channels = unet.config["in_channels"]
    if channels not in (latent, 2 * latent + 1):
        raise ValueError(f"input 'unet': a UNet with {channels} input channels can't inpaint; it takes {latent} "
                         f"(a plain UNet) or {2 * latent + 1} (an inpainting UNet)")
    return channels != latent


@node("inpaint.encode", category="latent", version="1.0.0", output="latents", display_name="VAE Encode (Inpaint)")
def encode_for_inpaint(
    ctx: Context, vae: VAE, unet: UNet, image: Image, mask: Mask, seed: Seed = 0, strength: Strength = 1.0,
    mask_blur: Annotated[int, Field(ge=0, le=256)] = 0, padding_mask_crop: Annotated[int, Field(ge=0)] = 0,
) -> InpaintLatents:
    """What the inpaint pipeline prepares from `image` and `mask` (at the image's size, rounded down to the
    VAE factor), drawing from a CPU generator seeded with `seed`: the image's latents (when `strength` < 1
    or the UNet is a plain one), the noise, then the latents of the image with the masked part blanked.
    The mask is binarized at 0.5 after a Gaussian blur of radius `mask_blur` (0: none), as
    `mask_processor.blur` then the pipeline do. `padding_mask_crop` > 0 works on a crop around the mask with
    that margin, scaled to the image's size (link "Paste Inpainted Crop" after the decode). `strength` is how
    far the denoise goes: 1 starts from pure noise."""
    import torch
    import torch.nn.functional as F
    from diffusers.utils.torch_utils import randn_tensor

    factor = vae_scale_factor(vae)
    init_image, mask_condition, crop = _prepare_pixels(image, mask, factor, mask_blur, padding_mask_crop)
    batch, _, height, width = init_image.shape
    if batch % mask_condition.shape[0]:
        raise ValueError(f"input 'mask': {mask_condition.shape[0]} masks for {batch} images; give one mask, "
                         "or as many as images")
    generator = torch.Generator().manual_seed(seed)
    dtype = unet.dtype
    image_latents = None
    if strength < 1.0 or not _takes_mask(unet, vae.config["latent_channels"]):
        image_latents = encode_normalized(ctx, vae, init_image.to(dtype=dtype), generator)
    shape = (batch, vae.config["latent_channels"], height // factor, width // factor)
    noise = randn_tensor(shape, generator=generator, device=torch.device(ctx.device), dtype=dtype)
    latent_mask = F.interpolate(mask_condition, size=shape[-2:]).to(ctx.device, dtype)
    masked_image = (init_image * (mask_condition < 0.5)).to(dtype=dtype)
    masked_image_latents = encode_normalized(ctx, vae, masked_image, generator).to(ctx.device, dtype)
    latent_mask = latent_mask.repeat(batch // latent_mask.shape[0], 1, 1, 1)
    return InpaintLatents(noise, latent_mask, masked_image_latents, image_latents, strength, generator.get_state(),
                          crop)


class _Pixels(NamedTuple):
    init_image: Any  # (B, 3, H, W) in [-1, 1]
    mask_condition: Any  # (B, 1, H, W), binarized
    crop: InpaintCrop | None


def _prepare_pixels(image: Image, mask: Mask, factor: int, blur: int, pad: int) -> _Pixels:
    """The pipeline's image and mask processing, on PIL masks as it does it (exact for 8-bit files): blur, the
    crop around the mask (pad > 0), crop and resize to the image's size, binarize the mask."""
    from diffusers.image_processor import VaeImageProcessor as Processor

    images = Processor(vae_scale_factor=factor)
    masks = Processor(vae_scale_factor=factor, do_normalize=False, do_binarize=True, do_convert_grayscale=True)
    pictures = Processor.numpy_to_pil(Processor.pt_to_numpy(mask.values.float().cpu()))
    if blur:
        pictures = [masks.blur(picture, blur_factor=blur) for picture in pictures]
    if not pad:
        init_image = images.preprocess(image.pixels)
        return _Pixels(init_image, masks.preprocess(pictures, *init_image.shape[-2:]), None)
    if len(pictures) != 1:
        raise ValueError(f"input 'padding_mask_crop': a crop takes one mask, not {len(pictures)}")
    height, width = images.get_default_height_width(image.pixels)
    coords = masks.get_crop_region(pictures[0], width, height, pad=pad)
    init_image = images.preprocess(to_pil(image), height, width, crops_coords=coords, resize_mode="fill")
    mask_condition = masks.preprocess(pictures, height, width, crops_coords=coords, resize_mode="fill")
    used_mask = Processor.numpy_to_pt(Processor.pil_to_numpy(pictures))
    return _Pixels(init_image, mask_condition, InpaintCrop(coords, image.pixels, used_mask))


@node("inpaint.paste_crop", category="image", version="1.0.0", display_name="Paste Inpainted Crop")
def paste_crop(image: Image, latents: InpaintLatents) -> Image:
    """The inpaint pipeline's last step under `padding_mask_crop`: the repainted crop scaled back into the
    original image, which stays as it was outside the mask (`apply_overlay`). Without a crop, `image` as is."""
    from diffusers.image_processor import VaeImageProcessor as Processor

    crop = latents.crop
    if crop is None:
        return image
    processor = Processor()
    originals = to_pil(Image(crop.original))
    masks = Processor.numpy_to_pil(Processor.pt_to_numpy(crop.mask))
    pasted = [processor.apply_overlay(masks[i % len(masks)], originals[i % len(originals)], repainted, crop.coords)
              for i, repainted in enumerate(to_pil(image))]
    return Image(Processor.numpy_to_pt(Processor.pil_to_numpy(pasted)))


@node("inpaint.denoise", category="sampling", version="1.0.0", display_name="Denoise (Inpaint)")
def denoise_inpaint(
    ctx: Context, unet: UNet, scheduler: Scheduler, latents: InpaintLatents, positive: Conditioning,
    negative: Conditioning | None = None, steps: Steps = 50, guidance_scale: Guidance = 7.5,
) -> Latents:
    """Inpainting as StableDiffusionInpaintPipeline does it: about steps × strength steps from the image
    noised to that point (from pure noise at strength 1). An inpainting UNet (9 input channels) sees the mask
    and the masked image; with a plain UNet (4) the unmasked region is reset to the image, re-noised to the
    next timestep, after every step."""
    import torch

    instance = scheduler.create()
    set_steps(instance, steps, ctx.device)
    timesteps = strength_timesteps(instance, steps, latents.strength)
    generator = torch.Generator()
    generator.set_state(latents.generator_state)
    noise = latents.noise.to(ctx.device)
    if latents.strength == 1.0:
        start = noise * instance.init_noise_sigma
    else:
        start = instance.add_noise(latents.image_latents, noise, timesteps[:1].repeat(noise.shape[0]))
    guidance = _guidance(unet, positive, negative, guidance_scale, 0.0, start)
    mask = latents.mask.to(ctx.device)
    after_step = None
    if _takes_mask(unet, noise.shape[1]):
        extra = torch.cat([mask, latents.masked_image_latents.to(ctx.device)], dim=1)
        guidance = guidance._replace(extra_channels=torch.cat([extra] * 2) if guidance.guided else extra)
    else:
        after_step = _blend_back(instance, timesteps, latents.image_latents.to(ctx.device), noise, mask)
    result = _loop(ctx, unet, instance, timesteps, start, generator, guidance, 0, after_step)
    return Latents(result, generator_state(generator))


def _blend_back(instance: Any, timesteps: Any, known: Any, noise: Any, mask: Any) -> Callable[[int, Any], Any]:
    """The plain-UNet step hook: outside the mask, the image's latents noised to the next timestep."""

    def blend(i: int, stepped: Any) -> Any:
        renoised = known if i == len(timesteps) - 1 else instance.add_noise(known, noise, timesteps[i + 1 : i + 2])
        return (1 - mask) * renoised + mask * stepped

    return blend
