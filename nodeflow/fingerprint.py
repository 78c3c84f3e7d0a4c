"""Fingerprints of outside state a node reads, for its cache key."""

from __future__ import annotations

import os
from pathlib import Path

from .folders import ModelSource


def path_fingerprint(path: str | Path) -> str:
    """Size and mtime of a file, or of every file under a folder; 'missing' when absent.

    Cheap enough to compute on every run; any edit, replacement or addition changes it.
    """
    path = Path(path)
    if path.is_file():
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    if not path.is_dir():
        return "missing"
    parts = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            parts.append(f"{os.path.relpath(os.path.join(root, name), path)}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def source_fingerprint(source: ModelSource) -> str:
    """What is on disk where a loader reads; a hub repo is named by its id (the hub's cache keeps it fixed)."""
    if source.path is None:
        return f"hub:{source.ref}:{source.subfolder}"
    return path_fingerprint(source.path)
