"""Training the Siamese scorer as in the paper (Sec. 3.2, 4.1).

O_AB = f(A) - f(B) with one shared network f (:mod:`i2pa_core.model.scorer`), loss on O
(:mod:`i2pa_core.model.losses`, Eq. 7-9 by default), Adam with L2 ``weight_decay``, two learning
rates (pretrained layers / new head), x``lr_decay`` per epoch (ExponentialLR), validation accuracy
after every epoch, the best epoch's weights kept. Checkpoints after every epoch (atomic,
weights_only-loadable, :mod:`i2pa_core.io.checkpoint`); ``resume=True`` continues from ``last.pt``;
Ctrl-C writes ``interrupted.pt`` (current weights) and leaves ``last.pt`` intact. Several processes
(torchrun, :mod:`i2pa_core.train.ddp`) share each batch through DistributedDataParallel; rank 0
validates, logs and writes. Batch norm uses each process's share of the batch (plain DDP, no
SyncBatchNorm), as in the usual ImageNet recipes.

Entry: :func:`train_model` (pure inputs: config, frames, paths, seed; it writes only under
``out_dir``).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from i2pa_core.io.checkpoint import checkpoint_state, load_checkpoint, save_checkpoint
from i2pa_core.model.inference import pair_logit
from i2pa_core.model.losses import get_loss
from i2pa_core.model.scorer import Scorer, build_scorer
from i2pa_core.config import NoPairsError
from i2pa_core.model.presets import make_transform
from i2pa_core.train.config import TrainConfig
from i2pa_core.train.data import PairBatchSampler, PairBatches, first_pairs, noise_flips, pair_set
from i2pa_core.train.validation import pair_accuracy
from i2pa_core.train.runtime import LiveLog, barrier, mean_over_ranks, progress_bar, wrap_model

HISTORY_COLUMNS = ("epoch", "train_loss", "val_accuracy", "lr", "pairs_per_s", "seconds")


@dataclass(frozen=True)
class Dist:
    """This process's place in a (torchrun) group; the default is a single process."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_model` returns; the best model is in eval mode on the CPU."""

    best_checkpoint_path: Path
    last_checkpoint_path: Path
    history: pd.DataFrame       # HISTORY_COLUMNS, one row per epoch
    best_epoch: int             # 0-based
    best_val_accuracy: float
    seconds: float              # wall time of this call
    model: Scorer


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto``: CUDA > MPS > CPU; an unavailable explicit choice is an error."""
    if name == "auto":
        name = ("cuda" if torch.cuda.is_available()
                else "mps" if torch.backends.mps.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is cuda but no CUDA device is available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("train.device is mps but MPS is not available")
    return torch.device(f"cuda:{local_rank}") if name == "cuda" else torch.device(name)


def make_optimizer(model: Scorer, cfg: TrainConfig):
    """Adam with L2 penalty: body at ``lr``, head at ``lr_head`` (default ``lr``); ExponentialLR."""
    body, head = model.param_groups()
    groups = [{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.lr_head or cfg.lr}]
    optimizer = torch.optim.Adam(groups, weight_decay=cfg.weight_decay)
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)


def initial_model(cfg: TrainConfig, seed: int) -> Scorer:
    """f with its random layers drawn from ``seed`` (scoped: the global RNG is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_scorer(cfg.backbone, cfg.pretrained)


def train_step(model, batch: dict, optimizer, loss_fn, device: torch.device, amp: bool,
               normalize) -> torch.Tensor:
    """One optimiser step on a batch of pairs; returns the mean loss (detached).

    ``normalize`` maps the uint8 images (U, 3, H, W) to the float input (Transform.normalize_batch).
    """
    images = normalize(batch["images"].to(device, non_blocking=True))  # (U, 3, H, W) float
    images = images.contiguous(memory_format=torch.channels_last)
    first = batch["first"].to(device, non_blocking=True)
    second = batch["second"].to(device, non_blocking=True)
    target = batch["target"].to(device, non_blocking=True)
    with torch.autocast(device.type, torch.bfloat16, enabled=amp and device.type == "cuda"):
        scores = model(images).float()          # (U, 3, H, W) -> (U,): each image once
        o = pair_logit(scores.__getitem__, first, second)  # (B,) O_AB = f(A) - f(B)
        loss = loss_fn(o, target).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_epoch(model, loader, optimizer, loss_fn, device, amp: bool, seed: int, epoch: int,
                bar=None, normalize=None) -> tuple[float, int]:
    """One pass over the loader; returns (mean loss, pairs seen by this process)."""
    model.train()
    total, pairs = torch.zeros((), device=device), 0
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # dropout draws from (seed, epoch)
        torch.manual_seed(int(np.random.SeedSequence([seed, epoch, 0xD0]).generate_state(1)[0]))
        for batch in loader:
            n = len(batch["target"])
            total += train_step(model, batch, optimizer, loss_fn, device, amp, normalize) * n
            pairs += n
            if bar is not None:
                bar.update(n * bar.world)
    return float(total) / max(pairs, 1), pairs


def _loader(dataset, sampler, cfg: TrainConfig, device: torch.device) -> DataLoader:
    return DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=cfg.num_workers,
                      pin_memory=device.type == "cuda",
                      persistent_workers=cfg.num_workers > 0 and cfg.cache_mib > 0,
                      prefetch_factor=4 if cfg.num_workers else None)


def _meta(cfg: TrainConfig, seed: int) -> dict:
    return {"backbone": cfg.backbone, "preset": cfg.preset, "loss": cfg.loss, "seed": int(seed),
            "config": {k: v for k, v in asdict(cfg).items()}}


@dataclass
class _Run:
    """The state of one training run between epochs (mutable by design)."""

    model: Scorer
    runner: torch.nn.Module          # model, DDP-wrapped and/or compiled
    optimizer: torch.optim.Optimizer
    scheduler: object
    sampler: PairBatchSampler
    loader: DataLoader
    normalize: object                # Transform.normalize_batch
    val_set: object
    device: torch.device
    history: dict = field(default_factory=lambda: {c: [] for c in HISTORY_COLUMNS})
    best: dict = field(default_factory=lambda: {"epoch": -1, "accuracy": -1.0})
    first_epoch: int = 0


def train_model(cfg: TrainConfig, pairs: pd.DataFrame, posts: pd.DataFrame,
                image_root: str | os.PathLike, out_dir: str | os.PathLike, seed: int,
                progress: bool = True, resume: bool = False, live: bool = True,
                dist: Dist = Dist()) -> TrainResult:
    """Train on the ``train`` split, validate on ``val`` every epoch, keep the best epoch.

    Args:
        cfg: the ``train`` params section.
        pairs: PDIP table (a_post_id the more popular, split in train/val/test).
        posts: posts table with ``post_id`` and ``image`` (relative to ``image_root``).
        out_dir: receives ``last.pt``, ``best.pt`` (and ``interrupted.pt`` on Ctrl-C) and, with
            ``live``, dvclive logs in ``out_dir/dvclive``.
        seed: the run seed (``base.seed``).
        resume: continue from ``out_dir/last.pt`` when it exists.
        dist: rank and world size under torchrun (see :mod:`i2pa_core.train.ddp`).
    """
    start_time, out_dir = time.perf_counter(), Path(out_dir)
    run = _prepare(cfg, pairs, posts, image_root, out_dir, seed, resume, dist)
    logger = LiveLog(out_dir / "dvclive", resume) if live and dist.rank == 0 else None
    try:
        for epoch in range(run.first_epoch, cfg.epochs):
            row = _run_epoch(run, cfg, seed, epoch, progress, dist)
            if dist.rank == 0:
                _record(run, row, cfg, seed, out_dir)
                if logger:
                    logger.epoch(row)
            barrier(dist)
    except KeyboardInterrupt:
        if dist.rank == 0:
            meta = {**_meta(cfg, seed), "interrupted": True}
            save_checkpoint(out_dir / "interrupted.pt", checkpoint_state(
                run.model, None, None, -1, meta, run.history, run.best, seed))
        raise
    finally:
        if logger:
            logger.close(run.best)
    return _result(out_dir, run.history, run.best, start_time, cfg, seed)


def _prepare(cfg, pairs, posts, image_root, out_dir: Path, seed, resume, dist: Dist) -> _Run:
    """Data, model, optimiser, scheduler and loader of a run; restores ``last.pt`` on resume."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device, dist.local_rank)
    for split in ("train", "val"):
        if not (pairs["split"] == split).any():
            raise NoPairsError(f"no {split} pairs to train on ({len(pairs):,} PDIPs in all); "
                               "relax pairs.rules or lower pairs.rules.val_size / test_size")
    train_set = pair_set(pairs, posts, image_root, "train")
    val_set = pair_set(pairs, posts, image_root, "val")
    if cfg.max_val_pairs:
        val_set = first_pairs(val_set, cfg.max_val_pairs)
    model = initial_model(cfg, seed).to(device, memory_format=torch.channels_last)
    optimizer, scheduler = make_optimizer(model, cfg)
    sampler = PairBatchSampler(len(train_set), cfg.batch_pairs, seed, cfg.swap_pairs,
                               cfg.max_train_pairs, dist.rank, dist.world)
    transform = make_transform(cfg.preset, train=True)
    dataset = PairBatches(train_set, transform, seed,
                          noise_flips(len(train_set), cfg.label_noise, seed),
                          cache_bytes=cfg.cache_mib * 2**20)
    run = _Run(model, None, optimizer, scheduler, sampler, _loader(dataset, sampler, cfg, device),
               transform.normalize_batch, val_set, device)
    if resume and (out_dir / "last.pt").is_file():
        state = load_checkpoint(out_dir / "last.pt")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        run.history, run.best, run.first_epoch = state["history"], state["best"], state["epoch"] + 1
    # After loading, so that DDP broadcasts the restored weights of rank 0.
    run.runner = wrap_model(model, cfg, device, dist)
    return run


def _run_epoch(run: _Run, cfg: TrainConfig, seed: int, epoch: int, progress: bool,
               dist: Dist) -> dict:
    """Train one epoch, step the scheduler, validate on rank 0; returns the history row."""
    run.sampler.set_epoch(epoch)
    tic, amp = time.perf_counter(), cfg.amp and run.device.type == "cuda"
    bar = progress_bar(run.sampler.pairs_per_epoch(), epoch, cfg, progress and dist.rank == 0,
                       dist)
    loss, n = train_epoch(run.runner, run.loader, run.optimizer, get_loss(cfg.loss), run.device,
                          amp, seed, epoch, bar, run.normalize)
    loss = mean_over_ranks(loss, n, run.device, dist)
    lr = run.scheduler.get_last_lr()[0]
    run.scheduler.step()
    seconds = time.perf_counter() - tic
    if bar is not None:
        bar.close()
    acc = float("nan")
    if dist.rank == 0:
        acc = pair_accuracy(run.model, run.val_set, cfg.preset, batch=cfg.eval_batch,
                            device=run.device, num_workers=cfg.num_workers, amp=amp)
    return dict(epoch=epoch, train_loss=loss, val_accuracy=acc, lr=lr,
                pairs_per_s=run.sampler.pairs_per_epoch() / seconds, seconds=seconds)


def _record(run: _Run, row: dict, cfg: TrainConfig, seed: int, out_dir: Path) -> None:
    """Append the row, update the best epoch, write ``last.pt`` (and ``best.pt``)."""
    for key, value in row.items():
        run.history[key].append(value)
    if row["val_accuracy"] > run.best["accuracy"]:
        run.best = {"epoch": row["epoch"], "accuracy": row["val_accuracy"]}
    _save(out_dir, run.model, run.optimizer, run.scheduler, row["epoch"], cfg, seed, run.history,
          run.best)


def _save(out_dir, model, optimizer, scheduler, epoch, cfg, seed, history, best) -> None:
    state = checkpoint_state(model, optimizer, scheduler, epoch, _meta(cfg, seed), history, best,
                             seed)
    if cfg.save_last:
        save_checkpoint(out_dir / "last.pt", state)
    if best["epoch"] == epoch:
        save_checkpoint(out_dir / "best.pt", {**state, "optimizer": {}, "scheduler": {}})


def _result(out_dir: Path, history, best, start_time, cfg, seed) -> TrainResult:
    from i2pa_core.model.scorer import load_scorer
    model, _ = load_scorer(out_dir / "best.pt") if (out_dir / "best.pt").is_file() else \
        (initial_model(cfg, seed).eval(), {})
    return TrainResult(out_dir / "best.pt", out_dir / "last.pt",
                       pd.DataFrame(history, columns=list(HISTORY_COLUMNS)), int(best["epoch"]),
                       float(best["accuracy"]), time.perf_counter() - start_time, model)
