"""`nodeflow serve --affinity-wait SECONDS`: the bound on how long the first prompt in the queue waits while workers
take prompts whose models they hold."""

from __future__ import annotations

import pytest

from nodeflow.cli import EXIT_INVALID, build_parser, main
from nodeflow.limits import AFFINITY_WAIT_SECONDS
from nodeflow.server.config import ServerConfig


def _config(*flags: str) -> ServerConfig:
    return ServerConfig.from_args(build_parser().parse_args(["serve", *flags]))


def test_affinity_wait_is_the_servers_bound_and_zero_means_first_come():
    assert _config().affinity_wait_s == AFFINITY_WAIT_SECONDS
    assert _config("--affinity-wait", "0").affinity_wait_s == 0.0


@pytest.mark.parametrize("value", ["-1", "soon", "inf", "nan"])
def test_an_affinity_wait_that_is_not_seconds_is_one_error_line(value, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--affinity-wait", value])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == EXIT_INVALID and line.startswith("error: argument --affinity-wait") and value in line
