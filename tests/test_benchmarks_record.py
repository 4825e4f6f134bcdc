"""The record every benchmark writes (benchmarks/_record.py): its fields and the atomic write.

Timings are never asserted; the fields are checked against values set or read independently
here (a fake /proc/cpuinfo and /proc/meminfo, the environment, ``git rev-parse``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _record  # noqa: E402

UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MACHINE_KEYS = {"cores", "cores_usable", "cpu_model", "memory_total_gib", "torch_threads",
                "thread_env", "load_avg_start", "load_avg_end", "python", "platform"}


def test_the_record_has_the_command_the_times_the_commit_the_machine_and_the_figures(
        tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    record = _record.BenchmarkRecord.start("demo", ROOT / "benchmarks" / "demo.py",
                                           ["--size", "5", "--name", "a b"])
    out = record.write({"posts": np.int64(7), "seconds": 1.5, "rate_per_s": float("nan")},
                       tmp_path / "deep" / "demo.json")
    data = json.loads(out.read_text())
    assert out == tmp_path / "deep" / "demo.json"
    assert data["benchmark"] == "demo"
    assert data["command"] == "python benchmarks/demo.py --size 5 --name 'a b'"
    assert data["argv"] == ["--size", "5", "--name", "a b"]
    assert UTC.match(data["started_utc"]) and UTC.match(data["finished_utc"])
    assert data["started_utc"] <= data["finished_utc"] and data["seconds"] >= 0
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert data["git"]["commit"] == head and isinstance(data["git"]["dirty"], bool)
    machine = data["machine"]
    assert set(machine) == MACHINE_KEYS
    assert machine["cores"] == os.cpu_count()
    assert machine["thread_env"]["OMP_NUM_THREADS"] == "3"
    assert machine["thread_env"]["OMP_THREAD_LIMIT"] is None
    import torch
    assert machine["torch_threads"] == torch.get_num_threads()
    for key in ("load_avg_start", "load_avg_end"):
        assert len(machine[key]) == 3 and all(v >= 0 for v in machine[key])
    # numpy scalars become numbers, NaN becomes null (valid JSON)
    assert data["figures"] == {"posts": 7, "seconds": 1.5, "rate_per_s": None}
    assert "NaN" not in out.read_text()


def test_default_path_is_results_benchmarks_name_json():
    record = _record.BenchmarkRecord.start("pairs_scale", ROOT / "benchmarks" / "x.py", [])
    assert record.default_path() == ROOT / "results" / "benchmarks" / "pairs_scale.json"


def test_cpu_model_and_memory_from_the_proc_files(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Fake\nmodel name\t: Fake CPU 9000 @ 2 GHz\n"
                       "processor\t: 1\nmodel name\t: Fake CPU 9000 @ 2 GHz\n")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        3145728 kB\nMemFree:  1024 kB\n")
    assert _record.cpu_model(str(cpuinfo)) == "Fake CPU 9000 @ 2 GHz"
    assert _record.memory_total_gib(str(meminfo)) == 3.0   # 3 x 2^20 KiB
    assert _record.memory_total_gib(str(tmp_path / "absent")) is None


def test_a_script_outside_the_checkout_is_named_by_its_full_path(tmp_path):
    assert _record.command_line(tmp_path / "b.py", ["-x"]) == f"python {tmp_path}/b.py -x"


def test_json_safe():
    assert _record.json_safe({1: (np.float32(0.5), Path("a/b"), math.inf)}) == \
        {"1": [0.5, "a/b", None]}


def test_the_write_goes_to_a_temporary_file_renamed_over_the_target(tmp_path, monkeypatch):
    target = tmp_path / "demo.json"
    target.write_text('{"old": true}\n')
    record = _record.BenchmarkRecord.start("demo", ROOT / "benchmarks" / "demo.py", [])
    seen, real_replace = [], os.replace

    def replace(src, dst):
        seen.append((Path(src), Path(dst), target.read_text(), Path(src).read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    record.write({"posts": 1}, target)
    (src, dst, before, written), = seen
    assert dst == target and src.parent == target.parent and src != target
    assert before == '{"old": true}\n'        # the old file stays whole until the rename
    assert json.loads(written)["figures"] == {"posts": 1}
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()   # the mode of a plain open()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "demo.json"
    target.write_text('{"old": true}\n')
    record = _record.BenchmarkRecord.start("demo", ROOT / "benchmarks" / "demo.py", [])

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        record.write({"posts": 1}, target)
    assert target.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]


def test_gpu_check_writes_the_common_machine_block():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    facts = module.machine_facts([0.5, 0.25, 0.125])
    assert MACHINE_KEYS <= set(facts)
    assert facts["load_avg_start"] == [0.5, 0.25, 0.125]
    assert {"torch", "cuda_available", "git"} <= set(facts)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
