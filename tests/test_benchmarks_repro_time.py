"""benchmarks/repro_time.py on a fake checkout: papermill durations, and a command runner that
stands in for dvc (nothing runs dvc here)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import repro_time  # noqa: E402


def notebook(path: Path, papermill: dict | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"kernelspec": {"name": "python3"}}
    if papermill is not None:
        metadata["papermill"] = papermill
    path.write_text(json.dumps({"cells": [], "metadata": metadata, "nbformat": 4,
                                "nbformat_minor": 5}))


def test_stage_durations_from_papermill_metadata(tmp_path):
    results = tmp_path / "results"
    notebook(results / "train" / "03_train.ipynb",
             {"duration": 313.071469, "start_time": "2026-12-03T13:49:09.297436+00:00",
              "end_time": "2026-12-03T13:54:22.368905+00:00"})
    notebook(results / "ablate" / "vgg16" / "06_ablate.ipynb",
             {"duration": 58.142239, "start_time": "2026-12-03T14:05:22.926818+00:00"})
    notebook(results / "simulate" / "01_simulate.ipynb",
             {"duration": 9.667075, "start_time": "2026-12-03T13:46:17.016847+00:00"})
    notebook(results / "render" / "02b_render.ipynb", None)          # not run by papermill
    (results / "human").mkdir()
    (results / "human" / "04_human.ipynb").write_text("{truncated")   # unreadable: skipped
    since = datetime(2026, 12, 3, 13, 47, tzinfo=timezone.utc)
    found = repro_time.notebook_durations(results, since)
    assert list(found) == ["simulate", "train", "ablate@vgg16"]        # in order of start
    assert found["train"] == {"seconds": 313.07, "start_utc": "2026-12-03T13:49:09.297436+00:00",
                              "notebook": "results/train/03_train.ipynb", "in_this_run": True}
    assert found["ablate@vgg16"]["seconds"] == 58.14
    assert found["simulate"]["in_this_run"] is False                   # started before `since`
    assert all(e["in_this_run"] for e in repro_time.notebook_durations(results).values())


class FakeDvc:
    """Records each command; on the forced run it "executes" the train notebook."""

    def __init__(self, repo: Path, fail_on: int | None = None):
        self.repo, self.fail_on, self.commands = repo, fail_on, []

    def __call__(self, command, cwd):
        self.commands.append(list(command))
        assert Path(cwd) == self.repo
        if len(self.commands) == 1 and "--dry" not in command:
            time.sleep(0.05)
            notebook(self.repo / "results" / "train" / "03_train.ipynb",
                     {"duration": 12.5, "start_time": datetime.now(timezone.utc).isoformat()})
        code = 1 if self.fail_on == len(self.commands) else 0
        return subprocess.CompletedProcess(command, code)


def test_main_times_the_forced_and_the_noop_run_and_writes_the_record(tmp_path):
    repo, out = tmp_path / "repo", tmp_path / "out" / "repro_time.json"
    notebook(repo / "results" / "pairs" / "02_pairs.ipynb",
             {"duration": 47.6, "start_time": "2020-01-01T00:00:00+00:00"})  # an old run
    fake = FakeDvc(repo)
    assert repro_time.main(["--stages", "train", "--repo", str(repo), "--out", str(out)],
                           runner=fake) == 0
    dvc = repro_time.dvc_command()
    assert fake.commands == [[*dvc, "repro", "-f", "train"], [*dvc, "repro", "train"]]
    data = json.loads(out.read_text())
    assert data["benchmark"] == "repro_time" and data["command"].startswith(
        "python benchmarks/repro_time.py --stages train")
    figures = data["figures"]
    assert figures["repro_command"] == "dvc repro -f train"
    assert figures["noop_command"] == "dvc repro train"
    assert figures["repro_s"] >= 0.05 and figures["noop_s"] >= 0
    assert figures["stages"]["pairs"]["in_this_run"] is False
    assert figures["stages"]["train"]["in_this_run"] is True
    assert (figures["stages_in_this_run"], figures["stage_sum_s"]) == (1, 12.5)
    assert figures["dry"] is False and figures["targets"] == ["train"]


def test_dry_runs_pass_dry_to_both_commands(tmp_path):
    fake = FakeDvc(tmp_path)
    out = tmp_path / "r.json"
    assert repro_time.main(["--dry", "--repo", str(tmp_path), "--out", str(out)], runner=fake) == 0
    assert [c[-2:] for c in fake.commands] == [["-f", "--dry"], ["repro", "--dry"]]
    figures = json.loads(out.read_text())["figures"]
    assert figures["dry"] is True and figures["stages_in_this_run"] == 0


def test_a_failed_dvc_command_writes_no_record(tmp_path, capsys):
    out = tmp_path / "r.json"
    fake = FakeDvc(tmp_path, fail_on=2)
    assert repro_time.main(["--repo", str(tmp_path), "--out", str(out)], runner=fake) == 1
    assert not out.exists()
    assert "exited 1" in capsys.readouterr().err
