"""A step count a scheduler cannot run fails at once, naming the `steps` input and the most it takes."""

from __future__ import annotations

import pytest

from nodeflow import Executor, Folders, Workflow, default_registry
from nodes.schedulers import set_steps
from tiny_models.sd import SD_SCHEDULER_CONFIG

from .conftest import WORKFLOWS


def test_1000_steps_with_sds_own_scheduler_fail_naming_the_input_and_the_most_it_runs(tiny_sd, tmp_path):
    executor = Executor(default_registry(), device="cpu", folders=Folders(output=tmp_path, models=[tiny_sd.parent]))
    report = executor.run(Workflow.load(WORKFLOWS / "sd_txt2img.json"), params={"model": "model", "steps": 1000})
    [failure] = report.failures
    assert failure.node_id == "denoise"
    assert failure.message == "input 'steps': 1000 is more than this PNDMScheduler can run; at most 999"


@pytest.mark.parametrize(("class_name", "config", "steps", "most"), [
    ("DDIMScheduler", SD_SCHEDULER_CONFIG, 1000, 999),
    ("DDPMScheduler", SD_SCHEDULER_CONFIG, 1000, 999),
    ("VQDiffusionScheduler", {"num_vec_classes": 17, "num_train_timesteps": 100}, 101, 100),
    ("LCMScheduler", SD_SCHEDULER_CONFIG, 51, 50),
])
def test_the_most_steps_a_scheduler_runs_follow_its_config(class_name, config, steps, most):
    import diffusers

    scheduler = getattr(diffusers, class_name).from_config(config)
    set_steps(scheduler, most)
    expected = f"input 'steps': {steps} is more than this {class_name} can run; at most {most}$"
    with pytest.raises(ValueError, match=expected):
        set_steps(scheduler, steps)


def test_schedulers_with_interpolated_timesteps_run_1000_steps():
    from diffusers import EulerDiscreteScheduler

    scheduler = EulerDiscreteScheduler.from_config(SD_SCHEDULER_CONFIG)
    set_steps(scheduler, 1000)
    assert len(scheduler.timesteps) == 1000


@pytest.mark.parametrize("node_id", ["unet_2", "step_2"])
def test_a_step_index_past_the_schedulers_timesteps_fails_naming_the_input(tiny_sd, tmp_path, node_id):
    workflow = Workflow.load(WORKFLOWS / "sd_unet_step_loop.json").with_params({"model": "model"})
    workflow.nodes[node_id].inputs["index"] = 99  # the loop sets 3 steps (PNDM: 4 timesteps)
    executor = Executor(default_registry(), device="cpu", folders=Folders(output=tmp_path, models=[tiny_sd.parent]))
    [failure] = executor.run(workflow).failures
    assert failure.node_id == node_id
    assert failure.message == "input 'index': 99 is outside the 4 timesteps of this scheduler state (numbered from 0)"
