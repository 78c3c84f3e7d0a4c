"""Node packs arrive through the `nodeflow.nodes` entry-point group or a --nodes-dir folder."""

import textwrap

import pytest

from nodeflow import DuplicateNodeType, default_registry
from nodeflow.registry import NodeLoadError

PACK_SOURCE = textwrap.dedent('''
    from nodeflow import node

    @node("pack.double", category="pack")
    def double(x: int) -> int:
        return 2 * x
''')


def test_entry_point_pack_is_registered(tmp_path, monkeypatch):
    (tmp_path / "nodeflow_test_pack.py").write_text(PACK_SOURCE)
    dist = tmp_path / "nodeflow_test_pack-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nodeflow-test-pack\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nodeflow.nodes]\ndoubling = nodeflow_test_pack\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = default_registry()
    assert registry["pack.double"].func(x=4) == 8


def test_nodes_dir_modules_are_registered_and_clashes_name_both(tmp_path):
    (tmp_path / "one.py").write_text(PACK_SOURCE)
    registry = default_registry([tmp_path], entry_points_enabled=False)
    assert "pack.double" in registry
    (tmp_path / "two.py").write_text(PACK_SOURCE)
    with pytest.raises(DuplicateNodeType, match=r"one\.double.*two\.double"):
        default_registry([tmp_path], entry_points_enabled=False)


def test_nodes_dir_that_does_not_exist_is_an_error_naming_it(tmp_path):
    with pytest.raises(NodeLoadError, match="nowhere"):
        default_registry([tmp_path / "nowhere"], entry_points_enabled=False)


def test_node_module_that_fails_to_import_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('no GPU here')\n")
    with pytest.raises(NodeLoadError, match=r"broken\.py: RuntimeError: no GPU here"):
        default_registry([tmp_path], entry_points_enabled=False)
