"""Time of the whole pipeline: a forced ``dvc repro -f``, then a no-op ``dvc repro``.

    python benchmarks/repro_time.py                       # every stage (minutes)
    python benchmarks/repro_time.py --stages report       # only these targets
    python benchmarks/repro_time.py --dry                 # dvc repro --dry: plans, runs nothing

Runs ``dvc repro -f [TARGETS]`` in the checkout and times it, then ``dvc repro [TARGETS]``,
which has nothing left to do and measures DVC's own overhead (hashing deps and outputs). Each
stage's duration is read from the papermill metadata of its executed notebook
(``results/<stage>/*.ipynb``, ``results/ablate/<run>/*.ipynb`` for ``ablate@<run>``:
``metadata.papermill.duration``, seconds); a notebook that did not start during this run says
``in_this_run: false`` and is not summed. A failed command writes no record (exit status 1).
Writes ``results/benchmarks/repro_time.json`` (``--out``) with the command, the machine and:
``repro_s``, ``noop_s``, ``stages`` and ``stage_sum_s``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT, BenchmarkRecord  # noqa: E402

EARLIEST = datetime.min.replace(tzinfo=timezone.utc)  # sorts a notebook without a start first


def parse_time(text: str | None) -> datetime | None:
    """Papermill's ISO 8601 time (``2026-12-03T14:04:58.172055+00:00``), UTC; None if absent."""
    if not text:
        return None
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def stage_name(notebook: Path, results: Path) -> str:
    """``results/train/03_train.ipynb`` -> ``train``; ``results/ablate/vgg16/..`` ->
    ``ablate@vgg16`` (DVC's name for a ``foreach`` stage)."""
    parts = notebook.relative_to(results).parent.parts
    return "@".join(parts[:2])


def notebook_durations(results: Path, since: datetime | None = None) -> dict[str, dict]:
    """``{stage: {"seconds", "start_utc", "notebook", "in_this_run"}}`` from every executed
    notebook under ``results`` that carries papermill metadata, in order of start time;
    ``in_this_run``: it started at or after ``since`` (always True without ``since``)."""
    found = []
    for notebook in sorted(results.glob("**/*.ipynb")):
        try:
            meta = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["papermill"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if meta.get("duration") is None:
            continue
        start = parse_time(meta.get("start_time"))
        found.append((start or EARLIEST, stage_name(notebook, results), {
            "seconds": round(float(meta["duration"]), 2),
            "start_utc": None if start is None else start.isoformat(),
            "notebook": notebook.relative_to(results.parent).as_posix(),
            "in_this_run": since is None or (start is not None and start >= since)}))
    return {name: entry for _, name, entry in sorted(found, key=lambda item: item[0])}


def timed(command: list[str], cwd: Path, runner=subprocess.run) -> float:
    """Seconds that ``runner(command, cwd=cwd)`` took; RuntimeError when it fails."""
    start = time.perf_counter()
    done = runner(command, cwd=cwd)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{shlex.join(command)} exited {done.returncode}")
    return seconds


def measure(dvc: list[str], targets: list[str], dry: bool, cwd: Path,
            runner=subprocess.run, now=lambda: datetime.now(timezone.utc)) -> dict:
    """The figures: forced run, no-op run, per-stage papermill durations."""
    extra = ["--dry"] if dry else []
    forced = [*dvc, "repro", "-f", *extra, *targets]
    noop = [*dvc, "repro", *extra, *targets]
    since = now()
    repro_s = timed(forced, cwd, runner)
    noop_s = timed(noop, cwd, runner)
    stages = notebook_durations(cwd / "results", since)
    ran = [entry["seconds"] for entry in stages.values() if entry["in_this_run"]]
    return {"repro_command": shlex.join(["dvc", *forced[len(dvc):]]), "repro_s": round(repro_s, 2),
            "noop_command": shlex.join(["dvc", *noop[len(dvc):]]), "noop_s": round(noop_s, 2),
            "dry": dry, "targets": targets, "stages": stages,
            "stages_in_this_run": len(ran), "stage_sum_s": round(sum(ran), 2)}


def dvc_command() -> list[str]:
    """The ``dvc`` beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dvc"
    return [str(beside)] if beside.is_file() else ["dvc"]


def main(argv=None, runner=subprocess.run) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", nargs="+", default=[], metavar="TARGET",
                        help="dvc repro targets (default: every stage)")
    parser.add_argument("--dry", action="store_true", help="dvc repro --dry (runs nothing)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to run in")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/repro_time.json)")
    args = parser.parse_args(argv)
    record = BenchmarkRecord.start("repro_time", __file__, argv)
    try:
        figures = measure(dvc_command(), args.stages, args.dry, args.repo.resolve(), runner)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}; no record written", file=sys.stderr)
        return 1
    print(f"{figures['repro_command']}: {figures['repro_s']:.1f} s; "
          f"{figures['noop_command']}: {figures['noop_s']:.1f} s")
    for name, entry in figures["stages"].items():
        if entry["in_this_run"]:
            print(f"  {name:24s} {entry['seconds']:8.1f} s")
    record.write(figures, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
