"""`GET /view`, `POST /upload/image` and `POST /upload/mask`: files in the output, input and temp folders, and nowhere else."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ..folders import Folders, UnsafePath
from .bodies import body_deadline, json_error, json_response
from .keys import CONFIG

routes = web.RouteTableDef()
VIEWABLE = ("output", "input", "temp")
UPLOADABLE = ("input", "temp")
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP"}
_CHUNK = 1 << 16
MAX_UPLOAD_PARTS = 8  # the image, type, subfolder, overwrite, and room for what ComfyUI clients add
MAX_FIELD_BYTES = 4096
# A file in these folders is shown, never run: no sniffing its type, no scripts if it turns out to be HTML.
VIEW_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def _folders(request: web.Request) -> Folders:
    return request.app[CONFIG].folders()


def resolve_inside(folders: Folders, kind: str, subfolder: str, name: str) -> Path:
    """The path of `subfolder/name` in folder `kind`; 403 when it would leave it or pass through a symlink."""
    try:
        path = folders.inside(kind, name, subfolder)  # type: ignore[arg-type]
    except UnsafePath as exc:
        raise json_error(403, str(exc)) from None
    root = folders.root(kind)  # type: ignore[arg-type]
    step = path
    while step != root and step != step.parent:
        if step.is_symlink():
            raise json_error(403, f"{name!r} goes through a symbolic link, which is not served")
        step = step.parent
    return path


@routes.get("/view")
async def view(request: web.Request) -> web.StreamResponse:
    kind = request.query.get("type", "output")
    name = request.query.get("filename", "")
    if kind not in VIEWABLE:
        raise json_error(400, f"type must be one of {', '.join(VIEWABLE)}")
    if not name:
        raise json_error(400, "filename is required")
    path = resolve_inside(_folders(request), kind, request.query.get("subfolder", ""), name)
    if not path.is_file():
        raise json_error(404, f"no file {name!r} in {kind}")
    return web.FileResponse(path, headers=VIEW_HEADERS)


def _check_image(data: bytes, max_pixels: int) -> str:
    """The image's format; 413 when larger than `max_pixels` (read from the header, before any decoding)."""
    from PIL import Image, UnidentifiedImageError

    too_large = f"the image is larger than the limit of {max_pixels} pixels (--max-pixels)"
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise json_error(413, f"the image is {width}x{height} pixels; {too_large}")
            image.verify()
            kind = image.format
    except Image.DecompressionBombError as exc:
        raise json_error(413, f"{too_large}: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise json_error(400, f"the upload is not an image: {exc}") from None
    if kind not in IMAGE_FORMATS:
        raise json_error(400, f"image format {kind} is not accepted (use {', '.join(sorted(IMAGE_FORMATS))})")
    return kind


def _check_file_name(name: str) -> None:
    if name in (".", "..") or "\x00" in name or "/" in name or "\\" in name:
        raise json_error(400, f"file name {name!r} must be a plain file name (no folders, NUL or '.'); "
                              "use the 'subfolder' field for folders")


def _free_name(folder: Path, name: str) -> str:
    """`name`, or `stem (n).ext` for the first n that is not taken (ComfyUI's rule)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while (folder / candidate).exists():
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    return candidate


async def _read_part(part: BodyPartReader, limit: int, what: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        if len(data) > limit:
            raise json_error(413, f"{what} is larger than the limit of {limit} bytes")
    return bytes(data)


async def _read_upload(request: web.Request, limit: int) -> tuple[dict[str, str], tuple[str, bytes]]:
    """The form fields and the one image of an upload; refused at the first part beyond the caps."""
    fields: dict[str, str] = {}
    image: tuple[str, bytes] | None = None
    try:
        reader = await request.multipart()
        parts = 0
        while (part := await reader.next()) is not None:
            parts += 1
            if parts > MAX_UPLOAD_PARTS:
                raise json_error(413, f"an upload has at most {MAX_UPLOAD_PARTS} parts (the image and a few fields)")
            if not isinstance(part, BodyPartReader):
                raise json_error(400, "nested multipart bodies are not accepted")
            if part.name == "image":
                if image is not None:
                    raise json_error(400, "an upload holds one 'image'")
                image = (part.filename or "", await _read_part(part, limit, "the upload"))
            elif part.name:
                value = await _read_part(part, MAX_FIELD_BYTES, f"field {part.name!r}")
                fields[part.name] = value.decode("utf-8", "replace")
    except (ValueError, AssertionError, HttpProcessingError) as exc:  # aiohttp's words for a malformed form
        raise json_error(400, f"the body is not a valid multipart form: {exc}") from None
    if image is None or not image[0]:
        raise json_error(400, "multipart field 'image' with a filename is required")
    return fields, image


async def _receive_image(request: web.Request) -> tuple[dict[str, str], str, bytes]:
    """The fields, file name and bytes of an uploaded image, within the upload caps and checked to be an image."""
    config = request.app[CONFIG]
    limit = int(config.max_upload_mb * 2**20)
    if request.content_length is not None and request.content_length > limit + _CHUNK:
        raise json_error(413, f"upload is larger than the limit of {limit} bytes")
    async with body_deadline(request):
        fields, (name, data) = await _read_upload(request, limit)
    if fields.get("type", "input") not in UPLOADABLE:
        raise json_error(400, f"type must be one of {', '.join(UPLOADABLE)}")
    _check_file_name(name)
    await asyncio.to_thread(_check_image, data, config.max_pixels)
    return fields, name, data


def _save_upload(request: web.Request, fields: dict[str, str], name: str, data: bytes) -> web.Response:
    """Writes `data` as `name` (or a free name, unless the form says overwrite) where the form's fields say."""
    folders, kind, subfolder = _folders(request), fields.get("type", "input"), fields.get("subfolder", "")
    target = resolve_inside(folders, kind, subfolder, name)
    if fields.get("overwrite", "").lower() not in ("true", "1"):
        name = _free_name(target.parent, name)
        target = resolve_inside(folders, kind, subfolder, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:  # a folder where a file goes, or back
        raise json_error(400, f"cannot save {name!r} in {kind} {subfolder!r}: {exc.strerror}") from None
    return json_response({"name": name, "subfolder": subfolder, "type": kind})


@routes.post("/upload/image")
async def upload_image(request: web.Request) -> web.Response:
    fields, name, data = await _receive_image(request)
    return _save_upload(request, fields, name, data)


def _original_path(folders: Folders, fields: dict[str, str]) -> Path:
    """The image that `original_ref` (JSON {filename, subfolder, type}) names; 400 naming the field when it names
    none, 403 when it would leave its folder."""
    if "original_ref" not in fields:
        raise json_error(400, "field 'original_ref' is required: JSON {filename, subfolder, type} of the image painted on")
    try:
        ref = json.loads(fields["original_ref"])
    except ValueError as exc:
        raise json_error(400, f"field 'original_ref' is not JSON: {exc}") from None
    if not (isinstance(ref, dict) and isinstance(ref.get("filename"), str) and ref["filename"]
            and isinstance(ref.get("subfolder", ""), str)):
        raise json_error(400, "field 'original_ref' must be JSON {filename, subfolder, type} with a filename")
    kind = ref.get("type", "input")
    if kind not in VIEWABLE:
        raise json_error(400, f"field 'original_ref': type must be one of {', '.join(VIEWABLE)}")
    path = resolve_inside(folders, kind, ref.get("subfolder", ""), ref["filename"])
    if not path.is_file():
        raise json_error(400, f"field 'original_ref' names no file {ref['filename']!r} in {kind}")
    return path


def _with_painted_alpha(original: Path, painted: bytes) -> bytes:
    """A PNG of `original` whose alpha is the painted image's alpha (0 where masked: LoadImage's mask is 1 - alpha).
    The painted image was checked against --max-pixels, and the original must have its size, so neither is large."""
    from PIL import Image, UnidentifiedImageError

    with Image.open(io.BytesIO(painted)) as mask:
        if not mask.has_transparency_data:
            raise json_error(400, "field 'image' must be a PNG with an alpha channel (alpha 0 where painted)")
        try:
            with Image.open(original) as image:
                if image.size != mask.size:
                    raise json_error(400, f"field 'image' is {mask.width}x{mask.height} pixels but the image painted "
                                          f"on is {image.width}x{image.height}")
                combined = image.convert("RGBA")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise json_error(400, f"field 'original_ref' names a file that is not an image: {exc}") from None
        combined.putalpha(mask.convert("RGBA").getchannel("A"))
    buffer = io.BytesIO()
    combined.save(buffer, format="PNG")
    return buffer.getvalue()


@routes.post("/upload/mask")
async def upload_mask(request: web.Request) -> web.Response:
    """ComfyUI's mask upload: `image` is the painted PNG, its alpha the mask; saved as a copy of the image that
    `original_ref` names with that alpha."""
    fields, name, painted = await _receive_image(request)
    if Path(name).suffix.lower() != ".png":
        raise json_error(400, f"field 'image' is saved as PNG: its filename {name!r} must end in .png")
    original = _original_path(_folders(request), fields)
    data = await asyncio.to_thread(_with_painted_alpha, original, painted)
    return _save_upload(request, fields, name, data)
