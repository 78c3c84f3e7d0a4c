"""Model loads with and without affinity: two workers, a queue that interleaves toy model families.

    .venv/bin/python bench/affinity_loads.py [--families 3] [--prompts 24] [--load-seconds 0.5]
                                             [--use-seconds 0.05] [--affinity-wait 15] [--device cpu]...

The families are the toy loader and user nodes of tests/server_nodes/families.py: a load sleeps
`--load-seconds`, a prompt uses its model for `--use-seconds`. The queue (A, B, C, A, B, C, …) runs on one worker
per `--device` (two CPU workers by default), once with `--affinity-wait` (a worker takes first the prompts whose
models it holds) and once with 0 (first come, first served). It prints for each the model loads (summed over the
workers), the family switches (a worker running a prompt of another family than its last one) and prompts/s.
Each model is `--model-mb` of weights and each worker's RAM budget holds one model (`--budget-models`), so a
worker that switches family drops its model and loads the other.

Each run has its own queue file, workers and executors, and first runs one warm-up prompt, so that the first
calls of the node types (which take turns across workers) are not part of what is measured.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nodeflow import Folders, Registry, Workflow  # noqa: E402
from nodeflow.budgets import Budgets  # noqa: E402
from nodeflow.models import recipe_keys_of  # noqa: E402
from nodeflow.plan import plan  # noqa: E402
from nodeflow.registry import load_module_file  # noqa: E402
from nodeflow.server.store import QueueStore  # noqa: E402
from nodeflow.server.worker import NoListeners, Worker, WorkerPool  # noqa: E402

families = load_module_file(REPO / "tests" / "server_nodes" / "families.py")
WARM_UP = "warm-up"


def _queue(store: QueueStore, registry: Registry, workflows: list[dict[str, Any]]) -> None:
    """Add each workflow as the server does: with the recipe keys of the models its loaders make."""
    for workflow in workflows:
        recipes = recipe_keys_of(plan(Workflow.from_dict(workflow), registry))
        store.add(f"p{store.remaining()}-{time.monotonic_ns()}", workflow, workflow, None, {}, [], recipes=recipes)


def _drain(store: QueueStore, pool: WorkerPool) -> None:
    pool.notify()
    while store.remaining():
        time.sleep(0.01)


def _switches(queue_file: Path) -> int:
    """How often a worker ran a prompt of another family than the one it ran before (its first one counts)."""
    db = sqlite3.connect(queue_file)
    last: dict[str, str] = {}
    switches = 0
    for worker, workflow in db.execute("SELECT worker, workflow FROM prompts ORDER BY started"):
        family = json.loads(workflow)["nodes"]["load"]["inputs"]["family"]
        switches += family != WARM_UP and last.get(worker) != family
        last[worker] = family
    db.close()
    return switches


def run(args: argparse.Namespace, affinity_wait: float) -> tuple[int, int, float]:
    """Model loads, family switches and prompts/s of the interleaved queue under `affinity_wait`."""
    registry = Registry()
    registry.add_module(families)
    names = string.ascii_uppercase[:args.families]
    interleaved = [families.family_workflow(names[i % len(names)], seed=i, use_seconds=args.use_seconds,
                                            load_seconds=args.load_seconds, megabytes=args.model_mb)
                   for i in range(args.prompts)]
    budgets = Budgets(ram=int(args.model_mb * 1e6 * (args.budget_models + 0.5)))
    with tempfile.TemporaryDirectory() as root:
        queue_file = Path(root) / "queue.sqlite3"
        store = QueueStore(queue_file)
        pool = WorkerPool([Worker.local(str(i), registry, device, Folders(output=Path(root)), store, NoListeners(),
                                        affinity_wait=affinity_wait, budgets=budgets)
                           for i, device in enumerate(args.device)])
        pool.start()
        _queue(store, registry, [families.family_workflow(WARM_UP, seed=0)])
        _drain(store, pool)
        warm_up_loads = sum(worker.runner.executor.models.loads for worker in pool.workers)
        started = time.perf_counter()
        _queue(store, registry, interleaved)
        _drain(store, pool)
        seconds = time.perf_counter() - started
        pool.stop()
        store.close()
        switches = _switches(queue_file)
    loads = sum(worker.runner.executor.models.loads for worker in pool.workers) - warm_up_loads
    return loads, switches, args.prompts / seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=3, choices=range(1, 27), metavar="N")
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--load-seconds", type=float, default=0.5)
    parser.add_argument("--use-seconds", type=float, default=0.05)
    parser.add_argument("--affinity-wait", type=float, default=15.0)
    parser.add_argument("--model-mb", type=float, default=8.0, help="weights of each toy model (MB)")
    parser.add_argument("--budget-models", type=int, default=1, help="models a worker's RAM budget holds")
    parser.add_argument("--device", action="append", help="a worker's device (repeatable; default: cpu twice)")
    args = parser.parse_args(argv)
    args.device = args.device or ["cpu", "cpu"]
    print(f"{len(args.device)} workers ({', '.join(args.device)}), {args.prompts} prompts interleaving "
          f"{args.families} families of {args.model_mb:g} MB; RAM budget {args.budget_models} model(s) a worker; "
          f"load {args.load_seconds} s, use {args.use_seconds} s per prompt")
    with_affinity = run(args, args.affinity_wait)
    first_come = run(args, 0.0)
    for label, (loads, switches, rate) in ((f"affinity (wait {args.affinity_wait:g} s)", with_affinity),
                                           ("first come", first_come)):
        print(f"{label:>24}: {loads:3d} model loads, {switches:3d} family switches, {rate:6.2f} prompts/s")
    print(f"first come / affinity: {first_come[0] / with_affinity[0]:.1f}× the loads, "
          f"{first_come[1] / with_affinity[1]:.1f}× the switches, {first_come[2] / with_affinity[2]:.2f}× the prompts/s")


if __name__ == "__main__":
    main()
