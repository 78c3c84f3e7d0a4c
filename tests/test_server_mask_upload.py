"""`POST /upload/mask` (ComfyUI's route): a painted mask written into the alpha of a copy of the image painted on."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from aiohttp import FormData
from PIL import Image

from tests.server_support import start_client

pytestmark = pytest.mark.asyncio
SIZE = (6, 4)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _photo() -> Image.Image:
    """An RGB image whose every pixel differs, so a misplaced or shifted pixel shows."""
    pixels = np.arange(SIZE[0] * SIZE[1] * 3, dtype=np.uint8).reshape(SIZE[1], SIZE[0], 3)
    return Image.fromarray(pixels, "RGB")


def _painted(alpha: np.ndarray) -> bytes:
    """The painter's PNG: black, its alpha the alpha to write (0 where painted)."""
    return _png(Image.fromarray(np.dstack([np.zeros_like(alpha)] * 3 + [alpha]), "RGBA"))


def _hole() -> np.ndarray:
    alpha = np.full((SIZE[1], SIZE[0]), 255, dtype=np.uint8)
    alpha[1:3, 2:5] = 0
    return alpha


def _form(mask: bytes, original_ref: object = None, filename: str = "photo_mask.png", **fields: str) -> FormData:
    form = FormData()
    form.add_field("image", mask, filename=filename, content_type="image/png")
    if original_ref is not None:
        form.add_field("original_ref", original_ref if isinstance(original_ref, str) else json.dumps(original_ref))
    for name, value in fields.items():
        form.add_field(name, value)
    return form


PHOTO_REF = {"filename": "photo.png", "subfolder": "", "type": "input"}


async def _serve_photo(aiohttp_client, tmp_path, **config_overrides):
    """A server whose input folder holds photo.png."""
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "photo.png").write_bytes(_png(_photo()))
    return await start_client(aiohttp_client, tmp_path, **config_overrides)


async def _refusal(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["message"]


async def test_the_saved_png_is_the_original_with_the_painted_alpha(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF))
    assert response.status == 200
    assert await response.json() == {"name": "photo_mask.png", "subfolder": "", "type": "input"}
    with Image.open(tmp_path / "input" / "photo_mask.png") as saved:
        assert saved.mode == "RGBA"
        pixels = np.asarray(saved)
    assert np.array_equal(pixels[..., 3], _hole())
    assert np.array_equal(pixels[..., :3], np.asarray(_photo()))


async def test_the_original_is_kept_unchanged(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    before = (tmp_path / "input" / "photo.png").read_bytes()
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF))
    assert response.status == 200
    assert (tmp_path / "input" / "photo.png").read_bytes() == before


async def test_a_taken_name_gets_a_free_one_and_a_subfolder_is_honoured(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    first = await (await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF))).json()
    second = await (await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF))).json()
    in_clipspace = await (await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF,
                                                                         subfolder="clipspace"))).json()
    assert (first["name"], second["name"]) == ("photo_mask.png", "photo_mask (1).png")
    assert in_clipspace == {"name": "photo_mask.png", "subfolder": "clipspace", "type": "input"}
    assert (tmp_path / "input" / "clipspace" / "photo_mask.png").is_file()


async def test_a_mask_on_an_image_in_a_subfolder_of_output(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    (tmp_path / "output" / "run").mkdir(parents=True)
    (tmp_path / "output" / "run" / "made.png").write_bytes(_png(_photo()))
    ref = {"filename": "made.png", "subfolder": "run", "type": "output"}
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), ref, filename="made_mask.png"))
    assert response.status == 200
    with Image.open(tmp_path / "input" / "made_mask.png") as saved:
        assert np.array_equal(np.asarray(saved)[..., 3], _hole())


@pytest.mark.parametrize("original_ref, words", [
    (None, "field 'original_ref' is required"),
    ("{not json", "field 'original_ref' is not JSON"),
    (["photo.png"], "field 'original_ref' must be"),
    ({"subfolder": ""}, "field 'original_ref' must be"),
    ({"filename": "photo.png", "type": "models"}, "field 'original_ref': type must be one of output, input, temp"),
    ({"filename": "missing.png"}, "field 'original_ref' names no file 'missing.png' in input"),
])
async def test_a_bad_original_ref_is_refused_naming_the_field(aiohttp_client, tmp_path, original_ref, words):
    client = await _serve_photo(aiohttp_client, tmp_path)
    status, message = await _refusal(await client.post("/upload/mask", data=_form(_painted(_hole()), original_ref)))
    assert status == 400 and words in message
    assert sorted(p.name for p in (tmp_path / "input").iterdir()) == ["photo.png"]


async def test_an_original_that_is_not_an_image_is_refused_naming_the_field(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    (tmp_path / "input" / "notes.png").write_text("not an image")
    ref = {"filename": "notes.png"}
    status, message = await _refusal(await client.post("/upload/mask", data=_form(_painted(_hole()), ref)))
    assert status == 400 and "field 'original_ref'" in message and "not an image" in message


async def test_a_mask_of_another_size_is_refused_naming_the_field(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    small = _painted(np.zeros((2, 2), dtype=np.uint8))
    status, message = await _refusal(await client.post("/upload/mask", data=_form(small, PHOTO_REF)))
    assert status == 400 and "field 'image'" in message and "2x2" in message and "6x4" in message


async def test_a_mask_without_alpha_is_refused_naming_the_field(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    opaque = _png(Image.new("RGB", SIZE))
    status, message = await _refusal(await client.post("/upload/mask", data=_form(opaque, PHOTO_REF)))
    assert status == 400 and "field 'image'" in message and "alpha" in message


async def test_a_mask_name_that_is_not_png_is_refused_naming_the_field(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF, filename="photo_mask.jpg"))
    status, message = await _refusal(response)
    assert status == 400 and "field 'image'" in message and ".png" in message


async def test_a_mask_that_is_not_an_image_is_refused(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    status, message = await _refusal(await client.post("/upload/mask", data=_form(b"#!/bin/sh\n", PHOTO_REF)))
    assert status == 400 and "not an image" in message


@pytest.mark.parametrize("original_ref", [
    {"filename": "../secret.png"},
    {"filename": "secret.png", "subfolder": ".."},
    {"filename": "/etc/passwd"},
])
async def test_an_original_ref_outside_the_folders_is_refused(aiohttp_client, tmp_path, original_ref):
    client = await _serve_photo(aiohttp_client, tmp_path)
    Image.new("RGB", SIZE).save(tmp_path / "secret.png")
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), original_ref))
    assert response.status == 403
    assert sorted(p.name for p in (tmp_path / "input").iterdir()) == ["photo.png"]


async def test_an_original_reached_through_a_symlink_is_refused(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    (tmp_path / "input" / "alias.png").symlink_to(tmp_path / "input" / "photo.png")
    response = await client.post("/upload/mask", data=_form(_painted(_hole()), {"filename": "alias.png"}))
    assert response.status == 403


async def test_the_mask_is_never_written_outside_the_input_folder(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    escapes = [_form(_painted(_hole()), PHOTO_REF, subfolder="../.."),
               _form(_painted(_hole()), PHOTO_REF, type="output")]
    statuses = [(await client.post("/upload/mask", data=form)).status for form in escapes]
    assert statuses == [403, 400]
    assert sorted(p.name for p in (tmp_path / "input").iterdir()) == ["photo.png"]
    assert list(tmp_path.glob("*.png")) == [] and list((tmp_path / "output").glob("*.png")) == []


async def test_the_upload_caps_hold_for_masks(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path)
    crowded = _form(_painted(_hole()), PHOTO_REF)
    for n in range(10):
        crowded.add_field(f"extra{n}", "x")
    status, message = await _refusal(await client.post("/upload/mask", data=crowded))
    assert status == 413 and "at most 8 parts" in message


async def test_a_mask_larger_than_max_pixels_is_refused_before_the_original_is_read(aiohttp_client, tmp_path):
    client = await _serve_photo(aiohttp_client, tmp_path, max_pixels=10)
    status, message = await _refusal(await client.post("/upload/mask", data=_form(_painted(_hole()), PHOTO_REF)))
    assert status == 413 and "--max-pixels" in message
