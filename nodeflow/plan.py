"""Validation and planning: a workflow becomes an ordered list of steps, or every problem at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable

import networkx as nx
from pydantic import ValidationError

from .folders import Folders
from .limits import DEFAULT_LIMITS, Limits
from .node import InputSpec, NodeDef
from .problems import Problem, ProblemList
from .registry import Registry
from .workflow import Link, NodeSpec, Workflow, as_link


@dataclass(frozen=True)
class Step:
    node_id: str
    definition: NodeDef
    literals: dict[str, Any]
    links: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    output_nodes: list[str]


HINT_BUDGET = 20  # "did you mean" hints per validation
HINT_MAX_CANDIDATES = 500
HINT_MAX_NAME_CHARS = 100


class _Hints:
    """"Did you mean" hints, only where they are cheap.

    difflib compares a name with every candidate, so a hint for every broken
    link of a large workflow costs nodes × nodes comparisons: a few thousand
    nodes froze a server for a minute. Hence a few hints per validation, and
    none from long candidate lists or for long names.
    """

    def __init__(self) -> None:
        self.left = HINT_BUDGET

    def suggest(self, name: str, choices: Iterable[str]) -> str:
        if self.left <= 0 or len(name) > HINT_MAX_NAME_CHARS:
            return ""
        candidates = list(islice(choices, HINT_MAX_CANDIDATES + 1))
        if len(candidates) > HINT_MAX_CANDIDATES:
            return ""
        self.left -= 1
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _literal_problem(node_id: str, spec: InputSpec, value: Any) -> tuple[Any, Problem | None]:
    if not spec.is_widget:
        return value, Problem(
            "literal_for_socket",
            f"takes a link from an output of type {spec.type_name}, not a literal value",
            node_id, spec.name,
        )
    try:
        return spec.adapter.validate_python(value), None  # type: ignore[union-attr]
    except ValidationError as exc:
        detail = "; ".join(e["msg"] for e in exc.errors())
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return value, Problem("invalid_value", f"{detail} (got {shown}, type {spec.type_name})", node_id, spec.name)


def _link_problem(
    workflow: Workflow, registry: Registry, node_id: str, spec: InputSpec, link: Link, hints: _Hints
) -> tuple[str | None, Problem | None]:
    source = workflow.nodes.get(link.node)
    if source is None:
        hint = hints.suggest(link.node, workflow.nodes)
        message = f"links to node {link.node!r}, which does not exist{hint}"
        return None, Problem("missing_node", message, node_id, spec.name)
    source_def = registry.get(source.type)
    if source_def is None:
        return None, None
    output = source_def.output_name(link.output)
    if output is None:
        names = ", ".join(source_def.output_names) or "none"
        return None, Problem(
            "missing_output",
            f"links to output {link.output!r} of node {link.node!r} ({source.type}), which has outputs: {names}",
            node_id, spec.name,
        )
    mismatch = registry.link_problem(source_def.outputs[output].annotation, spec.annotation)
    if mismatch:
        return None, Problem("type_mismatch", f"link from {link.node!r}.{output}: {mismatch}", node_id, spec.name)
    return output, None


def _check_node(
    workflow: Workflow, registry: Registry, node_id: str, node: NodeSpec, problems: list[Problem], hints: _Hints
) -> Step | None:
    definition = registry.get(node.type)
    if definition is None:
        hint = hints.suggest(node.type, (d.type_id for d in registry))
        problems.append(Problem("unknown_type", f"unknown node type {node.type!r}{hint}", node_id))
        return None
    literals: dict[str, Any] = {}
    links: dict[str, tuple[str, str]] = {}
    ok = True
    for name, value in node.inputs.items():
        spec = definition.inputs.get(name)
        if spec is None:
            hint = hints.suggest(name, definition.inputs)
            problems.append(Problem("unknown_input", f"{node.type} has no input {name!r}{hint}", node_id, name))
            ok = False
            continue
        link = as_link(value)
        if link is not None:
            output, problem = _link_problem(workflow, registry, node_id, spec, link, hints)
            if output is not None:
                links[name] = (link.node, output)
        else:
            literals[name], problem = _literal_problem(node_id, spec, value)
        if problem:
            problems.append(problem)
            ok = False
    for name, spec in definition.inputs.items():
        if name in node.inputs:
            continue
        if spec.required:
            kind = spec.type_name if spec.is_widget else f"a link of type {spec.type_name}"
            problems.append(Problem("missing_input", f"required input is missing (needs {kind})", node_id, name))
            ok = False
        else:
            literals[name] = spec.default
    return Step(node_id, definition, literals, links) if ok else None


def _graph(workflow: Workflow) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(workflow.nodes)
    for node_id, node in workflow.nodes.items():
        for link in node.links().values():
            if link.node in workflow.nodes:
                graph.add_edge(link.node, node_id)
    return graph


def _cycle_problems(graph: nx.DiGraph) -> list[Problem]:
    problems = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            members = sorted(component)
            path = " → ".join(members + [members[0]])
            problems.append(Problem("cycle", f"nodes form a cycle: {path}", members[0]))
    return problems


def _param_problems(workflow: Workflow, registry: Registry) -> list[Problem]:
    problems = []
    for name, param in workflow.params.items():
        node = workflow.nodes.get(param.node)
        if node is None:
            message = f"param {name!r} points to missing node {param.node!r}"
            problems.append(Problem("bad_param", message, param.node, param.input))
            continue
        definition = registry.get(node.type)
        if definition is not None and param.input not in definition.inputs:
            message = f"param {name!r} points to input {param.input!r}, which {node.type} does not have"
            problems.append(Problem("bad_param", message, param.node, param.input))
    return problems


def _pixel_problems(steps: Iterable[Step], limits: Limits) -> list[Problem]:
    """The pixel budget: what the steps make, summed, against `limits.max_pixels`; the largest maker is named."""
    made = [(step, count) for step in steps if (count := step.definition.pixels_made(step.literals))]
    total = sum(count for _, count in made)
    if total <= limits.max_pixels:
        return []
    step, count = max(made, key=lambda item: item[1])
    names = step.definition.pixels
    figures = f"{' × '.join(names)} = {' × '.join(str(step.literals[n]) for n in names)} = {count:,} pixels"
    if len(made) > 1:
        figures += f" ({total:,} with the {len(made) - 1} other node(s) that make pixels)"
    message = f"makes {figures}, over the limit of {limits.max_pixels:,} pixels per prompt (--max-pixels)"
    return [Problem("too_many_pixels", message, step.node_id, names[0])]


def _folder_problems(steps: Iterable[Step], folders: Folders) -> list[Problem]:
    """The deep checks: every literal that names an entry of the folders (an `InFolder` input with a `check`),
    resolved there."""
    problems = []
    for step in steps:
        for name, value in step.literals.items():
            marker = step.definition.inputs[name].folder
            if marker is None or marker.check is None or not isinstance(value, str):
                continue
            try:
                marker.check(folders, value, name)
            except Exception as exc:  # a check raises what its lookup raises; each is one problem to report
                # Checks name the input, as a node's failure must; the problem names it already.
                message = str(exc).removeprefix(f"input {name!r}: ")
                problems.append(Problem("not_found", message, step.node_id, name))
    return problems


def _needed(graph: nx.DiGraph, wanted: list[str]) -> set[str]:
    """The wanted nodes and every node they read from, transitively."""
    needed = {n for n in wanted if n in graph}
    frontier = list(needed)
    while frontier:
        for parent in graph.predecessors(frontier.pop()):
            if parent not in needed:
                needed.add(parent)
                frontier.append(parent)
    return needed


def plan(
    workflow: Workflow, registry: Registry, targets: Iterable[str] | None = None, limits: Limits = DEFAULT_LIMITS,
    folders: Folders | None = None,
) -> Plan:
    """Check everything, then order the steps that the output nodes (or `targets`) need.

    Raises ProblemList with every problem found, sorted by node and input; a
    workflow over `limits.max_nodes` is refused before any node is looked at.
    With `folders` (`validate --deep`), the models and files that inputs name are
    also looked up there.
    """
    if len(workflow.nodes) > limits.max_nodes:
        message = f"the workflow has {len(workflow.nodes):,} nodes, over the limit of {limits.max_nodes:,} per prompt (--max-nodes)"
        raise ProblemList([Problem("too_many_nodes", message)])
    problems: list[Problem] = []
    steps = {}
    hints = _Hints()
    for node_id, node in workflow.nodes.items():
        step = _check_node(workflow, registry, node_id, node, problems, hints)
        if step is not None:
            steps[node_id] = step
    problems += _param_problems(workflow, registry)
    graph = _graph(workflow)
    problems += _cycle_problems(graph)
    if targets is None:
        wanted = [n for n, node in workflow.nodes.items() if (d := registry.get(node.type)) and d.output_node]
        all_known = all(node.type in registry for node in workflow.nodes.values())
        if not wanted and all_known:
            problems.append(
                Problem("no_output", "the workflow has no output node (save, preview, …), so nothing would run")
            )
    else:
        wanted = list(targets)
        missing = [t for t in wanted if t not in workflow.nodes]
        problems += [Problem("missing_node", "requested output node does not exist", t) for t in missing]
    needed = _needed(graph, wanted)
    needed_steps = [step for node_id, step in steps.items() if node_id in needed]
    problems += _pixel_problems(needed_steps, limits)
    if folders is not None:
        problems += _folder_problems(needed_steps, folders)
    if problems:
        raise ProblemList(problems)
    order = [n for n in nx.topological_sort(graph) if n in needed]
    return Plan([steps[n] for n in order], wanted)


def validate(
    workflow: Workflow, registry: Registry, limits: Limits = DEFAULT_LIMITS, folders: Folders | None = None
) -> list[Problem]:
    """Every problem of the workflow; with `folders`, also every model and file it names that is not there."""
    try:
        plan(workflow, registry, limits=limits, folders=folders)
    except ProblemList as exc:
        return exc.problems
    return []
