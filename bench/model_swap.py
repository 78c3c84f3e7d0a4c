"""Model swapping under a memory budget: an interleaved SD / DiT / Kandinsky queue on the tiny demo models.

    .venv/bin/python bench/model_swap.py [--device cpu|cuda] [--rounds 4]

Runs the queue (tiny_models/mixed_queue.py) twice, side by side: with a budget that holds every model, then
with one of two thirds of the three families' bytes, so that each family pushes another out. On the CPU the
budget is --ram-budget; with --device cuda (a GPU) it is --vram-budget. Prints prompts/s for both, the swap
overhead (the ratio), the peak model bytes the service held and the peak process RSS (or, on a GPU,
torch.cuda.max_memory_allocated) against the budget, and the models loaded. Each measurement runs in a fresh
process, after one untimed prompt of each family in another executor (first imports, first calls).

    .venv/bin/python bench/model_swap.py --workers 2 [affinity_loads options]

The second mode: two workers, dispatch by model affinity against plain first come, model loads and prompts/s
side by side (bench/affinity_loads.py, which this runs).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOLDS_ALL = 2**40


@dataclass
class Figures:
    prompts: int
    seconds: float
    loads: int
    peak_model_bytes: int
    peak_memory: int  # process RSS on the CPU, torch.cuda.max_memory_allocated on a GPU
    model_bytes: int  # every model of the queue together, as the service counts them
    largest_model: int

    @property
    def per_second(self) -> float:
        return self.prompts / self.seconds


def measure(models_dir: Path, device: str, budget: int, rounds: int) -> Figures:
    """Run the mixed queue in this process under `budget` (VRAM on a GPU, RAM on the CPU)."""
    import sys

    sys.path.insert(0, str(REPO))
    from nodeflow import Executor, Folders, Workflow, default_registry
    from nodeflow.budgets import Budgets
    from tiny_models import mixed_queue

    workflows = REPO / "workflows"
    output = Path(tempfile.mkdtemp(prefix="model_swap_"))
    folders = Folders(output=output, input=output / "input", models=[models_dir])
    warm = Executor(default_registry(), device=device, folders=folders)
    for run in mixed_queue.queue(rounds=1):
        warm.run(Workflow.load(workflows / run.workflow), params=run.params)
    del warm
    on_gpu = device.startswith("cuda")
    budgets = Budgets(vram=budget, ram=HOLDS_ALL) if on_gpu else Budgets(ram=budget)
    executor = Executor(default_registry(), device=device, folders=folders, budgets=budgets)
    used = "vram_used" if on_gpu else "ram_used"
    peak = [0]
    executor.subscribe(lambda event: peak.__setitem__(0, max(peak[0], executor.models.budgets()[used])))
    if on_gpu:
        import torch

        torch.cuda.reset_peak_memory_stats()
    queue = mixed_queue.queue(rounds)
    started = time.perf_counter()
    for run in queue:
        report = executor.run(Workflow.load(workflows / run.workflow), params=run.params)
        assert report.ok, report.failures
    seconds = time.perf_counter() - started
    if on_gpu:
        import torch

        memory = torch.cuda.max_memory_allocated()
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sizes = [model["bytes"] for model in executor.models.loaded()]
    return Figures(len(queue), seconds, executor.models.loads, peak[0], memory, sum(sizes), max(sizes))


def in_fresh_process(models_dir: Path, device: str, budget: int, rounds: int) -> Figures:
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(measure, models_dir, device, budget, rounds).result()


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.2f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=4, help="rounds of SD, DiT, Kandinsky (default 4)")
    parser.add_argument("--workers", type=int, default=1, choices=[1, 2],
                        help="2: the affinity mode (bench/affinity_loads.py; its options follow)")
    args, rest = parser.parse_known_args()
    import sys

    sys.path.insert(0, str(REPO))
    if args.workers == 2:
        from bench import affinity_loads

        affinity_loads.main(rest)
        return
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from tiny_models import mixed_queue

    models_dir = Path(tempfile.mkdtemp(prefix="model_swap_models_"))
    mixed_queue.build_models(models_dir)
    holding = in_fresh_process(models_dir, args.device, HOLDS_ALL, args.rounds)
    budget = holding.model_bytes * 2 // 3
    swapping = in_fresh_process(models_dir, args.device, budget, args.rounds)
    memory = "peak VRAM (max_memory_allocated)" if args.device == "cuda" else "peak process RSS"
    kind = "VRAM" if args.device == "cuda" else "RAM"
    print(f"model swap on {args.device}: {holding.prompts} prompts (SD, DiT, Kandinsky interleaved), models "
          f"{_mib(holding.model_bytes)} together; {kind} budget {_mib(budget)} (2/3 of them)")
    print(f"{'':34}{'holds all':>16}{'swapping':>16}")
    rows = [("prompts/s", f"{holding.per_second:.2f}", f"{swapping.per_second:.2f}"),
            ("models loaded", holding.loads, swapping.loads),
            (f"peak model bytes held ({kind})", _mib(holding.peak_model_bytes), _mib(swapping.peak_model_bytes)),
            (memory, _mib(holding.peak_memory), _mib(swapping.peak_memory))]
    for name, first, second in rows:
        print(f"{name:34}{first:>16}{second:>16}")
    print(f"swap overhead: ratio {holding.per_second / swapping.per_second:.2f} (time swapping / time holding all)")
    within = swapping.peak_model_bytes <= budget + holding.largest_model
    print(f"peak model bytes within budget + largest model ({_mib(holding.largest_model)}): {within}; "
          "process memory includes torch and the runtime, far above these tiny models")


if __name__ == "__main__":
    main()
