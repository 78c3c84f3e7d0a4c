import pytest

from nodeflow import Executor, Folders, Registry
from .pack import math_nodes


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.add_module(math_nodes)
    return registry


@pytest.fixture
def calls():
    math_nodes.CALLS.clear()
    yield math_nodes.CALLS
    math_nodes.CALLS.clear()


@pytest.fixture
def executor(registry, tmp_path) -> Executor:
    folders = Folders(output=tmp_path / "output", input=tmp_path / "input", temp=tmp_path / "temp",
                      models=[tmp_path / "models"])
    folders.input.mkdir()
    return Executor(registry, device="cpu", folders=folders)
