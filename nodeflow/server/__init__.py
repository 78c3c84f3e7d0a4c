"""The HTTP/WebSocket server: a ComfyUI-compatible API over a persistent queue and per-device workers."""

from .app import create_app, serve
from .config import ServerConfig

__all__ = ["ServerConfig", "create_app", "serve"]
