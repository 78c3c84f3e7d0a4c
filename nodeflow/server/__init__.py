"""The HTTP/WebSocket server: a ComfyUI-compatible API over a persistent queue and per-device workers.

One module per concern:

- `app`: `create_app(config, registry)` (typed `web.AppKey` state in `keys`, resources in
  `cleanup_ctx`) and `serve(args)` for `nodeflow serve`; `config`: `ServerConfig`.
- `prompts`: `POST/GET /prompt`, `GET/POST /queue`, `POST /interrupt`, `GET/POST /history[/{id}]`.
- `files`: `GET /view`, `POST /upload/image` (inside the output/input/temp folders only).
- `workflows`: `GET /workflows`, `GET/POST /workflows/{name}` (shipped read-only + the user's).
- `object_info`: `GET /object_info[/{type}]` (ComfyUI's shape, with what the folders hold), `GET /nodeflow/schema`
  (ours) and `GET /nodeflow/choices`.
- `system`: `GET /system_stats`, `POST /free`.  `ws` + `hub` + `messages`: `GET /ws?clientId=`.
- `store`: the SQLite (WAL) queue and history.  `worker`: one thread per device (or Ray actor) and its runner.
- `ray_workers` (head side) + `ray_actor` (actor side) + `remote_files`: workers as Ray actors (`--ray`).
- `extras`: `serve` options that cannot be used as given (an optional extra missing).
- `prompt_log`: the server log's line per queued prompt and per finished run.
- `security`: host and origin allow-lists, token, CORS.  `capacity`: requests and WebSockets in flight, open files.
- `static`: the editor at `/` (`frontend`: ours in `web/`, or the ComfyUI frontend package's).
- For the ComfyUI frontend: `settings` (`/settings`), `userdata` (`/userdata`), `jobs` (`/jobs`),
  `model_folders` (`/embeddings`, `/experiment/models`), `client_info` (`/users`, `/features`, `/i18n`,
  `/extensions`, `/workflow_templates`, `/global_subgraphs`); `api_errors`: JSON errors under `/api`.

Every API route also answers under `/api` (newer ComfyUI clients use that prefix).
"""

from .app import create_app, serve
from .config import ServerConfig

__all__ = ["ServerConfig", "create_app", "serve"]
