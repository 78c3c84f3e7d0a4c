"""The `@node` decorator: a typed function is a node, its signature its schema."""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, get_args, get_origin

from pydantic import TypeAdapter

from .context import Context
from .folders import InFolder
from .typing_rules import is_optional, is_widget_type, resolve_hints, strip_annotated, type_name

_TYPE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# ComfyUI's class names ("KSampler", "CheckpointLoaderSimple"): packs that stand in for ComfyUI's nodes keep them,
# so that ComfyUI workflow files and its frontend find their nodes under the names they already use.
_COMFY_TYPE_ID = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_NO_DEFAULT = inspect.Parameter.empty


class NodeDefinitionError(TypeError):
    """A node function that cannot be registered; the message names `module.function`."""


@dataclass(frozen=True)
class InputSpec:
    name: str
    annotation: Any
    is_widget: bool
    required: bool
    default: Any = None
    adapter: TypeAdapter | None = None

    @property
    def type_name(self) -> str:
        return type_name(self.annotation)

    @property
    def folder(self) -> InFolder | None:
        """The `InFolder` marker of an input that names an entry of the allowed folders, or None."""
        if get_origin(self.annotation) is Annotated:
            return next((m for m in get_args(self.annotation)[1:] if isinstance(m, InFolder)), None)
        return None


@dataclass(frozen=True)
class OutputSpec:
    name: str
    annotation: Any

    @property
    def type_name(self) -> str:
        return type_name(self.annotation)


@dataclass(frozen=True)
class NodeDef:
    type_id: str
    func: Callable[..., Any]
    category: str
    version: str
    description: str
    display_name: str
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    output_node: bool
    context_arg: str | None
    returns_tuple: bool
    fingerprint: Callable[..., str] | None = None
    pixels: tuple[str, ...] = ()
    batch: bool = False
    per_sample: tuple[str, ...] = ()
    output_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_names", tuple(self.outputs))

    @property
    def qualname(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"

    def output_name(self, ref: str | int) -> str | None:
        """The output named by `ref` (a name or a 0-based index), or None."""
        if isinstance(ref, bool):
            return None
        if isinstance(ref, int):
            return self.output_names[ref] if 0 <= ref < len(self.output_names) else None
        return ref if ref in self.outputs else None

    def pixels_made(self, literals: dict[str, Any]) -> int | None:
        """The pixels this node makes with these literal inputs (the product of its `pixels` inputs), or None
        when it declares none or one of them is unset, linked (known only when it runs) or negative."""
        values = [literals.get(name) for name in self.pixels]
        if not values or not all(type(v) is int and v >= 0 for v in values):
            return None
        return math.prod(values)

    def call(self, kwargs: dict[str, Any], ctx: Context) -> dict[str, Any]:
        if self.context_arg:
            kwargs = {**kwargs, self.context_arg: ctx}
        result = self.func(**kwargs)
        if not self.outputs:
            return {}
        if self.returns_tuple:
            return dict(zip(self.output_names, result))
        return {self.output_names[0]: result}


def _default_display_name(type_id: str) -> str:
    """'image.save' → 'Save'; a ComfyUI class name 'EmptyLatentImage' → 'Empty Latent Image'."""
    if "." not in type_id:
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type_id)
    return type_id.split(".", 1)[1].replace("_", " ").title()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _outputs(annotation: Any, output_name: str | None, where: str) -> tuple[dict[str, OutputSpec], bool]:
    annotation = strip_annotated(annotation)
    if annotation in (None, type(None)):
        return {}, False
    if isinstance(annotation, type) and issubclass(annotation, tuple) and hasattr(annotation, "__annotations__"):
        hints = resolve_hints(annotation)
        if not hints:
            raise NodeDefinitionError(f"{where}: its NamedTuple return type has no typed fields")
        return {name: OutputSpec(name, hints[name]) for name in annotation._fields}, True
    if get_origin(annotation) is tuple:
        raise NodeDefinitionError(
            f"{where}: returns a bare tuple {type_name(annotation)}; return a NamedTuple so every output has a name"
        )
    name = output_name or _snake(type_name(annotation).split("[")[0].split(" ")[0])
    return {name: OutputSpec(name, annotation)}, False


def _inputs(func: Callable[..., Any], hints: dict[str, Any], where: str) -> tuple[dict[str, InputSpec], str | None]:
    inputs: dict[str, InputSpec] = {}
    context_arg = None
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise NodeDefinitionError(f"{where}: *args/**kwargs cannot be node inputs ({param.name})")
        if param.name not in hints:
            raise NodeDefinitionError(f"{where}: input '{param.name}' has no type annotation")
        annotation = hints[param.name]
        if strip_annotated(annotation) is Context:
            context_arg = param.name
            continue
        widget = is_widget_type(annotation)
        has_default = param.default is not _NO_DEFAULT
        required = not has_default and not is_optional(annotation)
        default = param.default if has_default else None
        adapter = TypeAdapter(annotation) if widget else None
        if widget and has_default and default is not None:
            try:
                adapter.validate_python(default)
            except Exception as exc:
                raise NodeDefinitionError(f"{where}: default of '{param.name}' breaks its own type: {exc}") from exc
        inputs[param.name] = InputSpec(param.name, annotation, widget, required, default, adapter)
    return inputs, context_arg


def _literal_inputs(option: str, names: tuple[str, ...], inputs: dict[str, InputSpec], where: str) -> tuple[str, ...]:
    for name in names:
        if name not in inputs or not inputs[name].is_widget:
            raise NodeDefinitionError(f"{where}: {option} names {name!r}, which is not one of its literal inputs")
    return tuple(names)


def node(
    type_id: str,
    *,
    category: str,
    version: str = "1.0.0",
    display_name: str | None = None,
    output_node: bool = False,
    output: str | None = None,
    fingerprint: Callable[..., str] | None = None,
    pixels: tuple[str, ...] = (),
    batch: bool = False,
    per_sample: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a typed function as a node.

    `type_id` ("family.name") never changes once published; bump `version` when an
    input or output changes. `output` names a single, non-tuple output (default:
    the snake-cased type name). `output_node` marks nodes whose effect is the
    point (save, preview): runs are planned backwards from them. `fingerprint`
    gets the node's literal inputs and returns a string describing outside state
    it reads (file size and mtime), so that a change there invalidates the cache.
    `pixels` names the integer inputs whose product is the number of pixels the
    node makes (e.g. `("width", "height", "batch_size")`): validation adds them
    up over a prompt and refuses it beyond `Limits.max_pixels`. `batch` marks a node that runs several prompts
    at once: its linked inputs of types that stack come stacked, one row per prompt (see `nodeflow.batching`),
    and its outputs are unstacked per prompt; its `per_sample` literal inputs (a seed) may differ between the
    prompts and come as a list of their values, one per prompt.
    """

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        where = f"{func.__module__}.{func.__qualname__}"
        if not (_TYPE_ID.match(type_id) or _COMFY_TYPE_ID.match(type_id)):
            raise NodeDefinitionError(
                f"{where}: type id {type_id!r} must look like 'family.name' (lowercase) or be a ComfyUI class name")
        if not _SEMVER.match(version):
            raise NodeDefinitionError(f"{where}: version {version!r} is not MAJOR.MINOR.PATCH")
        try:
            hints = resolve_hints(func)
        except Exception as exc:
            raise NodeDefinitionError(f"{where}: cannot resolve its annotations: {exc}") from exc
        if "return" not in hints:
            raise NodeDefinitionError(f"{where}: missing return annotation (use -> None for no outputs)")
        inputs, context_arg = _inputs(func, hints, where)
        outputs, returns_tuple = _outputs(hints["return"], output, where)
        pixel_inputs = _literal_inputs("pixels", pixels, inputs, where)
        per_sample_inputs = _literal_inputs("per_sample", per_sample, inputs, where)
        if per_sample and not batch:
            raise NodeDefinitionError(f"{where}: per_sample inputs need batch=True")
        func.__nodeflow__ = NodeDef(  # type: ignore[attr-defined]
            type_id=type_id,
            func=func,
            category=category,
            version=version,
            description=inspect.cleandoc(func.__doc__ or ""),
            display_name=display_name or _default_display_name(type_id),
            inputs=inputs,
            outputs=outputs,
            output_node=output_node or not outputs,
            context_arg=context_arg,
            returns_tuple=returns_tuple,
            fingerprint=fingerprint,
            pixels=pixel_inputs,
            batch=batch,
            per_sample=per_sample_inputs,
        )
        return func

    return register


def definition_of(obj: Any) -> NodeDef | None:
    return getattr(obj, "__nodeflow__", None) if callable(obj) else None


__all__ = ["node", "NodeDef", "InputSpec", "OutputSpec", "NodeDefinitionError", "definition_of"]
