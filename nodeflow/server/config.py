"""Server configuration: where it listens, which folders it may touch, and who may talk to it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from ..budgets import Budgets
from ..folders import Folders
from ..limits import AFFINITY_WAIT_SECONDS, DEFAULT_LIMITS, MAX_ATTEMPTS, Limits
from ..shipped import shipped
from .extras import OptionError, require
from .frontend import frontend_dir

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _normal_host(name: str) -> str:
    """As `Host` headers are compared: lower case, an IPv6 address without its brackets."""
    return name.lower().strip("[]")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8188
    token: str | None = None
    output_dir: Path = Path("output")
    input_dir: Path = Path("input")
    models_dirs: list[Path] = field(default_factory=lambda: [Path("models")])
    user_dir: Path = Path("user")
    db_path: Path | None = None
    devices: list[str] = field(default_factory=lambda: ["auto"])
    ray: str | None = None  # "auto" or a cluster's address: the workers are Ray actors, not `devices`
    ray_workers: int | None = None  # with `ray`: that many CPU actors instead of one per GPU
    affinity_wait_s: float = AFFINITY_WAIT_SECONDS
    max_batch: int = 1  # prompts a local worker runs as one batch (`serve` defaults to 4)
    max_upload_mb: float = 32.0
    max_body_mb: float = 8.0
    cors_origins: list[str] = field(default_factory=list)
    web_dir: Path = field(default_factory=lambda: shipped("web"))
    shipped_workflows_dir: Path = field(default_factory=lambda: shipped("workflows"))
    nodes_dirs: list[Path] = field(default_factory=list)
    allow_hosts: list[str] = field(default_factory=list)
    max_nodes: int = DEFAULT_LIMITS.max_nodes
    max_pixels: int = DEFAULT_LIMITS.max_pixels
    max_attempts: int = MAX_ATTEMPTS
    body_timeout_s: float = 30.0
    max_concurrent_requests: int = 64
    max_websockets: int = 256
    history_page_size: int = 100
    budgets: Budgets = Budgets()  # of each worker: its models' VRAM and RAM, its output cache

    @property
    def database(self) -> Path:
        return self.db_path or self.user_dir / "nodeflow.sqlite3"

    @property
    def user_workflows_dir(self) -> Path:
        return self.user_dir / "workflows"

    @property
    def userdata_dir(self) -> Path:
        """The files the ComfyUI frontend keeps on the server (settings, its workflows): ComfyUI's `user/default`."""
        return self.user_dir / "default"

    @property
    def exposed_without_token(self) -> bool:
        """Listening beyond loopback with no token: anyone on the network could run prompts."""
        return self.token is None and self.host not in LOOPBACK_HOSTS

    @property
    def allow_host_names(self) -> frozenset[str]:
        return frozenset(_normal_host(name) for name in self.allow_hosts)

    @property
    def served_hosts(self) -> frozenset[str]:
        """Host names answered without a token: loopback, `--allow-host` names, and the bind address itself."""
        bound = [] if self.host in WILDCARD_HOSTS else [self.host]
        return frozenset(_normal_host(name) for name in (*LOOPBACK_HOSTS, *bound)) | self.allow_host_names

    @property
    def prompt_limits(self) -> Limits:
        """What one prompt may ask for (nodes, pixels), checked when it is queued and again when it runs."""
        return Limits(max_nodes=self.max_nodes, max_pixels=self.max_pixels)

    @property
    def client_max_size(self) -> int:
        return int(max(self.max_upload_mb, self.max_body_mb) * 2**20)

    def folders(self) -> Folders:
        return Folders(
            output=self.output_dir, input=self.input_dir, temp=self.user_dir / "temp", models=list(self.models_dirs),
        )

    def make_dirs(self) -> None:
        for folder in (self.output_dir, self.input_dir, self.user_dir / "temp", self.user_workflows_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.database.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServerConfig:
        _check_ray_options(args)
        return cls(
            host=args.host,
            port=args.port,
            token=args.token or None,
            output_dir=Path(args.output_dir),
            input_dir=Path(args.input_dir),
            models_dirs=[Path(m) for m in args.models_dir or ["models"]],
            user_dir=Path(args.user_dir),
            db_path=Path(args.db) if args.db else None,
            devices=list(args.device or ["auto"]),
            ray=args.ray,
            ray_workers=args.ray_workers,
            affinity_wait_s=args.affinity_wait,
            max_batch=args.max_batch,
            max_upload_mb=args.max_upload_mb,
            max_body_mb=args.max_body_mb,
            cors_origins=list(args.cors_origin or []),
            web_dir=frontend_dir(args.frontend),
            nodes_dirs=list(getattr(args, "nodes_dir", None) or []),
            allow_hosts=list(args.allow_host or []),
            max_nodes=args.max_nodes,
            max_pixels=args.max_pixels,
            max_attempts=args.max_attempts,
            body_timeout_s=args.body_timeout,
            max_concurrent_requests=args.max_requests,
            max_websockets=args.max_websockets,
            budgets=Budgets.from_args(args),
        )


def _check_ray_options(args: argparse.Namespace) -> None:
    if args.ray is None:
        if args.ray_workers is not None:
            raise OptionError("--ray-workers needs --ray (auto or a cluster's address)")
        return
    if args.device:
        raise OptionError("--device places local workers; with --ray, actors take the GPUs (or --ray-workers N)")
    require("ray", "--ray", "Ray", "ray")
