"""A node is a typed function; bad declarations fail at import with the function's name."""

from typing import Annotated, NamedTuple

import pytest
from pydantic import Field

from nodeflow import DuplicateNodeType, NodeDefinitionError, Registry, node

from .pack import math_nodes


def test_signature_becomes_inputs_and_outputs():
    definition = math_nodes.divmod_.__nodeflow__
    assert list(definition.inputs) == ["a", "b"]
    assert definition.inputs["b"].required and definition.inputs["b"].is_widget
    assert definition.output_names == ("quotient", "remainder")


def test_single_output_is_named_after_its_type_or_the_given_name():
    assert math_nodes.add.__nodeflow__.output_names == ("int",)
    assert math_nodes.scale.__nodeflow__.output_names == ("scaled",)
    assert math_nodes.box.__nodeflow__.output_names == ("integer",)


def test_socket_inputs_are_not_widgets_and_context_is_not_an_input():
    definition = math_nodes.count_slowly.__nodeflow__
    assert "ctx" not in definition.inputs
    assert definition.context_arg == "ctx"
    assert not math_nodes.unbox.__nodeflow__.inputs["number"].is_widget


def test_missing_annotation_names_module_and_function():
    with pytest.raises(NodeDefinitionError, match=r"test_node_declaration\..*untyped.*'x' has no type annotation"):
        @node("t.untyped", category="t")
        def untyped(x) -> int:
            return x


def test_missing_return_annotation_is_refused():
    with pytest.raises(NodeDefinitionError, match="missing return annotation"):
        @node("t.no_return", category="t")
        def no_return(x: int):
            return x


def test_bad_version_and_type_id_are_refused():
    with pytest.raises(NodeDefinitionError, match="MAJOR.MINOR.PATCH"):
        @node("t.v", category="t", version="1.0")
        def v(x: int) -> int:
            return x
    with pytest.raises(NodeDefinitionError, match="family.name"):
        @node("no_family", category="t")
        def f(x: int) -> int:
            return x
    with pytest.raises(NodeDefinitionError, match="ComfyUI class name"):
        @node("Not.Comfy", category="t")
        def g(x: int) -> int:
            return x


def test_a_comfyui_class_name_is_a_type_id_shown_as_words():
    @node("EmptyLatentImage", category="t")
    def empty(x: int) -> int:
        return x

    assert empty.__nodeflow__.display_name == "Empty Latent Image"


def test_bare_tuple_output_is_refused():
    with pytest.raises(NodeDefinitionError, match="NamedTuple"):
        @node("t.pair", category="t")
        def pair(x: int) -> tuple[int, int]:
            return x, x


def test_default_outside_its_bounds_is_refused():
    with pytest.raises(NodeDefinitionError, match="default of 'x'"):
        @node("t.bounded", category="t")
        def bounded(x: Annotated[int, Field(ge=1)] = 0) -> int:
            return x


def test_duplicate_type_id_names_both_functions():
    @node("math.add", category="math")
    def other_add(x: int) -> int:
        return x

    registry = Registry([math_nodes.add])
    with pytest.raises(DuplicateNodeType, match=r"math_nodes\.add.*test_node_declaration\..*other_add"):
        registry.add(other_add)


def test_schema_carries_bounds_enums_defaults_and_socket_types(registry):
    schema = registry.schema()
    add = schema["nodes"]["math.add"]
    assert add["inputs"]["y"]["schema"]["maximum"] == 1000
    assert add["inputs"]["y"]["default"] == 0
    assert schema["nodes"]["math.scale"]["inputs"]["mode"]["schema"]["enum"] == ["mul", "div"]
    assert schema["nodes"]["math.unbox"]["inputs"]["number"]["accepts"] == ["Number"]
    assert schema["types"]["Integer"]["bases"] == ["Number"]


class Pair(NamedTuple):
    left: int
    right: int


def test_named_tuple_outputs_are_called_by_name(executor):
    @node("t.split", category="t")
    def split(x: int) -> Pair:
        return Pair(x, -x)

    assert split.__nodeflow__.call({"x": 3}, None) == {"left": 3, "right": -3}
