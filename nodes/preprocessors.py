"""Preprocessors that turn a picture into a ControlNet conditioning image, with no model to download.

Canny edges go through the stages of OpenCV's `cv2.Canny(image, low, high)` (3×3 Sobel, L1 gradient
magnitude, non-maximum suppression, hysteresis with 8-connectivity), the detector the canny ControlNets were
trained with. OpenCV is
not a dependency; numpy and scipy (which the schedulers need anyway) do each stage.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from nodeflow import node
from nodes.types import Image

Threshold = Annotated[int, Field(ge=0, le=1020)]  # on the L1 Sobel magnitude of 0–255 pixels (at most 4·255)

# Gradient direction → the offsets (rows, columns) of the two neighbours across the edge.
_ACROSS = {0: (0, 1), 45: (1, 1), 90: (1, 0), 135: (1, -1)}


@node("preprocessors.canny", category="image", version="1.0.0", display_name="Canny Edges")
def canny(image: Image, low_threshold: Threshold = 100, high_threshold: Threshold = 200) -> Image:
    """White edges on black, as cv2.Canny(gray, low_threshold, high_threshold) finds them: gradients above
    `high_threshold` start an edge, ones above `low_threshold` that touch an edge extend it."""
    if low_threshold > high_threshold:
        raise ValueError(f"low_threshold ({low_threshold}) must not exceed high_threshold ({high_threshold})")
    import numpy as np
    import torch

    gray = _gray_0_255(image.pixels.detach().float().cpu())
    edges = np.stack([_edges(picture, low_threshold, high_threshold) for picture in gray])
    return Image(torch.from_numpy(edges.astype(np.float32))[:, None].expand(-1, 3, -1, -1).contiguous())


def _gray_0_255(pixels: Any) -> Any:
    """(B, H, W) luma of RGB pixels as 8-bit values, with the weights OpenCV's RGB→gray uses."""
    import numpy as np

    rgb = np.rint(pixels.numpy() * 255.0)
    return np.rint(np.einsum("bchw,c->bhw", rgb, np.array([0.299, 0.587, 0.114])))


def _edges(gray: Any, low: int, high: int) -> Any:
    import numpy as np
    from scipy import ndimage

    dx = ndimage.sobel(gray, axis=1, mode="reflect")
    dy = ndimage.sobel(gray, axis=0, mode="reflect")
    magnitude = np.abs(dx) + np.abs(dy)
    thin = magnitude * _is_local_maximum(magnitude, np.degrees(np.arctan2(dy, dx)) % 180)
    strong, weak = thin > high, thin > low
    labels, _ = ndimage.label(weak, structure=np.ones((3, 3)))
    kept = np.unique(labels[strong])
    return np.isin(labels, kept[kept > 0])


def _is_local_maximum(magnitude: Any, angle: Any) -> Any:
    """Where the magnitude tops the neighbour before it across the edge (direction rounded to 45°) and is at
    least the one after it: an edge between two equal pixels stays one pixel wide, as in OpenCV."""
    import numpy as np

    padded = np.pad(magnitude, 1)
    height, width = magnitude.shape
    direction = (np.rint(angle / 45.0).astype(int) % 4) * 45
    keep = np.zeros(magnitude.shape, dtype=bool)
    for degrees, (dr, dc) in _ACROSS.items():
        ahead = padded[1 + dr : 1 + dr + height, 1 + dc : 1 + dc + width]
        behind = padded[1 - dr : 1 - dr + height, 1 - dc : 1 - dc + width]
        keep |= (direction == degrees) & (magnitude >= ahead) & (magnitude > behind)
    return keep
