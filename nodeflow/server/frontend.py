"""Which editor `serve` hands to browsers: `--frontend nodeflow` (our `web/`, the default) or `comfyui`.

`comfyui` is the static build of the official ComfyUI frontend from the PyPI
package `comfyui-frontend-package` (the optional extra `nodeflow[comfyui]`).
"""

from __future__ import annotations

from pathlib import Path

from ..shipped import shipped


class FrontendMissing(RuntimeError):
    """`--frontend comfyui` without the package installed."""


def frontend_dir(name: str) -> Path:
    """The folder of static files for `--frontend name`."""
    if name == "nodeflow":
        return shipped("web")
    try:
        import comfyui_frontend_package
    except ImportError:
        raise FrontendMissing("--frontend comfyui needs the ComfyUI frontend package: "
                              "pip install 'nodeflow[comfyui]'") from None
    return Path(comfyui_frontend_package.__file__).parent / "static"
