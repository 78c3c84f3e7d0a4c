"""Where the files shipped beside the package are: the editor (`web/`) and the workflows (`workflows/`)."""

from __future__ import annotations

import sys
from pathlib import Path


def shipped(folder: str) -> Path:
    """`web/` or `workflows/` of the checkout this runs from, else as a wheel installed them (share/nodeflow)."""
    checkout = Path(__file__).resolve().parents[1] / folder
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "nodeflow" / folder
