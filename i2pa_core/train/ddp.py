"""Command-line training, single process or several through torchrun (DistributedDataParallel).

One process (CPU, one GPU, MPS)::

    python -m i2pa_core.train.ddp --params params.yaml --out models/train

The paper's configuration (pretrained ResNet-50, ``paper`` preset) on all GPUs of one node::

    torchrun --standalone --nproc-per-node=gpu -m i2pa_core.train.ddp --profile paper \\
        --pairs data/pairs/pairs.parquet --posts data/simulate/posts.parquet \\
        --image-root data/render --out models/paper

Several nodes: ``torchrun --nnodes=N --node-rank=R --rdzv-endpoint=HOST:PORT ...`` as usual.
Each rank takes an interleaved share of every 64-pair batch (the global batch is the paper's);
rank 0 validates, logs and writes checkpoints. ``--resume`` continues from ``OUT/last.pt``.
The ``train`` section of ``--params`` (if given) overrides the profile; ``--set key=value``
overrides both (YAML values).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict

import pandas as pd
import torch
import torch.distributed as tdist
import yaml

from i2pa_core import paths
from i2pa_core.config import load_params
from i2pa_core.train.loop import Dist, TrainResult, train_model
from i2pa_core.train.config import PROFILES, for_source, train_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.train.ddp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", help="params.yaml; its `train` section and base.seed")
    parser.add_argument("--profile", default="cpu", choices=list(PROFILES))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--pairs", default=paths.PAIRS)
    parser.add_argument("--posts", default=paths.POSTS)
    parser.add_argument("--image-root", default=paths.RENDER)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, help="default: base.seed of --params, else 0")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--test", action="store_true",
                        help="after training, print the best model's test-split accuracy")
    return parser.parse_args(argv)


def config_from_args(args):
    params = load_params(args.params) if args.params else {}
    section = dict(params.get("train") or {})
    for item in args.set:
        key, _, value = item.partition("=")
        section[key] = yaml.safe_load(value)
    seed = args.seed if args.seed is not None else int((params.get("base") or {}).get("seed", 0))
    synthetic = (params.get("data") or {}).get("source", "synthetic") == "synthetic"
    return for_source(train_config(section, args.profile), synthetic), seed


def init_distributed() -> Dist:
    """Join the torchrun group when launched by torchrun (nccl on CUDA, gloo otherwise)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    tdist.init_process_group(backend)
    return Dist(tdist.get_rank(), tdist.get_world_size(), local_rank)


def run(cfg, seed: int, pairs_path, posts_path, image_root, out, resume=False, progress=True,
        dist: Dist = Dist(), live: bool = True) -> TrainResult:
    """Read the tables and train (the I/O edge around :func:`i2pa_core.train.loop.train_model`)."""
    pairs = pd.read_parquet(pairs_path)
    posts = pd.read_parquet(posts_path, columns=["post_id", "image"])
    return train_model(cfg, pairs, posts, image_root, out, seed, progress=progress,
                       resume=resume, live=live, dist=dist)


def spawned_worker(rank: int, world: int, init_method: str, kwargs: dict) -> None:
    """Target of ``torch.multiprocessing.spawn`` (CPU, gloo): used by the DDP test."""
    tdist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        train_model(**kwargs, dist=Dist(rank, world, 0))
    finally:
        tdist.destroy_process_group()


def test_report(result: TrainResult, cfg, args) -> str:
    """One line: test pairwise accuracy of the best model, 95 % half-width, scoring time."""
    import time

    from i2pa_core.train.data import pair_set
    from i2pa_core.train.validation import accuracy_half_width, pair_accuracy
    from i2pa_core.train.loop import pick_device
    tic = time.perf_counter()
    pairs = pd.read_parquet(args.pairs)
    posts = pd.read_parquet(args.posts, columns=["post_id", "image"])
    test = pair_set(pairs, posts, args.image_root, "test")
    device = pick_device(cfg.device)
    acc = pair_accuracy(result.model.to(device), test, cfg.preset, batch=cfg.eval_batch,
                        device=device, num_workers=cfg.num_workers)
    return (f"test accuracy {acc:.4f} +- {accuracy_half_width(acc, len(test)):.4f} "
            f"(n={len(test)}, scored in {time.perf_counter() - tic:.1f} s)")


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg, seed = config_from_args(args)
    dist = init_distributed()
    try:
        if dist.rank == 0:
            print(f"training {asdict(cfg)} seed={seed} world={dist.world}", flush=True)
        result = run(cfg, seed, args.pairs, args.posts, args.image_root, args.out, args.resume,
                     not args.no_progress, dist)
        if dist.rank == 0:
            print(result.history.to_string(index=False))
            print(f"best epoch {result.best_epoch + 1}: val accuracy "
                  f"{result.best_val_accuracy:.4f}; {result.best_checkpoint_path}; "
                  f"{result.seconds:.1f} s")
            if args.test:
                print(test_report(result, cfg, args), flush=True)
    finally:
        if dist.world > 1:
            tdist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
