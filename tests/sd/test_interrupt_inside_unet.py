"""An interrupt during a UNet call ends the denoise inside that call, before the UNet's later blocks run."""

from __future__ import annotations

import torch

from nodeflow import Executor, Folders, Workflow, default_registry
from nodeflow.events import NodeProgress

from .conftest import WORKFLOWS


def test_interrupt_inside_the_unet_stops_the_first_step_before_the_up_blocks(tiny_sd, tmp_path):
    executor = Executor(default_registry(), device="cpu", folders=Folders(output=tmp_path, models=[tiny_sd.parent]))
    finished: list[str] = []

    def interrupt_after_the_mid_block(module, args, output):
        finished.append(type(module).__name__)
        if type(module).__name__.startswith("UNetMidBlock"):
            executor.interrupt()

    progress = []
    hook = torch.nn.modules.module.register_module_forward_hook(interrupt_after_the_mid_block)
    try:
        report = executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params={"model": "model", "steps": 3},
                              on_event=lambda e: progress.append(e) if isinstance(e, NodeProgress) else None)
    finally:
        hook.remove()
    assert report.interrupted and "denoise" not in report.executed
    assert progress == [], "not even the first step ended"
    after_mid = finished[[name.startswith("UNetMidBlock") for name in finished].index(True):]
    assert not any("UpBlock" in name for name in after_mid)
    assert not any(module._forward_pre_hooks for module in report.value("model", "unet").module.modules())
