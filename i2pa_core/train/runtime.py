"""Runtime helpers of training: process groups, wrapping, progress bar, dvclive logging."""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm.auto import tqdm


def wrap_model(model, cfg, device, dist):
    """DistributedDataParallel with several processes; torch.compile when ``cfg.compile``."""
    runner = model
    if dist.world > 1:
        ids = [device.index] if device.type == "cuda" else None
        runner = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if cfg.compile:
        runner = torch.compile(runner)
    return runner


def progress_bar(total: int, epoch: int, cfg, show: bool, dist):
    """tqdm bar over the pairs of an epoch (all processes), showing pairs/s."""
    if not show:
        return None
    bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="pair",
               unit_scale=False, leave=False, dynamic_ncols=True)
    bar.world = dist.world
    return bar


def mean_over_ranks(loss: float, n: int, device, dist) -> float:
    """Pair-weighted mean of the per-process mean losses."""
    if dist.world == 1:
        return loss
    totals = torch.tensor([loss * n, float(n)], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(totals)
    return float(totals[0] / totals[1])


def barrier(dist) -> None:
    if dist.world > 1:
        torch.distributed.barrier()


class LiveLog:
    """dvclive logging that also works inside a DVC stage (no dvc.yaml, no experiment)."""

    def __init__(self, folder: Path, resume: bool):
        from dvclive import Live
        self.live = Live(dir=str(folder), resume=resume, save_dvc_exp=False, dvcyaml=None)

    def epoch(self, row: dict) -> None:
        self.live.log_metric("train/loss", row["train_loss"])
        self.live.log_metric("val/accuracy", row["val_accuracy"])
        self.live.log_metric("train/lr", row["lr"])
        self.live.log_metric("train/pairs_per_s", row["pairs_per_s"])
        self.live.next_step()

    def close(self, best: dict) -> None:
        self.live.summary["best_epoch"] = best["epoch"]
        self.live.summary["best_val_accuracy"] = best["accuracy"]
        self.live.end()
