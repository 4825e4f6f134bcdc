"""The benchmark scripts, run as a user runs them at tiny sizes, write records that the README
Performance table can read (slow: each script is a fresh process that imports its stack)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from i2pa_core.stages import performance as P

ROOT = Path(__file__).resolve().parents[1]

RUNS = {
    "simulate_throughput": ["--images", "200", "--meta", "5000", "--quiet"],
    "pairs_scale": ["--sizes", "2e3", "--reference", "300", "--pathological", "300",
                    "--stream", "3e3"],
    "pairs_engines": ["--sizes", "3e3", "--engines", "inprocess", "streaming"],
    "score_throughput": ["--photos", "2", "--authors", "1", "--memory", "10"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_benchmark_writes_its_record_and_gets_rows(name, tmp_path, monkeypatch):
    out = tmp_path / "results" / "benchmarks" / f"{name}.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    args = [*RUNS[name], "--out", str(out)]
    run = subprocess.run([sys.executable, f"benchmarks/{name}.py", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["benchmark"] == name
    assert record["command"] == " ".join(["python", f"benchmarks/{name}.py", *args])
    assert record["machine"]["thread_env"]["OMP_NUM_THREADS"] == "1"
    assert record["figures"]
    monkeypatch.chdir(tmp_path)
    rows = P.performance_rows(P.read_records(Path("results/benchmarks")))
    assert rows and {r[3] for r in rows} == {f"results/benchmarks/{name}.json"}
    assert all(r[2] == record["command"] for r in rows)
    if name == "pairs_scale":
        figures = record["figures"]
        assert [r["posts"] for r in figures["sampler"]] == [2000]
        reference = figures["reference"]
        assert reference["brute_force"]["pdips"] == reference["sampler"]["pdips"]
        assert [r["kind"] for r in figures["stream"]] == ["write", "stream"]
        assert len(rows) == 4
    if name == "score_throughput":
        assert record["figures"]["memory"][0]["scored"] == 10
