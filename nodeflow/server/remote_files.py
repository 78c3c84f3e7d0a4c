"""Files crossing between the head and a Ray actor as bytes, so that no disk is shared.

The head sends the input-folder files a prompt names with the prompt. An actor
runs with output and temp folders of its own, which hold only what its current
request (one prompt, or a batch) wrote: a file `create_numbered` made is sent
once its block ends, before the next `executed` message, and the rest at the
end of the request, when the folders are emptied. Until then no file is
removed, so no name is handed out twice in one request: the head maps each
name to the file it stored under a name of its own (a numbered file is
numbered again after what the head's folder holds, as a local worker would
number it), and renames the file's references in the messages, outputs and
history.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..folders import FolderKind, Folders, NewFile
from ..plan import plan
from ..problems import ProblemList
from ..registry import Registry
from ..workflow import Workflow

SENT_KINDS = ("output", "temp")
FileKey = tuple[str, str, str]  # folder kind, subfolder, name: how a UI output refers to a file


@dataclass(frozen=True)
class SentFile:
    kind: str
    subfolder: str
    name: str
    data: bytes
    numbered: tuple[str, str] | None = None  # (stem, suffix) of a file `create_numbered` made

    @property
    def key(self) -> FileKey:
        return self.kind, self.subfolder, self.name


@dataclass
class ScratchFolders(Folders):
    """An actor's folders, knowing which files are complete and which were sent in the current request."""

    _complete: list[tuple[FolderKind, Path, tuple[str, str]]] = field(default_factory=list, init=False)
    _sent: set[Path] = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @contextmanager
    def create_numbered(self, kind: FolderKind, prefix: str, suffix: str) -> Iterator[NewFile]:
        with super().create_numbered(kind, prefix, suffix) as new:
            yield new
        with self._lock:
            self._complete.append((kind, new.path, (prefix.rpartition("/")[2], suffix)))

    def take_written(self) -> list[SentFile]:
        """The files `create_numbered` completed since the last call, read (they stay until the request ends)."""
        with self._lock:
            complete, self._complete = self._complete, []
        self._sent.update(path for _, path, _ in complete)
        return [self._read(kind, path, numbered) for kind, path, numbered in complete]

    def end_request(self) -> list[SentFile]:
        """What the request wrote and was not sent yet, read; then the output and temp folders are emptied."""
        taken = self.take_written()
        for kind in SENT_KINDS:
            root = self.root(kind)
            for path in sorted(root.rglob("*")) if root.is_dir() else []:
                if path.is_file() and not path.is_symlink() and path not in self._sent:
                    taken.append(self._read(kind, path, None))
            clear(root)
        self._sent.clear()
        return taken

    def _read(self, kind: FolderKind, path: Path, numbered: tuple[str, str] | None) -> SentFile:
        subfolder = path.parent.relative_to(self.root(kind)).as_posix()
        return SentFile(kind, "" if subfolder == "." else subfolder, path.name, path.read_bytes(), numbered)


def input_files(workflow: dict[str, Any], registry: Registry, folders: Folders) -> dict[str, bytes]:
    """The input-folder files that the prompt's inputs name (inputs marked `InFolder("input")`), by name. A name
    that does not resolve is left out: the actor's node then fails on it, naming its node and input."""
    try:
        steps = plan(Workflow.from_dict(workflow), registry).steps
    except ProblemList:
        return {}
    files = {}
    for step in steps:
        for name, value in step.literals.items():
            marker = step.definition.inputs[name].folder
            if marker is None or marker.kind != "input" or not isinstance(value, str):
                continue
            try:
                path = folders.readable("input", value, name)
            except ValueError:  # a path leaving the folder: refused again, with its message, where it is read
                continue
            if path.is_file():
                files[value] = path.read_bytes()
    return files


def place_inputs(folders: Folders, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folders.inside("input", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def store_sent(folders: Folders, sent: SentFile) -> str:
    """Write a file an actor sent into this machine's folder of its kind; returns the name it got there."""
    if sent.numbered is not None:
        stem, suffix = sent.numbered
        with folders.create_numbered(sent.kind, f"{sent.subfolder}/{stem}" if sent.subfolder else stem, suffix) as new:
            new.file.write(sent.data)
        return new.path.name
    stem, dot, suffix = sent.name.rpartition(".")
    stem, dot, suffix = (stem, dot, suffix) if stem else (sent.name, "", "")
    number = 1
    while True:
        name = sent.name if number == 1 else f"{stem}_{number}{dot}{suffix}"
        path = folders.inside(sent.kind, name, sent.subfolder)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as file:
                file.write(sent.data)
        except FileExistsError:
            number += 1
            continue
        return name


def renamed(value: Any, names: dict[FileKey, str]) -> Any:
    """`value` (a message, UI outputs, history messages) with each file reference (a dict with `filename`,
    `subfolder` and `type`) to a file stored under another name changed to that name."""
    if isinstance(value, dict):
        copy = {key: renamed(item, names) for key, item in value.items()}
        key = (value.get("type"), value.get("subfolder", ""), value.get("filename"))
        if key in names:
            copy["filename"] = names[key]  # type: ignore[index]
        return copy
    if isinstance(value, (list, tuple)):
        return type(value)(renamed(item, names) for item in value)
    return value


def clear(root: Path) -> None:
    """Remove every file under `root` (the folders stay)."""
    for path in root.rglob("*") if root.is_dir() else []:
        if path.is_file() or path.is_symlink():
            path.unlink()
