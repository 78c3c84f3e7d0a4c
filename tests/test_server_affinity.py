"""Two CPU workers and two model families: with affinity each family stays on the worker that loaded it; the first
prompt in the queue still runs once it has waited past the bound."""

from __future__ import annotations

import uuid

import pytest

from nodeflow import Registry
from nodeflow.registry import load_module_file
from nodeflow.server.keys import WORKERS
from tests.server_support import TEST_NODES, start_client, ws_until_done

pytestmark = pytest.mark.asyncio
LOAD_SECONDS = 0.5  # long enough for both workers to claim their first prompt while the other loads
# Seconds each prompt uses its model. A's first prompts are short and B's first is long: in first-come order the
# worker that loaded A meets a B prompt at the head of the queue while the other is still busy with B. Each
# family's last prompt is long, so that with affinity neither worker runs out of its family's prompts while the
# other family's are still waiting.
USE_SECONDS = {"A": [0.02, 0.02, 0.2, 0.2, 0.2, 0.3], "B": [0.25, 0.1, 0.1, 0.1, 0.1, 0.3]}
families = load_module_file(TEST_NODES / "families.py")


def _registry() -> Registry:
    registry = Registry()
    registry.add_module(families)
    return registry


async def _run_all(client, workflows: list[dict]) -> list[str]:
    """Queue the workflows in order and wait until each has ended; their prompt ids."""
    client_id = uuid.uuid4().hex
    ws = await client.ws_connect(f"/ws?clientId={client_id}")
    ids = []
    for workflow in workflows:
        response = await client.post("/prompt", json={"prompt": workflow, "client_id": client_id})
        assert response.status == 200, await response.text()
        ids.append((await response.json())["prompt_id"])
    await ws_until_done(ws, *ids)
    await ws.close()
    return ids


def _families_held(client, families: set[str]) -> list[set[str]]:
    """For each worker, which of `families` its model service loaded."""
    return [{model["source"] for model in worker.runner.executor.models.loaded()} & families
            for worker in client.server.app[WORKERS].workers]


async def test_with_affinity_each_family_is_loaded_once_on_one_worker(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry(), devices=["cpu", "cpu"], affinity_wait_s=60.0)
    await _run_all(client, [families.family_workflow("warm-up", seed=0)])  # first calls take turns: done with here
    alternating = [families.family_workflow(family, seed, USE_SECONDS[family][seed // 2], LOAD_SECONDS)
                   for seed, family in enumerate("AB" * 6)]
    await _run_all(client, alternating)
    assert sorted(_families_held(client, {"family:A", "family:B"}), key=sorted) == [{"family:A"}, {"family:B"}]


async def test_the_first_prompt_runs_once_it_has_waited_past_the_bound(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry(), devices=["cpu"], affinity_wait_s=1.0)
    busy = families.family_workflow("A", seed=0, use_seconds=0.5)  # the worker loads A while the rest is queued
    affine = [families.family_workflow("A", seed, use_seconds=0.25) for seed in range(1, 11)]
    [_, other, *_] = ids = await _run_all(client, [busy, families.family_workflow("C", seed=0), *affine])
    history = await (await client.get("/history")).json()
    order = sorted(ids, key=lambda prompt_id: history[prompt_id]["meta"]["started"])
    assert other not in (order[1], order[-1])
    meta = history[other]["meta"]
    assert meta["started"] - meta["created"] >= 1.0
