"""How a literal input looks to ComfyUI clients (its frontend, its API clients), and how their values come back.

ComfyUI edits five kinds of widget: INT, FLOAT, STRING, BOOLEAN and a combo of choices. Our widget types are
richer, so two of them take another form, mapped back when a ComfyUI prompt arrives:

- a nullable number ("auto" when None, e.g. a latent width that follows the model) whose range leaves out 0 is
  a number where 0 means auto;
- any other type ComfyUI cannot edit (a union such as `int | list[int] | str`, a list, a nullable string) is a
  STRING: text that parses as JSON is that JSON value, other text is itself, and empty text is None when the
  input takes None.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ValidationError

from .node import InputSpec

WidgetForm = Literal["plain", "auto_zero", "text"]
_SCALAR_TYPES = {"integer", "number", "string", "boolean"}
AUTO_TOOLTIP = "0 = auto"
TEXT_TOOLTIP = "a JSON value, or plain text"


def without_null(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`X | None` → (X's schema, True); any other schema → (itself, False)."""
    alternatives = schema.get("anyOf", [])
    options = [s for s in alternatives if s.get("type") != "null"]
    if len(options) == 1 and len(alternatives) == 2:
        return options[0], True
    return schema, False


def _lowest(schema: dict[str, Any]) -> float | None:
    return schema.get("minimum", schema.get("exclusiveMinimum"))


def widget_form(schema: dict[str, Any]) -> WidgetForm:
    """Which form a widget with this JSON schema takes in ComfyUI (see the module doc)."""
    value, nullable = without_null(schema)
    scalar = "enum" in value or value.get("type") in _SCALAR_TYPES
    if not nullable:
        return "plain" if scalar else "text"
    lowest = _lowest(value)
    if value.get("type") in ("integer", "number") and lowest is not None and lowest > 0:
        return "auto_zero"
    return "text"


def as_text(value: Any) -> str:
    """A value of a text-form widget as its frontend shows it: strings as themselves unless they would read back
    as JSON, anything else as JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return "" if value is None else json.dumps(value)


def to_frontend(schema: dict[str, Any], value: Any) -> Any:
    """A literal value as a ComfyUI client edits it."""
    form = widget_form(schema)
    if form == "auto_zero":
        return 0 if value is None else value
    return as_text(value) if form == "text" else value


def from_frontend(spec: InputSpec, schema: dict[str, Any], value: Any) -> Any:
    """The Python value of a literal a ComfyUI client sent for this input (the inverse of `to_frontend`)."""
    form = widget_form(schema)
    if form == "auto_zero":
        return None if value == 0 and not isinstance(value, bool) else value
    if form != "text" or not isinstance(value, str):
        return value
    if value == "" and without_null(schema)[1]:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if _fits(spec, parsed) or not _fits(spec, value) else value


def _fits(spec: InputSpec, value: Any) -> bool:
    if spec.adapter is None:
        return False
    try:
        spec.adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True
