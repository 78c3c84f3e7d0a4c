"""Shared helpers of the server tests: test workflows, configs, a real `nodeflow serve` process, a WS watcher."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import websocket

from nodeflow import Registry
from nodeflow.registry import load_module_file
from nodeflow.server import ServerConfig

REPO = Path(__file__).resolve().parents[1]
TEST_NODES = REPO / "tests" / "server_nodes"


def servertest_registry() -> Registry:
    registry = Registry()
    registry.add_module(load_module_file(TEST_NODES / "servertest.py"))
    return registry


def counting_workflow(seed: int = 1, steps: int = 3, delay: float = 0.0, fail: bool = False) -> dict[str, Any]:
    """count → (fail →) save_png, with params `seed` and `steps`."""
    nodes: dict[str, Any] = {
        "count": {"type": "servertest.count", "inputs": {"seed": seed, "steps": steps, "delay": delay}},
        "save": {"type": "servertest.save_png", "inputs": {"tally": {"node": "count", "output": "tally"}}},
    }
    if fail:
        nodes["fail"] = {"type": "servertest.fail", "inputs": {"tally": {"node": "count", "output": "tally"}}}
        nodes["save"]["inputs"]["tally"] = {"node": "fail", "output": "tally"}
    return {
        "nodeflow": 1, "nodes": nodes,
        "params": {"seed": {"node": "count", "input": "seed"}, "steps": {"node": "count", "input": "steps"}},
    }


def comfy_workflow(seed: int = 1, steps: int = 3) -> dict[str, Any]:
    """The same graph in ComfyUI's API format (links as [node, output index])."""
    return {
        "1": {"class_type": "servertest.count", "inputs": {"seed": seed, "steps": steps}, "_meta": {"title": "Count"}},
        "2": {"class_type": "servertest.save_png", "inputs": {"tally": ["1", 0]}, "_meta": {"title": "Save"}},
    }


def make_config(root: Path, **overrides: Any) -> ServerConfig:
    settings: dict[str, Any] = dict(
        output_dir=root / "output", input_dir=root / "input", models_dirs=[root / "models"], user_dir=root / "user",
        devices=["cpu"], web_dir=root / "web", shipped_workflows_dir=root / "shipped",
    )
    settings.update(overrides)
    return ServerConfig(**settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`nodeflow serve` in a subprocess on a free loopback port, with its folders under `root` (one CPU worker,
    unless `devices` says otherwise; none with `--ray`)."""

    def __init__(self, root: Path, *extra: str, devices: tuple[str, ...] = ("cpu",)) -> None:
        self.root = root
        self.port = free_port()
        self.args = [
            sys.executable, "-m", "nodeflow", "--nodes-dir", str(TEST_NODES), "serve", "--port", str(self.port),
            "--output-dir", str(root / "output"), "--input-dir", str(root / "input"),
            "--models-dir", str(root / "models"), "--user-dir", str(root / "user"),
            *(arg for device in devices for arg in ("--device", device)), *extra,
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: a pipe nobody reads fills up with the log and blocks the server.
        self.log_path = root / f"serve-{self.port}.log"

    def output(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def start(self, timeout: float = 20.0) -> float:
        """Start and wait until `/` answers; returns the seconds that took."""
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1):
                    return time.perf_counter() - started
            except urllib.error.HTTPError:  # it answers, if only to refuse (a token is set)
                return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
        raise TimeoutError("server did not answer in time")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig`; a SIGKILL goes to every process the server started too (a local Ray's), as when a
        supervisor kills the service."""
        if self.process is not None and self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            self.process.wait(10)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill(signal.SIGTERM)

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _decode(response.read(), response.headers.get_content_type())
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read(), error.headers.get_content_type())

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.request("POST", path, body, **kw)

    def queue(self, prompt: dict[str, Any], **fields: Any) -> str:
        status, reply = self.post("/prompt", {"prompt": prompt, **fields})
        assert status == 200, reply
        return reply["prompt_id"]

    def watch(self, client_id: str) -> Watcher:
        return Watcher(f"ws://127.0.0.1:{self.port}/ws?clientId={client_id}")


def _decode(data: bytes, content_type: str) -> Any:
    return json.loads(data) if content_type == "application/json" else data


class Watcher:
    """A WebSocket client that collects messages until the prompts it waits for have ended."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=30)
        self.messages: list[dict[str, Any]] = []

    def receive(self) -> dict[str, Any]:
        """The next JSON message (binary preview frames are skipped)."""
        while isinstance(frame := self.ws.recv(), bytes):
            pass
        message = json.loads(frame)
        self.messages.append(message)
        return message

    def wait_for(self, kind: str, prompt_id: str) -> dict[str, Any]:
        while not self.of(kind, prompt_id):
            self.receive()
        return self.of(kind, prompt_id)[0]

    def until_done(self, *prompt_ids: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        waiting = set(prompt_ids)
        deadline = time.monotonic() + timeout
        while waiting:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            message = self.receive()
            if message["type"] == "executing" and message["data"]["node"] is None:
                waiting.discard(message["data"]["prompt_id"])
        return self.messages

    def of(self, kind: str, prompt_id: str | None = None) -> list[dict[str, Any]]:
        return of_type(self.messages, kind, prompt_id)

    def close(self) -> None:
        self.ws.close()


async def start_client(aiohttp_client: Any, root: Path, registry: Registry | None = None, **overrides: Any) -> Any:
    """aiohttp's test client on `create_app` with the test nodes and folders under `root`."""
    from nodeflow.server import create_app

    return await aiohttp_client(create_app(make_config(root, **overrides), registry or servertest_registry()))


async def ws_until_done(ws: Any, *prompt_ids: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Messages from an aiohttp WebSocket until each of `prompt_ids` has sent its end (`executing`, node null)."""
    import asyncio

    waiting, messages = set(prompt_ids), []
    async with asyncio.timeout(timeout):
        while waiting:
            message = await ws.receive_json()
            messages.append(message)
            if message["type"] == "executing" and message["data"]["node"] is None:
                waiting.discard(message["data"]["prompt_id"])
    return messages


def of_type(messages: list[dict[str, Any]], kind: str, prompt_id: str | None = None) -> list[dict[str, Any]]:
    return [m["data"] for m in messages
            if m["type"] == kind and (prompt_id is None or m["data"].get("prompt_id") == prompt_id)]


async def served_state(client: Any) -> dict[str, Any]:
    """The queue and the history as the server reports them: what a refused request must leave as it was."""
    return {"queue": await (await client.get("/queue")).json(), "history": await (await client.get("/history")).json()}


async def assert_still_serving(client: Any, before: dict[str, Any] | None = None, within: float = 2.0) -> None:
    """The server answers another request within `within` seconds, with the queue and history still `before`."""
    import asyncio

    async with asyncio.timeout(within):
        now = await served_state(client)
    if before is not None:
        assert now == before
