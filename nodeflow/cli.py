"""`nodeflow run | validate | params | nodes | demo | serve` — the command line (a contract, see DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from .budgets import DEFAULT_CACHE_BYTES, Budgets, parse_size
from .limits import AFFINITY_WAIT_SECONDS, DEFAULT_LIMITS, MAX_ATTEMPTS, Limits
from .quiet import quiet_libraries

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class CommandError(Exception):
    """A mistake in the command or the files it names: one line `error: ...` on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line like every other error of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, got {text!r}")
    return seconds
def _size(flag: str):
    def parse(text: str) -> int:
        try:
            return parse_size(text, flag)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from exc

    return parse


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


def _load(path: str):
    from .workflow import Workflow

    try:
        return Workflow.load(path)
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
        workflow = _load(args.workflow).with_params(params)
        problems = validate(workflow, _registry(args), _limits(args), folders)
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
        workflow = _load(args.workflow)
        registry = _registry(args)
        folders = _folders(args)
        executor = Executor(registry, device=args.device, folders=folders, limits=_limits(args),
                            budgets=Budgets.from_args(args))
        with ctrl_c_interrupts(executor), ProgressBar.for_workflow(workflow, registry) as bar:
            report = executor.run(workflow, params=params, on_event=bar)
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
        described = describe_params(_load(args.workflow), _registry(args))
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

    return serve(args, _registry(args))


def _add_limits(command: argparse.ArgumentParser) -> None:
    command.add_argument("--max-nodes", type=_positive_int, default=DEFAULT_LIMITS.max_nodes, metavar="N",
                         help=f"most nodes a workflow may have (default {DEFAULT_LIMITS.max_nodes:,})")
    command.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_LIMITS.max_pixels, metavar="N",
                         help="pixel budget: width × height × batch summed over the workflow's nodes "
                              f"(default {DEFAULT_LIMITS.max_pixels:,}); the server also caps uploaded images by it")


def _add_budgets(command: argparse.ArgumentParser) -> None:
    command.add_argument("--vram-budget", type=_size("--vram-budget"), metavar="SIZE",
                         help="GPU memory for models, e.g. 6GB, 512MB, 1.5GiB (default: the GPU's memory less 10%%, "
                              "at least 1 GiB, kept for activations); idle models beyond it move to the CPU")
    command.add_argument("--ram-budget", type=_size("--ram-budget"), metavar="SIZE",
                         help="process memory for models on the CPU (default: half the system memory); idle models "
                              "beyond it are dropped and loaded again when next used")
    command.add_argument("--cache-mb", type=_positive_int, default=DEFAULT_CACHE_BYTES // 2**20, metavar="N",
                         help="megabytes of node outputs kept for re-runs (models are not counted here; "
                              f"default {DEFAULT_CACHE_BYTES // 2**20})")


def build_parser() -> argparse.ArgumentParser:
    from tiny_models.demo import SYSTEMS as DEMO_SYSTEMS

    parser = _Parser(prog="nodeflow", description="Typed node workflows for diffusion models.")
    parser.add_argument("--nodes-dir", action="append", type=Path, help="extra folder of node modules (*.py)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a workflow and write its images")
    run.add_argument("workflow")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a workflow param (JSON or string)")
    run.add_argument("--output", default="output", help="folder for output images (default ./output)")
    run.add_argument("--input-dir", default="input", help="folder input images are read from")
    run.add_argument("--models-dir", action="append", default=["models"], help="folder(s) to look for models in")
    run.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    run.add_argument("--report", help="write the run report (executed, cached, seconds) as JSON here")
    _add_limits(run)
    _add_budgets(run)
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a workflow and print every problem")
    validate.add_argument("workflow")
    validate.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    validate.add_argument("--deep", action="store_true",
                          help="also look up the models and input files the workflow names in the folders "
                               "(and a hub id in the local cache, or on the hub when online)")
    validate.add_argument("--models-dir", action="append", default=["models"],
                          help="folder(s) to look for models in, with --deep")
    validate.add_argument("--input-dir", default="input", help="folder input files are read from, with --deep")
    _add_limits(validate)
    validate.set_defaults(func=cmd_validate)

    params = sub.add_parser("params", help="list a workflow's params: type, default, bounds, description")
    params.add_argument("workflow")
    params.add_argument("--json", action="store_true", help="print them as JSON")
    params.set_defaults(func=cmd_params)

    nodes = sub.add_parser("nodes", help="list node types")
    nodes.add_argument("--json", action="store_true", help="print every node's schema as JSON")
    nodes.set_defaults(func=cmd_nodes)

    demo = sub.add_parser("demo", help="build tiny random-weight demo models and print how to run the shipped "
                                       "workflows on them offline")
    demo.add_argument("system", nargs="?", default="all", choices=[*DEMO_SYSTEMS, "all"],
                      help="which system's models to build (default all)")
    demo.add_argument("--models-dir", default="models", help="folder to build them in (default ./models)")
    demo.add_argument("--input-dir", default="input",
                      help="folder for the demo picture of img2img and the mask of inpainting (default ./input)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the API server and web editor")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8188)
    serve.add_argument("--token", help="require this token on every request (needed beyond 127.0.0.1)")
    serve.add_argument("--output-dir", default="output", help="folder for output images (default ./output)")
    serve.add_argument("--input-dir", default="input", help="folder for uploaded/input images (default ./input)")
    serve.add_argument("--models-dir", action="append", help="folder(s) to look for models in (default ./models)")
    serve.add_argument("--user-dir", default="user", help="folder for saved workflows, temp files and the queue")
    serve.add_argument("--db", help="SQLite file of the queue and history (default USER_DIR/nodeflow.sqlite3)")
    serve.add_argument("--device", action="append", help="run a worker on this device (repeatable; default auto)")
    serve.add_argument("--affinity-wait", type=_seconds, default=AFFINITY_WAIT_SECONDS, metavar="SECONDS",
                       help="a free worker takes first a prompt whose models it holds, unless the first prompt in "
                            f"the queue has waited this long (default {AFFINITY_WAIT_SECONDS:g}; 0: first come, "
                            "first served)")
    serve.add_argument("--max-upload-mb", type=float, default=32.0, help="largest accepted image upload")
    serve.add_argument("--max-body-mb", type=float, default=8.0, help="largest accepted JSON request body")
    serve.add_argument("--cors-origin", action="append", help="allow cross-origin requests from this origin")
    serve.add_argument("--allow-host", action="append", metavar="NAME",
                       help="also answer requests for this host name without a token, from any port of it "
                            "(e.g. a reverse proxy's name; repeatable; loopback names are always answered)")
    _add_limits(serve)
    _add_budgets(serve)
    serve.add_argument("--max-attempts", type=_positive_int, default=MAX_ATTEMPTS, metavar="N",
                       help="runs of a prompt that ended with the server down before it is marked failed "
                            f"(default {MAX_ATTEMPTS})")
    serve.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="time a client has to send a request body (408 after)")
    serve.add_argument("--max-requests", type=int, default=64, help="HTTP requests handled at once (503 beyond)")
    serve.add_argument("--max-websockets", type=int, default=256, help="WebSockets open at once (503 beyond)")
    serve.set_defaults(func=cmd_serve)

    for command in sub.choices.values():
        command.add_argument("-v", "--verbose", action="store_true",
                             help="show tracebacks, and the warnings of diffusers and transformers")
    return parser


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
