"""Memory budgets of a worker: the model service's VRAM and RAM, and the output cache's bytes.

Defaults, chosen for a machine that runs nodeflow and little else:

- VRAM: the device's total memory less a reserve of 10% (at least 1 GiB). The
  budget counts model weights only; the reserve holds what runs beside them (the
  CUDA context, activations, attention maps, the VAE's decode of a big image).
- RAM: half the system memory. The other half holds the process itself (torch,
  the output cache), the OS's page cache of the weight files being read, and a
  loader's second copy of a model while it loads.
- Output cache: 2 GiB. It holds latents, conditionings and images, never models.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from .device import memory_stats

GiB = 2**30
DEFAULT_CACHE_BYTES = 2 * GiB
VRAM_RESERVE_SHARE, VRAM_RESERVE_MIN = 0.10, 1 * GiB
RAM_SHARE = 0.5

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")


def parse_size(text: str, flag: str) -> int:
    """Bytes of a size like `6GB`, `512MB`, `1.5GiB` or `1000000` (decimal units KB/MB/GB, binary KiB/MiB/GiB;
    a bare K/M/G is binary); `flag` names what was given, for the error."""
    match = _SIZE.fullmatch(text)
    unit = match and _UNITS.get(match.group(2).lower())
    if not match or unit is None:
        raise ValueError(f"{flag} needs a size like 6GB, 512MB or 1.5GiB, got {text!r}")
    size = int(float(match.group(1)) * unit)
    if size < 1:
        raise ValueError(f"{flag} must be more than 0 bytes, got {text!r}")
    return size


@dataclass(frozen=True)
class Budgets:
    """What a worker may hold: `vram` and `ram` bytes of models (None: the default for the machine, see the
    module's docstring) and `cache` bytes of node outputs."""

    vram: int | None = None
    ram: int | None = None
    cache: int = DEFAULT_CACHE_BYTES

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Budgets:
        """The budgets of the `--vram-budget`, `--ram-budget` and `--cache-mb` flags of `run` and `serve`."""
        return cls(vram=args.vram_budget, ram=args.ram_budget, cache=args.cache_mb * 2**20)

    def vram_for(self, device: str) -> int | None:
        """The VRAM budget on `device`; None on a CPU (models there count against the RAM budget)."""
        if not device.startswith("cuda"):
            return None
        if self.vram is not None:
            return self.vram
        total = memory_stats(device)["total"]
        return total - max(VRAM_RESERVE_MIN, int(total * VRAM_RESERVE_SHARE))

    def ram_bytes(self) -> int | None:
        """The RAM budget; None when the system's memory cannot be read (no budget then)."""
        if self.ram is not None:
            return self.ram
        total = memory_stats("cpu").get("total")
        return int(total * RAM_SHARE) if total else None
