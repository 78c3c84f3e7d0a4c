"""Where every loader reads its model: a folder in the model folders, else the hub, else the hub's local cache.

A hub id is looked up in the local Hugging Face cache only, with no network call, when HF_HUB_OFFLINE is set or
the hub does not answer a quick probe; a model found in neither place fails at once with one message that says
why, names the model folders searched and what they hold, instead of the hub being retried for a minute.
huggingface_hub is imported only when a hub id is looked up.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

from nodeflow import Folders, InFolder
from nodeflow.folders import ModelSource

PROBE_SECONDS = 1.5  # the hub answers a HEAD request within this, or counts as unreachable
_MODEL_FOLDERS = InFolder("models")
_LISTED_IN_MESSAGE = 10


class ModelNotFound(LookupError):
    """A model that is neither in the model folders nor to be had from the hub or its local cache."""


def locate(folders: Folders, model: str, subfolder: str = "", input_name: str = "model") -> ModelSource:
    """Where to load `model` and its `subfolder` from: a model folder as `Folders.model_source` finds it; a hub
    id as it is when the hub answers, else its snapshot in the local cache. Raises ModelNotFound otherwise."""
    source = folders.model_source(model, subfolder, input_name)
    if source.path is not None:
        return source
    _require_hub_id(folders, model, input_name)
    offline = _why_offline()
    if offline is None:
        return source
    snapshot = _cached_snapshot(model)
    if snapshot is None:
        from huggingface_hub import constants

        why = f"{offline}, and it is not in the local Hugging Face cache ({constants.HF_HUB_CACHE})"
        raise ModelNotFound(_not_found(folders, model, input_name, f"and cannot be downloaded: {why}"))
    return ModelSource(str(snapshot), subfolder, snapshot / subfolder if subfolder else snapshot)


def check_model(folders: Folders, value: str, input_name: str) -> None:
    """The deep check of a model input (`nodeflow validate --deep`): raises ModelNotFound where a loader would
    fail to find `value`, and, online, for a hub id the hub does not know."""
    source = locate(folders, value, input_name=input_name)
    if source.path is None:
        from huggingface_hub import HfApi, constants

        if not HfApi(endpoint=constants.ENDPOINT).repo_exists(value):
            raise ModelNotFound(_not_found(folders, value, input_name, f"nor on the hub ({constants.ENDPOINT}); if "
                                           "it is a private repository, log in with `hf auth login`"))


def _require_hub_id(folders: Folders, model: str, input_name: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        raise ModelNotFound(_not_found(folders, model, input_name, "nor a hub id (org/name)")) from None


def _why_offline() -> str | None:
    """Why the hub cannot be asked (HF_HUB_OFFLINE, read as huggingface_hub reads it, or no answer), or None."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    if not _hub_answers(constants.ENDPOINT):
        return f"there is no network ({constants.ENDPOINT} cannot be reached)"
    return None


def _hub_answers(endpoint: str) -> bool:
    """Whether `endpoint` answers a HEAD request (any status) within PROBE_SECONDS.

    It goes through huggingface_hub's own session, so that its proxy settings apply, in a daemon thread: looking
    up the host name can block past any timeout given to the request, and the thread is left to end on its own.
    """
    from huggingface_hub.utils import get_session

    answer: Future[bool] = Future()

    def probe() -> None:
        try:
            get_session().head(endpoint, timeout=PROBE_SECONDS)
        except Exception:  # any failure (name lookup, refused, TLS, timeout, bad URL) means no answer
            answer.set_result(False)
        else:
            answer.set_result(True)

    threading.Thread(target=probe, name="hub-probe", daemon=True).start()
    try:
        return answer.result(PROBE_SECONDS)
    except TimeoutError:
        return False


def _cached_snapshot(model: str) -> Path | None:
    """The folder of `model`'s cached snapshot (main revision), read with no network call, or None."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except LocalEntryNotFoundError:
        return None


def _not_found(folders: Folders, model: str, input_name: str, why: str) -> str:
    """One line: what was searched and why it failed, what the model folders hold, and what to do."""
    searched = ", ".join(str(root.absolute()) for root in folders.models)
    found = folders.listing(_MODEL_FOLDERS)
    if found:
        shown = ", ".join(found[:_LISTED_IN_MESSAGE])
        if len(found) > _LISTED_IN_MESSAGE:
            shown += f", … ({len(found) - _LISTED_IN_MESSAGE} more)"
        advice = (f"models there: {shown}; pick one with --param model=NAME, add a model folder with --models-dir, "
                  "or run `nodeflow demo` to build the tiny demo models into ./models")
    else:
        advice = ("no models there; run `nodeflow demo` to build the tiny demo models into ./models (then pick one "
                  "with --param model=NAME), or add a model folder with --models-dir")
    return f"input {input_name!r}: {model!r} is not in the model folders ({searched}) {why}; {advice}"
