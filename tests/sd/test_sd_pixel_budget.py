"""The pixel budget on the shipped workflows: width × height × batch of the noise is checked before anything loads."""

from __future__ import annotations

from nodeflow import Limits, Workflow, default_registry, validate
from tests.pipeline_support import WORKFLOWS


def test_txt2img_beyond_the_pixel_budget_is_refused_naming_the_noise_width():
    workflow = Workflow.load(WORKFLOWS / "sd_txt2img.json").with_params({"width": 8192, "height": 4096})
    [problem] = validate(workflow, default_registry())
    assert (problem.code, problem.node_id, problem.input) == ("too_many_pixels", "noise", "width")
    assert "8192 × 4096 × 1 = 33,554,432 pixels" in problem.message


def test_txt2img_within_a_raised_budget_or_at_the_model_default_size_is_valid():
    workflow = Workflow.load(WORKFLOWS / "sd_txt2img.json")
    assert validate(workflow.with_params({"width": 8192, "height": 4096}), default_registry(),
                    Limits(max_pixels=8192 * 4096)) == []
    assert validate(workflow, default_registry(), Limits(max_pixels=1)) == []  # size left to the model
