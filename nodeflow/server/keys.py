"""Typed application state, shared by the route modules (no globals: everything lives in the app)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..registry import Registry
from .config import ServerConfig
from .hub import Hub
from .store import QueueStore
from .worker import WorkerPool

CONFIG = web.AppKey("config", ServerConfig)
REGISTRY = web.AppKey("registry", Registry)
SCHEMA = web.AppKey("schema", dict[str, Any])
STORE = web.AppKey("store", QueueStore)
HUB = web.AppKey("hub", Hub)
WORKERS = web.AppKey("workers", WorkerPool)
