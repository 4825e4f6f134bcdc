"""A Dask worker plugin that kills its worker process when a PDIP kernel task starts (tests).

Imported by the worker processes of a LocalCluster (they inherit the test's ``sys.path``).
"""

from __future__ import annotations

import os
from pathlib import Path

from distributed import WorkerPlugin


class DieOnKernel(WorkerPlugin):
    """``os._exit(1)`` as a kernel task starts executing: every time, or once when ``once`` names
    a file (created by the first death, so the retry on a restarted worker goes through)."""

    def __init__(self, once: str | None = None):
        self.once = once

    def transition(self, key, start, finish, **kwargs):
        name = str(key[0] if isinstance(key, tuple) else key)
        if finish != "executing" or "pair_partition" not in name:
            return
        if self.once is not None:
            if Path(self.once).exists():
                return
            Path(self.once).write_text("died once\n")
        os._exit(1)
