"""The README "Performance" table, written from the benchmarks' records.

``python -m i2pa_core.stages.performance`` (``make performance``) reads every
``results/benchmarks/*.json`` (and ``results/benchmarks/gpu_check/gpu_check.json``), turns each
into rows with :mod:`i2pa_core.stages.performance_rows` and replaces the block between
:data:`BEGIN` and :data:`END` in ``README.md`` with the table (what / figure / command / file).
A benchmark without a record gets no row, only a line naming it and the command that would
make it; nothing is typed in by hand. ``--check`` writes nothing and exits 1 when the README
block differs from what the records give.

It is not a DVC stage: the benchmarks are run by hand, and their records are no output of the
pipeline (a record of ``benchmarks/repro_time.py``, written after it times ``dvc repro``, would
otherwise leave the pipeline it timed out of date).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from i2pa_core.io.files import write_text
from i2pa_core.stages import performance_rows as rows_of
from i2pa_core.stages.report import splice as splice_block

BEGIN = "<!-- performance:begin -->"
END = "<!-- performance:end -->"
GPU_CHECK = Path("gpu_check") / "gpu_check.json"

# Each benchmark, the command that makes its record, and its rows; in the table's order.
BENCHMARKS = {
    "simulate_throughput": ("python benchmarks/simulate_throughput.py", rows_of.simulate_rows),
    "pairs_scale": ("python benchmarks/pairs_scale.py", rows_of.pairs_scale_rows),
    "pairs_engines": ("python benchmarks/pairs_engines.py", rows_of.pairs_engines_rows),
    "train_throughput": ("python benchmarks/train_throughput.py", rows_of.train_rows),
    "score_throughput": ("python benchmarks/score_throughput.py", rows_of.score_rows),
    "repro_time": ("python benchmarks/repro_time.py", rows_of.repro_rows),
    "gpu_check": ("python benchmarks/gpu_check.py --out results/benchmarks/gpu_check",
                  rows_of.gpu_check_rows),
}


def benchmark_of(name: str, record: dict) -> str | None:
    """The benchmark a record belongs to: its ``benchmark`` key, else the longest benchmark
    name that starts its file name (``pairs_engines_1e7.json``); None when unknown."""
    if record.get("benchmark") in BENCHMARKS:
        return record["benchmark"]
    stem = Path(name).stem
    known = [b for b in BENCHMARKS if stem == b or stem.startswith(b + "_")]
    return max(known, key=len) if known else None


def read_records(folder: Path) -> dict[str, dict]:
    """``{file: record}`` of ``folder/*.json`` and ``folder/gpu_check/gpu_check.json``, by file
    name; ``file`` is the path as given (``results/benchmarks/x.json``). ValueError naming a
    file that is not valid JSON."""
    paths = sorted(folder.glob("*.json"))
    if (folder / GPU_CHECK).is_file():
        paths.append(folder / GPU_CHECK)
    records = {}
    for path in paths:
        try:
            records[path.as_posix()] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
    return records


def performance_rows(records: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(what, figure, command, file) rows, benchmark by benchmark in :data:`BENCHMARKS`
    order, files by name; the figure ends with the machine's cores and load. The 2 x 10^8
    extrapolation comes once, from the pairs_engines record measured at the most posts."""
    rows = []
    for bench, (_, build) in BENCHMARKS.items():
        mine = {f: r for f, r in records.items() if benchmark_of(f, r) == bench}
        for file, record in mine.items():
            note = rows_of.load_note(record)
            try:
                built = build(record)
            except (KeyError, TypeError, IndexError) as exc:
                raise ValueError(f"{file}: not a {bench} record ({type(exc).__name__}: "
                                 f"{exc})") from None
            for what, figure in built:
                rows.append((what, f"{figure} [{note}]" if note else figure,
                             record.get("command", "?"), file))
        if bench == "pairs_engines":
            rows += _extrapolation(mine)
    return rows


def _extrapolation(records: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    made = [(rows_of.extrapolation_row(r), r, f) for f, r in records.items()]
    made = [m for m in made if m[0] is not None]
    if not made:
        return []
    (what, figure), record, file = max(made, key=lambda m: rows_of.extrapolation_source(m[1]))
    return [(what, figure, record.get("command", "?"), file)]


def render(records: dict[str, dict]) -> str:
    """The Markdown block: a line on where the rows come from, the table, and a line naming
    each benchmark without a record and each record of no known benchmark."""
    lines = ["Written by `python -m i2pa_core.stages.performance` (`make performance`) from the "
             "records in `results/benchmarks/`; `--check` says whether this block is current "
             "(a test runs it). Each figure ends with the machine's cores and its 1-minute load "
             "average at the start and the end of the run: the machine is shared, so read a "
             "figure with its load, and CPU seconds where a row gives them. Timings are one "
             "run's, never asserted in tests.", "",
             "| what | figure | command | file |", "|---|---|---|---|"]
    lines += [f"| {_cell(w)} | {_cell(f)} | `{_cell(c)}` | `{_cell(p)}` |"
              for w, f, c, p in performance_rows(records)]
    found = {benchmark_of(f, r) for f, r in records.items()}
    missing = [f"`{b}` (`{command}`)" for b, (command, _) in BENCHMARKS.items()
               if b not in found]
    if missing:
        lines += ["", "No record yet, so no row: " + ", ".join(missing) + "."]
    unknown = [f"`{f}`" for f, r in records.items() if benchmark_of(f, r) is None]
    if unknown:
        lines += ["", "Records of no known benchmark, not shown: " + ", ".join(unknown) + "."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def splice(readme: str, block: str, path: str = "README.md") -> str:
    """Replace the text between :data:`BEGIN` and :data:`END` of ``readme`` with ``block``
    (the results block's splice, with this block's markers)."""
    return splice_block(readme, block, path, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.stages.performance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=Path("results/benchmarks"),
                        help="folder of the benchmark records (default %(default)s)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"),
                        help="README whose performance block is replaced (default %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the README block is out of date")
    args = parser.parse_args(argv)
    try:
        current = args.readme.read_text(encoding="utf-8")
        readme = splice(current, render(read_records(args.benchmarks)), str(args.readme))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if readme != current:
            print(f"{args.readme}: the performance block is out of date; run "
                  "`python -m i2pa_core.stages.performance`", file=sys.stderr)
            return 1
        return 0
    write_text(args.readme, readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
