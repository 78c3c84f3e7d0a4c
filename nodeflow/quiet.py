"""Keeps the warnings of diffusers, transformers, huggingface_hub, peft and accelerate out of the command's output.

Their warnings (`warnings.warn` from their modules) and their `logging` warnings
are hidden for as long as the block runs; so are their progress bars ("Loading
weights") when stderr is not a terminal, as the CLI's own are. `-v` leaves them
alone. Nothing here imports those libraries: their loggers are configured by
name, and the variables they read when they set up their logging say the same
for a library imported later.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator

# Logger name → the environment variable the library reads for its log level when it sets up its logging.
LIBRARY_VERBOSITY = {"diffusers": "DIFFUSERS_VERBOSITY", "transformers": "TRANSFORMERS_VERBOSITY",
                     "huggingface_hub": "HF_HUB_VERBOSITY"}
LIBRARY_MODULES = r"(diffusers|transformers|huggingface_hub|accelerate|peft)(\.|$)"
QUIETED_CATEGORIES = (FutureWarning, DeprecationWarning, UserWarning)
NO_PROGRESS_BARS = "HF_HUB_DISABLE_PROGRESS_BARS"  # read by huggingface_hub, and through it by transformers


@contextmanager
def quiet_libraries(verbose: bool = False) -> Iterator[None]:
    """Hide the libraries' warnings (and, off a terminal, their progress bars) while the block runs, unless
    `verbose`; what the user set in the environment (e.g. TRANSFORMERS_VERBOSITY=info) is kept."""
    if verbose:
        yield
        return
    loggers = [name for name, variable in LIBRARY_VERBOSITY.items() if variable not in os.environ]
    levels = {name: logging.getLogger(name).level for name in loggers}
    settings = {LIBRARY_VERBOSITY[name]: "error" for name in loggers}
    if not sys.stderr.isatty() and NO_PROGRESS_BARS not in os.environ:
        settings[NO_PROGRESS_BARS] = "1"
    with warnings.catch_warnings():
        for category in QUIETED_CATEGORIES:
            warnings.filterwarnings("ignore", category=category, module=LIBRARY_MODULES)
        os.environ.update(settings)
        for name in loggers:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for variable in settings:
                os.environ.pop(variable, None)
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
