"""The application factory and `nodeflow serve`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import AsyncIterator

from aiohttp import web

from ..registry import Registry, default_registry
from . import (client_info, files, jobs, model_folders, object_info, prompts, settings, static, system, userdata,
               workflows, ws)
from .api_errors import API_PREFIX, json_api_errors
from .config import ServerConfig
from .hub import Hub
from .keys import CONFIG, HUB, REGISTRY, SCHEMA, STORE, WORKERS
from .capacity import CAPACITY, Capacity, limit_concurrency, raise_open_file_limit
from .security import guard_host, guard_origin, require_token
from .store import QueueStore
from .worker import Worker, WorkerPool

WORKER_STOP_SECONDS = 5.0


async def _queue_store(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = QueueStore(app[CONFIG].database, max_attempts=app[CONFIG].max_attempts)
    yield
    app[STORE].close()


async def _workers(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    app[HUB].bind(asyncio.get_running_loop())
    pool = app[WORKERS] = WorkerPool([
        Worker.local(str(i), app[REGISTRY], device, config.folders(), app[STORE], app[HUB], config.prompt_limits,
                     config.affinity_wait_s, config.budgets, config.max_batch)
        for i, device in enumerate(config.devices)
    ])
    pool.start()
    yield
    await asyncio.to_thread(pool.stop, WORKER_STOP_SECONDS)


async def _ray_workers(app: web.Application) -> AsyncIterator[None]:
    """The workers as Ray actors (`--ray`): the same pool to the routes, on a local Ray or a cluster."""
    import ray

    from .ray_workers import RayPool, connect

    config = app[CONFIG]
    app[HUB].bind(asyncio.get_running_loop())
    connect(config.ray, config.ray_workers)  # in the main thread, where Ray sets its signal handlers
    pool = app[WORKERS] = RayPool(config, app[REGISTRY], app[STORE], app[HUB])
    await asyncio.to_thread(pool.start)
    yield
    await asyncio.to_thread(pool.stop, WORKER_STOP_SECONDS)
    ray.shutdown()


async def _close_websockets(app: web.Application) -> None:
    app[HUB].close_all()


def create_app(config: ServerConfig, registry: Registry | None = None) -> web.Application:
    """The server for `config`; `registry` defaults to the built-in nodes plus `config.nodes_dirs`."""
    config.make_dirs()
    app = web.Application(middlewares=[json_api_errors, limit_concurrency, guard_host, guard_origin, require_token],
                          client_max_size=config.client_max_size)
    app[CONFIG] = config
    app[CAPACITY] = Capacity(config)
    app[REGISTRY] = registry if registry is not None else default_registry(config.nodes_dirs)
    app[SCHEMA] = app[REGISTRY].schema()
    app[HUB] = Hub()
    app[settings.SETTINGS_LOCK] = asyncio.Lock()
    app.cleanup_ctx.extend([_queue_store, _workers if config.ray is None else _ray_workers])
    app.on_shutdown.append(_close_websockets)
    api_modules = (prompts, jobs, files, workflows, userdata, settings, object_info, model_folders, client_info,
                   system, ws)
    for module in api_modules:
        app.router.add_routes(module.routes)
    for module in api_modules:  # newer ComfyUI clients call the same routes under /api
        for route in module.routes:
            app.router.add_route(route.method, API_PREFIX + route.path, route.handler)
    app.router.add_routes(static.routes)  # last: it catches every other path
    return app


_EXPOSED_WARNING = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  WARNING: nodeflow is listening on {host} WITHOUT a token.
!!  Anyone who can reach this machine can queue prompts and read your images.
!!  Restart with --token SECRET (clients then send `Authorization: Bearer SECRET`).
!!  Without a token only requests for {names} (or this machine's
!!  address) are answered;
!!  add the names this machine is reached by with --allow-host NAME.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


def _log_to_stderr() -> None:
    """nodeflow's own lines from INFO up (a line per prompt) on stderr; other libraries' from WARNING up.
    Logging that the command line set up already is kept."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", level=logging.WARNING)
    logging.getLogger("nodeflow").setLevel(logging.INFO)


def serve(args: argparse.Namespace, registry: Registry | None = None) -> int:
    config = ServerConfig.from_args(args)
    if config.ray not in (None, "auto"):
        from .ray_workers import require_cluster

        require_cluster(config.ray)
    _log_to_stderr()
    if config.exposed_without_token:
        names = ", ".join(sorted(config.served_hosts))
        print(_EXPOSED_WARNING.format(host=config.host, names=names), file=sys.stderr, flush=True)
    raise_open_file_limit()
    app = create_app(config, registry)
    shown_host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    login = f"?token={config.token}" if config.token else ""
    print(f"nodeflow serving on http://{shown_host}:{config.port}/{login} (queue: {config.database})", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None)
    return 0
