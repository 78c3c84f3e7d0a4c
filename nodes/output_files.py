"""Numbered files that saving nodes write (`<prefix>_00001_.png`), each created exclusively.

Exclusive creation means a file another run wrote meanwhile is never overwritten:
the next free number is taken instead. Files are opened the ordinary way, so they
get the default mode (the umask applies), as any program's files do.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

from nodeflow import Context
from nodeflow.folders import FolderKind

Writer = Callable[[BinaryIO], object]


def write_numbered(ctx: Context, kind: FolderKind, prefix: str, suffix: str,
                   writers: Sequence[Writer]) -> list[dict[str, str]]:
    """One file per writer in the `kind` folder, named `<prefix>_<number>_<suffix>` with numbers above those
    already there; `prefix` may start with a subfolder ("a/b/name"). Returns their UI entries."""
    subfolder, _, stem = prefix.rpartition("/")
    folder = ctx.folders.inside(kind, "", subfolder) if subfolder else ctx.folders.root(kind)
    folder.mkdir(parents=True, exist_ok=True)
    number = _highest_number(folder, stem, suffix) + 1
    entries = []
    for write in writers:
        while True:
            filename = f"{stem}_{number:05d}_{suffix}"
            number += 1
            if _create(ctx.folders.inside(kind, filename, subfolder), write):
                break
        entries.append({"filename": filename, "subfolder": subfolder, "type": kind})
    return entries


def _highest_number(folder: Path, stem: str, suffix: str) -> int:
    pattern = re.compile(re.escape(stem) + r"_(\d+)_" + re.escape(suffix))
    return max((int(match.group(1)) for name in os.listdir(folder) if (match := pattern.fullmatch(name))),
               default=0)


def _create(path: Path, write: Writer) -> bool:
    """Write a new file at `path`; False when the name is taken. A failed write leaves no partial file."""
    try:
        file = open(path, "xb")
    except FileExistsError:
        return False
    try:
        with file:
            write(file)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True
