"""Scheduler nodes: pick any diffusers scheduler for a model, and step one by hand.

A `Scheduler` value is a recipe (class name + config); every loop builds a fresh
instance from it, so cached values are never mutated. The scheduler node starts
from the model's own scheduler config, as `XScheduler.from_config(pipe.scheduler.config)`
does, and applies a few overrides the target class understands.
"""

from __future__ import annotations

import copy
import inspect
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field

from nodeflow import node
from nodes.types import Latents, Scheduler, SchedulerState

Steps = Annotated[int, Field(ge=1, le=1000)]

SchedulerName = Literal[
    "default", "ddim", "ddpm", "pndm", "lms", "lms_karras", "euler", "euler_karras", "euler_ancestral", "heun",
    "dpmpp_2m", "dpmpp_2m_karras", "dpmpp_2m_sde", "dpmpp_2m_sde_karras", "dpmpp_sde", "dpmpp_sde_karras",
    "dpmpp_2s", "unipc", "kdpm2", "kdpm2_ancestral", "deis", "lcm", "tcd",
]

# name → (diffusers class, config overrides); "default" keeps the model's own scheduler.
_RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "ddim": ("DDIMScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "lms_karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_karras": ("EulerDiscreteScheduler", {"use_karras_sigmas": True}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde_karras": ("DPMSolverMultistepScheduler",
                            {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    "dpmpp_sde": ("DPMSolverSDEScheduler", {}),
    "dpmpp_sde_karras": ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}),
    "dpmpp_2s": ("DPMSolverSinglestepScheduler", {"solver_order": 2}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "kdpm2": ("KDPM2DiscreteScheduler", {}),
    "kdpm2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "tcd": ("TCDScheduler", {}),
}


def _scheduler_class(class_name: str) -> type:
    import diffusers

    cls = getattr(diffusers, class_name, None)
    backends = getattr(cls, "_backends", None)  # diffusers' stand-in for a class whose dependencies are missing
    if backends:
        raise ValueError(f"{class_name} needs {' and '.join(backends)} installed: pip install {' '.join(backends)}")
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin) and hasattr(cls, "from_config")):
        raise ValueError(f"{class_name!r} is not a diffusers scheduler class (e.g. 'DDIMScheduler')")
    return cls


def _accepted(cls: type) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self"}


@node("schedulers.scheduler", category="sampling", version="1.0.0")
def scheduler(
    scheduler: Scheduler,
    name: SchedulerName = "default",
    class_name: str = "",
    karras_sigmas: bool = False,
    timestep_spacing: Literal["default", "leading", "linspace", "trailing"] = "default",
    prediction_type: Literal["default", "epsilon", "v_prediction", "sample"] = "default",
) -> Scheduler:
    """A scheduler built from the model's own scheduler config: `name` picks a common one ("default" keeps the
    model's), `class_name` (any diffusers scheduler class, e.g. "UniPCMultistepScheduler") overrides `name`.
    The other inputs override the config where the chosen class supports them."""
    if class_name:
        target, overrides = class_name, {}
    elif name == "default":
        target, overrides = scheduler.class_name, {}
    else:
        target, overrides = _RECIPES[name]
    cls = _scheduler_class(target)
    overrides = dict(overrides)
    if karras_sigmas:
        overrides["use_karras_sigmas"] = True
    if timestep_spacing != "default":
        overrides["timestep_spacing"] = timestep_spacing
    if prediction_type != "default":
        overrides["prediction_type"] = prediction_type
    unsupported = sorted(set(overrides) - _accepted(cls))
    if unsupported:
        raise ValueError(f"{target} has no setting {', '.join(unsupported)}; pick another scheduler or drop it")
    return Scheduler(target, {**scheduler.config, **overrides, "_class_name": target})


def set_steps(instance: Any, steps: int, device: Any = None) -> None:
    """`instance.set_timesteps(steps)`, or an error naming the node's `steps` input and the most this scheduler
    takes. With SD's config (1000 training timesteps, `steps_offset` 1), DDIM, DDPM and PNDM reach timestep 1000
    at 1000 steps, one past their tables; StableDiffusionPipeline fails there too, with an IndexError mid-loop."""
    if _runs(instance, steps, device):
        return
    most = _most_steps(instance, steps - 1, device)
    if not most:  # not a matter of the count: diffusers' own error says what is wrong
        instance.set_timesteps(steps, device=device)
    raise ValueError(f"input 'steps': {steps} is more than this {type(instance).__name__} can run; at most {most}")


def _most_steps(instance: Any, below: int, device: Any) -> int:
    """The largest count up to `below` that the scheduler runs (0 if none); counts that run form a prefix."""
    low, high = 0, below
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _runs(instance, middle, device) else (low, middle - 1)
    return low


def _runs(instance: Any, steps: int, device: Any) -> bool:
    """Whether `steps` sets timesteps the scheduler can step through: integer timesteps index its tables of
    `num_train_timesteps` entries (float ones are interpolated and need no check)."""
    try:
        instance.set_timesteps(steps, device=device)
    except ValueError:
        return False
    timesteps = instance.timesteps
    return timesteps.is_floating_point() or int(timesteps.max()) < instance.config.num_train_timesteps


def step_kwargs(instance: Any, generator: Any) -> dict[str, Any]:
    """The extra `step` arguments a pipeline passes: eta=0 and the generator, where the scheduler takes them.

    Schedulers that seed their own noise sampler (DPM-SDE) would otherwise draw that seed from torch's global
    random state; they get one derived from the generator, without advancing it, so a seed reproduces the image.
    """
    if getattr(instance, "noise_sampler_seed", 0) is None and generator is not None:
        instance.noise_sampler_seed = noise_sampler_seed(generator)
    accepted = set(inspect.signature(instance.step).parameters)
    kwargs: dict[str, Any] = {}
    if "eta" in accepted:
        kwargs["eta"] = 0.0
    if "generator" in accepted:
        kwargs["generator"] = generator
    return kwargs


def noise_sampler_seed(generator: Any) -> int:
    """A seed drawn from a copy of `generator`, leaving the generator itself where it was."""
    import torch

    copy_of = torch.Generator()
    copy_of.set_state(generator.get_state())
    return int(torch.randint(0, 2**63 - 1, (), generator=copy_of))


def generator_from(latents: Latents) -> Any:
    """A CPU generator continuing the random stream that made `latents` (None when nothing random did); for
    stacked latents, a list of them, one per sample (diffusers' `randn_tensor` and schedulers take either)."""
    import torch

    states = latents.generator_state
    if states is None:
        return None
    generators = [torch.Generator().set_state(state) for state in (states if isinstance(states, list) else [states])]
    return generators if isinstance(states, list) else generators[0]


def seeded_generators(seed: int | list[int]) -> Any:
    """A CPU generator seeded with `seed`; for a batch node's per-sample seeds (a list), one per sample."""
    import torch

    if isinstance(seed, list):
        return [torch.Generator().manual_seed(each) for each in seed]
    return torch.Generator().manual_seed(seed)


def generator_state(generator: Any) -> Any:
    if isinstance(generator, list):
        return [each.get_state() for each in generator]
    return None if generator is None else generator.get_state()


class Timesteps(NamedTuple):
    state: SchedulerState
    latents: Latents


@node("schedulers.set_timesteps", category="sampling", version="1.1.0")
def set_timesteps(scheduler: Scheduler, noise: Latents, steps: Steps = 50) -> Timesteps:
    """Start a hand-built loop: set `steps` timesteps and scale the initial noise by the scheduler's init sigma."""
    instance = scheduler.create()
    set_steps(instance, steps, noise.samples.device)
    latents = noise.samples * instance.init_noise_sigma
    return Timesteps(SchedulerState(instance), Latents(latents, noise.generator_state))


class Stepped(NamedTuple):
    state: SchedulerState
    latents: Latents


def timestep_at(instance: Any, index: int) -> Any:
    """Timestep number `index` of a scheduler whose timesteps are set; an error naming the node's `index` input
    when there is no such timestep."""
    count = len(instance.timesteps)
    if not 0 <= index < count:
        raise ValueError(f"input 'index': {index} is outside the {count} timesteps of this scheduler state "
                         "(numbered from 0)")
    return instance.timesteps[index]


@node("schedulers.step", category="sampling", version="1.0.0", display_name="Scheduler Step")
def step(state: SchedulerState, noise_pred: Latents, latents: Latents, index: int = 0) -> Stepped:
    """One scheduler step x_t → x_t-1 at timestep number `index` of the state's timesteps."""
    instance = copy.deepcopy(state.instance)
    generator = generator_from(latents)
    result = instance.step(noise_pred.samples, timestep_at(instance, index), latents.samples,
                           **step_kwargs(instance, generator), return_dict=False)[0]
    return Stepped(SchedulerState(instance, state.begin_index), Latents(result, generator_state(generator)))
