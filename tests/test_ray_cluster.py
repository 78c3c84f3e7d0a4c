"""`serve --ray ADDRESS` joins a running cluster; `RayPool` places one actor per GPU of the cluster and follows it
as nodes with GPUs join and leave.

Real Ray clusters on this machine (`ray.cluster_utils.Cluster`, nodes that
declare one GPU each); the actors run on the CPU, since no CUDA is here, but
Ray places them by the GPUs the nodes declare.
"""

from __future__ import annotations

import time

import pytest

from nodeflow.server.ray_workers import RayPool
from nodeflow.server.store import QueueStore
from nodeflow.server.worker import NoListeners
from tests.server_support import TEST_NODES, ServerProcess, counting_workflow, make_config, servertest_registry

pytestmark = pytest.mark.ray


def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _nodes(pool: RayPool) -> list[str]:
    """The Ray node id of each worker's actor, in the pool's order, once all of them answer."""
    import ray

    workers = pool.workers
    _until(lambda: all(worker.runner is not None and worker.runner.ready() for worker in workers))
    return [ray.get(worker.runner.actor.__ray_call__.remote(lambda actor: ray.get_runtime_context().get_node_id()))
            for worker in workers]


def test_one_actor_per_gpu_following_nodes_as_they_join_and_leave(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0})
    gpu_nodes = [cluster.add_node(num_cpus=1, num_gpus=1) for _ in range(2)]
    ray.init(address=cluster.address)
    store = QueueStore(tmp_path / "q.sqlite3")
    pool = RayPool(make_config(tmp_path, nodes_dirs=[TEST_NODES], affinity_wait_s=0.0), servertest_registry(),
                   store, NoListeners())
    try:
        pool.place()
        first, second = _nodes(pool)
        assert {first, second} == {node.node_id for node in gpu_nodes}  # an actor on each node's GPU

        # The first worker's node leaves, while both workers are idle: that worker goes, not the other.
        cluster.remove_node(next(node for node in gpu_nodes if node.node_id == first))
        _until(lambda: ray.cluster_resources().get("GPU", 0) == 1)
        pool.place()
        assert _nodes(pool) == [second] and pool.workers[0].worker_name == "ray-1"

        third = cluster.add_node(num_cpus=1, num_gpus=1)
        _until(lambda: ray.cluster_resources().get("GPU", 0) == 2)
        pool.place()
        assert _nodes(pool) == [second, third.node_id]
        assert pool.workers[-1].worker_name == "ray-2"  # a new worker for the new GPU

        workflow = counting_workflow(seed=5)
        store.add("after", workflow, workflow, None, {}, ["save"])
        pool.notify()
        _until(lambda: store.state_of("after") == "done")
        assert store.history(prompt_id="after")["after"]["status"]["status_str"] == "success"
    finally:
        pool.stop()
        ray.shutdown()
        cluster.shutdown()
        store.close()

def test_serve_joins_a_running_cluster_with_an_actor_per_gpu(tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 1})
    try:
        with ServerProcess(tmp_path, "--ray", cluster.address, devices=()) as server:
            prompt_id = server.queue(counting_workflow(seed=9))
            _until(lambda: prompt_id in server.get("/history")[1])
            entry = server.get("/history")[1][prompt_id]
            [device] = server.get("/system_stats")[1]["devices"]
        assert entry["status"]["status_str"] == "success" and entry["meta"]["worker"] == device["worker"] == "ray-0"
        assert "pid" in device
    finally:
        cluster.shutdown()
