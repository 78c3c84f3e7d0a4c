"""`/prompt`, `/queue`, `/interrupt`, `/history`: queueing work and reading what became of it."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any, Callable

from aiohttp import web

from ..batching import batch_key
from ..limits import Limits
from ..models import recipe_keys_of
from ..plan import Plan, plan
from ..problems import ProblemList
from ..registry import Registry
from ..comfy_formats import Loaded, load_any
from ..comfy_ui_format import is_ui_workflow
from . import prompt_log
from .bodies import json_error, json_response, query_count, read_object
from .keys import CONFIG, HUB, REGISTRY, STORE, WORKERS
from .store import QueueStore

routes = web.RouteTableDef()


def _node_types(prompt: Any) -> dict[str, Any]:
    """Node id → type, from format 1 (`nodes.*.type`), ComfyUI's API format (`*.class_type`) or its UI format
    (`nodes[].type`)."""
    nodes = prompt.get("nodes", prompt) if isinstance(prompt, dict) else {}
    if isinstance(nodes, list):
        nodes = {n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), (int, str))}
    if not isinstance(nodes, dict):
        return {}
    return {str(k): v.get("type", v.get("class_type")) for k, v in nodes.items() if isinstance(v, dict)}


# ComfyUI's error type for each of our problem codes; what has no counterpart there keeps our code.
_COMFY_ERROR_TYPES = {
    "missing_input": "required_input_missing",
    "type_mismatch": "return_type_mismatch",
    "literal_for_socket": "invalid_input_type",
    "missing_node": "bad_linked_input",
    "not_found": "value_not_in_list",
    "unknown_type": "missing_node_type",
    "no_output": "prompt_no_outputs",
}
# An `invalid_value` is told apart by what pydantic said of it (its messages are stable across versions).
_VALUE_ERROR_TYPES = (
    ("Input should be less than", "value_bigger_than_max"),
    ("Input should be greater than", "value_smaller_than_min"),
    ("Input should be '", "value_not_in_list"),
    ("Input should be ", "invalid_input_type"),
)


def comfy_error_type(code: str, message: str) -> str:
    if code == "invalid_value":
        return next((kind for start, kind in _VALUE_ERROR_TYPES if message.startswith(start)),
                    "exception_during_validation")
    return _COMFY_ERROR_TYPES.get(code, code)


def node_errors(problems: ProblemList, prompt: Any) -> dict[str, Any]:
    """ComfyUI's `node_errors` shape, with ComfyUI's error types; each error also carries nodeflow's code, node id
    and input."""
    types = _node_types(prompt)
    return {
        node_id: {
            "errors": [
                {**item, "type": comfy_error_type(item["code"], item["message"]), "details": item["message"],
                 "extra_info": {"input_name": item["input"]}}
                for item in items
            ],
            "class_type": types.get(node_id),
            "dependent_outputs": [],
        }
        for node_id, items in problems.by_node().items()
    }


def _invalid(problems: ProblemList, prompt: Any) -> web.HTTPException:
    """ComfyUI's answer to a prompt that fails validation: `prompt_outputs_failed_validation` with every problem
    in `details`, one per line, and by node in `node_errors`; a problem of the whole prompt (no output node, too
    many nodes) names its own type."""
    count = len(problems.problems)
    summary = f": {problems.problems[0].message}" if count == 1 else "s"
    whole = [p for p in problems.problems if p.node_id is None]
    kind = comfy_error_type(whole[0].code, whole[0].message) if whole else "prompt_outputs_failed_validation"
    details = "\n".join(str(problem) for problem in problems.problems)
    return json_error(400, f"the prompt has {count} problem{summary}", node_errors=node_errors(problems, prompt),
                      error_fields={"type": kind, "details": details, "extra_info": {}})


def _validate(prompt: Any, params: dict[str, Any], registry: Registry, limits: Limits) -> tuple[Loaded, Plan]:
    """The prompt in any format (ours, ComfyUI's API or UI format) as a workflow with its params set, planned."""
    loaded = load_any(prompt, registry)
    workflow = loaded.workflow.with_params(params)
    return Loaded(workflow, loaded.pnginfo), plan(workflow, registry, limits=limits)


def _extra_data(body: dict[str, Any], loaded: Loaded) -> dict[str, Any]:
    """The client's `extra_data`; a UI-format prompt is kept in it as ComfyUI clients send theirs
    (`extra_pnginfo.workflow`), for saved images to carry."""
    extra = body.get("extra_data") if isinstance(body.get("extra_data"), dict) else {}
    if "workflow" not in loaded.pnginfo:
        return extra
    pnginfo = extra.get("extra_pnginfo") if isinstance(extra.get("extra_pnginfo"), dict) else {}
    return {**extra, "extra_pnginfo": {**pnginfo, "workflow": loaded.pnginfo["workflow"]}}


def _enqueue(store: QueueStore, wanted_id: Any, **fields: Any) -> tuple[str, int]:
    """Add the prompt under the id the client asked for, or a fresh one when that is not a free string."""
    if isinstance(wanted_id, str) and wanted_id:
        try:
            return wanted_id, store.add(wanted_id, **fields)
        except sqlite3.IntegrityError:  # taken: the prompt gets an id of its own
            pass
    prompt_id = str(uuid.uuid4())
    return prompt_id, store.add(prompt_id, **fields)


@routes.post("/prompt")
async def queue_prompt(request: web.Request) -> web.Response:
    body = await read_object(request)
    if is_ui_workflow(body):  # a UI-format workflow file, sent as it is
        body = {"prompt": body}
    if "prompt" not in body:
        raise json_error(400, "body must be an object with a 'prompt' (a workflow)", node_errors={})
    prompt, params, front = body["prompt"], body.get("params") or {}, body.get("front", False)
    if not isinstance(params, dict):
        raise json_error(400, "'params' must be an object of param name → value", node_errors={})
    if not isinstance(front, bool):
        raise json_error(400, "'front' must be true or false", node_errors={})
    limits = request.app[CONFIG].prompt_limits
    try:
        loaded, steps = await asyncio.to_thread(_validate, prompt, params, request.app[REGISTRY], limits)
    except ProblemList as problems:
        raise _invalid(problems, prompt) from None
    store, workflow, original = request.app[STORE], loaded.workflow, loaded.pnginfo.get("prompt", prompt)
    client_id = body.get("client_id") if isinstance(body.get("client_id"), str) else None
    prompt_id, number = await asyncio.to_thread(
        _enqueue, store, body.get("prompt_id"), workflow=workflow.to_dict(), original=original, client_id=client_id,
        extra=_extra_data(body, loaded), output_nodes=steps.output_nodes, front=front, recipes=recipe_keys_of(steps),
        batch_key=batch_key(steps),
    )
    prompt_log.queued(prompt_id, workflow.meta)
    request.app[WORKERS].notify()
    request.app[HUB].status(await asyncio.to_thread(store.remaining))
    return json_response({"prompt_id": prompt_id, "number": number, "node_errors": {}})


@routes.get("/prompt")
async def queue_info(request: web.Request) -> web.Response:
    return json_response({"exec_info": {"queue_remaining": await asyncio.to_thread(request.app[STORE].remaining)}})


def _queue_entries(store: QueueStore) -> dict[str, list[Any]]:
    return {
        "queue_running": [p.queue_entry() for p in store.in_state("running")],
        "queue_pending": [p.queue_entry() for p in store.in_state("pending")],
    }


@routes.get("/queue")
async def get_queue(request: web.Request) -> web.Response:
    return json_response(await asyncio.to_thread(_queue_entries, request.app[STORE]))


def _edit(body: dict[str, Any]) -> tuple[bool, list[str]]:
    """ComfyUI's edit body, checked whole before anything is dropped: `clear` (a bool) and `delete` (ids)."""
    clear, ids = body.get("clear", False), body.get("delete", [])
    if not isinstance(clear, bool):
        raise json_error(400, "'clear' must be true or false")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise json_error(400, "'delete' must be a list of prompt ids")
    return clear, ids


def _clear_or_delete(delete: Callable[[list[str] | None], int], clear: bool, ids: list[str]) -> int:
    """`clear` drops everything, `delete` drops those ids."""
    return (delete(None) if clear else 0) + (delete(ids) if ids else 0)


@routes.post("/queue")
async def edit_queue(request: web.Request) -> web.Response:
    store = request.app[STORE]
    clear, ids = _edit(await read_object(request))
    deleted = await asyncio.to_thread(_clear_or_delete, store.delete_pending, clear, ids)
    request.app[HUB].status(await asyncio.to_thread(store.remaining))
    return json_response({"deleted": deleted})


@routes.post("/interrupt")
async def interrupt(request: web.Request) -> web.Response:
    prompt_id = (await read_object(request)).get("prompt_id")
    if prompt_id is not None and not isinstance(prompt_id, str):
        raise json_error(400, "'prompt_id' must be a prompt id (a string)")
    return json_response({"interrupted": request.app[WORKERS].interrupt(prompt_id)})


@routes.get("/history")
async def get_history(request: web.Request) -> web.Response:
    """The newest finished prompts, a page at a time (`max_items`, at most the page size, and `offset`)."""
    page = request.app[CONFIG].history_page_size
    max_items = min(query_count(request, "max_items", page), page)
    offset = query_count(request, "offset", 0)
    return json_response(await asyncio.to_thread(request.app[STORE].history, max_items, offset=offset))


@routes.get("/history/{prompt_id}")
async def get_history_item(request: web.Request) -> web.Response:
    history = await asyncio.to_thread(request.app[STORE].history, prompt_id=request.match_info["prompt_id"])
    return json_response(history)


@routes.post("/history")
async def edit_history(request: web.Request) -> web.Response:
    clear, ids = _edit(await read_object(request))
    deleted = await asyncio.to_thread(_clear_or_delete, request.app[STORE].delete_history, clear, ids)
    return json_response({"deleted": deleted})
