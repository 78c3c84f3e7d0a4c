"""What `nodeflow run` says when a run goes wrong: one line on stderr and the documented exit code, for Ctrl-C,
a path outside the model folders, a model that is not there, and anything unexpected."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodeflow import cli
from nodeflow.cli import EXIT_FAILED, main

REPO = Path(__file__).resolve().parents[1]
CLI_NODES = str(REPO / "tests" / "cli_nodes")
WORKFLOWS = REPO / "workflows"


def stderr_lines(text: str) -> list[str]:
    return text.strip().splitlines()


def start_waiting_run(tmp_path: Path, honour_interrupt: bool) -> tuple[subprocess.Popen, Path]:
    """`nodeflow run` of a workflow whose one node waits to be interrupted; returns once that node runs."""
    workflow = tmp_path / "wait.json"
    workflow.write_text(json.dumps({"nodeflow": 1, "nodes": {
        "wait": {"type": "clitest.wait", "inputs": {"seconds": 30, "honour_interrupt": honour_interrupt}}}}))
    output = tmp_path / "output"
    process = subprocess.Popen(
        [sys.executable, "-m", "nodeflow", "--nodes-dir", CLI_NODES, "run", str(workflow), "--output", str(output),
         "--device", "cpu"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (output / "started").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the waiting node never started"
        time.sleep(0.05)
    return process, output


def test_ctrl_c_interrupts_the_run_cleanly_and_exits_1(tmp_path):
    process, _ = start_waiting_run(tmp_path, honour_interrupt=True)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == EXIT_FAILED
    assert stderr_lines(err) == ["interrupted"]
    assert time.monotonic() - started < 10  # the node would have waited 30 s


def test_a_second_ctrl_c_stops_a_node_that_does_not_check_at_once(tmp_path):
    process, _ = start_waiting_run(tmp_path, honour_interrupt=False)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == EXIT_FAILED
    assert stderr_lines(err) == ["interrupted"]


def test_model_path_outside_the_model_folders_is_one_line_naming_node_and_input(tmp_path, capsys):
    code = main(["run", str(WORKFLOWS / "dit_class_to_image.json"), "--param", "model=../outside",
                 "--models-dir", str(tmp_path), "--output", str(tmp_path / "out"), "--device", "cpu"])
    assert code == EXIT_FAILED
    [line] = stderr_lines(capsys.readouterr().err)
    assert line.startswith("error: node 'model' (dit.load_model) failed: input 'model': '../outside'")


def test_model_that_is_not_found_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nodeflow", "run", str(WORKFLOWS / "dit_class_to_image.json"),
         "--param", "model=no-such-model", "--models-dir", str(tmp_path), "--output", str(tmp_path / "out"),
         "--device", "cpu"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert result.returncode == EXIT_FAILED
    [line] = stderr_lines(result.stderr)
    assert line.startswith("error: node 'model' (dit.load_model) failed: ") and "no-such-model" in line


def crash(args) -> int:
    raise RuntimeError("something nobody\nforesaw")


def test_unexpected_exception_is_one_error_line_and_exit_1(monkeypatch, capsys):
    monkeypatch.setattr(cli, "cmd_nodes", crash)
    assert main(["nodes"]) == EXIT_FAILED
    assert stderr_lines(capsys.readouterr().err) == [
        "error: RuntimeError: something nobody foresaw (-v shows the traceback)"]


def test_unexpected_exception_shows_its_traceback_with_v(monkeypatch, capsys):
    monkeypatch.setattr(cli, "cmd_nodes", crash)
    assert main(["nodes", "-v"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and 'raise RuntimeError("something nobody' in err
    assert stderr_lines(err)[-1] == "error: RuntimeError: something nobody foresaw"
