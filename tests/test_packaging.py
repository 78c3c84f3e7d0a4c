"""A wheel carries the editor and the shipped workflows, and an installed server finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

from nodeflow.server.config import shipped

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_every_editor_file_and_workflow(tmp_path):
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    [wheel] = tmp_path.glob("nodeflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        carried = {name.split("/data/share/nodeflow/", 1)[1] for name in archive.namelist() if "/data/share/nodeflow/" in name}
    wanted = {str(p.relative_to(ROOT)) for folder in ("web", "workflows") for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert wanted and carried == wanted


def test_server_finds_shipped_folders_in_the_checkout_else_under_the_install_prefix():
    assert shipped("web") == ROOT / "web"
    assert shipped("nowhere") == Path(sys.prefix) / "share" / "nodeflow" / "nowhere"
