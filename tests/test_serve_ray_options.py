"""`serve --ray` options, checked before anything starts: one clear line and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nodeflow.server import ServerConfig
from nodeflow.server.extras import OptionError
from tests.server_support import REPO, free_port


def _config(*args: str) -> ServerConfig:
    from nodeflow.cli import build_parser

    return ServerConfig.from_args(build_parser().parse_args(["serve", *args]))


def test_ray_without_ray_installed_says_what_to_install():
    without_ray = ("import sys; sys.modules['ray'] = None; from nodeflow.cli import main; "
                   "sys.exit(main(['serve', '--ray', 'auto', '--port', '1']))")
    result = subprocess.run([sys.executable, "-c", without_ray], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: --ray needs Ray: pip install 'nodeflow[ray]'"]


def test_ray_workers_needs_ray():
    with pytest.raises(OptionError, match="--ray-workers needs --ray"):
        _config("--ray-workers", "2")


def test_device_and_ray_do_not_mix():
    with pytest.raises(OptionError, match="with --ray, actors take the GPUs"):
        _config("--ray", "auto", "--device", "cpu")


def test_ray_options_reach_the_config():
    config = _config("--ray", "10.0.0.5:6379", "--ray-workers", "3")
    assert (config.ray, config.ray_workers) == ("10.0.0.5:6379", 3)
    assert _config().ray is None



def test_an_address_where_no_cluster_answers_is_one_line_at_once(capsys, tmp_path):
    from nodeflow.cli import main

    address = f"127.0.0.1:{free_port()}"
    assert main(["serve", "--ray", address, "--user-dir", str(tmp_path)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: --ray {address}: no Ray cluster answers there (")
    assert line.endswith("start one with `ray start --head`, or use --ray auto")
