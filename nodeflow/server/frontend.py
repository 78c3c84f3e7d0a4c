"""Which editor `serve` hands to browsers: `--frontend nodeflow` (our `web/`, the default) or `comfyui`.

`comfyui` is the static build of the official ComfyUI frontend from the PyPI
package `comfyui-frontend-package` (the optional extra `nodeflow[comfyui]`).
"""

from __future__ import annotations

from pathlib import Path

from ..shipped import shipped
from .extras import require


def frontend_dir(name: str) -> Path:
    """The folder of static files for `--frontend name`."""
    if name == "nodeflow":
        return shipped("web")
    require("comfyui_frontend_package", "--frontend comfyui", "the ComfyUI frontend package", "comfyui")
    import comfyui_frontend_package

    return Path(comfyui_frontend_package.__file__).parent / "static"
