"""The flags of `nodeflow run | validate | params | nodes | demo | serve` (a contract, see DESIGN.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, NoReturn

from .budgets import DEFAULT_CACHE_BYTES, parse_size
from .limits import AFFINITY_WAIT_SECONDS, DEFAULT_LIMITS, MAX_ATTEMPTS

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
Command = Callable[[argparse.Namespace], int]


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


def build_parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    """Every subcommand with its flags; `commands` gives the function that runs each."""
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
    run.set_defaults(func=commands["run"])

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
    validate.set_defaults(func=commands["validate"])

    params = sub.add_parser("params", help="list a workflow's params: type, default, bounds, description")
    params.add_argument("workflow")
    params.add_argument("--json", action="store_true", help="print them as JSON")
    params.set_defaults(func=commands["params"])

    nodes = sub.add_parser("nodes", help="list node types")
    nodes.add_argument("--json", action="store_true", help="print every node's schema as JSON")
    nodes.set_defaults(func=commands["nodes"])

    demo = sub.add_parser("demo", help="build tiny random-weight demo models and print how to run the shipped "
                                       "workflows on them offline")
    demo.add_argument("system", nargs="?", default="all", choices=[*DEMO_SYSTEMS, "all"],
                      help="which system's models to build (default all)")
    demo.add_argument("--models-dir", default="models", help="folder to build them in (default ./models)")
    demo.add_argument("--input-dir", default="input",
                      help="folder for the demo picture of img2img and the mask of inpainting (default ./input)")
    demo.set_defaults(func=commands["demo"])

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
    serve.add_argument("--ray", metavar="auto|ADDRESS",
                       help="run the workers as Ray actors: 'auto' starts a local Ray (one actor per GPU, or "
                            "--ray-workers CPU actors); an address (host:port of `ray start --head`) joins that "
                            "cluster with one actor per GPU it has (needs pip install 'nodeflow[ray]')")
    serve.add_argument("--ray-workers", type=_positive_int, metavar="N",
                       help="with --ray: N CPU actors instead of one actor per GPU")
    serve.add_argument("--max-batch", type=_positive_int, default=4, metavar="N",
                       help="a worker runs up to N pending prompts that share a graph, sizes and steps as one batch "
                            "(default 4; 1 turns batching off)")
    serve.add_argument("--affinity-wait", type=_seconds, default=AFFINITY_WAIT_SECONDS, metavar="SECONDS",
                       help="a free worker takes first a prompt whose models it holds, unless the first prompt in "
                            f"the queue has waited this long (default {AFFINITY_WAIT_SECONDS:g}; 0: first come, "
                            "first served)")
    serve.add_argument("--max-upload-mb", type=float, default=32.0, help="largest accepted image upload")
    serve.add_argument("--max-body-mb", type=float, default=8.0, help="largest accepted JSON request body")
    serve.add_argument("--cors-origin", action="append", help="allow cross-origin requests from this origin")
    serve.add_argument("--frontend", choices=("nodeflow", "comfyui"), default="nodeflow",
                       help="the editor served at /: nodeflow's own (default) or the official ComfyUI frontend "
                            "(needs pip install 'nodeflow[comfyui]')")
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
    serve.set_defaults(func=commands["serve"])

    for command in sub.choices.values():
        command.add_argument("-v", "--verbose", action="store_true",
                             help="show tracebacks, and the warnings of diffusers and transformers")
    return parser
