"""Device facts; the only place the engine touches torch, and only when asked."""

from __future__ import annotations


def resolve_device(device: str = "auto") -> str:
    """'auto' → 'cuda' when torch sees a GPU, else 'cpu'; other names pass through."""
    if device != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def memory_stats(device: str) -> dict[str, int]:
    """Total and free bytes of the device (GPU via torch, CPU via the OS), where known."""
    if device.startswith("cuda"):
        import torch

        free, total = torch.cuda.mem_get_info(torch.device(device))
        return {"total": int(total), "free": int(free)}
    import os

    try:
        pages, free_pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return {}
    return {"total": pages * size, "free": free_pages * size}
