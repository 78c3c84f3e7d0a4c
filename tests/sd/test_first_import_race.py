"""Two workers that load models for the first time at once both get them: in a cold interpreter, a second
worker starting its loader while the first is still importing diffusers used to fail with
"cannot import name 'DiffusionPipeline' from 'diffusers'" (it was handed the half-initialised package)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: two executors sharing one registry, as two server workers do. The second
# starts its loader the moment the first has begun importing diffusers, which takes seconds.
TWO_WORKERS = """
import sys, threading, time
from nodeflow import Executor, Folders, Graph, default_registry

registry = default_registry(entry_points_enabled=False)
assert "diffusers" not in sys.modules, "the interpreter must be cold"
reports = {}

def load(worker):
    graph = Graph(registry)
    loader = graph.add("sd.load_model", model=sys.argv[1])
    executor = Executor(registry, device="cpu", folders=Folders(trust_paths=True))
    reports[worker] = executor.run(graph.workflow, targets=[loader.id])

first = threading.Thread(target=load, args=("first",))
first.start()
while "diffusers" not in sys.modules:
    time.sleep(0.001)
second = threading.Thread(target=load, args=("second",))
second.start()
first.join()
second.join()
for worker, report in sorted(reports.items()):
    print(worker, "ok" if report.ok else report.failures[0].message)
"""


def test_two_workers_loading_at_once_in_a_cold_process_both_succeed(tiny_sd):
    result = subprocess.run([sys.executable, "-c", TWO_WORKERS, str(tiny_sd)], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["first ok", "second ok"]
