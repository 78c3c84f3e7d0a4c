"""`/prompt`, `/queue`, `/interrupt`, `/history`: queueing work and reading what became of it."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from aiohttp import web

from ..plan import plan
from ..problems import ProblemList
from ..workflow import Workflow
from .bodies import json_error, read_object
from .keys import HUB, REGISTRY, STORE, WORKERS

routes = web.RouteTableDef()


def _node_types(prompt: Any) -> dict[str, Any]:
    """Node id → type, from format 1 (`nodes.*.type`) or ComfyUI's API format (`*.class_type`)."""
    nodes = prompt.get("nodes", prompt) if isinstance(prompt, dict) else {}
    if not isinstance(nodes, dict):
        return {}
    return {str(k): v.get("type", v.get("class_type")) for k, v in nodes.items() if isinstance(v, dict)}


def node_errors(problems: ProblemList, prompt: Any) -> dict[str, Any]:
    """ComfyUI's `node_errors` shape; each error also carries nodeflow's code, node id and input."""
    types = _node_types(prompt)
    return {
        node_id: {
            "errors": [
                {**item, "type": item["code"], "details": item["message"], "extra_info": {"input_name": item["input"]}}
                for item in items
            ],
            "class_type": types.get(node_id),
            "dependent_outputs": [],
        }
        for node_id, items in problems.by_node().items()
    }


def _invalid(problems: ProblemList, prompt: Any) -> web.HTTPException:
    count = len(problems.problems)
    return json_error(
        400, f"the prompt has {count} problem{'s' if count != 1 else ''}", node_errors=node_errors(problems, prompt),
    )


@routes.post("/prompt")
async def queue_prompt(request: web.Request) -> web.Response:
    body = await read_object(request)
    if "prompt" not in body:
        raise json_error(400, "body must be an object with a 'prompt' (a workflow)", node_errors={})
    prompt, params = body["prompt"], body.get("params") or {}
    if not isinstance(params, dict):
        raise json_error(400, "'params' must be an object of param name → value", node_errors={})
    try:
        workflow = Workflow.from_dict(prompt).with_params(params)
        steps = plan(workflow, request.app[REGISTRY])
    except ProblemList as problems:
        raise _invalid(problems, prompt) from None
    store = request.app[STORE]
    prompt_id = body.get("prompt_id")
    if not isinstance(prompt_id, str) or not prompt_id or store.state_of(prompt_id) is not None:
        prompt_id = str(uuid.uuid4())
    extra = body.get("extra_data") if isinstance(body.get("extra_data"), dict) else {}
    client_id = body.get("client_id") if isinstance(body.get("client_id"), str) else None
    number = store.add(prompt_id, workflow.to_dict(), prompt, client_id, extra, steps.output_nodes, bool(body.get("front")))
    request.app[WORKERS].notify()
    request.app[HUB].status(store.remaining())
    return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": {}})


@routes.get("/prompt")
async def queue_info(request: web.Request) -> web.Response:
    return web.json_response({"exec_info": {"queue_remaining": request.app[STORE].remaining()}})


@routes.get("/queue")
async def get_queue(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response({
        "queue_running": [p.queue_entry() for p in store.in_state("running")],
        "queue_pending": [p.queue_entry() for p in store.in_state("pending")],
    })


def _clear_or_delete(body: dict[str, Any], delete: Callable[[list[str] | None], int]) -> int:
    """ComfyUI's edit body: `{"clear": true}` drops everything, `{"delete": [ids]}` drops those."""
    deleted = delete(None) if body.get("clear") else 0
    ids = body.get("delete", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise json_error(400, "'delete' must be a list of prompt ids")
    return deleted + (delete(ids) if ids else 0)


@routes.post("/queue")
async def edit_queue(request: web.Request) -> web.Response:
    store = request.app[STORE]
    deleted = _clear_or_delete(await read_object(request), store.delete_pending)
    request.app[HUB].status(store.remaining())
    return web.json_response({"deleted": deleted})


@routes.post("/interrupt")
async def interrupt(request: web.Request) -> web.Response:
    prompt_id = (await read_object(request)).get("prompt_id")
    return web.json_response({"interrupted": request.app[WORKERS].interrupt(prompt_id)})


@routes.get("/history")
async def get_history(request: web.Request) -> web.Response:
    max_items = request.query.get("max_items")
    if max_items is not None and not max_items.isdigit():
        raise json_error(400, "max_items must be a non-negative integer")
    return web.json_response(request.app[STORE].history(int(max_items) if max_items else None))


@routes.get("/history/{prompt_id}")
async def get_history_item(request: web.Request) -> web.Response:
    return web.json_response(request.app[STORE].history(prompt_id=request.match_info["prompt_id"]))


@routes.post("/history")
async def edit_history(request: web.Request) -> web.Response:
    deleted = _clear_or_delete(await read_object(request), request.app[STORE].delete_history)
    return web.json_response({"deleted": deleted})
