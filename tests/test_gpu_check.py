"""benchmarks/gpu_check.py: the one command that measures the paper's configuration (Sec. 4.1)
on a GPU, checked on the CPU.

The ``--smoke`` run (slow: about 70 s on two busy cores, most of it eight processes importing
torch) must write every check's JSON with the figures measured and what needs CUDA marked
skipped. The other tests are fast: a failing check is recorded and the others still run, a
check process that crashes or overruns its cap (with its own children) becomes a failed record,
and the pieces of the decode-on-the-device route agree with the package's pipeline.
"""

import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from i2pa_core.model.presets import PRESETS, make_transform
from i2pa_core.train.data import PairBatchSampler, PairBatches, PairSet

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


gc = _load_script()
NAMES = [check.name for check in gc.CHECKS]
PIPELINES = ("throughput_model", "throughput_cpu_decode", "throughput_gpu_decode")


@pytest.mark.slow
def test_smoke_run_records_every_check(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--scratch",
                          str(scratch), "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((out / "gpu_check.json").read_text())
    assert list(summary["checks"]) == NAMES
    assert {c["status"] for c in summary["checks"].values()} == {"ok"}, summary["checks"]
    assert summary["mode"] == "smoke" and "--smoke" in summary["command"]
    assert {"torch", "cuda_runtime", "cpu_cores", "torch_threads", "git"} <= set(summary["machine"])
    records = {name: json.loads((out / f"{name}.json").read_text()) for name in NAMES}
    _check_pytest_counts(records["pytest_gpu"])
    _check_data(records["prepare"], scratch)
    _check_throughput(records, summary["figures"])
    _check_training(records)
    compiled = records["compile"]
    assert compiled["backend"] == "aot_eager"
    assert compiled["speedup"] == pytest.approx(compiled["compiled_images_per_s"]
                                                / compiled["eager_images_per_s"])
    assert summary["figures"]["compile_speedup"] == compiled["speedup"]


def _check_pytest_counts(record):
    marked = sum(len(re.findall(r"^\s*@pytest\.mark\.gpu\b", p.read_text(), re.MULTILINE))
                 for p in (ROOT / "tests").glob("test_*.py"))
    assert marked >= 1 and record["failed"] == record["errors"] == 0
    assert record["passed"] == 0 and record["skipped"] == marked  # the smoke run hides GPUs


def _check_data(record, scratch):
    pairs = pd.read_parquet(scratch / "data" / "pairs.parquet")
    files = sorted((scratch / "data" / "render" / "images").rglob("*.jpg"))
    posts = set(pairs["a_post_id"]) | set(pairs["b_post_id"])
    assert record["n_images"] == len(files) == len(posts)
    assert {f.stem for f in files} == posts
    assert (record["n_train"], record["n_val"]) == (gc.SMOKE.train_pairs, gc.SMOKE.val_pairs)
    with Image.open(files[0]) as image:
        assert image.size == (gc.SMOKE.image_size,) * 2 and image.format == "JPEG"


def _check_throughput(records, figures):
    for name in PIPELINES:
        record = records[name]
        assert isinstance(record["images_per_s"], float) and record["images_per_s"] > 0
        assert record["timed_steps"] == gc.SMOKE.pipe_steps
        assert record["peak_gpu_memory_mib"] == gc.NEEDS_CUDA
        assert record["autocast"].startswith(gc.NEEDS_CUDA)
    # 16 pairs of distinct images: 32 per step; a pipeline batch holds at most that many
    assert records["throughput_model"]["images_per_step"] == 2 * gc.SMOKE.batch_pairs
    model = records["throughput_model"]
    assert model["device_normalize_speedup"] == pytest.approx(
        model["device_normalize_images_per_s"] / model["images_per_s"])
    for name in PIPELINES[1:]:
        assert gc.SMOKE.batch_pairs < records[name]["images_per_step"] <= 2 * gc.SMOKE.batch_pairs
    assert records["throughput_gpu_decode"]["cuda_decode"] == gc.NEEDS_CUDA
    assert records["throughput_gpu_decode"]["decode_device"] == "cpu"
    model = records["throughput_model"]["images_per_s"]
    assert figures["over_model_only"] == pytest.approx({
        "cpu_decode": records["throughput_cpu_decode"]["images_per_s"] / model,
        "gpu_decode": records["throughput_gpu_decode"]["images_per_s"] / model})
    assert figures["thresholds"].startswith("not applicable")
    assert figures["peak_gpu_memory_mib"]["train_paper"] == gc.NEEDS_CUDA


def _check_training(records):
    steps = gc.SMOKE.epochs * -(-gc.SMOKE.train_pairs // gc.SMOKE.batch_pairs)  # 3 x 4 = 12
    for name in ("train_paper", "train_ddp"):
        record = records[name]
        assert record["steps"] == steps and record["init"].startswith("random")
        assert len(record["train_loss"]) == len(record["val_accuracy"]) == gc.SMOKE.epochs
        assert all(isinstance(v, float) for v in record["train_loss"] + record["val_accuracy"])
        assert record["val_pairs"] == gc.SMOKE.val_pairs
        assert record["loss_fell"] == (record["train_loss"][-1] < record["train_loss"][0])
    ddp = records["train_ddp"]
    assert ddp["world"] == 2 and ddp["ddp_wrapped"] and ddp["command"].startswith("torchrun ")


def test_a_failing_check_is_recorded_and_the_others_still_run(tmp_path):
    def boom(ctx):
        raise RuntimeError("hand-made failure")

    def partial(ctx):
        raise gc.CheckFailed("2 of 3 tests failed", {"passed": 1})

    def fine(ctx):
        return {"answer": 42}

    def absent(ctx):
        raise gc.Skipped("not on this machine")

    checks = [gc.Check("boom", 60, boom), gc.Check("fine", 60, fine),
              gc.Check("after_boom", 60, fine, needs=("boom",)), gc.Check("partial", 60, partial),
              gc.Check("absent", 60, absent), gc.Check("last", 60, fine, needs=("fine",))]
    ctx = gc.Context(tmp_path, tmp_path / "scratch", True, gc.SMOKE)
    summary = {"command": "test"}
    records = gc.run_checks(checks, gc.in_process(ctx), tmp_path, summary, budget_s=1000)
    assert [records[c.name]["status"] for c in checks] == \
        ["failed", "ok", "skipped", "failed", "skipped", "ok"]
    assert records["boom"]["error"] == "RuntimeError: hand-made failure"
    assert "hand-made failure" in records["boom"]["traceback"]
    assert records["fine"]["answer"] == records["last"]["answer"] == 42
    assert records["after_boom"]["reason"] == "needs check 'boom', which did not pass"
    assert (records["partial"]["error"], records["partial"]["passed"]) == ("2 of 3 tests failed", 1)
    assert records["absent"]["reason"] == "not on this machine"
    written = json.loads((tmp_path / "gpu_check.json").read_text())
    assert written["command"] == "test" and list(written["checks"]) == [c.name for c in checks]
    assert written["checks"]["boom"]["error"] == "RuntimeError: hand-made failure"
    for check in checks:
        assert json.loads((tmp_path / f"{check.name}.json").read_text()) == records[check.name]


def test_checks_past_the_budget_are_skipped(tmp_path):
    now = [0.0]

    def slow(ctx):
        now[0] += 100.0  # a fake clock: this check "takes" 100 s
        return {}

    checks = [gc.Check("first", 60, slow), gc.Check("second", 60, slow)]
    ctx = gc.Context(tmp_path, tmp_path, True, gc.SMOKE)
    records = gc.run_checks(checks, gc.in_process(ctx), tmp_path, {}, budget_s=110,
                            clock=lambda: now[0])
    assert records["first"]["status"] == "ok" and records["first"]["cap_s"] == 60
    # 110 s budget - 100 s used - 5 s reserve = 5 s, under the 15 s minimum
    assert records["second"] == {"name": "second", "status": "skipped",
                                 "reason": "budget: 5 s left of 110 s", "cap_s": 5.0,
                                 "seconds": 0.0}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
def test_overrunning_its_cap_kills_the_process_and_its_children(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
            f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(120)")
    with pytest.raises(TimeoutError, match="time cap of 3 s"):
        gc.run_bounded([sys.executable, "-c", code], tmp_path / "log", 3, grace=2)
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # the signal is sent; let the process die (no timing asserted)
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_the_soft_deadline_turns_an_overrunning_check_into_a_failed_record():
    previous = signal.getsignal(signal.SIGALRM)
    try:
        gc.soft_deadline(1.5)  # under 2 x the margin: 70 % of the cap, 1 s
        record = gc.attempt(lambda: time.sleep(30) or {})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert record["status"] == "failed"
    assert record["error"] == "TimeoutError: soft time cap (1 s of a 2 s cap) reached"


def test_a_check_process_that_dies_without_a_record_is_a_failed_record(tmp_path):
    args = gc.parse_args(["--out", str(tmp_path), "--smoke"])
    execute = gc.in_child(args, tmp_path / "scratch", tmp_path)
    # argparse of the check process refuses the unknown check name and exits 2
    record = execute(gc.Check("no_such_check", 60, None), 60)
    assert record["status"] == "failed"
    assert record["error"].startswith("check process exited 2 without a record")
    assert "invalid choice: 'no_such_check'" in record["error"]


def test_headline_figures_from_hand_made_records():
    records = {"throughput_model": {"images_per_s": 2000.0},
               "throughput_cpu_decode": {"images_per_s": 1000.0},
               "throughput_gpu_decode": {"status": "failed", "error": "no nvjpeg"},
               "train_paper": {"final_train_loss": 0.60, "loss_fell": True},
               "train_ddp": {"final_train_loss": 0.65}, "compile": {"speedup": 1.25}}
    figures = gc.headline(records, smoke=False)
    assert figures["over_model_only"] == {"cpu_decode": 0.5, "gpu_decode": None}
    assert figures["thresholds"] == {
        "model_only": {"target_2500": False, "moonshot_5000": False},
        "cpu_decode": {"target_2500": False, "moonshot_5000": False},
        "gpu_decode": {"target_2500": None, "moonshot_5000": None}}
    assert gc.headline({"throughput_model": {"images_per_s": 5000.0}}, False)["thresholds"][
        "model_only"] == {"target_2500": True, "moonshot_5000": True}
    assert figures["ddp_minus_single_final_loss"] == pytest.approx(0.05)
    assert figures["learning"]["train_paper"]["loss_fell"] is True
    assert figures["compile_speedup"] == 1.25


def test_dataloader_workers_are_cut_to_what_dev_shm_holds(monkeypatch):
    batch = 128 * 3 * 224 * 224  # 64 pairs at 224 px, uint8: 18.4 MiB
    monkeypatch.setattr(gc, "shm_free", lambda: 64 * 2**20)  # a container's default
    assert gc.fit_in_shm(14, 4 * batch) == (0, "/dev/shm has 64 MiB free: 0 DataLoader "
                                               "workers instead of 14")
    assert gc.fit_in_shm(8, 2**20) == (8, None)  # 8 MiB in flight, 32 MiB allowed
    monkeypatch.setattr(gc, "shm_free", lambda: 1024 * 2**20)
    assert gc.fit_in_shm(14, 4 * batch)[0] == 6  # 512 MiB // 73.5 MiB
    monkeypatch.setattr(gc, "shm_free", lambda: None)  # no /dev/shm: nothing to fit
    assert gc.fit_in_shm(14, 4 * batch) == (14, None)


def test_epoch_cycle_runs_over_epochs_for_the_steps_asked():
    sampler = PairBatchSampler(10, 4, seed=0)  # 3 batches per epoch: 4 + 4 + 2 pairs
    items = list(gc.EpochCycle(sampler, 5))
    assert [(epoch, batch_no) for epoch, batch_no, _, _ in items] == \
        [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    assert [len(index) for _, _, index, _ in items] == [4, 4, 2, 4, 4]


def test_raw_batches_carry_the_bytes_and_labels_of_pair_batches(tmp_path):
    paths = []
    for k in range(4):
        path = tmp_path / f"im{k}.jpg"
        Image.new("RGB", (8 + k, 8), (40 * k, 10, 200)).save(path, quality=90)
        paths.append(str(path))
    pairs = PairSet(tuple(paths), np.array([0, 2, 3]), np.array([1, 0, 1]))
    item = (0, 0, np.array([0, 1, 2]), np.array([False, True, False]))
    raw = gc.RawPairBatches(pairs, seed=0)[item]
    decoded = PairBatches(pairs, make_transform("official", train=False), seed=0)[item]
    for key in ("first", "second", "target"):
        assert torch.equal(raw[key], decoded[key]), key
    files = gc.split_raw(raw["raw"], raw["ends"])
    assert [bytes(f.numpy()) for f in files] == [Path(p).read_bytes() for p in paths]


@pytest.mark.parametrize("preset", ["paper", "official", "synthetic"])
def test_device_normalize_gives_the_numbers_of_the_package(preset):
    images = torch.randint(0, 256, (4, 3, 9, 7), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    expected = make_transform(preset, train=True).normalize_batch(images)
    assert torch.equal(gc.device_normalize(preset, torch.device("cpu"))(images), expected)


def test_device_geometry_follows_the_preset():
    gen = torch.Generator().manual_seed(0)
    flat = [torch.full((3, 40, 30), 7, dtype=torch.uint8),
            torch.full((3, 224, 224), 200, dtype=torch.uint8),
            torch.full((3, 40, 30), 9, dtype=torch.uint8)]
    out = gc.device_geometry(flat, PRESETS["paper"], gen)  # short side 256, crop 224
    assert out.shape == (3, 3, 224, 224) and out.dtype == torch.float32
    for image, value in zip(out, (7.0, 200.0, 9.0)):
        assert float(image.min()) == pytest.approx(value) == pytest.approx(float(image.max()))
    ramp = torch.arange(8, dtype=torch.uint8).repeat(3, 8, 1)  # (3, 8, 8), columns 0..7
    out = gc.device_geometry([ramp] * 16, PRESETS["synthetic"], gen)  # native size, flip only
    flipped = [bool(torch.equal(image, ramp.flip(-1).float())) for image in out]
    assert all(f or torch.equal(image, ramp.float()) for f, image in zip(flipped, out))
    assert 0 < sum(flipped) < 16
