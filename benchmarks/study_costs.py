"""Cost of one run of a study setting (the ``ablate`` settings of Tables 2 and 3) on this machine.

Each named setting of ``ablate.runs`` (params.yaml, optionally with ``--set KEY=VALUE``
overrides in the notation of ``dvc exp run -S``) is trained ``--repeats`` times through the
stage's own run pool (one torch thread per run, ``--workers`` processes at once, as the
``ablate`` and ``beyond`` stages do) on the pipeline's data (``data/``: run ``dvc repro images``
first). Per run it records the process CPU seconds (``cpu_s``, what the run costs; on an idle
machine with as many free cores as workers, the wall clock of a run is about this), the wall
seconds (``wall_s``, inflated by other processes on a shared machine) and the test accuracy.
The figures go to ``--out`` (default ``results/benchmarks/study_costs.json``) with the command,
the machine, the thread settings and the load averages.

    python benchmarks/study_costs.py --runs noise_00 lite0_imagenet lite0_scratch --repeats 2
    python benchmarks/study_costs.py --runs lite0_imagenet --set ablate.budgets.transfer.max_train_pairs=512
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from i2pa_core.io.files import write_json  # noqa: E402


def timed_run(task, **shared) -> dict:
    """:func:`~i2pa_core.train.repeats.train_and_test` with its CPU and wall seconds."""
    from i2pa_core.train.repeats import train_and_test

    cpu, wall = time.process_time(), time.perf_counter()
    record = train_and_test(task, **shared)
    return {"run_id": record["run_id"], "test_accuracy": record["test_accuracy"],
            "test_n": record["test_n"], "cpu_s": round(time.process_time() - cpu, 2),
            "wall_s": round(time.perf_counter() - wall, 2)}


def _params(path: Path, overrides: list[str]) -> dict:
    params = yaml.safe_load(path.read_text())
    for item in overrides:
        key, value = item.lstrip("+").split("=", 1)
        *parents, last = key.split(".")
        node = params
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    return params


def machine() -> dict:
    import torch

    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "cpu_model": model, "torch_threads_per_run": 1,
            "torch_version": torch.__version__, "load_avg": [round(x, 2) for x in os.getloadavg()],
            "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}


def main(argv=None) -> None:
    from i2pa_core.io.tables import load_inputs
    from i2pa_core.stages.ablate import ablate_stage, run_train_config
    from i2pa_core.train.config import for_source
    from i2pa_core.train.pool import map_runs
    from i2pa_core.train.repeats import tasks_for

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", required=True, help="settings of ablate.runs")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=ROOT / "results/benchmarks/study_costs.json")
    args = parser.parse_args(argv)
    params = _params(args.params, args.set)
    stage = ablate_stage(params["ablate"])
    inputs = load_inputs(params["data"])
    pdips, posts, truth = inputs
    shared = {"posts": posts, "truth": truth, "image_root": inputs.image_root}
    report = {"command": " ".join(["python", "benchmarks/study_costs.py", *(argv or sys.argv[1:])]),
              "machine": machine(), "settings": {}}
    for name in args.runs:
        cfg = for_source(run_train_config(params["train"], stage, name), inputs.source.synthetic)
        budget = stage.budgets[stage.runs[name].budget]
        tasks = tasks_for(name, cfg, pdips, params["base"]["seed"], args.repeats, budget.test_pairs)
        start = time.perf_counter()
        runs = map_runs(timed_run, tasks, shared, workers=args.workers, progress=False, desc=name)
        report["settings"][name] = {
            "budget": vars(budget), "backbone": cfg.backbone, "pretrained": cfg.pretrained,
            "preset": cfg.preset, "runs": runs, "workers": args.workers,
            "mean_cpu_s_per_run": round(sum(r["cpu_s"] for r in runs) / len(runs), 2),
            "pool_wall_s": round(time.perf_counter() - start, 2)}
        print(name, report["settings"][name], flush=True)
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.out, report)


if __name__ == "__main__":
    main()
