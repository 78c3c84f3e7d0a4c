"""The node registry: which node types exist, where they came from, and their schemas.

Node modules are plain modules of `@node` functions. A registry collects them
from the built-in `nodes` package, from the `nodeflow.nodes` entry-point group
(each entry point names a module), and from `--nodes-dir` folders of `.py` files.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from .first_calls import FirstCalls
from .node import NodeDef, definition_of
from .typing_rules import link_problem, socket_classes

ENTRY_POINT_GROUP = "nodeflow.nodes"


class DuplicateNodeType(ValueError):
    """Two node functions claim the same type id."""


class NodeLoadError(ImportError):
    """A node folder or module that cannot be loaded; the message names it and why."""


class Registry:
    """Node definitions by type id. Executors that share a registry (the server's workers) also share its
    `first_calls`: the first call of each node type, where it imports its libraries, takes turns."""

    def __init__(self, functions: Iterable[Any] = ()) -> None:
        self._defs: dict[str, NodeDef] = {}
        self._link_verdicts: dict[tuple[int, int], tuple[Any, Any, str | None]] = {}
        self.first_calls = FirstCalls()
        self.add(*functions)

    def add(self, *functions: Any) -> None:
        for func in functions:
            definition = definition_of(func)
            if definition is None:
                raise TypeError(f"{func!r} is not a @node function")
            known = self._defs.get(definition.type_id)
            if known is not None and known.func is not func:
                raise DuplicateNodeType(
                    f"node type {definition.type_id!r} is defined twice: "
                    f"in {known.qualname} and in {definition.qualname}"
                )
            self._defs[definition.type_id] = definition

    def add_module(self, module: ModuleType) -> None:
        self.add(*(obj for obj in vars(module).values() if definition_of(obj) and obj.__module__ == module.__name__))

    def get(self, type_id: str) -> NodeDef | None:
        return self._defs.get(type_id)

    def __getitem__(self, type_id: str) -> NodeDef:
        return self._defs[type_id]

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._defs

    def __iter__(self):
        return iter(sorted(self._defs.values(), key=lambda d: d.type_id))

    def __len__(self) -> int:
        return len(self._defs)

    def link_problem(self, out_type: Any, in_type: Any) -> str | None:
        """`typing_rules.link_problem`, memoised: annotations live as long as their node definitions."""
        key = (id(out_type), id(in_type))
        known = self._link_verdicts.get(key)
        if known is not None and known[0] is out_type and known[1] is in_type:
            return known[2]
        verdict = link_problem(out_type, in_type)
        self._link_verdicts[key] = (out_type, in_type, verdict)
        return verdict

    def close_matches(self, type_id: str) -> list[str]:
        return difflib.get_close_matches(type_id, list(self._defs), n=3, cutoff=0.5)

    def schema(self) -> dict[str, Any]:
        """Every node's schema plus the table of socket types (name → base names)."""
        from .schema import node_schema, type_table

        classes = {
            cls for d in self._defs.values() for spec in (*d.inputs.values(), *d.outputs.values())
            for cls in socket_classes(spec.annotation)
        }
        return {"nodes": {d.type_id: node_schema(d) for d in self}, "types": type_table(classes)}


def load_module_file(path: Path) -> ModuleType:
    name = f"nodeflow_user_nodes.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load node module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def default_registry(nodes_dirs: Iterable[Path] = (), entry_points_enabled: bool = True) -> Registry:
    """The built-in node library, installed node packs, and node files from `nodes_dirs`."""
    import nodes

    registry = Registry()
    for module in nodes.modules():
        registry.add_module(module)
    if entry_points_enabled:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            module_name = entry.value.split(":")[0]
            registry.add_module(_loaded(f"node pack {entry.name!r}", importlib.import_module, module_name))
    for folder in map(Path, nodes_dirs):
        if not folder.is_dir():
            raise NodeLoadError(f"nodes folder {folder} does not exist or is not a folder")
        for path in sorted(folder.glob("*.py")):
            registry.add_module(_loaded(f"node module {path}", load_module_file, path))
    return registry


def _loaded(what: str, load: Callable[[Any], ModuleType], source: Any) -> ModuleType:
    try:
        return load(source)
    except Exception as exc:  # noqa: BLE001 - any failure of a node module's own code
        raise NodeLoadError(f"cannot load {what}: {type(exc).__name__}: {exc}") from exc
