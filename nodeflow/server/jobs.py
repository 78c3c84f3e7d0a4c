"""`/jobs`: the queue and the history as ComfyUI's jobs, where its frontend reads them, from the SQLite store.

A job is `pending`, `in_progress`, `completed` or `failed` (an interrupted
prompt failed, as in ComfyUI). Times are milliseconds since the epoch, as in
ComfyUI. Cancelling a pending job drops it; cancelling a running one
interrupts it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from aiohttp import web

from .bodies import json_error, json_response, query_count, read_object
from .keys import HUB, STORE, WORKERS
from .store import DONE, JOB_STATUSES, PENDING, RUNNING, QueueStore, queued_prompt

routes = web.RouteTableDef()
DEFAULT_PAGE, MAX_PAGE = 100, 1000
PREVIEWABLE = ("images", "video", "audio")
_STATUS_OF_STATE = {PENDING: "pending", RUNNING: "in_progress"}
_SORT_KEYS = ("created_at", "create_time", "execution_duration")


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _preview(outputs: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """How many output files there are, and the one to show: the first saved picture, video or sound."""
    count, saved, other = 0, None, None
    for node_id, node_outputs in outputs.items():
        for media_type, items in node_outputs.items() if isinstance(node_outputs, dict) else ():
            for item in items if isinstance(items, list) and media_type != "animated" else ():
                count += 1
                if isinstance(item, dict) and media_type in PREVIEWABLE:
                    shown = {**item, "nodeId": node_id, "mediaType": media_type}
                    saved = saved or (shown if item.get("type") == "output" else None)
                    other = other or shown
    return count, saved or other


def _error(messages: list[Any]) -> dict[str, Any] | None:
    """The run's `execution_error`, with text where ComfyUI always has some (the frontend insists on it)."""
    for kind, data in messages:
        if kind == "execution_error":
            return {**data, "node_id": data.get("node_id") or "", "node_type": data.get("node_type") or ""}
    return None


def _status(row: sqlite3.Row) -> str:
    return _STATUS_OF_STATE.get(row["state"]) or ("completed" if row["status"] == "success" else "failed")


def job(row: sqlite3.Row, detailed: bool = False) -> dict[str, Any]:
    """ComfyUI's job of a stored prompt; `detailed` adds its outputs, status messages and the prompt as run."""
    prompt = queued_prompt(row)
    outputs = json.loads(row["outputs"] or "{}")
    messages = json.loads(row["messages"] or "[]")
    count, preview = _preview(outputs)
    workflow = prompt.extra.get("extra_pnginfo", {}).get("workflow") if isinstance(
        prompt.extra.get("extra_pnginfo"), dict) else None
    entry = {
        "id": row["id"], "status": _status(row), "priority": row["number"], "create_time": _ms(row["created"]),
        "execution_start_time": _ms(row["started"]), "execution_end_time": _ms(row["finished"]),
        "outputs_count": count, "preview_output": preview, "execution_error": _error(messages),
        "workflow_id": workflow.get("id") if isinstance(workflow, dict) else None,
    }
    if detailed:
        _, _, as_run, extra, _ = prompt.queue_entry()
        entry.update(outputs=outputs, workflow={"prompt": as_run, "extra_data": extra},
                     execution_status={"status_str": row["status"], "completed": row["status"] == "success",
                                       "messages": messages} if row["state"] == DONE else None)
    return {key: value for key, value in entry.items() if value is not None}


def _statuses(request: web.Request) -> list[str]:
    text = request.query.get("status", "")
    statuses = [part.strip() for part in text.split(",") if part.strip()] or list(JOB_STATUSES)
    unknown = [status for status in statuses if status not in JOB_STATUSES]
    if unknown:
        raise json_error(400, f"status {unknown[0][:40]!r} is not one of {', '.join(JOB_STATUSES)}")
    return statuses


def _choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query.get(name) or default
    if value not in choices:
        raise json_error(400, f"{name} must be one of {', '.join(choices)}, not {value[:40]!r}")
    return value


@routes.get("/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    statuses = _statuses(request)
    by_duration = _choice(request, "sort_by", _SORT_KEYS, "created_at") == "execution_duration"
    descending = _choice(request, "sort_order", ("asc", "desc"), "desc") == "desc"
    limit = min(query_count(request, "limit", DEFAULT_PAGE), MAX_PAGE)
    offset = query_count(request, "offset", 0)
    rows, total = await asyncio.to_thread(request.app[STORE].jobs, statuses, by_duration, descending, limit, offset)
    return json_response({
        "jobs": [job(row) for row in rows],
        "pagination": {"offset": offset, "limit": limit, "total": total, "has_more": offset + len(rows) < total},
    })


async def _row(request: web.Request) -> sqlite3.Row:
    prompt_id = request.match_info["id"]
    row = await asyncio.to_thread(request.app[STORE].job, prompt_id)
    if row is None:
        raise json_error(404, f"no job {prompt_id[:80]!r}")
    return row


@routes.get("/jobs/{id}")
async def get_job(request: web.Request) -> web.Response:
    return json_response(job(await _row(request), detailed=True))


async def _cancel(app: web.Application, row: sqlite3.Row) -> bool:
    """Drop a pending job, interrupt a running one; False for one that is over (or just ended)."""
    store: QueueStore = app[STORE]
    if row["state"] == PENDING and await asyncio.to_thread(store.delete_pending, [row["id"]]):
        app[HUB].status(await asyncio.to_thread(store.remaining))
        return True
    return row["state"] == RUNNING and app[WORKERS].interrupt(row["id"])


@routes.post("/jobs/{id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    return json_response({"cancelled": await _cancel(request.app, await _row(request))})


@routes.post("/jobs/cancel")
async def cancel_jobs(request: web.Request) -> web.Response:
    ids = (await read_object(request)).get("job_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise json_error(400, "'job_ids' must be a list of job ids")
    store = request.app[STORE]
    rows = [row for i in ids if (row := await asyncio.to_thread(store.job, i)) is not None]
    return json_response({"cancelled": [row["id"] for row in rows if await _cancel(request.app, row)]})
