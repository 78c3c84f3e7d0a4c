"""The folders a run may read and write, and safe resolution of names inside them.

A name coming from a workflow or a request is never trusted as a path: it is
resolved under one of the allowed roots, and `..`, absolute paths, NUL bytes and
symlinks that lead out of the roots are refused. Every path a node reads goes
through `readable` (a file) or `model_source` (a model folder, or a hub id, and
a subfolder of it). The CLI runs for a local user and may opt into
`trust_paths`, which lets absolute paths through for reading.
"""

from __future__ import annotations

import itertools
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Literal, NamedTuple

FolderKind = Literal["input", "output", "temp", "models"]
_LISTED_MAX = 500  # entries listed per folder kind (a dropdown, not a file browser)
_WALKED_MAX = 20_000  # paths looked at to find them


class UnsafePath(ValueError):
    """A path that would leave its allowed folder."""


@dataclass(frozen=True)
class ModelSource:
    """Where a loader reads a model, or one component of it.

    `ref` and `subfolder` are what `from_pretrained` takes: a model folder inside the model folders, or a hub id.
    `path` is the folder on disk (`ref/subfolder`), None for a hub repo.
    """

    ref: str
    subfolder: str = ""
    path: Path | None = None


class NewFile(NamedTuple):
    """A file `Folders.create_numbered` made: open for writing, at `path`, in `subfolder` of its folder."""

    file: BinaryIO
    path: Path
    subfolder: str


@dataclass(frozen=True)
class InFolder:
    """Marks a `str` input whose value names an entry of the allowed folders: `Annotated[str, InFolder("models")]`.

    The schema says so, the editor and `/object_info` offer what `Folders.listing` finds there (free text stays
    allowed: `other` says what else the value may be, e.g. a hub id), and `validate --deep` calls `check`
    (folders, value, input name), which raises when the value does not resolve. `entries` is "folders" (model
    folders) or "files" with one of `suffixes`; `subfolder` names them inside that folder of each root (ComfyUI's
    `checkpoints`, `loras`, `vae`, `controlnet` in the model folders).
    """

    kind: FolderKind
    entries: Literal["folders", "files"] = "folders"
    suffixes: tuple[str, ...] = ()
    other: str = ""
    check: Callable[[Any, str, str], None] | None = None
    subfolder: str = ""

    def schema(self) -> dict[str, Any]:
        return {"kind": self.kind, "entries": self.entries, "suffixes": list(self.suffixes), "other": self.other,
                **({"subfolder": self.subfolder} if self.subfolder else {})}


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

    def readable(self, kind: FolderKind, name: str, input_name: str = "file") -> Path:
        """A file to read: in the first of the `kind` folders that holds it, or anywhere when paths are trusted.

        `input_name` is the node input that gave `name`, for the error message."""
        if self.trust_paths and os.path.isabs(name):
            return Path(name)
        roots = self.models if kind == "models" else [self.root(kind)]
        where = f"the {kind} folder{'s' if len(roots) > 1 else ''} ({_listed(roots)})"
        _require_relative(name, _input(input_name), where)
        candidates = [root / name for root in roots]
        for path in candidates:
            if os.path.lexists(path):
                _require_within(path, roots, _input(input_name), name, where)
                return path
        if self.trust_paths and os.path.exists(name):
            return Path(name)
        return candidates[0]

    @contextmanager
    def create_numbered(self, kind: FolderKind, prefix: str, suffix: str) -> Iterator[NewFile]:
        """A new file `<prefix>_<NNNNN>_<suffix>` in the `kind` folder (a prefix "sub/name" puts it in the
        subfolder "sub"), numbered after the highest number there, open for writing in the block.

        Created exclusively (O_EXCL): savers that pick the same number at once each get a file of their own, the
        later ones taking the next free number, and nothing that exists (a file, a link) is ever written through.
        It gets the default mode (the umask applies) and is removed if the block fails."""
        subfolder, _, stem = prefix.rpartition("/")
        folder = self.inside(kind, "", subfolder) if subfolder else self.root(kind)
        folder.mkdir(parents=True, exist_ok=True)
        number = _highest_number(folder, stem, suffix) + 1
        while True:
            path = self.inside(kind, f"{stem}_{number:05d}_{suffix}", subfolder)
            try:
                file = open(path, "xb")
            except FileExistsError:
                number += 1
                continue
            break
        try:
            with file:
                yield NewFile(file, path, subfolder)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def model_source(self, model: str, subfolder: str = "", input_name: str = "model") -> ModelSource:
        """Where to load `model` (a folder in the model folders, or a hub id such as "org/name") and its
        `subfolder` from. The subfolder is a plain relative path that stays inside the model folder, links
        resolved; `input_name` is the node input that gave `model`, for the error message."""
        folder = self._model_folder(model, input_name)
        _require_relative(subfolder, _input("subfolder"), "the model's folder")
        if folder is None:
            return ModelSource(model, subfolder)
        path = folder / subfolder if subfolder else folder
        _require_within(path, [folder], _input("subfolder"), subfolder, f"the model folder {str(folder)!r}")
        return ModelSource(str(folder), subfolder, path)

    def _model_folder(self, model: str, input_name: str) -> Path | None:
        """The model's folder on disk, or None when `model` is a hub id."""
        if self.trust_paths and os.path.exists(model):
            return Path(model)
        _require_relative(model, _input(input_name), self._models_listed())
        for root in self.models:
            candidate = root / model
            if os.path.lexists(candidate):
                real = candidate.resolve()
                if not _within(real, self.models):
                    raise UnsafePath(f"{_input(input_name)}{str(candidate)!r} links to {str(real)!r}, outside "
                                     f"{self._models_listed()}; add {str(real)!r} as a model folder (--models-dir) "
                                     "instead")
                return candidate
        if os.path.exists(model):  # from_pretrained would read it from the working directory
            raise UnsafePath(f"{_input(input_name)}{model!r} is not inside {self._models_listed()}")
        return None

    def listing(self, marker: InFolder) -> list[str]:
        """The names an `InFolder` input may take here, sorted: model folders (those holding a
        model_index.json or config.json, one level deep or `org/name`) or files with the marker's suffixes."""
        roots = self.models if marker.kind == "models" else [self.root(marker.kind)]
        roots = [root / marker.subfolder for root in roots] if marker.subfolder else roots
        names: set[str] = set()
        for root in roots:
            names.update(_folder_entries(root, marker) if marker.entries == "folders" else _file_entries(root, marker))
        return sorted(names)[:_LISTED_MAX]

    def _models_listed(self) -> str:
        return f"the model folders ({_listed(self.models)})"


def _highest_number(folder: Path, stem: str, suffix: str) -> int:
    numbered = re.compile(re.escape(stem) + r"_(\d+)_" + re.escape(suffix))
    return max((int(match.group(1)) for entry in os.scandir(folder) if (match := numbered.fullmatch(entry.name))),
               default=0)


def _is_model_folder(path: Path) -> bool:
    return (path / "model_index.json").is_file() or (path / "config.json").is_file()


def _folder_entries(root: Path, marker: InFolder) -> list[str]:
    found = []
    for child in _children(root):
        if not child.is_dir():
            continue
        if _is_model_folder(child):
            found.append(child.name)
        else:  # an `org/name` layout, as hub ids are written
            found.extend(f"{child.name}/{inner.name}" for inner in _children(child)
                         if inner.is_dir() and _is_model_folder(inner))
    return [name for name in found if _within((root / name).resolve(), [root])]


def _file_entries(root: Path, marker: InFolder) -> list[str]:
    found = []
    for path in itertools.islice(root.rglob("*"), _WALKED_MAX) if root.is_dir() else []:
        if path.is_file() and (not marker.suffixes or path.suffix.lower() in marker.suffixes):
            if not any(part.startswith(".") for part in path.relative_to(root).parts) and _within(path.resolve(), [root]):
                found.append(path.relative_to(root).as_posix())
    return found


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(child for child in folder.iterdir() if not child.name.startswith("."))
    except OSError:
        return []


def safe_join(root: Path, subfolder: str, name: str) -> Path:
    where = f"the {root.name} folder"
    for part in (subfolder, name):
        _require_relative(part, "", where)
    path = root / subfolder / name if subfolder else root / name
    _require_within(path, [root], "", str(Path(subfolder) / name), where)
    return path


def _input(name: str) -> str:
    return f"input {name!r}: "


def _listed(roots: list[Path]) -> str:
    return ", ".join(str(root) for root in roots)


def _require_relative(value: str, label: str, where: str) -> None:
    """Refuse a NUL byte, an absolute path or a `..` step: `value` must name something inside `where`."""
    if "\x00" in value:
        problem = "has a NUL byte"
    elif os.path.isabs(value) or value.startswith(("/", "\\")):
        problem = "is an absolute path"
    elif ".." in value.replace("\\", "/").split("/"):
        problem = "has a '..' step"
    else:
        return
    raise UnsafePath(f"{label}{value!r} {problem}; only paths inside {where} are allowed")


def _require_within(path: Path, roots: list[Path], label: str, value: str, where: str) -> None:
    """Refuse `path` when, links resolved, it lies outside every root."""
    if not _within(path.resolve(), roots):
        raise UnsafePath(f"{label}{value!r} leads out of {where} through a link")


def _within(real: Path, roots: list[Path]) -> bool:
    return any(real == root or root in real.parents for root in (r.resolve() for r in roots))
