"""The one record every benchmark writes: ``results/benchmarks/<name>.json``.

    record = BenchmarkRecord.start("simulate_throughput", __file__, argv)
    ...                                   # measure
    record.write({"with_images": {"posts": n, "seconds": s, "posts_per_s": n / s}}, out)

The file (indented, keys sorted, written to a temporary file and renamed, so a reader never sees
half of it) holds:

* ``benchmark``: the name; ``command``: the command line as run (``python benchmarks/x.py ...``)
  and ``argv`` / ``executable`` exactly;
* ``started_utc`` / ``finished_utc`` (ISO 8601) and ``seconds`` between them;
* ``git``: ``commit`` (HEAD) and ``dirty`` (tracked files changed), or None outside a checkout;
* ``machine``: ``cores`` (os.cpu_count), ``cores_usable`` (CPU affinity at the end, after any
  pinning), ``cpu_model`` (/proc/cpuinfo), ``memory_total_gib`` (/proc/meminfo),
  ``torch_threads`` (at the end, after the benchmark set them), ``thread_env`` (the OMP /
  OpenBLAS / MKL / Arrow thread variables, None where unset), ``load_avg_start`` and
  ``load_avg_end`` (1, 5 and 15 minute load averages: the machine is shared), ``python``,
  ``platform``;
* ``figures``: the measured numbers, structured, each key naming its unit (``_s``, ``_mib``,
  ``_gib``, ``_per_s``, or a count such as ``posts``).

It lives beside the scripts rather than in i2pa_core because only benchmarks write it; the
pipeline never does. :mod:`i2pa_core.stages.performance` reads these files (and only their
documented keys) to write the README Performance table.
"""

from __future__ import annotations

import math
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from i2pa_core.io.files import write_json  # noqa: E402

OUT_DIR = ROOT / "results" / "benchmarks"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "ARROW_NUM_THREADS", "NUMEXPR_NUM_THREADS", "OMP_THREAD_LIMIT")


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def command_line(script: str | os.PathLike, argv: list[str]) -> str:
    """``python benchmarks/x.py ARGS`` (the script relative to the checkout when inside it)."""
    path = Path(script).resolve()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return shlex.join(["python", shown.as_posix(), *map(str, argv)])


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    try:
        with open(cpuinfo) as info:
            return next((line.split(":", 1)[1].strip() for line in info
                         if line.startswith("model name")), platform.processor() or "unknown")
    except OSError:
        return platform.processor() or "unknown"


def memory_total_gib(meminfo: str = "/proc/meminfo") -> float | None:
    try:
        with open(meminfo) as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return round(kib / 2**20, 2)


def torch_threads() -> int:
    """Intra-op threads of torch in this process (what the benchmark set, or the default)."""
    import torch
    return torch.get_num_threads()


def git_state(root: Path = ROOT) -> dict:
    """``{"commit": HEAD, "dirty": tracked files changed}``; None values outside a checkout."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=20, check=True).stdout.strip()
    try:
        return {"commit": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def machine(load_start: list[float]) -> dict:
    """The machine block (see the module docstring), taken now."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cores": os.cpu_count(), "cores_usable": usable, "cpu_model": cpu_model(),
            "memory_total_gib": memory_total_gib(), "torch_threads": torch_threads(),
            "thread_env": {var: os.environ.get(var) for var in THREAD_VARS},
            "load_avg_start": load_start, "load_avg_end": load_avg(),
            "python": platform.python_version(), "platform": platform.platform()}


def json_safe(value):
    """Numpy scalars to Python numbers, paths to text, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass
class BenchmarkRecord:
    """A benchmark run: what is known at its start; :meth:`write` adds the rest."""

    name: str
    command: str
    argv: list[str]
    started_utc: str
    load_avg_start: list[float]
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def start(cls, name: str, script: str | os.PathLike, argv: list[str] | None = None):
        """Begin the record of ``script`` run with ``argv`` (default: this process's)."""
        argv = list(sys.argv[1:] if argv is None else argv)
        return cls(name, command_line(script, argv), argv, utc_now(), load_avg())

    def default_path(self) -> Path:
        return OUT_DIR / f"{self.name}.json"

    def payload(self, figures: dict) -> dict:
        return json_safe({
            "benchmark": self.name, "command": self.command, "argv": self.argv,
            "executable": sys.executable, "started_utc": self.started_utc,
            "finished_utc": utc_now(), "seconds": round(time.perf_counter() - self.started, 2),
            "git": git_state(), "machine": machine(self.load_avg_start), "figures": figures})

    def write(self, figures: dict, path: str | os.PathLike | None = None) -> Path:
        """Write the record with ``figures`` to ``path`` (default
        ``results/benchmarks/<name>.json``) atomically; returns the path."""
        path = Path(path) if path is not None else self.default_path()
        write_json(path, self.payload(figures))
        print(f"-> {path}", flush=True)
        return path
