"""Frozen-encoder baseline: feature throughput on this CPU, and the baseline on the default data.

1. ``throughput`` (default): images/s and peak RSS of
   :func:`i2pa_core.model.frozen.extract_features` (pretrained EfficientNet-Lite0, no cache) on
   ``--n`` images of the simulated platform (64 px JPEGs; real skimage photos resized to 64 px
   when ``--images`` does not exist), at each ``--sizes`` input side and each ``--threads``
   count, one fresh process per setting. Reported: wall images/s after loading the weights
   (decode + resize + forward), images per CPU second (what the wall rate would be on an idle
   core; this machine is shared), the weights' load time and the process's peak RSS.
2. ``--data``: the baseline on a pipeline's PDIPs (default: /work/main's default run): features
   of every PDIP image at each size (cache in ``--cache-dir``; the time is that of computing
   every image only when the cache starts empty), then the head: every training pair (seed
   0; the fit has no other randomness), and ``--seeds`` heads on ``--sub-pairs`` training
   pairs drawn by each seed (the head's training noise), test accuracy on the test PDIPs with
   a 95 % bootstrap interval over test pairs, the oracle (hidden score q) on the same pairs,
   and with ``--reference-scores`` the exact McNemar test against another model's test scores.

Both parts update their own key of ``results/benchmarks/frozen_features.json`` (command,
machine: cores, CPU model, torch threads, load average; figures).

    OMP_NUM_THREADS=1 python benchmarks/frozen_features.py --sizes 64 96 128 --threads 1 2
    OMP_NUM_THREADS=1 python benchmarks/frozen_features.py --data --sizes 64 96 128 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks" / "frozen_features.json"
MAIN = Path("/work/main")


def machine(threads: int) -> dict:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "cpu_model": cpu, "torch": torch.__version__,
            "torch_threads": threads, "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def sample_images(folder: Path, n: int, tmp: Path) -> list[str]:
    """``n`` images of the platform (sorted walk of ``folder``), else skimage photos at 64 px."""
    if folder.is_dir():
        paths = []
        for shard in sorted(folder.iterdir()):
            paths += sorted(str(p) for p in shard.glob("*.jpg"))
            if len(paths) >= n:
                return paths[:n]
    from PIL import Image
    from skimage import data

    names = ["astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry"]
    paths = []
    for i in range(n):
        photo = Image.fromarray(getattr(data, names[i % len(names)])()).convert("RGB")
        photo = photo.rotate(7 * i).resize((64, 64), Image.BILINEAR)
        paths.append(str(tmp / f"{i:05d}.jpg"))
        photo.save(paths[-1], quality=90)
    return paths


def child(args) -> None:
    """One setting in this process: print load seconds, wall/CPU seconds and peak RSS."""
    import torch

    from i2pa_core.model import frozen

    torch.set_num_threads(args.threads)
    paths = Path(args.list).read_text().split("\n")
    start = time.perf_counter()
    frozen.load_encoder()
    load = time.perf_counter() - start
    frozen.extract_features(paths[:args.batch], args.size, progress=False)  # warm-up
    cpu0, start = time.process_time(), time.perf_counter()
    feats = frozen.extract_features(paths, args.size, batch=args.batch, progress=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"images": int(feats.ok.sum()), "wall_s": wall, "cpu_s": cpu,
                      "load_weights_s": load, "peak_rss_mib": rss}))


def throughput(args) -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="i2pa-frozen-bench-") as tmp:
        paths = sample_images(Path(args.images), args.n, Path(tmp))
        listing = Path(tmp) / "paths.txt"
        listing.write_text("\n".join(paths))
        for size in args.sizes:
            for threads in args.threads:
                command = [sys.executable, __file__, "--child", "--list", str(listing),
                           "--size", str(size), "--threads", str(threads),
                           "--batch", str(args.batch)]
                load = os.getloadavg()[0]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                rows.append({"input_size": size, "threads": threads, "images": r["images"],
                             "images_per_s": round(r["images"] / r["wall_s"], 1),
                             "images_per_cpu_s": round(r["images"] / r["cpu_s"], 1),
                             "wall_s": round(r["wall_s"], 2), "cpu_s": round(r["cpu_s"], 2),
                             "load_weights_s": round(r["load_weights_s"], 2),
                             "peak_rss_mib": round(r["peak_rss_mib"], 1),
                             "load_avg_before": round(load, 2)})
                print(rows[-1], flush=True)
    source = args.images if Path(args.images).is_dir() else "skimage photos resized to 64 px"
    return {"images": f"{args.n} images from {source}", "batch": args.batch, "rows": rows}


def default_data(args) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from i2pa_core.evaluate import frozen as head
    from i2pa_core.io.feature_cache import file_md5
    from i2pa_core.metrics import pairwise_accuracy
    from i2pa_core.model.frozen import cache_file

    torch.set_num_threads(args.threads[0])
    pdips = pd.read_parquet(args.pairs)
    posts = pd.read_parquet(args.posts, columns=["post_id", "image"])
    test = pdips[pdips["split"] == "test"]
    out = {"pairs": str(args.pairs), "pairs_md5": file_md5(args.pairs),
           "posts": str(args.posts), "image_root": str(args.root),
           "data_source": "simulated platform (synthetic posts, not Instagram)",
           "pdips_by_split": pdips["split"].value_counts().to_dict(), "sizes": []}
    if Path(args.truth).is_file():
        q = pd.read_parquet(args.truth, columns=["post_id", "q"]).set_index("post_id")["q"]
        oracle = pairwise_accuracy(test["a_post_id"].map(q), test["b_post_id"].map(q))
        out["oracle_test"] = {k: oracle[k] for k in ("accuracy", "n", "ci_low", "ci_high")}
    for size in args.sizes:
        config = head.FrozenConfig(input_size=size, threads=args.threads[0])
        cache = cache_file(args.cache_dir, config.backbone, size)
        cpu0 = time.process_time()
        feats = head.post_features(posts, pdips, args.root, config, cache, progress=True)
        cpu = time.process_time() - cpu0
        row = {"input_size": size, "images": len(feats.post_ids),
               "images_computed": feats.computed, "images_skipped": len(feats.problems),
               "extract_wall_s": round(feats.seconds, 1), "extract_cpu_s": round(cpu, 1)}
        full = head.fit_head(feats, pdips, config, np.random.default_rng([0, 13]))
        if args.reference_scores:
            row["vs_reference"] = _versus(full.scores, test, args.reference_scores, size)
        row["all_train_pairs"] = {"alpha": full.alpha, "n_train": full.n_train,
                                  "fit_s": round(full.seconds, 1),
                                  "val_accuracy_by_alpha": full.choices.to_dict("records"),
                                  **_rounded(head.accuracy_on_test(full.scores, pdips))}
        sub = head.FrozenConfig(input_size=size, max_train_pairs=args.sub_pairs)
        table, summary = head.head_repeats(feats, pdips, sub, args.seeds)
        row["sub_train_pairs"] = {"max_train_pairs": args.sub_pairs,
                                  "runs": table.round(4).to_dict("records"),
                                  "summary": _rounded(summary)}
        out["sizes"].append(row)
        print(json.dumps(row, indent=1), flush=True)
    return out


def _versus(scores, test, reference_file: Path, size: int) -> list[dict]:
    """Both methods on the test PDIPs: accuracy, 95 % bootstrap CI, exact McNemar p."""
    import pandas as pd

    from i2pa_core.evaluate.baselines import evaluate_scores
    from i2pa_core.io.feature_cache import file_md5

    ref = pd.read_parquet(reference_file).set_index("post_id")["score"]
    name = f"reference scores {reference_file} (md5 {file_md5(reference_file)})"
    table = evaluate_scores({f"frozen head {size} px": scores, name: ref}, test, reference=name)
    return [{k: v for k, v in _rounded(r).items() if v == v}  # no NaN p for the reference
            for r in table.to_dict("records")]


def _rounded(d: dict) -> dict:
    """Floats to 4 decimals, except p-values (kept whole: a small p must not read as 0)."""
    from i2pa_core.io.files import is_p_column

    return {k: (round(v, 4) if isinstance(v, float) and not is_p_column(k) else v)
            for k, v in d.items() if k != "confidence"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--n", type=int, default=512, help="images per throughput setting")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--images", default=str(MAIN / "data/render/images"))
    parser.add_argument("--data", action="store_true", help="the baseline on --pairs")
    parser.add_argument("--pairs", type=Path, default=MAIN / "data/pairs/pairs.parquet")
    parser.add_argument("--posts", type=Path, default=MAIN / "data/simulate/posts.parquet")
    parser.add_argument("--truth", type=Path, default=MAIN / "data/simulate/truth.parquet")
    parser.add_argument("--root", type=Path, default=MAIN / "data/render")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/i2pa-frozen-cache"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sub-pairs", type=int, default=2048,
                        help="training pairs per seed (beyond.budget.max_train_pairs)")
    parser.add_argument("--reference-scores", type=Path, default=None,
                        help="test-post scores (post_id, score) to compare with, e.g. the "
                             "trained model's models/train/test_scores.parquet")
    parser.add_argument("--key", default=None, help="JSON key (default: throughput / "
                                                    "default_data)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--list", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.threads = args.threads[0]
        child(args)
        return
    key = args.key or ("default_data" if args.data else "throughput")
    record = {"command": "python benchmarks/frozen_features.py " + " ".join(sys.argv[1:]),
              "machine": machine(args.threads[0] if args.data else max(args.threads))}
    record["figures"] = default_data(args) if args.data else throughput(args)
    record["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    from i2pa_core.io.files import write_json

    old = json.loads(OUT.read_text()) if OUT.is_file() else {}
    write_json(OUT, {**old, key: record})
    print(f"wrote {OUT.relative_to(ROOT)} [{key}]")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    main()
