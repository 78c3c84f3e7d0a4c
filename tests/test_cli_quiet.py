"""diffusers/transformers warnings stay out of the command's output; `-v` shows them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_nodes.clitest import LIBRARY_LOG, LIBRARY_WARNING

REPO = Path(__file__).resolve().parents[1]
CLI_NODES = str(REPO / "tests" / "cli_nodes")


@pytest.fixture
def chatter(tmp_path) -> list[str]:
    """The argv of `nodeflow run` on a node that warns and logs as the libraries do."""
    workflow = tmp_path / "chatter.json"
    workflow.write_text(json.dumps({"nodeflow": 1, "nodes": {"talk": {"type": "clitest.library_chatter"}}}))
    return [sys.executable, "-m", "nodeflow", "--nodes-dir", CLI_NODES, "run", str(workflow), "--device", "cpu",
            "--output", str(tmp_path / "output")]


def test_library_warnings_and_log_warnings_are_hidden(chatter):
    result = subprocess.run(chatter, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""


def test_verbose_shows_them(chatter):
    result = subprocess.run([*chatter, "-v"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0
    assert f"FutureWarning: {LIBRARY_WARNING}" in result.stderr and LIBRARY_LOG in result.stderr


def test_serve_takes_verbose_too():
    from nodeflow.cli import build_parser

    assert build_parser().parse_args(["serve", "-v"]).verbose
