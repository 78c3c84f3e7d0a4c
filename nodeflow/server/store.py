"""The persistent queue and history: one SQLite table of prompts (WAL), safe to share between threads.

A prompt is `pending`, `running` or `done`. Every state change is committed
before anyone is told about it, so a `kill -9` loses nothing: at the next start
prompts that were running go back to the queue and run again. Each claim counts
an attempt; a prompt that was running when the server stopped `max_attempts`
times (one that takes the process down, say by running out of memory) is
marked failed instead, so that the rest of the queue runs.

Each prompt keeps the recipe keys of the models its loaders make (`recipes`, a
JSON list; NULL on rows from before it was kept) and its batch key (prompts of
one key may be claimed together and run as one batch; NULL runs alone). A worker that holds models
takes first the oldest prompt whose recipes it holds all of, so that a model
family stays on the worker that loaded it; the first prompt in the queue wins
once it has waited `affinity_wait` seconds, so that none starves.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator

from ..limits import MAX_ATTEMPTS
from ..workflow import is_comfy_prompt
from .messages import PromptMessages

log = logging.getLogger(__name__)
PENDING, RUNNING, DONE = "pending", "running", "done"
MAX_HISTORY = 10_000  # finished prompts kept; the oldest go first (ComfyUI keeps as many)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS prompts (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    workflow TEXT NOT NULL,
    original TEXT NOT NULL,
    client_id TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    output_nodes TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    worker TEXT,
    status TEXT,
    outputs TEXT,
    messages TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    recipes TEXT,
    batch_key TEXT
);
CREATE INDEX IF NOT EXISTS prompts_by_state ON prompts (state, number);
"""


# ComfyUI's job statuses (`/jobs`) as conditions on a row; an interrupted prompt failed, as in ComfyUI, so that
# none is `cancelled` (a status its frontend asks for).
JOB_STATUSES = {
    "pending": f"state = '{PENDING}'",
    "in_progress": f"state = '{RUNNING}'",
    "completed": f"state = '{DONE}' AND status = 'success'",
    "failed": f"state = '{DONE}' AND status != 'success'",
    "cancelled": "0",
}


@dataclass(frozen=True)
class QueuedPrompt:
    """Everything a worker needs to run a prompt: plain, serialisable data."""

    id: str
    number: int
    workflow: dict[str, Any]
    original: Any
    client_id: str | None
    extra: dict[str, Any]
    output_nodes: list[str]
    attempts: int = 0  # claims so far, this one included

    def queue_entry(self) -> list[Any]:
        """ComfyUI's queue/history item: [number, prompt_id, prompt, extra_data, outputs_to_execute].

        The prompt is the one that runs, in the shape it was sent: a format-1 workflow with its params applied
        (stored so from the start, rows of older versions too); a ComfyUI prompt, which has no params, as sent."""
        as_run = self.original if is_comfy_prompt(self.original) else self.workflow
        return [self.number, self.id, as_run, self.extra, self.output_nodes]


def queued_prompt(row: sqlite3.Row) -> QueuedPrompt:
    return QueuedPrompt(
        row["id"], row["number"], json.loads(row["workflow"]), json.loads(row["original"]), row["client_id"],
        json.loads(row["extra"]), json.loads(row["output_nodes"]), row["attempts"],
    )


def _stopped_too_often(prompt_id: str, attempts: int) -> list[Any]:
    """The history messages of a prompt that is not retried: one `execution_error` that says why."""
    messages = PromptMessages(prompt_id)
    reason = (f"not retried: this prompt was running when the server stopped {attempts} times "
              "(it may be what takes the server down, e.g. by running out of memory); queue it again to retry")
    messages.error(None, None, reason, "ServerStopped", "")
    return messages.history


def _lost_too_often(prompt_id: str, attempts: int, reason: str) -> list[Any]:
    """The history messages of a prompt whose worker died at each of its `attempts`."""
    messages = PromptMessages(prompt_id)
    messages.error(None, None, f"not retried: {reason}, at each of its {attempts} attempts (it may be what kills "
                   "it, e.g. by running out of memory); queue it again to retry", "WorkerLost", "")
    return messages.history


class QueueStore:
    def __init__(self, path: Path | str, max_history: int = MAX_HISTORY, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.max_history = max_history
        self.max_attempts = max_attempts
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(prompts)")}
            if "attempts" not in columns:  # a queue file from before attempts were counted
                self._db.execute("ALTER TABLE prompts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
            if "recipes" not in columns:  # a queue file from before recipes were kept: its rows have none
                self._db.execute("ALTER TABLE prompts ADD COLUMN recipes TEXT")
            if "batch_key" not in columns:  # from before batching: its rows run alone
                self._db.execute("ALTER TABLE prompts ADD COLUMN batch_key TEXT")
        self.recovered = self._recover()

    def _recover(self) -> int:
        """After a crash: prompts left running go back to the queue (their count is returned), unless that was
        their last attempt."""
        with self._transaction() as db:
            abandoned = db.execute(
                "SELECT id, attempts FROM prompts WHERE state = ? AND attempts >= ?", (RUNNING, self.max_attempts)
            ).fetchall()
            for row in abandoned:
                self._finish(db, row["id"], "error", {}, _stopped_too_often(row["id"], row["attempts"]))
            requeued = db.execute(
                "UPDATE prompts SET state = ?, started = NULL, worker = NULL WHERE state = ?", (PENDING, RUNNING)
            ).rowcount
        for row in abandoned:
            log.warning("prompt %s was running when the server stopped %d times: marked failed, not retried",
                        row["id"], row["attempts"])
        return requeued

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, in a write transaction taken at once (BEGIN IMMEDIATE): no other writer in between."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, prompt_id: str, workflow: dict[str, Any], original: Any, client_id: str | None,
            extra: dict[str, Any], output_nodes: list[str], front: bool = False,
            recipes: Iterable[str] | None = None, batch_key: str | None = None) -> int:
        """Queue a prompt; `recipes` are the recipe keys of the models its loaders make (None: not known), and
        prompts of one `batch_key` (`batching.batch_key`) may be claimed together (None: it runs alone)."""
        recipes_json = None if recipes is None else json.dumps(sorted(recipes))
        with self._transaction() as db:
            low, high = db.execute("SELECT MIN(number), MAX(number) FROM prompts").fetchone()
            number = (low or 0) - 1 if front else (high or 0) + 1
            db.execute(
                "INSERT INTO prompts (id, number, state, workflow, original, client_id, extra, output_nodes, created,"
                " recipes, batch_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (prompt_id, number, PENDING, json.dumps(workflow), json.dumps(original), client_id,
                 json.dumps(extra), json.dumps(output_nodes), time.time(), recipes_json, batch_key),
            )
        return number

    def claim(self, worker: str, held: Collection[str] = (), affinity_wait: float = 0.0) -> QueuedPrompt | None:
        """Take one pending prompt (see `claim_batch`); None when the queue is empty."""
        batch = self.claim_batch(worker, held, affinity_wait)
        return batch[0] if batch else None

    def claim_batch(self, worker: str, held: Collection[str] = (), affinity_wait: float = 0.0,
                    max_batch: int = 1) -> list[QueuedPrompt]:
        """Take pending prompts and mark them running by `worker`, counting an attempt each; [] when the queue is
        empty.

        The first is the first prompt in the queue, unless the worker holds models (`held`, their recipe keys)
        and that prompt has waited less than `affinity_wait` seconds: then the first one whose recipes are all
        held, if any (a prompt that loads no model fits every worker). Up to `max_batch - 1` pending prompts of
        its batch key come with it, oldest first: only what is pending now, none is waited for. One transaction
        taken at once: two workers (or processes) never take the same prompt."""
        with self._transaction() as db:
            chosen = self._next_for(db, held, affinity_wait)
            if chosen is None:
                return []
            ids = [chosen]
            if max_batch > 1:
                ids += [row["id"] for row in db.execute(
                    "SELECT id FROM prompts WHERE state = ? AND id != ? AND batch_key ="
                    " (SELECT batch_key FROM prompts WHERE id = ?) ORDER BY number LIMIT ?",
                    (PENDING, chosen, chosen, max_batch - 1))]
            now = time.time()
            rows = [db.execute("UPDATE prompts SET state = ?, attempts = attempts + 1, started = ?, worker = ?"
                               " WHERE id = ? RETURNING *", (RUNNING, now, worker, prompt_id)).fetchone()
                    for prompt_id in ids]
        return [queued_prompt(row) for row in rows]

    @staticmethod
    def _next_for(db: sqlite3.Connection, held: Collection[str], affinity_wait: float) -> str | None:
        """The id of the prompt `claim` takes."""
        first = db.execute("SELECT id, created FROM prompts WHERE state = ? ORDER BY number LIMIT 1",
                           (PENDING,)).fetchone()
        if first is None or not held or time.time() - first["created"] >= affinity_wait:
            return first["id"] if first else None
        marks = ",".join("?" * len(held))
        fitting = db.execute(
            "SELECT id FROM prompts WHERE state = ? AND recipes IS NOT NULL AND NOT EXISTS"
            f" (SELECT 1 FROM json_each(prompts.recipes) WHERE value NOT IN ({marks})) ORDER BY number LIMIT 1",
            (PENDING, *held),
        ).fetchone()
        return (fitting or first)["id"]

    def finish(self, prompt_id: str, status: str, outputs: dict[str, Any], messages: list[Any]) -> None:
        with self._transaction() as db:
            self._finish(db, prompt_id, status, outputs, messages)

    def _finish(self, db: sqlite3.Connection, prompt_id: str, status: str, outputs: dict[str, Any],
                messages: list[Any]) -> None:
        db.execute(
            "UPDATE prompts SET state = ?, finished = ?, status = ?, outputs = ?, messages = ? WHERE id = ?",
            (DONE, time.time(), status, json.dumps(outputs), json.dumps(messages), prompt_id),
        )
        db.execute(
            "DELETE FROM prompts WHERE state = ? AND id NOT IN"
            " (SELECT id FROM prompts WHERE state = ? ORDER BY finished DESC, number DESC LIMIT ?)",
            (DONE, DONE, self.max_history),
        )

    def release(self, prompt_id: str) -> None:
        """Put a running prompt back at its place in the queue (its run was cut short by a shutdown): the attempt
        does not count, since the prompt did not take the server down."""
        with self._lock:
            self._db.execute(
                "UPDATE prompts SET state = ?, started = NULL, worker = NULL, attempts = MAX(attempts - 1, 0)"
                " WHERE id = ? AND state = ?", (PENDING, prompt_id, RUNNING)
            )

    def requeue_lost(self, prompt_id: str, reason: str) -> bool:
        """Put a running prompt whose worker died back at its place in the queue, its attempt counted; at its
        last attempt mark it failed instead, saying why. True if it was queued again."""
        with self._transaction() as db:
            row = db.execute("SELECT attempts FROM prompts WHERE id = ? AND state = ?", (prompt_id, RUNNING)).fetchone()
            if row is None:
                return False
            if row["attempts"] >= self.max_attempts:
                self._finish(db, prompt_id, "error", {}, _lost_too_often(prompt_id, row["attempts"], reason))
                return False
            db.execute("UPDATE prompts SET state = ?, started = NULL, worker = NULL WHERE id = ?", (PENDING, prompt_id))
        return True

    def state_of(self, prompt_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM prompts WHERE id = ?", (prompt_id,)).fetchone()
        return row["state"] if row else None

    def in_state(self, state: str) -> list[QueuedPrompt]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM prompts WHERE state = ? ORDER BY number", (state,)).fetchall()
        return [queued_prompt(r) for r in rows]

    def remaining(self) -> int:
        """Pending plus running prompts: ComfyUI's `queue_remaining`."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM prompts WHERE state != ?", (DONE,)).fetchone()[0]

    def delete_pending(self, prompt_ids: list[str] | None = None) -> int:
        """Drop pending prompts (all when `prompt_ids` is None); running ones are left to /interrupt."""
        return self._delete(PENDING, prompt_ids)

    def delete_history(self, prompt_ids: list[str] | None = None) -> int:
        return self._delete(DONE, prompt_ids)

    def _delete(self, state: str, prompt_ids: list[str] | None) -> int:
        with self._lock:
            if prompt_ids is None:
                return self._db.execute("DELETE FROM prompts WHERE state = ?", (state,)).rowcount
            marks = ",".join("?" * len(prompt_ids))
            return self._db.execute(
                f"DELETE FROM prompts WHERE state = ? AND id IN ({marks})", (state, *prompt_ids)
            ).rowcount

    def history(self, max_items: int | None = None, prompt_id: str | None = None, offset: int = 0) -> dict[str, Any]:
        """Finished prompts in ComfyUI's history shape, oldest first: the newest `max_items` after skipping `offset`."""
        query, args = "SELECT * FROM prompts WHERE state = ?", [DONE]
        if prompt_id is not None:
            query += " AND id = ?"
            args.append(prompt_id)
        query += " ORDER BY finished DESC, number DESC LIMIT ? OFFSET ?"
        args += [-1 if max_items is None else max_items, offset]
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return {row["id"]: _history_item(row) for row in reversed(rows)}

    def jobs(self, statuses: Collection[str], by_duration: bool, descending: bool, limit: int,
             offset: int) -> tuple[list[sqlite3.Row], int]:
        """Prompts in the given job statuses (`JOB_STATUSES`), newest (or longest) first when `descending`, a
        page of them and how many there are in all."""
        where = " OR ".join(f"({JOB_STATUSES[status]})" for status in statuses) or "0"
        key = "COALESCE(finished - started, 0)" if by_duration else "created"
        order = "DESC" if descending else "ASC"
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM prompts WHERE {where}").fetchone()[0]
            rows = self._db.execute(f"SELECT * FROM prompts WHERE {where} ORDER BY {key} {order}, number {order}"
                                    " LIMIT ? OFFSET ?", (limit, offset)).fetchall()
        return rows, total

    def job(self, prompt_id: str) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute("SELECT * FROM prompts WHERE id = ?", (prompt_id,)).fetchone()


def _history_item(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "prompt": queued_prompt(row).queue_entry(),
        "outputs": json.loads(row["outputs"] or "{}"),
        "status": {
            "status_str": row["status"],
            "completed": row["status"] == "success",
            "messages": json.loads(row["messages"] or "[]"),
        },
        "meta": {"created": row["created"], "started": row["started"], "finished": row["finished"],
                 "worker": row["worker"], "attempts": row["attempts"]},
    }
