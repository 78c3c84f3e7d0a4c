"""A prompt that keeps taking the server down (kill -9 while it runs) is not retried forever."""

from __future__ import annotations

import time

from tests.server_support import ServerProcess, counting_workflow


ATTEMPTS = 2  # --max-attempts: fewer than the default, so the flag is what decides


def _history_of(server: ServerProcess, prompt_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while prompt_id not in (history := server.get(f"/history/{prompt_id}")[1]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return history[prompt_id]


def test_prompt_running_at_every_crash_ends_as_an_error_after_max_attempts_and_the_queue_goes_on(tmp_path):
    poison = None
    for _ in range(ATTEMPTS):
        server = ServerProcess(tmp_path, "--max-attempts", str(ATTEMPTS))
        server.start()
        watcher = server.watch("crashing")
        if poison is None:
            poison = server.queue(counting_workflow(seed=41, steps=1000, delay=0.01), client_id="crashing")
        watcher.wait_for("progress", poison)
        server.kill()  # SIGKILL while it runs, as the OOM killer would
        watcher.close()

    server = ServerProcess(tmp_path, "--max-attempts", str(ATTEMPTS))
    server.start()
    try:
        failed = _history_of(server, poison)
        assert failed["status"]["status_str"] == "error"
        [[kind, error]] = failed["status"]["messages"]
        assert kind == "execution_error"
        assert f"running when the server stopped {ATTEMPTS} times" in error["exception_message"]
        after = server.queue(counting_workflow(seed=42))
        assert _history_of(server, after)["status"]["status_str"] == "success"
    finally:
        server.kill()
