"""Fingerprints of outside state a node reads, for its cache key."""

from __future__ import annotations

import os
from pathlib import Path

from .folders import ModelSource

# A diffusers model folder holds tens of files; a folder with this many entries is not one.
MAX_ENTRIES = 20_000


class FolderTooLarge(ValueError):
    """A folder to fingerprint holds more entries than any model folder does."""


def path_fingerprint(path: str | Path, max_entries: int = MAX_ENTRIES) -> str:
    """Size and mtime of a file, or of every file under a folder; 'missing' when absent.

    Cheap enough to compute on every run; any edit, replacement or addition changes it. A folder holding more
    than `max_entries` files and subfolders is refused, so that a stray path cannot start a walk of a whole disk.
    """
    path = Path(path)
    if path.is_file():
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    if not path.is_dir():
        return "missing"
    return "|".join(f"{name}:{size}:{mtime}" for name, size, mtime in _files(path, max_entries))


def source_fingerprint(source: ModelSource) -> str:
    """What is on disk where a loader reads; a hub repo is named by its id (the hub's cache keeps it fixed)."""
    if source.path is None:
        return f"hub:{source.ref}:{source.subfolder}"
    return path_fingerprint(source.path)


def _files(top: Path, max_entries: int) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime) of every file under `top`, sorted; links to folders count as files."""
    found, pending, seen = [], [top], 0
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    raise FolderTooLarge(f"{str(top)!r} holds more than {max_entries} files and folders, far more "
                                         "than a model folder; it was not read")
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    stat = entry.stat()
                    found.append((os.path.relpath(entry.path, top), stat.st_size, stat.st_mtime_ns))
    return sorted(found)
