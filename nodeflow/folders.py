"""The folders a run may read and write, and safe resolution of names inside them.

A name coming from a workflow or a request is never trusted as a path: it is
resolved under one of the allowed roots, and `..`, absolute paths, NUL bytes and
symlinks that lead out of the root are refused. The CLI runs for a local user
and may opt into `trust_paths`, which lets absolute paths through for reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FolderKind = Literal["input", "output", "temp", "models"]


class UnsafePath(ValueError):
    """A path that would leave its allowed folder."""


@dataclass
class Folders:
    output: Path = field(default_factory=lambda: Path("output"))
    input: Path = field(default_factory=lambda: Path("input"))
    temp: Path = field(default_factory=lambda: Path("temp"))
    models: list[Path] = field(default_factory=lambda: [Path("models")])
    trust_paths: bool = False

    def root(self, kind: FolderKind) -> Path:
        if kind == "models":
            return self.models[0]
        if kind not in ("input", "output", "temp"):
            raise UnsafePath(f"unknown folder type {kind!r}; use input, output or temp")
        return getattr(self, kind)

    def inside(self, kind: FolderKind, name: str, subfolder: str = "") -> Path:
        """`root/subfolder/name`, refused if it would leave the root."""
        return safe_join(self.root(kind), subfolder, name)

    def readable(self, kind: FolderKind, name: str) -> Path:
        """A file to read: inside the folder, or anywhere when paths are trusted."""
        if self.trust_paths and os.path.isabs(name):
            return Path(name)
        roots = self.models if kind == "models" else [self.root(kind)]
        candidates = [safe_join(root, "", name) for root in roots]
        for path in candidates:
            if path.exists():
                return path
        if self.trust_paths and Path(name).exists():
            return Path(name)
        return candidates[0]

    def model_ref(self, ref: str) -> str:
        """A readable model path when `ref` names one, else `ref` itself (a hub id such as "org/name")."""
        path = Path(ref)
        if self.trust_paths and path.exists():
            return str(path)
        for root in self.models:
            try:
                candidate = safe_join(root, "", ref)
            except UnsafePath:
                break
            if candidate.exists():
                return str(candidate)
        if path.is_absolute() or ".." in path.parts or path.exists():
            roots = ", ".join(str(m) for m in self.models)
            raise UnsafePath(f"model path {ref!r} is not inside the model folders ({roots})")
        return ref


def safe_join(root: Path, subfolder: str, name: str) -> Path:
    for part in (subfolder, name):
        if "\x00" in part:
            raise UnsafePath("NUL byte in path")
        if os.path.isabs(part) or part.startswith(("/", "\\")):
            raise UnsafePath(f"absolute path {part!r} not allowed")
        if ".." in Path(part).parts or ".." in part.replace("\\", "/").split("/"):
            raise UnsafePath(f"'..' not allowed in {part!r}")
    root_real = root.resolve()
    path = root / subfolder / name if subfolder else root / name
    real = path.resolve()
    if real != root_real and root_real not in real.parents:
        raise UnsafePath(f"{str(Path(subfolder) / name)!r} leaves the {root.name} folder")
    return path
