"""Every mistake on the command line is one `error: ...` line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nodeflow.cli import EXIT_INVALID, EXIT_OK, main

REPO = Path(__file__).resolve().parents[1]
PACK = str(REPO / "tests" / "engine" / "pack")
TXT2IMG = str(REPO / "workflows" / "sd_txt2img.json")


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture
def failing(tmp_path) -> str:
    """A valid workflow whose node fails when it runs (exit 1), to tell checks before the run from the run."""
    path = tmp_path / "fail.json"
    path.write_text(json.dumps({"nodeflow": 1, "params": {"value": {"node": "f", "input": "value"}}, "nodes": {
        "f": {"type": "math.fail", "inputs": {"value": 1}},
        "s": {"type": "io.show", "inputs": {"value": {"node": "f", "output": "int"}}},
    }}))
    return str(path)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_workflow_file(command, tmp_path, capsys):
    assert main(["--nodes-dir", PACK, command, str(tmp_path / "nope.json")]) == EXIT_INVALID
    assert "nope.json" in one_error_line(capsys)


def test_workflow_path_that_is_a_folder(tmp_path, capsys):
    assert main(["--nodes-dir", PACK, "validate", str(tmp_path)]) == EXIT_INVALID
    assert "folder" in one_error_line(capsys)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "caf\xe9".encode("latin-1")])
def test_binary_or_non_utf8_workflow_file(content, tmp_path, capsys):
    (tmp_path / "wf.json").write_bytes(content)
    assert main(["--nodes-dir", PACK, "validate", str(tmp_path / "wf.json")]) == EXIT_INVALID
    assert "UTF-8" in one_error_line(capsys)


@pytest.mark.parametrize("text, expected", [
    ('{"nodeflow": 1, "nodes": {', "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('{"nodeflow": 1, "nodes": {}, "params": ["seed"]}', "'params' must be an object"),
])
def test_invalid_json_or_shape_in_the_workflow_file(text, expected, tmp_path, capsys):
    (tmp_path / "wf.json").write_text(text)
    assert main(["--nodes-dir", PACK, "run", str(tmp_path / "wf.json")]) == EXIT_INVALID
    assert expected in one_error_line(capsys)


def test_param_without_a_value(failing, capsys):
    assert main(["--nodes-dir", PACK, "run", failing, "--param", "value"]) == EXIT_INVALID
    assert "--param needs NAME=VALUE, got 'value'" in one_error_line(capsys)


@pytest.mark.parametrize("report", ["{tmp}", "{tmp}/no/such/folder/report.json"])
def test_report_path_that_cannot_be_written_is_refused_before_the_run(report, failing, tmp_path, capsys):
    path = report.format(tmp=tmp_path)
    assert main(["--nodes-dir", PACK, "run", failing, "--device", "cpu", "--report", path]) == EXIT_INVALID
    assert "--report" in one_error_line(capsys)


@pytest.mark.parametrize("command", [["validate", TXT2IMG], ["nodes"]])
def test_nodes_dir_that_does_not_exist(command, tmp_path, capsys):
    assert main(["--nodes-dir", str(tmp_path / "nowhere"), *command]) == EXIT_INVALID
    assert "nowhere" in one_error_line(capsys)


def test_node_module_that_does_not_import(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def oops(:\n")
    assert main(["--nodes-dir", str(tmp_path), "nodes"]) == EXIT_INVALID
    assert "broken.py" in one_error_line(capsys)


def test_max_pixels_sets_the_pixel_budget_of_validate(capsys):
    sized = ["--param", "width=1024", "--param", "height=1024"]
    assert main(["validate", TXT2IMG, *sized]) == EXIT_OK
    assert main(["validate", TXT2IMG, *sized, "--max-pixels", "1000000"]) == EXIT_INVALID
    assert "node 'noise', input 'width'" in one_error_line(capsys)


def test_max_pixels_must_be_a_positive_integer(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["validate", TXT2IMG, "--max-pixels", "0"])
    assert exited.value.code == EXIT_INVALID
    assert "--max-pixels" in one_error_line(capsys)


def test_installed_command_prints_one_line_and_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nodeflow", "validate", str(tmp_path / "nope.json")],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == EXIT_INVALID
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
