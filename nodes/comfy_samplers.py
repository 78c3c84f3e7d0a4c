"""ComfyUI's `sampler_name` × `scheduler` pairs as diffusers schedulers, and which pairs are exact.

ComfyUI samples in k-diffusion's σ space: a sampler (the update rule) walks a list of σ that a scheduler
(the spacing) computes from the model's discrete σ table. Diffusers' discrete schedulers do the same from the
checkpoint's betas, so a pair maps onto one scheduler class (the sampler) with its spacing settings (the
scheduler). A pair is EXACT where both the update rule and the σ list follow the same published formula as
ComfyUI's (differences are float rounding only); APPROXIMATE where one of them differs (noted per name
below); pairs with no diffusers counterpart are refused.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from nodes.types import Scheduler

# ComfyUI's full lists, in its order, so that its workflows validate and its frontend shows every choice.
SamplerName = Literal[
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm",
    "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
    "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2",
]
SchedulerName = Literal[
    "normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta", "linear_quadratic",
    "kl_optimal",
]


class Sampler(NamedTuple):
    class_name: str
    settings: dict[str, Any]
    exact: bool  # the update rule is k-diffusion's (ComfyUI's) for deterministic steps
    note: str = ""


_SDE_PLUS = {"algorithm_type": "sde-dpmsolver++"}
SAMPLERS: dict[str, Sampler] = {
    "euler": Sampler("EulerDiscreteScheduler", {}, True),
    # ComfyUI's "ddim" runs k-diffusion's Euler step (DDIM with eta 0 is Euler in σ space).
    "ddim": Sampler("EulerDiscreteScheduler", {}, True, "ComfyUI's ddim is the Euler update"),
    "euler_ancestral": Sampler("EulerAncestralDiscreteScheduler", {}, False, "same rule; other noise per step"),
    "heun": Sampler("HeunDiscreteScheduler", {}, False, "diffusers' Heun takes its last step to σ=0 by Euler too"),
    "dpm_2": Sampler("KDPM2DiscreteScheduler", {}, False, "midpoint in log σ, interpolated timesteps"),
    "dpm_2_ancestral": Sampler("KDPM2AncestralDiscreteScheduler", {}, False, "other noise per step"),
    "lms": Sampler("LMSDiscreteScheduler", {}, False, "coefficients integrated numerically both ways"),
    "dpmpp_2m": Sampler("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}, False,
                        "same DPM-Solver++(2M), but diffusers steps in VP (α, σ) terms"),
    "dpmpp_2m_sde": Sampler("DPMSolverMultistepScheduler", {**_SDE_PLUS, "solver_order": 2}, False,
                            "other noise per step"),
    "dpmpp_2m_sde_gpu": Sampler("DPMSolverMultistepScheduler", {**_SDE_PLUS, "solver_order": 2}, False,
                                "other noise per step"),
    "dpmpp_3m_sde": Sampler("DPMSolverMultistepScheduler", {**_SDE_PLUS, "solver_order": 3}, False,
                            "diffusers' third order is DPM-Solver++(3M)'s, noise differs"),
    "dpmpp_3m_sde_gpu": Sampler("DPMSolverMultistepScheduler", {**_SDE_PLUS, "solver_order": 3}, False,
                                "as dpmpp_3m_sde"),
    "dpmpp_sde": Sampler("DPMSolverSDEScheduler", {}, False, "Brownian-tree noise seeded differently"),
    "dpmpp_sde_gpu": Sampler("DPMSolverSDEScheduler", {}, False, "as dpmpp_sde"),
    "ddpm": Sampler("DDPMScheduler", {}, False, "integer timesteps only"),
    "lcm": Sampler("LCMScheduler", {}, False, "diffusers' LCM picks its own timesteps"),
    "deis": Sampler("DEISMultistepScheduler", {}, False, "diffusers' DEIS is the log-ρ variant"),
    # diffusers' B(h)=h variant (bh1) divides by an infinite step on its last step to σ 0 (NaN): bh2 for both.
    "uni_pc": Sampler("UniPCMultistepScheduler", {"solver_type": "bh2"}, False, "ComfyUI's is bh1; this is bh2"),
    "uni_pc_bh2": Sampler("UniPCMultistepScheduler", {"solver_type": "bh2"}, False, "UniPC with B(h)=e^h-1"),
}

_NO_SIGMAS = {"use_karras_sigmas": False, "use_exponential_sigmas": False, "use_beta_sigmas": False}


class Spacing(NamedTuple):
    settings: dict[str, Any]
    exact: bool  # the σ list is ComfyUI's formula
    note: str = ""


SCHEDULERS: dict[str, Spacing] = {
    "karras": Spacing({"timestep_spacing": "linspace", **_NO_SIGMAS, "use_karras_sigmas": True}, True),
    "exponential": Spacing({"timestep_spacing": "linspace", **_NO_SIGMAS, "use_exponential_sigmas": True}, True),
    "normal": Spacing({"timestep_spacing": "linspace", **_NO_SIGMAS}, False,
                      "σ between table entries interpolated linearly, ComfyUI log-linearly (equal when steps−1 "
                      "divides 999)"),
    "simple": Spacing({"timestep_spacing": "trailing", **_NO_SIGMAS}, False,
                      "timesteps rounded, ComfyUI floors (equal when steps divides 1000)"),
    "sgm_uniform": Spacing({"timestep_spacing": "trailing", **_NO_SIGMAS}, False, "integer timesteps"),
    "ddim_uniform": Spacing({"timestep_spacing": "leading", "steps_offset": 1, **_NO_SIGMAS}, False,
                            "equal when steps divides 1000"),
    "beta": Spacing({"timestep_spacing": "linspace", **_NO_SIGMAS, "use_beta_sigmas": True}, False,
                    "diffusers spaces β-quantiles in σ, ComfyUI in timesteps"),
}


def is_exact(sampler_name: str, scheduler: str) -> bool:
    """Whether the pair computes ComfyUI's math (see the module's note); False for unmapped pairs too."""
    sampler, spacing = SAMPLERS.get(sampler_name), SCHEDULERS.get(scheduler)
    return bool(sampler and spacing and sampler.exact and spacing.exact)


def comfy_scheduler(base: Scheduler, sampler_name: str, scheduler: str, node: str) -> Scheduler:
    """The diffusers scheduler recipe for the pair, over the checkpoint's own config (betas, prediction type);
    an error naming the node, the sampler and the scheduler where there is none."""
    import inspect

    import diffusers

    sampler, spacing = SAMPLERS.get(sampler_name), SCHEDULERS.get(scheduler)
    if sampler is None:
        raise ValueError(f"{node}: input 'sampler_name': {sampler_name!r} has no diffusers counterpart; use one of "
                         f"{', '.join(SAMPLERS)}")
    if spacing is None:
        raise ValueError(f"{node}: input 'scheduler': {scheduler!r} has no diffusers counterpart; use one of "
                         f"{', '.join(SCHEDULERS)}")
    accepted = set(inspect.signature(getattr(diffusers, sampler.class_name).__init__).parameters)
    settings = {key: value for key, value in spacing.settings.items() if key in accepted or value}
    missing = sorted(key for key in settings if key not in accepted)
    if missing:
        raise ValueError(f"{node}: sampler {sampler_name!r} with scheduler {scheduler!r} has no diffusers "
                         f"counterpart ({sampler.class_name} has no {', '.join(missing)}); pick another scheduler")
    config = {**base.config, **sampler.settings, **settings, "_class_name": sampler.class_name}
    return Scheduler(sampler.class_name, config)


def pairs_table() -> list[tuple[str, str, str]]:
    """(sampler, scheduler, "exact" | "approximate" | "refused") for every pair of ComfyUI's lists."""
    from typing import get_args

    rows = []
    for sampler_name in get_args(SamplerName):
        for scheduler in get_args(SchedulerName):
            try:
                comfy_scheduler(Scheduler("EulerDiscreteScheduler", {}), sampler_name, scheduler, "table")
            except ValueError:
                rows.append((sampler_name, scheduler, "refused"))
                continue
            rows.append((sampler_name, scheduler, "exact" if is_exact(sampler_name, scheduler) else "approximate"))
    return rows
