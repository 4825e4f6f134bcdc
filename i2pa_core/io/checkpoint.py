"""Training checkpoints that never lose work: atomic, tensors and plain types only.

A checkpoint is a dict ``{"model", "meta", "optimizer", "scheduler", "epoch", "history", "best",
"rng"}`` written to a temporary file and renamed over the target
(:func:`i2pa_core.io.files.atomic_path`), so an interruption at any moment leaves the previous
complete file. Everything in it loads with ``torch.load(..., weights_only=True)``: state_dicts,
numbers, strings, lists and dicts.

``rng`` holds torch's CPU generator state (a uint8 tensor) and the run seed. All the run's
randomness (pair order, label swaps, crops, dropout) is derived from (seed, epoch, batch), so
the seed and the epoch are what a resumed run needs; the generator state is kept for reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from i2pa_core.io.files import atomic_path


class CheckpointError(ValueError):
    """A weights file that is missing, unsafe (carries code) or does not fit the model."""


def checkpoint_state(model, optimizer, scheduler, epoch: int, meta: dict, history: dict,
                     best: dict, seed: int) -> dict:
    """The dict saved after ``epoch`` (0-based, completed)."""
    return {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": dict(meta),
        "optimizer": optimizer.state_dict() if optimizer is not None else {},
        "scheduler": scheduler.state_dict() if scheduler is not None else {},
        "epoch": int(epoch),
        "history": {k: list(v) for k, v in history.items()},
        "best": dict(best),
        "rng": {"torch_cpu": torch.get_rng_state(), "seed": int(seed)},
    }


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, then rename)."""
    with atomic_path(path, suffix=".tmp") as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a training checkpoint with ``weights_only=True``; CheckpointError names the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{path}: cannot be loaded safely (weights_only=True): {first}") \
            from None
    needed = {"model", "meta", "optimizer", "scheduler", "epoch", "history", "best"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise CheckpointError(f"{path}: not a training checkpoint "
                              f"(needs {', '.join(sorted(needed))})")
    return state
