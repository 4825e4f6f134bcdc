"""Training throughput: the full input pipeline + step vs the same step on preloaded tensors.

CPU (default): the default TrainConfig (smallcnn, ``synthetic`` preset, 64 pairs per step) on
the default synthetic data, ``--threads`` torch threads; prints pairs/s both ways and their
ratio (target >= 0.8). Pipeline = PairBatchSampler -> PairBatches (decode with images.open_rgb,
flip, uint8) -> DataLoader -> normalise -> forward/backward/Adam. Preloaded = the same batches
decoded beforehand and kept in memory. The pipeline runs ``--rounds`` times over the same
batches: ``cold`` decodes every image; with ``--cache-mib`` > 0 the later passes (``warm``)
take the pixels from PairBatches' decoded-image cache (0: no cache, every pass decodes).
Each pipeline step is followed by the same step of a second model on the preloaded batch, so
both sides see the same machine load (on a shared machine, timing them one after the other
measured ratios anywhere from 0.2 to 1.0); each pass reports its own ratio.

GPU (``--gpu``): ResNet-50 at 224 px, bf16 autocast, channels_last, Adam; training images/s
on synthetic tensors already on the device (target >= 2,500 on one H200), plus the full
pipeline with ``--workers`` DataLoader workers on the ``paper`` preset when ``--pairs`` data
exist.

    python benchmarks/train_throughput.py [--steps 30 --threads 2 --workers 0 --cache-mib 0]
    python benchmarks/train_throughput.py --gpu [--steps 50 --batch-pairs 64 --compile]

The figures are printed and written with the command and the machine to
``results/benchmarks/train_throughput.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader

from i2pa_core.model.losses import get_loss
from i2pa_core.model.presets import make_transform
from i2pa_core.train.loop import initial_model, make_optimizer, pick_device, train_step
from i2pa_core.train.config import TrainConfig
from i2pa_core.train.data import PairBatchSampler, PairBatches, pair_set

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import BenchmarkRecord  # noqa: E402


def _timed(batches, model, optimizer, loss_fn, device, amp, normalize, warmup=3) -> float:
    """Seconds per step after ``warmup`` steps (CUDA synchronised)."""
    start, steps = None, 0
    for i, batch in enumerate(batches):
        if i == warmup:
            _sync(device)
            start = time.perf_counter()
        train_step(model, batch, optimizer, loss_fn, device, amp, normalize)
        steps += i >= warmup
    _sync(device)
    return (time.perf_counter() - start) / steps


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _interleaved(loader, preloaded, pipe_run, pre_run, device, warmup=3) -> tuple[float, float]:
    """Seconds per step (pipeline incl. fetching the batch, preloaded) after ``warmup`` steps;
    ``*_run(batch)`` is one training step of that side's own model."""
    pipe = pre = 0.0
    batches = iter(loader)
    for i, ready in enumerate(preloaded):
        _sync(device)
        start = time.perf_counter()
        pipe_run(next(batches))
        _sync(device)
        middle = time.perf_counter()
        pre_run(ready)
        _sync(device)
        if i >= warmup:
            pipe, pre = pipe + middle - start, pre + time.perf_counter() - middle
    steps = len(preloaded) - warmup
    return pipe / steps, pre / steps


def pipeline_vs_preloaded(cfg: TrainConfig, steps: int, pairs_path, posts_path, root,
                          cache_mib: int = 0, rounds: int = 2) -> list[tuple[float, float]]:
    """(pipeline, preloaded) seconds per step of each of ``rounds`` passes; the first is cold,
    the later ones read PairBatches' decoded-image cache when ``cache_mib`` > 0."""
    pairs = pd.read_parquet(pairs_path)
    posts = pd.read_parquet(posts_path, columns=["post_id", "image"])
    train = pair_set(pairs, posts, root, "train")
    device = pick_device(cfg.device)
    transform = make_transform(cfg.preset, train=True)
    dataset = PairBatches(train, transform, seed=0, cache_bytes=cache_mib << 20)
    sampler = PairBatchSampler(len(train), cfg.batch_pairs, seed=0, budget=cfg.batch_pairs * steps)
    loader = DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=cfg.num_workers,
                        pin_memory=device.type == "cuda",
                        persistent_workers=cfg.num_workers > 0)  # workers keep their cache
    amp, loss_fn = cfg.amp and device.type == "cuda", get_loss(cfg.loss)
    preloaded = [PairBatches(train, transform, seed=0)[item] for item in sampler]

    def runner():
        model = initial_model(cfg, 0).to(device, memory_format=torch.channels_last)
        optimizer, _ = make_optimizer(model, cfg)
        return lambda batch: train_step(model, batch, optimizer, loss_fn, device, amp,
                                        transform.normalize_batch)

    pipe_run, pre_run = runner(), runner()
    passes = [_interleaved(loader, preloaded, pipe_run, pre_run, device) for _ in range(rounds)]
    return passes, dataset.cached_bytes / 2**20


def gpu_synthetic(steps: int, batch_pairs: int, compile_: bool) -> float:
    """ResNet-50, 224 px, bf16: training images/s on device-resident uint8 batches."""
    cfg = TrainConfig(backbone="resnet50", preset="paper", device="cuda", lr=1e-5, lr_head=1e-4,
                      compile=compile_)
    device = pick_device("cuda")
    model = initial_model(cfg, 0).to(device, memory_format=torch.channels_last)
    optimizer, _ = make_optimizer(model, cfg)
    runner = torch.compile(model) if compile_ else model
    gen = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (2 * batch_pairs, 3, 224, 224), dtype=torch.uint8,
                           device=device, generator=gen)
    index = torch.arange(batch_pairs, device=device)
    batch = {"images": images, "first": index, "second": index + batch_pairs,
             "target": (torch.rand(batch_pairs, device=device, generator=gen) < 0.5).float()}
    normalize = make_transform("paper", train=True).normalize_batch
    seconds = _timed([batch] * (steps + 5), runner, optimizer, get_loss("bce"), device, True,
                     normalize, warmup=5)
    return 2 * batch_pairs / seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch-pairs", type=int, default=64)
    parser.add_argument("--cache-mib", type=int, default=0,
                        help="PairBatches decoded-image cache budget in MiB (0: off)")
    parser.add_argument("--rounds", type=int, default=2, help="pipeline passes (>= 1)")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--pairs", default="data/pairs/pairs.parquet")
    parser.add_argument("--posts", default="data/simulate/posts.parquet")
    parser.add_argument("--image-root", default="data/render")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/train_throughput.json)")
    args = parser.parse_args(argv)
    record = BenchmarkRecord.start("train_throughput", __file__, argv)
    torch.set_num_threads(args.threads)
    if args.gpu:
        if not torch.cuda.is_available():
            raise SystemExit("--gpu: no CUDA device here")
        rate = gpu_synthetic(args.steps, args.batch_pairs, args.compile)
        print(f"GPU {torch.cuda.get_device_name()}: ResNet-50 224 px bf16 training "
              f"{rate:,.0f} images/s (batch {2 * args.batch_pairs} images; target >= 2,500)")
        record.write({"device": "cuda", "gpu": torch.cuda.get_device_name(),
                      "backbone": "resnet50", "preset": "paper", "image_px": 224,
                      "batch_images": 2 * args.batch_pairs, "steps": args.steps,
                      "compile": args.compile, "images_per_s": round(rate, 1)}, args.out)
        return
    cfg = TrainConfig(num_workers=args.workers, batch_pairs=args.batch_pairs, device="cpu")
    passes, cached_mib = pipeline_vs_preloaded(cfg, args.steps, args.pairs, args.posts,
                                               args.image_root, args.cache_mib, args.rounds)
    print(f"CPU, {args.threads} threads, {args.workers} workers, {cfg.backbone}/{cfg.preset}, "
          f"{cfg.batch_pairs} pairs/step, {args.steps} steps, cache {args.cache_mib} MiB "
          f"({cached_mib:.0f} MiB used)")
    figures = {"device": "cpu", "torch_threads": args.threads, "workers": args.workers,
               "backbone": cfg.backbone, "preset": cfg.preset, "batch_pairs": cfg.batch_pairs,
               "steps": args.steps, "cache_mib": args.cache_mib,
               "cache_used_mib": round(cached_mib, 1), "passes": []}
    for k, (pipe, pre) in enumerate(passes):
        name = "cold (decoding)" if k == 0 else \
            "warm (cached)" if args.cache_mib else "again (decoding)"
        print(f"pass {k + 1}, {name}: pipeline {cfg.batch_pairs / pipe:,.1f} pairs/s "
              f"({pipe * 1e3:.0f} ms/step), preloaded {cfg.batch_pairs / pre:,.1f} pairs/s "
              f"({pre * 1e3:.0f} ms/step); ratio {pre / pipe:.3f} (target >= 0.8)")
        figures["passes"].append({
            "pass": k + 1, "kind": name, "pipeline_pairs_per_s": round(cfg.batch_pairs / pipe, 2),
            "pipeline_ms_per_step": round(pipe * 1e3, 1),
            "preloaded_pairs_per_s": round(cfg.batch_pairs / pre, 2),
            "preloaded_ms_per_step": round(pre * 1e3, 1),
            "pipeline_over_preloaded_rate": round(pre / pipe, 3)})
    record.write(figures, args.out)


if __name__ == "__main__":
    main()
