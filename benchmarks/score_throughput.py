"""Scoring throughput and memory: batched ``iter_scores`` vs the authors' way, and peak RSS vs N.

1. Throughput (ResNet-50, ``official`` preset, authors'-format weights with random values):
   images/s of the batched path on a folder of photos vs the authors' released way, one
   ``python -c`` process per image that imports torch, builds resnet50, loads the state_dict
   and scores one image. Target: at least 20x.
2. Memory: peak RSS of the batched path (a fresh process per size, output consumed and
   discarded like ``i2pa score --format csv > file``) on folders of 1,000 / 10,000 / 100,000
   tiny 32 px JPEGs (sharded 1,000 per sub-folder). ``--memory-backbone resnet50`` uses the
   same model as (1); the default ``tinycnn`` runs the same streaming path (official preset,
   224 px tensors) with a cheap network so that 10^5 images fit in minutes on a CPU.

Every run uses ``--threads`` intra-op threads (default 1, like the other benchmarks). The
figures are printed and written with the command and the machine to
``results/benchmarks/score_throughput.json`` (``--out``).

    .venv/bin/python benchmarks/score_throughput.py                      # defaults below
    .venv/bin/python benchmarks/score_throughput.py --photos 64 --authors 10 \\
        --memory 1000 10000 100000 --memory-backbone tinycnn
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

AUTHORS_SCRIPT = """
import sys, torch, torchvision
from PIL import Image
from torchvision import transforms
torch.set_num_threads(int(sys.argv[3]))
model = torchvision.models.resnet50()
model.fc = torch.nn.Linear(2048, 1)
model.load_state_dict(torch.load(sys.argv[1], map_location='cpu', weights_only=True))
model.eval()
image = Image.open(sys.argv[2]).convert('RGB')
x = transforms.Compose([transforms.Resize([224, 224]), transforms.ToTensor()])(image)
with torch.no_grad():
    print(model(x.unsqueeze(0)).item())
"""


def make_weights(folder: Path, backbone: str) -> Path:
    """Random weights: the authors' plain resnet50 state_dict, or our checkpoint format."""
    import torch
    import torchvision

    torch.manual_seed(0)
    path = folder / f"{backbone}.pt"
    if backbone == "resnet50":
        net = torchvision.models.resnet50()
        net.fc = torch.nn.Linear(2048, 1)
        torch.save(net.state_dict(), path)
    else:
        from i2pa_core.model.scorer import build_scorer

        torch.save({"model": build_scorer(backbone).state_dict(),
                    "meta": {"backbone": backbone, "preset": "official"}}, path)
    return path


def make_images(folder: Path, n: int, size: int) -> Path:
    """``n`` JPEGs of ``size`` px (smooth random colour fields), 1,000 per sub-folder."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        shard = folder / f"{i // 1000:04d}"
        if i % 1000 == 0:
            shard.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(small).resize((size, size), Image.BILINEAR).save(
            shard / f"{i:07d}.jpg", quality=90)
    return folder


def child(args) -> None:
    """Score a folder with the batched path; print seconds, count and peak RSS as JSON."""
    import resource

    import torch

    from i2pa_core.io.images import iter_image_files
    from i2pa_core.model.scorer import load_scorer
    from i2pa_core.evaluate.scoring import iter_scores

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model, _ = load_scorer(args.weights)
    scored = 0
    for row in iter_scores(iter_image_files([args.folder]), model, "official", args.batch):
        scored += not row.error
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    print(json.dumps({"seconds": seconds, "scored": scored, "peak_rss_mib": rss}))


def run_child(weights: Path, folder: Path, args) -> dict:
    command = [sys.executable, __file__, "--child", "--weights", str(weights), "--folder",
               str(folder), "--batch", str(args.batch), "--threads", str(args.threads)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def authors_way(weights: Path, folder: Path, n: int, threads: int) -> float:
    """Seconds to score ``n`` images with one fresh process per image."""
    paths = sorted(folder.rglob("*.jpg"))[:n]
    start = time.perf_counter()
    for path in paths:
        subprocess.run([sys.executable, "-c", AUTHORS_SCRIPT, str(weights), str(path),
                        str(threads)], check=True, capture_output=True)
    return time.perf_counter() - start


def bench_throughput(tmp: Path, args) -> dict:
    weights = make_weights(tmp, "resnet50")
    photos = make_images(tmp / "photos", args.photos, 256)
    batched = run_child(weights, photos, args)
    rate = batched["scored"] / batched["seconds"]
    seconds = authors_way(weights, photos, args.authors, args.threads)
    authors_rate = args.authors / seconds
    print(f"batched (resnet50, official, batch {args.batch}): {batched['scored']} images in "
          f"{batched['seconds']:.1f} s = {rate:.2f} images/s (incl. loading the weights once), "
          f"peak RSS {batched['peak_rss_mib']:.0f} MiB")
    print(f"authors' way (one process per image): {args.authors} images in {seconds:.1f} s = "
          f"{authors_rate:.3f} images/s")
    print(f"speed-up: {rate / authors_rate:.1f}x (target >= 20x)")
    return {"backbone": "resnet50", "preset": "official", "batch": args.batch,
            "photo_px": 256, "batched_images": batched["scored"],
            "batched_seconds": round(batched["seconds"], 2),
            "batched_images_per_s": round(rate, 3),
            "batched_peak_rss_mib": round(batched["peak_rss_mib"], 1),
            "authors_images": args.authors, "authors_seconds": round(seconds, 2),
            "authors_images_per_s": round(authors_rate, 4),
            "speedup_batched_over_authors": round(rate / authors_rate, 2)}


def bench_memory(tmp: Path, args) -> list[dict]:
    weights = make_weights(tmp, args.memory_backbone)
    rows = []
    for n in args.memory:
        folder = make_images(tmp / f"tiny{n}", n, 32)
        result = run_child(weights, folder, args)
        print(f"memory ({args.memory_backbone}, official, 32 px JPEGs): {n:,} images scored "
              f"{result['scored']:,} in {result['seconds']:.1f} s "
              f"({result['scored'] / result['seconds']:.0f} images/s), "
              f"peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
        rows.append({"backbone": args.memory_backbone, "preset": "official", "image_px": 32,
                     "images": n, "scored": result["scored"],
                     "seconds": round(result["seconds"], 2),
                     "images_per_s": round(result["scored"] / result["seconds"], 1),
                     "peak_rss_mib": round(result["peak_rss_mib"], 1)})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=64, help="photos for the batched rate")
    parser.add_argument("--authors", type=int, default=10, help="photos for the authors' way")
    parser.add_argument("--memory", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--memory-backbone", default="tinycnn", help="tinycnn or resnet50")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/score_throughput.json)")
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    from _record import BenchmarkRecord

    record = BenchmarkRecord.start("score_throughput", __file__, argv)
    figures = {"torch_threads": args.threads}
    with tempfile.TemporaryDirectory(prefix="i2pa-score-bench-") as tmp:
        if args.photos:
            figures["throughput"] = bench_throughput(Path(tmp), args)
        if args.memory:
            figures["memory"] = bench_memory(Path(tmp), args)
    record.write(figures, args.out)


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    main()
