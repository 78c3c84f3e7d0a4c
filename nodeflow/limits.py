"""What one prompt may ask for, checked when it is validated, before anything runs.

A server takes prompts from anyone who can reach it: the node cap bounds the
work validation does, the pixel budget the memory that a run can ask for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_nodes: int = 5000
    # width × height × batch summed over the nodes that declare the pixels they make (`@node(pixels=...)`)
    max_pixels: int = 4096 * 4096

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = Limits()
# Runs of a queued prompt that ended with its server down (killed, out of memory) before it is marked failed.
MAX_ATTEMPTS = 3
# Seconds the first prompt in the queue waits at most while workers take prompts whose models they hold.
AFFINITY_WAIT_SECONDS = 15.0
