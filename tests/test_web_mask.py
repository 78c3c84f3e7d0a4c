"""The mask painter in real headless Chromium at a laptop's 1440×900, against a real `nodeflow serve`: a stroke of
the brush and one of the eraser, saved through /upload/mask, give a PNG in the input folder whose alpha is 0
exactly where the brush painted and the eraser did not pass, and the image node then names that file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from web_support import Editor, browser, editor, serving  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(60)
LAPTOP = {"width": 1440, "height": 900}
WIDTH, HEIGHT = 96, 64
SHOTS = Path(os.environ.get("NODEFLOW_SHOTS", "/tmp/i12-shots"))
Point = tuple[float, float]


def photo() -> Image.Image:
    """A colourful image whose pixels all differ, so that a shifted or altered pixel shows."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    pixels = np.dstack([x * 255 // WIDTH, y * 255 // HEIGHT, 255 - (x + y) * 255 // (WIDTH + HEIGHT)])
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web_mask")
    (root / "input").mkdir()
    photo().save(root / "input" / "photo.png")
    with serving(root) as process:
        yield process


def brushed(segments: list[tuple[Point, Point]], radius: float) -> np.ndarray:
    """The pixels whose centre lies within `radius` of one of the segments, reckoned as the painter does."""
    covered = np.zeros((HEIGHT, WIDTH), dtype=bool)
    for (ax, ay), (bx, by) in segments:
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        for y in range(HEIGHT):
            for x in range(WIDTH):
                px, py = x + 0.5 - ax, y + 0.5 - ay
                t = max(0, min(1, (px * dx + py * dy) / length2)) if length2 else 0
                ex, ey = px - t * dx, py - t * dy
                covered[y, x] |= ex * ex + ey * ey <= radius * radius
    return covered


class Painter:
    """The open painter, worked with the mouse; records where its strokes went, in image pixels."""

    def __init__(self, editor: Editor) -> None:
        self.page = editor.page
        self.page.locator(".mask-painter").wait_for()
        self.box = self.page.evaluate("""() => {
            const box = document.querySelector('.mask-overlay').getBoundingClientRect();
            return { left: box.left, top: box.top, width: box.width, height: box.height };
        }""")

    def screen(self, x: float, y: float) -> tuple[int, int]:
        """The whole screen pixel nearest image point (x, y)."""
        return (round(self.box["left"] + x * self.box["width"] / WIDTH),
                round(self.box["top"] + y * self.box["height"] / HEIGHT))

    def image(self, point: tuple[int, int]) -> Point:
        return ((point[0] - self.box["left"]) * WIDTH / self.box["width"],
                (point[1] - self.box["top"]) * HEIGHT / self.box["height"])

    def stroke(self, tool: str, size: int, start: Point, end: Point, moves: int = 12) -> list[tuple[Point, Point]]:
        """Drags `tool` of diameter `size` from `start` to `end` (image pixels); returns the segments it painted."""
        self.page.click(f'.mask-painter .tool[data-tool="{tool}"]')
        self.page.fill(".mask-painter .brush-size", str(size))
        points = [self.screen(start[0] + (end[0] - start[0]) * i / moves, start[1] + (end[1] - start[1]) * i / moves)
                  for i in range(moves + 1)]
        self.page.mouse.move(*points[0])
        self.page.mouse.down()
        for point in points[1:]:
            self.page.mouse.move(*point)
        self.page.mouse.up()
        at = [self.image(point) for point in points]
        return [(at[0], at[0])] + list(zip(at, at[1:]))


def alpha_of(path: Path) -> np.ndarray:
    with Image.open(path) as saved:
        assert saved.mode == "RGBA"
        return np.asarray(saved)


def input_files(server: Any) -> set[str]:
    return {path.name for path in (server.root / "input").iterdir()}


@pytest.fixture
def painted(editor, server) -> tuple[Editor, str, set[str], np.ndarray]:
    """An image node on photo.png, a brush stroke and an eraser stroke painted on it and saved; the editor, the
    node, the files the save added to the input folder and where the mask should be."""
    before = input_files(server)
    editor.page.set_viewport_size(LAPTOP)
    load = editor.add("image.load", 300, 100)
    editor.type_into(load, "image", "photo.png")
    editor.node(load).locator(".paint-mask").click()
    painter = Painter(editor)
    brush = painter.stroke("brush", 11, (12.3, 30.4), (84.6, 33.2))
    eraser = painter.stroke("eraser", 7, (47.2, 10.1), (49.8, 55.7))
    SHOTS.mkdir(parents=True, exist_ok=True)
    editor.page.mouse.move(*painter.screen(70, 22))  # the brush cursor, shown in the screenshot
    editor.page.screenshot(path=str(SHOTS / "mask_painter.png"))
    editor.page.click(".mask-painter .save")
    editor.page.locator(".mask-painter").wait_for(state="detached")
    return editor, load, input_files(server) - before, brushed(brush, 11 / 2) & ~brushed(eraser, 7 / 2)


def test_the_saved_alpha_is_0_exactly_where_the_brush_painted_and_the_eraser_did_not(painted, server):
    _, _, (added,), expected = painted
    pixels = alpha_of(server.root / "input" / added)
    assert 200 < expected.sum() < WIDTH * HEIGHT // 2 and expected[:, 48].sum() == 0  # the eraser cut the stroke
    assert np.array_equal(pixels[..., 3] == 0, expected)
    assert set(np.unique(pixels[..., 3])) == {0, 255}
    assert np.array_equal(pixels[..., :3], np.asarray(photo()))
    assert np.array_equal(np.asarray(Image.open(server.root / "input" / "photo.png")), np.asarray(photo()))


def test_the_image_node_names_the_saved_file(painted):
    editor, load, added, _ = painted
    assert len(added) == 1 and next(iter(added)).startswith("photo_mask")
    assert {editor.field(load, "image").input_value()} == added
    assert {editor.workflow()["nodes"][load]["inputs"]["image"]} == added


def test_painting_again_starts_from_the_saved_mask(painted, server):
    editor, load, (first,), _ = painted
    editor.node(load).locator(".paint-mask").click()
    painter = Painter(editor)
    painter.stroke("eraser", 3, (5.0, 5.0), (6.0, 5.0), moves=1)  # far from the stroke: changes nothing
    editor.page.click(".mask-painter .save")
    editor.page.wait_for_function(f"""() => document.querySelector(
        '.node[data-id="{load}"] [data-input="image"] input.text').value !== '{first}'""")
    again = editor.field(load, "image").input_value()
    assert again.startswith("photo_mask") and again != first
    assert np.array_equal(alpha_of(server.root / "input" / again), alpha_of(server.root / "input" / first))


def test_cancel_closes_the_painter_and_keeps_the_image(editor, server):
    editor.page.set_viewport_size(LAPTOP)
    load = editor.add("image.load", 300, 100)
    editor.type_into(load, "image", "photo.png")
    editor.node(load).locator(".paint-mask").click()
    painter = Painter(editor)
    painter.stroke("brush", 9, (10.0, 10.0), (30.0, 10.0))
    editor.page.keyboard.press("Escape")
    editor.page.locator(".mask-painter").wait_for(state="detached")
    assert editor.workflow()["nodes"][load]["inputs"]["image"] == "photo.png"
    assert editor.node(load).count() == 1


def test_clear_unmarks_every_pixel(editor, server):
    editor.page.set_viewport_size(LAPTOP)
    before = input_files(server)
    load = editor.add("image.load", 300, 100)
    editor.type_into(load, "image", "photo.png")
    editor.node(load).locator(".paint-mask").click()
    Painter(editor).stroke("brush", 15, (10.0, 10.0), (80.0, 50.0))
    editor.page.click(".mask-painter .clear")
    editor.page.click(".mask-painter .save")
    editor.page.locator(".mask-painter").wait_for(state="detached")
    (added,) = input_files(server) - before
    assert (alpha_of(server.root / "input" / added)[..., 3] == 255).all()
