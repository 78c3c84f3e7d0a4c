"""`python -m tiny_models.<module> [KIND] PATH`: build one tiny random-weight model (or file) at PATH."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from nodeflow.quiet import quiet_libraries

Builder = Callable[[Path], Any]


def build_command(module: str, builders: dict[str, Builder], argv: list[str] | None = None) -> int:
    """Parse `[KIND] PATH` (KIND only when there are several builders), build at PATH, say where."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description="Build a tiny model with RANDOM weights, for tests (its images are noise-like patterns). "
                    "`nodeflow demo` builds every demo model into ./models and prints how to run them.")
    if len(builders) > 1:
        parser.add_argument("kind", choices=list(builders), help="which one to build")
    parser.add_argument("path", type=Path, help="where to write it (must not exist yet)")
    args = parser.parse_args(argv)
    if args.path.exists():
        parser.error(f"{args.path} exists already; give a new path")
    build = builders[args.kind] if len(builders) > 1 else next(iter(builders.values()))
    with quiet_libraries():
        build(args.path)
    print(f"wrote {args.path}")
    return 0
