"""The CLI contract: run, validate, nodes; exit codes; no diffusers import for light commands."""

import json
import subprocess
import sys
from pathlib import Path

from nodeflow.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main

PACK = str(Path(__file__).parent / "pack")


def write(path, nodes, params=None):
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes, "params": params or {}}))
    return str(path)


def link(node, output):
    return {"node": node, "output": output}


def test_validate_prints_cycle_mismatch_and_range_errors_with_node_ids(tmp_path, capsys):
    path = write(tmp_path / "bad.json", {
        "loop1": {"type": "math.add", "inputs": {"x": link("loop2", "int")}},
        "loop2": {"type": "math.add", "inputs": {"x": link("loop1", "int"), "y": 5000}},
        "box": {"type": "math.box", "inputs": {"value": 1}},
        "show": {"type": "io.show", "inputs": {"value": link("box", "integer")}},
    })
    assert main(["--nodes-dir", PACK, "validate", path]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "node 'loop1': nodes form a cycle" in err
    assert "node 'loop2', input 'y'" in err and "1000" in err
    assert "node 'show', input 'value'" in err and "Integer" in err
    assert "3 problem(s) found" in err


def test_validate_ok_exits_zero(tmp_path, capsys):
    path = write(tmp_path / "ok.json", {"a": {"type": "math.add", "inputs": {"x": 1}},
                                        "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}})
    assert main(["--nodes-dir", PACK, "validate", path]) == EXIT_OK
    assert "ok" in capsys.readouterr().out


def test_run_with_params_and_report(tmp_path):
    path = write(tmp_path / "wf.json", {"a": {"type": "math.add", "inputs": {"x": 1}},
                                        "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}},
                 params={"y": {"node": "a", "input": "y"}})
    report = tmp_path / "report.json"
    assert main(["--nodes-dir", PACK, "run", path, "--param", "y=41", "--device", "cpu", "--report", str(report)]) == EXIT_OK
    assert json.loads(report.read_text())["executed"] == ["a", "s"]


def test_run_exit_codes_for_invalid_and_failing_workflows(tmp_path, capsys):
    failing = write(tmp_path / "fail.json", {"f": {"type": "math.fail", "inputs": {"value": 1}},
                                             "s": {"type": "io.show", "inputs": {"value": link("f", "int")}}})
    assert main(["--nodes-dir", PACK, "run", failing, "--device", "cpu"]) == EXIT_FAILED
    assert "node 'f' (math.fail) failed: cannot handle 1" in capsys.readouterr().err
    assert main(["--nodes-dir", PACK, "run", failing, "--param", "nope=1"]) == EXIT_INVALID


def test_param_values_parse_as_json_else_string(tmp_path, capsys):
    path = write(tmp_path / "wf.json", {"j": {"type": "text.join", "inputs": {"a": "x"}},
                                        "s": {"type": "io.show", "inputs": {"value": link("j", "text")}}},
                 params={"b": {"node": "j", "input": "b"}})
    assert main(["--nodes-dir", PACK, "run", path, "--param", "b=a cat", "--device", "cpu"]) == EXIT_OK
    assert main(["--nodes-dir", PACK, "run", path, "--param", "b=3", "--device", "cpu"]) == EXIT_INVALID
    assert "input 'b'" in capsys.readouterr().err


def test_nodes_json_lists_schemas(capsys):
    assert main(["--nodes-dir", PACK, "nodes", "--json"]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    assert schema["nodes"]["math.divmod"]["outputs"] == {"quotient": {"type": "int"}, "remainder": {"type": "int"}}


def test_light_commands_do_not_import_diffusers_or_the_server(tmp_path):
    path = write(tmp_path / "ok.json", {"a": {"type": "math.add", "inputs": {"x": 1}},
                                        "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}})
    code = (
        "import sys; from nodeflow.cli import main\n"
        f"main(['--nodes-dir', {PACK!r}, 'validate', {path!r}]); main(['nodes'])\n"
        "heavy = [m for m in ('diffusers', 'transformers', 'aiohttp', 'nodeflow.server') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_run_prints_node_warnings(tmp_path, capsys):
    path = write(tmp_path / "wf.json", {"t": {"type": "text.shout", "inputs": {"text": "a very long text"}},
                                        "s": {"type": "io.show", "inputs": {"value": link("t", "text")}}})
    assert main(["--nodes-dir", PACK, "run", path, "--device", "cpu"]) == EXIT_OK
    assert "warning: node 't': cut 6 characters" in capsys.readouterr().err
