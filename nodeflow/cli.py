"""`nodeflow run | validate | params | nodes | demo | serve` — the command line (a contract, see DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .budgets import Budgets
from .cli_parser import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from .cli_parser import build_parser as parser_for
from .limits import Limits
from .quiet import quiet_libraries

if TYPE_CHECKING:
    from .comfy_formats import Loaded
    from .registry import Registry

__all__ = ["EXIT_FAILED", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]


class CommandError(Exception):
    """A mistake in the command or the files it names: one line `error: ...` on stderr, exit 2."""


def _params(pairs: list[str]) -> dict[str, Any]:
    from .workflow import parse_param_value

    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise CommandError(f"--param needs NAME=VALUE, got {pair!r}")
        values[name] = parse_param_value(text)
    return values


def _registry(args: argparse.Namespace):
    from .registry import DuplicateNodeType, NodeLoadError, default_registry

    try:
        return default_registry(args.nodes_dir or ())
    except (NodeLoadError, DuplicateNodeType) as exc:
        raise CommandError(str(exc)) from exc


def _load(path: str, registry: Registry) -> Loaded:
    """A workflow file in format 1 or in one of ComfyUI's formats (API or UI), with the PNG chunks it brings."""
    from .comfy_formats import load_any
    from .workflow import read_json_file

    try:
        return load_any(read_json_file(path), registry)
    except IsADirectoryError as exc:
        raise CommandError(f"workflow {path} is a folder, not a file") from exc
    except OSError as exc:
        raise CommandError(f"cannot read workflow {path}: {exc.strerror or exc}") from exc


def _report_path(text: str | None) -> Path | None:
    """The --report file, checked before the run, so that a long run does not end in an unwritable path."""
    if text is None:
        return None
    path = Path(text)
    if path.is_dir():
        raise CommandError(f"--report {text} is a folder; give the name of a file to write")
    if not path.parent.is_dir():
        raise CommandError(f"--report {text}: folder {path.parent} does not exist")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise CommandError(f"--report {text} cannot be written (permission denied)")
    return path


def _folders(args: argparse.Namespace):
    """The folders of `run` and `validate --deep`: a local user's, so absolute paths are trusted for reading."""
    from .folders import Folders

    return Folders(output=Path(getattr(args, "output", "output")), input=Path(args.input_dir),
                   models=[Path(m) for m in args.models_dir], trust_paths=True)


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(max_nodes=args.max_nodes, max_pixels=args.max_pixels)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _print_problems(problems) -> None:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if len(problems) > 1:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from .plan import validate
    from .problems import ProblemList

    params = _params(args.param)
    folders = _folders(args) if args.deep else None
    try:
        registry = _registry(args)
        workflow = _load(args.workflow, registry).workflow.with_params(params)
        problems = validate(workflow, registry, _limits(args), folders)
    except ProblemList as exc:
        problems = exc.problems
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    print(f"{args.workflow}: ok")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .executor import Executor
    from .interrupt import ctrl_c_interrupts
    from .problems import ProblemList
    from .progress import ProgressBar

    params = _params(args.param)
    report_path = _report_path(args.report)
    try:
        registry = _registry(args)
        loaded = _load(args.workflow, registry)
        folders = _folders(args)
        executor = Executor(registry, device=args.device, folders=folders, limits=_limits(args),
                            budgets=Budgets.from_args(args))
        with ctrl_c_interrupts(executor), ProgressBar.for_workflow(loaded.workflow, registry) as bar:
            report = executor.run(loaded.workflow, params=params, on_event=bar, pnginfo=loaded.pnginfo)
    except ProblemList as exc:
        _print_problems(exc.problems)
        return EXIT_INVALID
    for node_id, ui in report.ui.items():
        for written in [*ui.get("images", []), *ui.get("files", [])]:
            print(folders.root(written.get("type", "output")) / written.get("subfolder", "") / written["filename"])
        for warning in ui.get("warnings", []):
            print(f"warning: node {node_id!r}: {warning}", file=sys.stderr)
    for failure in report.failures:
        print(f"error: node {failure.node_id!r} ({failure.node_type}) failed: {_one_line(failure.message)}",
              file=sys.stderr)
        if args.verbose:
            print(failure.traceback, file=sys.stderr)
    if report.interrupted:
        print("interrupted", file=sys.stderr)
    if report_path is not None:
        try:
            report_path.write_text(json.dumps(report.summary(), indent=2))
        except OSError as exc:
            raise CommandError(f"cannot write --report {report_path}: {exc.strerror or exc}") from exc
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_params(args: argparse.Namespace) -> int:
    from .param_info import describe_params
    from .problems import ProblemList

    try:
        registry = _registry(args)
        described = describe_params(_load(args.workflow, registry).workflow, registry)
    except ProblemList as exc:
        _print_problems(exc.problems)
        return EXIT_INVALID
    if args.json:
        print(json.dumps([param.to_dict() for param in described], indent=2, ensure_ascii=False))
    else:
        print("\n".join(param.text() for param in described) or f"{args.workflow} has no params")
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.json:
        print(json.dumps(registry.schema(), indent=2))
        return EXIT_OK
    for definition in registry:
        inputs = ", ".join(f"{n}: {s.type_name}" for n, s in definition.inputs.items())
        outputs = ", ".join(f"{n}: {s.type_name}" for n, s in definition.outputs.items()) or "-"
        print(f"{definition.type_id} v{definition.version} [{definition.category}]  ({inputs}) -> {outputs}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from tiny_models import demo

    from .shipped import shipped

    systems = demo.chosen(args.system)
    models_dir, input_dir = Path(args.models_dir), Path(args.input_dir)
    try:
        for line in demo.prepare(systems, models_dir, input_dir):
            print(line, flush=True)
    except OSError as exc:
        raise CommandError(f"cannot build the demo models: {exc}") from exc
    print("\nEach line runs a shipped workflow on its demo model, offline, in seconds "
          "(random weights: the images are noise-like patterns):")
    print("\n".join(demo.run_lines(systems, _shown(shipped("workflows")), models_dir, input_dir)))
    return EXIT_OK


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it (`workflows/` in a checkout)."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def cmd_serve(args: argparse.Namespace) -> int:
    from .server.app import serve
    from .server.extras import OptionError

    try:
        return serve(args, _registry(args))
    except OptionError as exc:
        raise CommandError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    return parser_for({"run": cmd_run, "validate": cmd_validate, "params": cmd_params, "nodes": cmd_nodes,
                       "demo": cmd_demo, "serve": cmd_serve})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with quiet_libraries(args.verbose):
        try:
            return args.func(args)
        except CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_INVALID
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_FAILED
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, the traceback only when asked
            if args.verbose:
                traceback.print_exc()
            hint = "" if args.verbose else " (-v shows the traceback)"
            print(f"error: {type(exc).__name__}: {_one_line(str(exc))}{hint}", file=sys.stderr)
            return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
