"""A wheel carries the editor, the shipped workflows and the demo models' builders, and an installed server
finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nodeflow.shipped import shipped

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    """The names of the files in a wheel built from this checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    [wheel] = folder.glob("nodeflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_wheel_carries_every_editor_file_and_workflow(wheel_names):
    carried = {name.split("/data/share/nodeflow/", 1)[1] for name in wheel_names if "/data/share/nodeflow/" in name}
    wanted = {str(p.relative_to(ROOT)) for folder in ("web", "workflows") for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert wanted and carried == wanted


def test_wheel_carries_the_tiny_models_that_nodeflow_demo_builds(wheel_names):
    wanted = {f"tiny_models/{path.name}" for path in (ROOT / "tiny_models").glob("*.py")}
    assert "tiny_models/demo.py" in wanted and wanted <= set(wheel_names)


def test_server_finds_shipped_folders_in_the_checkout_else_under_the_install_prefix():
    assert shipped("web") == ROOT / "web"
    assert shipped("nowhere") == Path(sys.prefix) / "share" / "nodeflow" / "nowhere"
