"""`--vram-budget`, `--ram-budget` and `--cache-mb` on `run` and `serve`: one size parser, errors that name the
flag, and defaults for the machine."""

from __future__ import annotations

import pytest

from nodeflow.budgets import DEFAULT_CACHE_BYTES, Budgets, parse_size
from nodeflow.cli import EXIT_INVALID, build_parser, main
from nodeflow.device import memory_stats
from nodeflow.server.config import ServerConfig


@pytest.mark.parametrize("text, size", [("6GB", 6 * 10**9), ("512MB", 512 * 10**6), ("1.5GiB", 3 * 2**29),
                                        ("256mib", 256 * 2**20), ("2G", 2 * 2**30), ("1000", 1000)])
def test_sizes_read_in_decimal_and_binary_units(text, size):
    assert parse_size(text, "--ram-budget") == size


@pytest.mark.parametrize("command", ["run", "serve"])
@pytest.mark.parametrize("flag, value", [("--vram-budget", "6XB"), ("--ram-budget", "lots"), ("--ram-budget", "0GB")])
def test_a_bad_size_is_one_error_line_naming_the_flag(capsys, command, flag, value):
    args = [command, "workflow.json"] if command == "run" else [command]
    with pytest.raises(SystemExit) as exit:
        main([*args, flag, value])
    assert exit.value.code == EXIT_INVALID
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: argument {flag}: ") and repr(value) in line


def test_serve_gives_its_workers_the_budgets_of_its_flags():
    args = build_parser().parse_args(["serve", "--vram-budget", "6GB", "--ram-budget", "1.5GiB", "--cache-mb", "64"])
    assert ServerConfig.from_args(args).budgets == Budgets(vram=6 * 10**9, ram=3 * 2**29, cache=64 * 2**20)


def test_by_default_models_may_take_half_the_ram_and_a_cpu_worker_has_no_vram_budget():
    args = build_parser().parse_args(["run", "workflow.json"])
    budgets = Budgets.from_args(args)
    assert budgets.cache == DEFAULT_CACHE_BYTES
    assert budgets.vram_for("cpu") is None
    assert budgets.ram_bytes() == memory_stats("cpu")["total"] // 2


@pytest.mark.parametrize("total_gib, budget_gib", [(80, 72), (8, 7)])
def test_by_default_models_may_take_the_gpu_less_a_tenth_or_at_least_a_gib(monkeypatch, total_gib, budget_gib):
    monkeypatch.setattr("nodeflow.budgets.memory_stats", lambda device: {"total": total_gib * 2**30, "free": 0})
    assert Budgets().vram_for("cuda:1") == pytest.approx(budget_gib * 2**30, abs=1)
