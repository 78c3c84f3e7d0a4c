"""Which annotations are widgets, which are sockets, and which links fit.

One function decides link compatibility (`link_problem`); everything else in the
engine asks it. Widget (literal) inputs are plain JSON-able types; every other
class is a socket type whose values flow only through links.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

_LITERAL_BASES = (bool, int, float, str, type(None))


def strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def union_members(annotation: Any) -> tuple[Any, ...]:
    annotation = strip_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(strip_annotated(a) for a in get_args(annotation))
    return (annotation,)


def is_optional(annotation: Any) -> bool:
    return type(None) in union_members(annotation)


def is_widget_type(annotation: Any) -> bool:
    """True when values of this type can be written literally in a workflow."""
    for member in union_members(annotation):
        origin = get_origin(member)
        if origin is Literal:
            continue
        if origin in (list, tuple, dict):
            if not all(a is Ellipsis or is_widget_type(a) for a in get_args(member)):
                return False
            continue
        if member in (list, tuple, dict):
            continue
        if not (isinstance(member, type) and issubclass(member, _LITERAL_BASES)):
            return False
    return True


def _base_of_literal(member: Any) -> Any:
    values = get_args(member)
    kinds = {type(v) for v in values}
    return kinds.pop() if len(kinds) == 1 else object


def _runtime_class(member: Any) -> Any:
    if get_origin(member) is Literal:
        return _base_of_literal(member)
    return get_origin(member) or member


def _fits(out_member: Any, in_members: tuple[Any, ...]) -> bool:
    out_cls = _runtime_class(out_member)
    for in_member in in_members:
        in_cls = _runtime_class(in_member)
        if in_cls is type(None):
            continue
        if not isinstance(out_cls, type) or not isinstance(in_cls, type):
            continue
        if issubclass(out_cls, in_cls):
            return True
        if out_cls is int and in_cls is float:
            return True
    return False


def link_problem(out_type: Any, in_type: Any) -> str | None:
    """Why an output of `out_type` cannot feed an input of `in_type`, or None if it can.

    Compatible means the same class or a subclass (ints may feed floats); an
    optional input accepts what its non-None members accept; an output that may
    be one of several types fits only if every one of them fits.
    """
    in_members = union_members(in_type)
    out_members = [m for m in union_members(out_type) if m is not type(None)]
    bad = [m for m in out_members if not _fits(m, in_members)]
    if not bad:
        return None
    wanted = type_name(in_type)
    got = type_name(out_type)
    return f"an output of type {got} cannot feed an input of type {wanted} (it must be {wanted} or a subclass of it)"


def type_name(annotation: Any) -> str:
    """Short, human-readable name of a type, as shown in errors and in the editor."""
    annotation = strip_annotated(annotation)
    members = union_members(annotation)
    if len(members) > 1:
        return " | ".join(type_name(m) for m in members)
    if annotation is type(None):
        return "None"
    origin = get_origin(annotation)
    if origin is Literal:
        return type_name(_base_of_literal(annotation))
    if origin is not None:
        args = ", ".join("..." if a is Ellipsis else type_name(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def socket_classes(annotation: Any) -> list[type]:
    """The socket (non-widget) classes an annotation mentions, for the schema's type table."""
    found = []
    for member in union_members(annotation):
        if member is type(None) or is_widget_type(member):
            continue
        cls = get_origin(member) or member
        if isinstance(cls, type):
            found.append(cls)
    return found


def resolve_hints(func: Any) -> dict[str, Any]:
    return typing.get_type_hints(func, include_extras=True)
