"""The sampler × scheduler mapping: the σ lists of the pairs called exact follow the published formulas that
ComfyUI computes, and the table in the README is the one in code."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nodes.comfy_samplers import comfy_scheduler, is_exact, pairs_table
from nodes.types import Scheduler
from tiny_models.sd import SD_SCHEDULER_CONFIG

SD_SCHEDULER = Scheduler("PNDMScheduler", {**SD_SCHEDULER_CONFIG, "_class_name": "PNDMScheduler"})


def _table_sigmas() -> np.ndarray:
    """σ_t = √((1 − ᾱ_t) / ᾱ_t) for SD's scaled-linear betas, t = 0 … 999."""
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=np.float64) ** 2
    alphas_cumprod = np.cumprod(1 - betas)
    return ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5


def _sigmas(sampler_name: str, scheduler: str, steps: int) -> np.ndarray:
    instance = comfy_scheduler(SD_SCHEDULER, sampler_name, scheduler, "test").create()
    instance.set_timesteps(steps)
    return instance.sigmas.double().numpy()


def _timestep(sigma: float, table: np.ndarray) -> float:
    """ComfyUI's timestep(σ): linear in log σ between the two table entries around it."""
    log_sigmas, log_sigma = np.log(table), np.log(sigma)
    low = min(int((log_sigma - log_sigmas >= 0).sum()) - 1, len(table) - 2)
    weight = np.clip((log_sigmas[low] - log_sigma) / (log_sigmas[low] - log_sigmas[low + 1]), 0, 1)
    return (1 - weight) * low + weight * (low + 1)


def test_karras_sigmas_are_karras_formula_between_the_models_extreme_sigmas():
    table, steps, rho = _table_sigmas(), 12, 7.0
    ramp = np.linspace(0, 1, steps)
    expected = (table[-1] ** (1 / rho) + ramp * (table[0] ** (1 / rho) - table[-1] ** (1 / rho))) ** rho
    sigmas = _sigmas("euler", "karras", steps)
    np.testing.assert_allclose(sigmas[:-1], expected, rtol=5e-5)  # diffusers keeps the betas in float32
    assert sigmas[-1] == 0


def test_exponential_sigmas_are_evenly_spaced_in_log_sigma():
    table, steps = _table_sigmas(), 9
    expected = np.exp(np.linspace(np.log(table[-1]), np.log(table[0]), steps))
    np.testing.assert_allclose(_sigmas("euler", "exponential", steps)[:-1], expected, rtol=5e-5)  # diffusers keeps the betas in float32


def test_normal_sigmas_are_table_entries_when_steps_minus_one_divides_999():
    table = _table_sigmas()
    expected = table[np.linspace(999, 0, 10).round().astype(int)]
    np.testing.assert_allclose(_sigmas("euler", "normal", 10)[:-1], expected, rtol=5e-5)  # diffusers keeps the betas in float32


def test_timesteps_given_to_the_model_are_comfyuis_timestep_of_each_sigma():
    table = _table_sigmas()
    instance = comfy_scheduler(SD_SCHEDULER, "euler", "karras", "test").create()
    instance.set_timesteps(7)
    expected = [_timestep(sigma, table) for sigma in instance.sigmas[:-1].double().numpy()]
    np.testing.assert_allclose(instance.timesteps.double().numpy(), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(("sampler_name", "scheduler", "exact"), [
    ("euler", "karras", True), ("ddim", "exponential", True), ("euler", "normal", False),
    ("euler_ancestral", "karras", False), ("dpmpp_2m", "karras", False), ("dpm_fast", "karras", False),
])
def test_exact_pairs_are_deterministic_euler_on_karras_or_exponential(sampler_name, scheduler, exact):
    assert is_exact(sampler_name, scheduler) is exact


def test_the_readme_table_is_the_mapping_in_code():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.*) \| (.*) \|$", readme, re.MULTILINE)
    documented = {name: (set(re.findall(r"`(\w+)`", exact)), set(re.findall(r"`(\w+)`", approx)))
                  for name, exact, approx in rows}
    in_code: dict[str, tuple[set, set]] = {}
    for sampler_name, scheduler, kind in pairs_table():
        if kind != "refused":
            in_code.setdefault(sampler_name, (set(), set()))[kind == "approximate"].add(scheduler)
    assert documented == in_code
