"""Server load: N WebSocket clients each queue M prompts over loopback; throughput, latency, nothing lost.

    .venv/bin/python bench/server_load.py [--clients 8] [--prompts 5] [--steps 2] [--graph sd|trivial] [--device cpu]

Starts a real `nodeflow serve` (fresh folders and queue in a temp dir), times how
long `/` takes to answer after launch (goal ≤ 1.5 s), runs one warm-up prompt
(model load, first kernels; timed apart), then lets every client open
`/ws`, queue its prompts (each with its own seed, so nothing is served from the
cache) and wait for each prompt's end message. Prints throughput (prompts/s),
p50/p99 queue-to-done latency, and checks that every prompt ended exactly once,
for the client that queued it, and succeeded in /history. `--graph sd` runs the
shipped txt2img workflow on the tiny random SD model; `--graph trivial` runs the
test nodes of tests/server_nodes (a count node and a 8×8 PNG) to measure the
server's own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prompt(graph: str, seed: int, steps: int) -> dict[str, Any]:
    if graph == "sd":
        workflow = json.loads((REPO / "workflows" / "sd_txt2img.json").read_text())
        return {"prompt": workflow, "params": {"model": "tiny_sd", "seed": seed, "steps": steps}}
    return {"prompt": {"nodeflow": 1, "nodes": {
        "count": {"type": "servertest.count", "inputs": {"seed": seed, "steps": steps}},
        "save": {"type": "servertest.save_png", "inputs": {"tally": {"node": "count", "output": "tally"}}},
    }}}


async def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while process.poll() is None:
            try:
                async with session.get(url + "/") as response:
                    await response.read()
                    return time.perf_counter() - started
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.01)
    raise RuntimeError("the server exited during startup")


async def _client(url: str, index: int, args: argparse.Namespace, ends: dict[str, list[str]],
                  latency: dict[str, float]) -> list[str]:
    sid = f"bench-{index}"
    queued_at: dict[str, float] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/ws?clientId={sid}") as ws:
        ids = []
        for j in range(args.prompts):
            body = {**_prompt(args.graph, index * 1000 + j, args.steps), "client_id": sid}
            sent = time.perf_counter()
            async with session.post(f"{url}/prompt", json=body) as response:
                reply = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"queueing failed: {reply}")
            queued_at[reply["prompt_id"]] = sent
            ids.append(reply["prompt_id"])
        waiting = set(ids)
        while waiting:
            message = await ws.receive_json()
            data = message["data"]
            if message["type"] == "executing" and data["node"] is None:
                ends.setdefault(data["prompt_id"], []).append(sid)
                latency[data["prompt_id"]] = time.perf_counter() - queued_at[data["prompt_id"]]
                waiting.discard(data["prompt_id"])
    return ids


async def _warm_up(url: str, args: argparse.Namespace) -> float:
    """One prompt before the clock starts: loading the model and the device's first kernels are not load."""
    started = time.perf_counter()
    warm = argparse.Namespace(**{**vars(args), "prompts": 1})
    await _client(url, args.clients, warm, {}, {})
    return time.perf_counter() - started


async def _load(url: str, args: argparse.Namespace) -> None:
    print(f"warm-up prompt (model load, first kernels): {await _warm_up(url, args):.2f} s")
    ends: dict[str, list[str]] = {}
    latency: dict[str, float] = {}
    started = time.perf_counter()
    per_client = await asyncio.gather(*(_client(url, i, args, ends, latency) for i in range(args.clients)))
    elapsed = time.perf_counter() - started
    ids = [i for ids in per_client for i in ids]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/history") as response:
            history = await response.json()
        async with session.get(f"{url}/queue") as response:
            queue = await response.json()
    lost = [i for i in ids if history.get(i, {}).get("status", {}).get("status_str") != "success"]
    repeated = [i for i in ids if len(ends.get(i, [])) != 1]
    wrong_client = [i for c, cids in enumerate(per_client) for i in cids if ends.get(i) != [f"bench-{c}"]]
    times = sorted(latency.values())
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(f"prompts: {len(ids)} ({args.clients} clients x {args.prompts}), graph={args.graph}, steps={args.steps}, "
          f"device={args.device}")
    print(f"throughput: {len(ids) / elapsed:.2f} prompts/s over {elapsed:.2f} s")
    print(f"queue-to-done latency: p50 {statistics.median(times) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    print(f"lost or failed: {len(lost)}, ended more than once or never: {len(repeated)}, "
          f"ended for another client: {len(wrong_client)}, left in queue: "
          f"{len(queue['queue_running']) + len(queue['queue_pending'])}")
    if lost or repeated or wrong_client:
        raise SystemExit("FAILED: some prompts were lost")
    print("no prompt lost: every prompt ended exactly once and succeeded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=5, help="prompts per client")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (sd) or counted steps (trivial)")
    parser.add_argument("--graph", choices=["sd", "trivial"], default="sd")
    parser.add_argument("--device", default="cpu", help="the server worker's device (cpu, cuda)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.graph == "sd":
            from tiny_models.sd import make_tiny_sd

            make_tiny_sd(root / "models" / "tiny_sd")
        port = _free_port()
        command = [sys.executable, "-m", "nodeflow", "--nodes-dir", str(REPO / "tests" / "server_nodes"), "serve",
                   "--port", str(port), "--user-dir", str(root / "user"), "--output-dir", str(root / "output"),
                   "--models-dir", str(root / "models"), "--device", args.device]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            startup = asyncio.run(_wait_until_up(url, process))
            print(f"startup: / answered {startup:.2f} s after launch (goal <= 1.5 s)")
            asyncio.run(_load(url, args))
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
