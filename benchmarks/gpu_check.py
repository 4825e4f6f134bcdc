"""The paper's configuration on one GPU, measured by one prepared command (issue 16).

    python benchmarks/gpu_check.py --out results/benchmarks/gpu_check [--budget-s 480]
    python benchmarks/gpu_check.py --out /tmp/gpu_check_smoke --smoke     # tiny, on the CPU

Checks, in order, each in its own process under a time cap (killed with its process group when
it runs over), so that one failing, hanging or crashing check never loses the others:

1. ``pytest_gpu``: ``pytest -m gpu`` on the test files that hold CUDA-marked tests; counts.
2. ``prepare``: a small synthetic platform, its PDIPs (Sec. 3.1) and their JPEGs rendered at
   224 px in a scratch folder, with the package's own functions.
3. ``throughput_model``: ResNet-50, 224 px, bf16 autocast, channels_last, Adam (Sec. 4.1),
   64 pairs (128 images) per step on random uint8 tensors already on the device; images/s,
   and again with the normalisation's mean/std made on the device once (the package makes
   them every step: two blocking copies, i.e. two stream synchronisations, per step).
4. ``throughput_cpu_decode``: the same step fed by the package's pipeline from the JPEG files
   (PairBatches: PIL decode and the ``paper`` geometry in DataLoader workers, pinned memory,
   non_blocking copies).
5. ``throughput_gpu_decode``: the same step fed by ``torchvision.io.decode_jpeg(device='cuda')``
   (workers only read the bytes; resize and crop on the device). Not bit-identical to the PIL
   geometry: a measurement of that route, kept in this script, not a change of the package.
6. ``train_paper``: :func:`i2pa_core.train.loop.train_model` with the ``paper`` profile for
   3 epochs of 100 steps; does the training loss (Eq. 7-9) fall and the validation pairwise
   accuracy rise above chance? ``compile`` is off here (check 8 measures it), and the
   initialisation is ImageNet only when the offline weights exist, which the JSON says.
7. ``train_ddp``: the same through ``torchrun --standalone --nproc-per-node=N -m
   i2pa_core.train.ddp`` (N = visible GPUs; 2 gloo processes in the smoke run).
8. ``compile``: ``torch.compile`` of the scorer: steady-state speed-up over eager and the time
   of the first (compiling) step, or the error text.

Every check writes ``OUT/<name>.json``; ``OUT/gpu_check.json`` (rewritten after every check, so
a run killed half-way keeps what it had) holds the command line, the machine, each check's
status (ok / failed / skipped) with its error or reason, and the headline figures: images/s
of each route, full pipeline / model-only ratios, the 2,500 (target) and 5,000 (moonshot)
images/s thresholds. Logs of each process are in ``OUT/logs/``. Every number is measured by the
run that writes it.

Guards for a first run on a lent machine: DataLoader workers fork before the check process
initialises CUDA and never touch it; their number is cut to what /dev/shm holds (the JSON says
so); a batch lost between processes raises after 30 s instead of hanging; each check process
raises TimeoutError 10 s before its hard cap so that it still writes its record; torchrun gets
``--standalone`` (a free port) and an environment without inherited RANK/WORLD_SIZE/MASTER_*;
cuDNN autotuning is on for the fixed-shape throughput checks only (the warm-up steps absorb
it), the train checks run the package as it is.

``--smoke`` runs the same code with tiny sizes on the CPU (tinycnn, 32 px ``synthetic``
images, a handful of steps, DDP over 2 gloo processes, the decode route with
``decode_jpeg(device='cpu')``, ``torch.compile`` with the ``aot_eager`` backend); what needs
CUDA (bf16 autocast, nvjpeg, GPU memory) says ``skipped: needs CUDA``. Its figures say that the
code runs, nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's i2pa_core, the same one the children import
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import (git_state as git_record, json_safe, load_avg,  # noqa: E402
                     machine as record_machine)

NEEDS_CUDA = "skipped: needs CUDA"
TARGETS = {"target": 2_500, "moonshot": 5_000}  # training images/s on one H200
RESERVE_S = 5.0    # kept back from the budget for writing the summary
MIN_CAP_S = 15.0   # a check is not started with less time than this
SOFT_MARGIN_S = 10   # a check process stops itself this long before its hard cap
LOADER_TIMEOUT_S = 30  # no batch of 64 pairs takes a DataLoader worker this long
# Set by a launcher around this script; a child must not inherit them (torchrun sets its own).
LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                 "MASTER_ADDR", "MASTER_PORT")


class Skipped(Exception):
    """The check does not apply here; the message is the reason."""


class CheckFailed(Exception):
    """The check ran and failed; ``figures`` are what it measured before failing."""

    def __init__(self, message: str, figures: dict | None = None):
        super().__init__(message)
        self.figures = dict(figures or {})


@dataclass(frozen=True)
class Sizes:
    """Everything that differs between the H200 run and the CPU smoke run."""

    backbone: str          # paper: resnet50 (Sec. 4.1)
    preset: str            # paper: short side 256, random 224 crop
    image_size: int        # side of the rendered JPEGs
    batch_pairs: int       # paper: 64 pairs per step
    warmup: int            # untimed steps (cuDNN autotuning, worker start-up, allocator)
    model_steps: int       # timed steps of throughput_model and compile
    pipe_steps: int        # timed steps of the two input pipelines
    workers: int           # DataLoader workers of the two pipelines
    n_users: int           # synthetic platform size
    val_pairs: int
    train_pairs: int       # training pairs rendered = the per-epoch budget of train_*
    epochs: int
    ddp_procs: int
    render_procs: int
    compile_backend: str


def gpu_sizes() -> Sizes:
    """The H200 run: ~15k JPEGs, 3 x 100 training steps; sized for the 480 s budget (an
    estimate until a GPU run measures it)."""
    import torch
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Sizes(backbone="resnet50", preset="paper", image_size=224, batch_pairs=64, warmup=10,
                 model_steps=50, pipe_steps=100, workers=max(1, min(14, cores - 2)),
                 n_users=500, val_pairs=1000, train_pairs=6400, epochs=3,
                 ddp_procs=max(1, torch.cuda.device_count()), render_procs=max(1, cores - 1),
                 compile_backend="inductor")


SMOKE = Sizes(backbone="tinycnn", preset="synthetic", image_size=32, batch_pairs=16, warmup=2,
              model_steps=4, pipe_steps=4, workers=1, n_users=12, val_pairs=32, train_pairs=64,
              epochs=3, ddp_procs=2, render_procs=2, compile_backend="aot_eager")


@dataclass(frozen=True)
class Context:
    """What a check needs: where to write, the scratch folder, the sizes, its time cap."""

    out: Path
    scratch: Path
    smoke: bool
    sizes: Sizes
    cap_s: float = 600.0

    @property
    def data(self) -> Path:
        return self.scratch / "data"


@dataclass(frozen=True)
class Check:
    name: str
    cap_s: float
    fn: Callable[[Context], dict]
    needs: tuple[str, ...] = ()


# --- the runner ---------------------------------------------------------------------------


def attempt(fn: Callable[[], dict]) -> dict:
    """Run one check function; its figures with status ok, or the failure or skip reason."""
    try:
        figures = fn()
    except Skipped as exc:
        return {"status": "skipped", "reason": str(exc)}
    except CheckFailed as exc:
        return {**exc.figures, "status": "failed", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 -- any error of a check is recorded, never raised
        return {"status": "failed", "error": one_line(exc),
                "traceback": traceback.format_exc()[-3000:]}
    return {"status": "ok", **figures}


def run_checks(checks, execute, out: Path, summary: dict, budget_s: float,
               clock=time.monotonic) -> dict[str, dict]:
    """Run ``checks`` in order through ``execute(check, cap_s) -> record`` within ``budget_s``.

    A check is skipped when one it ``needs`` did not pass or when the budget left is under
    MIN_CAP_S. Each record goes to ``out/<name>.json`` and into ``summary["checks"]``, and the
    summary is rewritten after every check. Returns the records by name.
    """
    start, records = clock(), {}
    summary.setdefault("checks", {})
    for check in checks:
        left = budget_s - (clock() - start) - RESERVE_S
        cap = min(check.cap_s, left)
        blocker = next((n for n in check.needs if records.get(n, {}).get("status") != "ok"), None)
        tic = clock()
        if blocker:
            record = {"status": "skipped", "reason": f"needs check {blocker!r}, which did not pass"}
        elif cap < MIN_CAP_S:
            record = {"status": "skipped", "reason": f"budget: {max(left, 0):.0f} s left of "
                                                     f"{budget_s:.0f} s"}
        else:
            record = execute(check, cap)
        record = {"name": check.name, **record, "cap_s": round(cap, 1),
                  "seconds": round(clock() - tic, 2)}
        records[check.name] = record
        write_json(out / f"{check.name}.json", record)
        summary["checks"][check.name] = {k: record[k] for k in
                                         ("status", "seconds", "cap_s", "error", "reason")
                                         if k in record}
        write_json(out / "gpu_check.json", summary)
    return records


def in_process(ctx: Context):
    """``execute`` for :func:`run_checks` that runs each check in this process (tests)."""
    return lambda check, cap: attempt(lambda: check.fn(replace(ctx, cap_s=cap)))


def in_child(args, scratch: Path, out: Path):
    """``execute`` for :func:`run_checks`: each check in a fresh process of this script (its
    own CUDA context, peak-memory counters and a hard time cap)."""
    def execute(check: Check, cap: float) -> dict:
        result = scratch / "records" / f"{check.name}.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", check.name,
                   "--out", str(out), "--scratch", str(scratch), "--cap-s", f"{cap:.1f}"]
        command += ["--smoke"] if args.smoke else []
        command += ["--workers", str(args.workers)] if args.workers else []
        log = out / "logs" / f"{check.name}.log"
        try:
            code = run_bounded(command, log, cap, env=child_env(args.smoke))
        except (TimeoutError, OSError) as exc:
            return {"status": "failed", "error": f"{one_line(exc)}; log: logs/{log.name}"}
        if result.is_file():
            return json.loads(result.read_text())
        return {"status": "failed", "error": f"check process exited {code} without a record: "
                                             f"{tail(log)}"}
    return execute


def run_bounded(command, log: Path, timeout: float, cwd: Path = ROOT, grace: float = 10,
                env: dict | None = None) -> int:
    """Run ``command`` in its own session with output to ``log``; on overrunning ``timeout``,
    SIGTERM its whole process group (DataLoader and compile workers), SIGKILL it ``grace``
    seconds later, and raise TimeoutError. torchrun puts its workers in sessions of their own
    and stops them on SIGTERM within 30 s, so its caller passes a longer ``grace``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        proc = subprocess.Popen(command, cwd=cwd, env=env or child_env(), stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc, grace)
            raise TimeoutError(f"over its time cap of {timeout:.0f} s, killed") from None
        except BaseException:  # our own soft deadline or Ctrl-C: leave nothing running
            stop_group(proc, grace)
            raise


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group that ``proc`` leads; once ``proc`` has exited (or after
    ``grace`` seconds) SIGKILL whatever is left of the group, workers that outlived it too."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)  # the group run_bounded created, nothing else
        except ProcessLookupError:
            return  # no process of the group is left
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


def child_env(smoke: bool = False) -> dict:
    """This environment without launcher variables, with this checkout first on PYTHONPATH;
    ``smoke`` hides every GPU, so that the smoke run is the CPU run on any machine (with a GPU
    visible, ``init_distributed`` would pick nccl for the smoke run's CPU tensors)."""
    env = {k: v for k, v in os.environ.items()
           if k not in LAUNCHER_VARS and not k.startswith("TORCHELASTIC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if smoke:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


# --- small helpers ------------------------------------------------------------------------


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:600]}" if text else type(exc).__name__


def tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else "(no log)"


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(json_safe(obj), indent=2, allow_nan=False) + "\n")
    os.replace(partial, path)  # a reader never sees half a file


def machine_facts(load_start: list[float] | None = None) -> dict:
    """The machine block every benchmark writes (``_record.machine``: cores, CPU model, memory,
    torch threads, thread variables, load averages), plus the GPU, the versions, the CPU
    affinity, /dev/shm and the code's git state."""
    import torch
    import torchvision

    import i2pa_core
    facts = {**record_machine(load_avg() if load_start is None else load_start),
             "torch": torch.__version__, "torchvision": torchvision.__version__,
             "cuda_runtime": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
             "cpu_cores": os.cpu_count(),
             "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else None, "cuda_available": torch.cuda.is_available(),
             "i2pa_core": str(Path(i2pa_core.__file__).parent), "git": git_state(),
             "dev_shm_free_mib": None if shm_free() is None else shm_free() / 2**20}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        facts.update(gpu=torch.cuda.get_device_name(0), gpu_count=torch.cuda.device_count(),
                     gpu_memory_gib=round(props.total_memory / 2**30, 1),
                     gpu_capability=f"{props.major}.{props.minor}", nvidia_smi=nvidia_smi())
    return facts


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return f"{head or 'unknown'}{' (uncommitted changes)' if dirty else ''}"


def nvidia_smi() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                               "power.limit", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=20).stdout.strip() or "no output"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({one_line(exc)})"


# --- check 1: the CUDA-marked tests --------------------------------------------------------

GPU_MARK = re.compile(r"^\s*@pytest\.mark\.gpu\b", re.MULTILINE)


def pytest_gpu(ctx: Context) -> dict:
    """``pytest -m gpu`` on the files that have such tests (collecting only those is quicker
    than collecting the whole suite); passed / failed / errors / skipped from its JUnit XML."""
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                   if GPU_MARK.search(p.read_text()))
    if not files:
        raise Skipped("no test is marked gpu")
    xml = ctx.scratch / "pytest_gpu.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
               f"--junitxml={xml}", *files]
    log = ctx.out / "logs" / "pytest_gpu.pytest.log"
    code = run_bounded(command, log, max(ctx.cap_s - 2 * SOFT_MARGIN_S, 1))
    figures = {"command": shlex.join(["python", *command[1:-len(files) - 1], *files]),
               "files": files, "returncode": code, **junit_counts(xml)}
    if code not in (0, 5) or figures["failed"] or figures["errors"]:
        raise CheckFailed(f"{figures['failed']} failed, {figures['errors']} errors (pytest exit "
                          f"{code}): {tail(log, 800)}", figures)
    if figures["skipped"] and not ctx.smoke:  # they skip only without a CUDA device
        raise CheckFailed(f"{figures['skipped']} CUDA-marked test(s) skipped on the GPU run: "
                          f"{tail(log, 800)}", figures)
    return figures


def junit_counts(xml: Path) -> dict:
    """Test counts of a pytest JUnit XML file (all zero when pytest wrote none)."""
    import xml.etree.ElementTree as ET
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    if xml.is_file():
        root = ET.parse(xml).getroot()
        for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {"passed": passed, "failed": counts["failures"], "errors": counts["errors"],
            "skipped": counts["skipped"]}


# --- check 2: data ------------------------------------------------------------------------


def prepare(ctx: Context) -> dict:
    """A synthetic platform, its PDIPs (Sec. 3.1, paper thresholds) cut to ``val_pairs`` +
    ``train_pairs``, and the JPEGs of their posts at ``image_size`` px, rendered in parallel."""
    import pandas as pd

    from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
    from i2pa_core.simulate.platform import SimulateConfig, simulate_platform
    s, tic = ctx.sizes, time.perf_counter()
    platform = simulate_platform(SimulateConfig(n_users=s.n_users, render_images=False), seed=0)
    pdips = generate_pdips(platform.posts, PDIPConfig(val_size=s.val_pairs, test_size=0), 0).pairs
    pairs = pd.concat([pdips[pdips["split"] == "val"].head(s.val_pairs),
                       pdips[pdips["split"] == "train"].head(s.train_pairs)], ignore_index=True)
    sampled = time.perf_counter() - tic
    ctx.data.mkdir(parents=True, exist_ok=True)
    pairs.to_parquet(ctx.data / "pairs.parquet")
    ids = set(pairs["a_post_id"]) | set(pairs["b_post_id"])
    posts = platform.posts[platform.posts["post_id"].isin(ids)]
    posts[["post_id", "image"]].to_parquet(ctx.data / "posts.parquet")
    tic = time.perf_counter()
    render_parallel(platform, pairs, ctx.data / "render", s.image_size, s.render_procs)
    rendered = time.perf_counter() - tic
    files = list((ctx.data / "render" / "images").rglob("*.jpg"))
    return {"n_users": s.n_users, "n_posts": len(platform.posts), "n_pdips": len(pdips),
            "n_train": int((pairs["split"] == "train").sum()),
            "n_val": int((pairs["split"] == "val").sum()), "n_images": len(files),
            "image_size": s.image_size, "mean_jpeg_kib": sum(f.stat().st_size for f in files)
            / max(len(files), 1) / 1024, "simulate_and_pair_seconds": sampled,
            "render_seconds": rendered, "render_procs": s.render_procs,
            "render_images_per_s": len(files) / rendered}


def render_parallel(platform, pairs, root: Path, size: int, procs: int) -> None:
    """:func:`~i2pa_core.simulate.pair_images.render_pair_images` on ``procs`` slices of the
    pairs at once, each into its own folder, then moved into ``root/images``."""
    import numpy as np
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from i2pa_core.simulate.pair_images import pair_posts
    slices = [pairs.iloc[part] for part in np.array_split(np.arange(len(pairs)), procs)
              if len(part)]
    jobs = [(*pair_posts(platform.posts, platform.truth, part), part,
             root.parent / f"render_part{k}", size) for k, part in enumerate(slices)]
    # fork: this process never touched CUDA, and forked workers skip re-importing the package
    with ProcessPoolExecutor(len(jobs), mp_context=get_context("fork")) as pool:
        folders = list(pool.map(render_part, jobs))
    for folder in folders:
        for path in sorted(folder.rglob("*.jpg")):
            dest = root / "images" / path.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
        shutil.rmtree(folder.parent)


def render_part(job) -> Path:
    from i2pa_core.simulate.pair_images import RenderConfig, render_pair_images
    posts, truth, pairs, out, size = job
    return render_pair_images(posts, truth, pairs, out, size, RenderConfig().cast_strength)


# --- checks 3-5: training images/s by route -----------------------------------------------


def runtime(ctx: Context, autotune: bool = True):
    """(torch, device) of a check: the CPU with one thread in the smoke run; else CUDA, with
    cuDNN autotuning for the fixed 224 px shapes (its trials fall in the warm-up steps).
    Never initialises CUDA itself: DataLoader workers may still be forked after this."""
    import torch
    if ctx.smoke:
        torch.set_num_threads(1)
        return torch, torch.device("cpu")
    torch.backends.cudnn.benchmark = autotune
    return torch, torch.device("cuda")


def sync(device) -> None:
    import torch
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_facts(device) -> dict:
    """How a check's steps ran: autocast, memory format, device, torch threads."""
    import torch
    autocast = "bf16" if device.type == "cuda" else f"{NEEDS_CUDA} (fp32 on the CPU)"
    return {"autocast": autocast, "memory_format": "channels_last", "device": str(device),
            "torch_threads": torch.get_num_threads()}


def gpu_memory(device) -> dict:
    """Peak GPU memory of this process (each check has its own process)."""
    import torch
    if device.type != "cuda":
        return {"peak_gpu_memory_mib": NEEDS_CUDA}
    return {"peak_gpu_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20,
            "peak_gpu_reserved_mib": torch.cuda.max_memory_reserved(device) / 2**20}


def trainer(ctx: Context, device, backend: str | None = None, normalize=None):
    """One training step of a fresh scorer with the paper's optimiser (Adam, lr 1e-5 body and
    1e-4 head, Sec. 4.1) and loss (Eq. 7-9): ``step(batch) -> images in the batch``.
    ``normalize``: the preset's ``normalize_batch`` unless given (:func:`device_normalize`)."""
    import torch

    from i2pa_core.model.losses import get_loss
    from i2pa_core.model.presets import make_transform
    from i2pa_core.train.config import TrainConfig
    from i2pa_core.train.loop import initial_model, make_optimizer, train_step
    cfg = TrainConfig(backbone=ctx.sizes.backbone, preset=ctx.sizes.preset, lr=1e-5,
                      lr_head=1e-4, device=device.type)
    model = initial_model(cfg, 0).to(device, memory_format=torch.channels_last)
    optimizer, _ = make_optimizer(model, cfg)
    runner = torch.compile(model, backend=backend) if backend else model
    loss_fn = get_loss("bce")
    normalize = normalize or make_transform(cfg.preset, train=True).normalize_batch

    def step(batch: dict) -> int:
        train_step(runner, batch, optimizer, loss_fn, device, device.type == "cuda", normalize)
        return len(batch["images"])
    return step


def timed(step, batches, warmup: int, device) -> dict:
    """Images/s of ``step`` over ``batches`` after ``warmup`` untimed steps. The clock includes
    waiting for each batch and stops after a device synchronisation."""
    batches = iter(batches)
    for _ in range(warmup):
        step(next(batches))
    sync(device)
    tic, steps, images = time.perf_counter(), 0, 0
    for batch in batches:
        images += step(batch)
        steps += 1
    sync(device)
    seconds = time.perf_counter() - tic
    return {"warmup_steps": warmup, "timed_steps": steps, "images_per_step": images / steps,
            "ms_per_step": 1e3 * seconds / steps, "images_per_s": images / seconds}


def random_batch(ctx: Context, device) -> dict:
    """64 pairs of distinct random uint8 images at the network's input size, on ``device``."""
    import torch

    from i2pa_core.model.presets import PRESETS
    side, pairs = PRESETS[ctx.sizes.preset].crop or ctx.sizes.image_size, ctx.sizes.batch_pairs
    gen = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (2 * pairs, 3, side, side), dtype=torch.uint8, device=device,
                           generator=gen)
    index = torch.arange(pairs, device=device)
    target = (torch.rand(pairs, device=device, generator=gen) < 0.5).float()
    return {"images": images, "first": index, "second": index + pairs, "target": target}


def device_normalize(preset: str, device):
    """``Transform.normalize_batch`` with the ImageNet mean/std made on ``device`` once.

    The package builds them with ``torch.tensor(..., device=x.device)`` on every call: on CUDA
    two blocking host-to-device copies, each a stream synchronisation, per training step, so
    the CPU cannot queue a step ahead of the GPU. Same arithmetic, so the same numbers (the
    tests compare on the CPU); this measures what the synchronisations cost.
    """
    import torch

    from i2pa_core.model.presets import IMAGENET_MEAN, IMAGENET_STD, PRESETS
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    scale = PRESETS[preset].normalize

    def normalize(images):
        x = images.float().div_(255.0)
        return x.sub_(mean).div_(std) if scale else x
    return normalize


def throughput_model(ctx: Context) -> dict:
    """(a) The model alone: the same device-resident batch every step; once with the package's
    normalisation, once with :func:`device_normalize` (no synchronisation per step)."""
    _, device = runtime(ctx)
    s, batch = ctx.sizes, random_batch(ctx, device)
    batches = [batch] * (s.warmup + s.model_steps)
    timing = timed(trainer(ctx, device), batches, s.warmup, device)
    unsynced = timed(trainer(ctx, device, normalize=device_normalize(s.preset, device)), batches,
                     s.warmup, device)
    return {"route": "random uint8 tensors already on the device", "backbone": s.backbone,
            "input_px": batch["images"].shape[-1], "batch_pairs": s.batch_pairs, **timing,
            "normalize": "the package's Transform.normalize_batch",
            "device_normalize_images_per_s": unsynced["images_per_s"],
            "device_normalize_speedup": unsynced["images_per_s"] / timing["images_per_s"],
            **run_facts(device), **gpu_memory(device)}


class EpochCycle:
    """The items of a PairBatchSampler, epoch after epoch, until ``steps`` batches."""

    def __init__(self, sampler, steps: int):
        self.sampler, self.steps = sampler, steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        count, epoch = 0, 0
        while True:
            self.sampler.set_epoch(epoch)
            for item in self.sampler:
                if count == self.steps:
                    return
                yield item
                count += 1
            epoch += 1


def training_pairs(ctx: Context):
    """The ``train`` PairSet of the prepared data."""
    import pandas as pd

    from i2pa_core.train.data import pair_set
    pairs = pd.read_parquet(ctx.data / "pairs.parquet")
    posts = pd.read_parquet(ctx.data / "posts.parquet")
    return pair_set(pairs, posts, ctx.data / "render", "train")


def shm_free() -> int | None:
    try:
        return shutil.disk_usage("/dev/shm").free
    except OSError:
        return None


def fit_in_shm(workers: int, per_worker: int) -> tuple[int, str | None]:
    """DataLoader workers whose batches in flight (``per_worker`` bytes each) fit in half of
    /dev/shm, through which workers hand batches over (containers often mount only 64 MB:
    a worker then dies of a bus error). Returns (workers, why fewer, or None)."""
    free = shm_free()
    if free is None or workers == 0 or workers * per_worker <= free // 2:
        return workers, None
    fitted = min(workers, int(free // 2 // per_worker))
    return fitted, (f"/dev/shm has {free / 2**20:.0f} MiB free: {fitted} DataLoader workers "
                    f"instead of {workers}")


def batch_bytes(ctx: Context, images: int) -> int:
    """uint8 pixels of ``images`` images at the network's input size."""
    from i2pa_core.model.presets import PRESETS
    side = PRESETS[ctx.sizes.preset].crop or ctx.sizes.image_size
    return images * 3 * side * side


def pipeline_loader(dataset, n_pairs: int, ctx: Context, pin: bool):
    """(DataLoader over ``warmup + pipe_steps`` batches of 64 pairs with ``workers`` processes
    and 4 batches each in flight, as the package's loader; the loader facts for the JSON)."""
    from torch.utils.data import DataLoader

    from i2pa_core.train.data import PairBatchSampler
    s = ctx.sizes
    workers, note = fit_in_shm(s.workers, 4 * batch_bytes(ctx, 2 * s.batch_pairs))
    sampler = EpochCycle(PairBatchSampler(n_pairs, s.batch_pairs, seed=0), s.warmup + s.pipe_steps)
    # timeout: a batch lost between processes raises here instead of hanging to the time cap
    loader = DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=workers,
                        pin_memory=pin, prefetch_factor=4 if workers else None,
                        timeout=LOADER_TIMEOUT_S if workers else 0)
    facts = {"workers": workers, "prefetch_factor": 4 if workers else None, "pin_memory": pin}
    return loader, {**facts, "workers_note": note} if note else facts


def throughput_cpu_decode(ctx: Context) -> dict:
    """(b) The package's pipeline: PairBatches (PIL decode, ``paper`` geometry, uint8) in
    DataLoader workers, pinned batches, non_blocking copies (train_step), then the step."""
    from i2pa_core.model.presets import make_transform
    from i2pa_core.train.data import PairBatches
    _, device = runtime(ctx)
    train, s = training_pairs(ctx), ctx.sizes
    dataset = PairBatches(train, make_transform(s.preset, train=True), seed=0)
    loader, facts = pipeline_loader(dataset, len(train), ctx, pin=device.type == "cuda")
    batches = iter(loader)  # workers fork here, before this process initialises CUDA
    timing = timed(trainer(ctx, device), batches, s.warmup, device)
    return {"route": "PIL decode + preset geometry in DataLoader workers (PairBatches)",
            **facts, "non_blocking": True, "n_train_pairs": len(train), **timing,
            **run_facts(device), **gpu_memory(device)}


class RawPairBatches:
    """PairBatches' batches with the encoded bytes of each distinct image instead of pixels,
    for decoding on the device: ``raw`` all files' bytes in one 1-D uint8 tensor, ``ends``
    where each file ends (:func:`split_raw`). One tensor, not one per file: a worker hands
    every tensor's storage over through a file descriptor of its own, and with a hundred per
    batch the first smoke run lost a batch to ``OSError: Bad file descriptor`` and hung."""

    def __init__(self, pairs, seed: int):
        self.pairs, self.seed = pairs, seed

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, item) -> dict:
        import numpy as np
        import torch
        from torchvision.io import read_file
        epoch, batch_no, index, swapped = item
        a, b = self.pairs.a_index[index], self.pairs.b_index[index]
        first, second = np.where(swapped, b, a), np.where(swapped, a, b)
        unique, inverse = np.unique(np.concatenate([first, second]), return_inverse=True)
        inverse = torch.from_numpy(inverse)
        seed = int(np.random.SeedSequence([self.seed, epoch, batch_no]).generate_state(1)[0])
        files = [read_file(self.pairs.paths[k]) for k in unique.tolist()]
        ends = torch.tensor([len(f) for f in files], dtype=torch.int64).cumsum(0)
        return {"raw": torch.cat(files), "ends": ends, "first": inverse[:len(first)],
                "second": inverse[len(first):],
                "target": torch.from_numpy((~swapped).astype(np.float32)), "seed": seed}


def split_raw(raw, ends) -> list:
    """The files of a :class:`RawPairBatches` batch: 1-D uint8 views of ``raw``."""
    starts = [0, *ends[:-1].tolist()]
    return [raw[a:b] for a, b in zip(starts, ends.tolist())]


def device_geometry(images, preset, gen):
    """The training geometry of a preset (short side resized, random square crop, random flip;
    Sec. 4.1) applied where the decoded ``(3, H, W)`` uint8 images lie: ``(U, 3, h, w)`` float
    in [0, 255]. Images of one shape are resized as one batch. Torch's antialiased bilinear
    resize, so close to, not bit-identical with, the PIL path of the package."""
    import torch
    from torchvision.transforms.v2 import functional as F
    groups: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(tuple(image.shape), []).append(i)
    out = [None] * len(images)
    for members in groups.values():
        batch = torch.stack([images[i] for i in members]).float()
        if preset.resize is not None:
            size = list(preset.resize) if isinstance(preset.resize, tuple) else [preset.resize]
            batch = F.resize(batch, size, antialias=True)  # [n]: the short side becomes n
        for j, i in enumerate(members):
            out[i] = random_crop(batch[j], preset.crop, gen) if preset.crop else batch[j]
    result = torch.stack(out)
    if preset.flip:
        flip = (torch.rand(len(out), generator=gen) < 0.5).to(result.device)
        result = torch.where(flip.view(-1, 1, 1, 1), result.flip(-1), result)
    return result


def random_crop(image, side: int, gen):
    """A random ``side`` x ``side`` window (top drawn before left, as the package's preset)."""
    import torch
    height, width = image.shape[-2:]
    top = int(torch.randint(0, height - side + 1, (1,), generator=gen))
    left = int(torch.randint(0, width - side + 1, (1,), generator=gen))
    return image[:, top:top + side, left:left + side]


def throughput_gpu_decode(ctx: Context) -> dict:
    """(c) Workers read the JPEG bytes; ``decode_jpeg`` decodes the batch's list on the device
    (nvjpeg; the CPU in the smoke run), then :func:`device_geometry` and the step."""
    from torchvision.io import ImageReadMode, decode_jpeg

    from i2pa_core.model.presets import PRESETS
    torch, device = runtime(ctx)
    train, s, preset = training_pairs(ctx), ctx.sizes, PRESETS[ctx.sizes.preset]
    # No pinning: decode_jpeg reads the encoded bytes on the host itself (no copy of ours).
    loader, facts = pipeline_loader(RawPairBatches(train, seed=0), len(train), ctx, pin=False)
    batches, step = iter(loader), trainer(ctx, device)

    def decode_step(batch: dict) -> int:
        files = split_raw(batch["raw"], batch["ends"])
        decoded = decode_jpeg(files, mode=ImageReadMode.RGB, device=device)  # list -> list
        images = device_geometry(decoded, preset, torch.Generator().manual_seed(batch["seed"]))
        return step({**batch, "images": images})
    timing = timed(decode_step, batches, s.warmup, device)
    cuda = device.type == "cuda"
    return {"route": "bytes read in DataLoader workers, torchvision.io.decode_jpeg(list, "
                     f"device={device.type!r}), resize/crop on the device",
            "decode_device": device.type,
            "cuda_decode": "nvjpeg (decode_jpeg device='cuda')" if cuda else NEEDS_CUDA,
            **facts, "n_train_pairs": len(train), **timing, **run_facts(device),
            **gpu_memory(device)}


# --- checks 6-7: does the paper's configuration learn? --------------------------------------


def resolve_init(backbone: str) -> tuple[bool, str]:
    """(pretrained, what the JSON says): ImageNet weights when build_scorer finds them in the
    offline torch cache, else random initialisation (nothing is downloaded)."""
    from i2pa_core.model.scorer import (BACKBONES, PretrainedWeightsMissing, build_scorer,
                                        pretrained_weights_file)
    if BACKBONES[backbone].tv_name is None:
        return False, f"random ({backbone} has no ImageNet weights)"
    try:
        build_scorer(backbone, pretrained=True)
    except PretrainedWeightsMissing:
        return False, "random (no ImageNet weights offline)"
    return True, f"ImageNet ({pretrained_weights_file(backbone)})"


def paper_overrides(ctx: Context, pretrained: bool) -> dict:
    """What these runs change in the ``paper`` profile (Sec. 4.1): a few hundred steps instead
    of 30 epochs, no torch.compile (check ``compile`` measures it, so that a compile failure
    cannot hide whether training learns), and in the smoke run the tiny CPU sizes."""
    from i2pa_core.train.config import PROFILES
    s, paper = ctx.sizes, PROFILES["paper"]
    over = {"pretrained": pretrained, "epochs": s.epochs, "max_train_pairs": s.train_pairs,
            "max_val_pairs": s.val_pairs, "compile": False}
    if ctx.smoke:
        over.update(backbone=s.backbone, preset=s.preset, batch_pairs=s.batch_pairs,
                    device="cpu", num_workers=1, threads=1, eval_batch=64)
        return over
    # training: 4 batches in flight per worker; validation: 2 of eval_batch images
    per_worker = max(4 * batch_bytes(ctx, 2 * paper["batch_pairs"]),
                     2 * batch_bytes(ctx, paper["eval_batch"]))
    workers, note = fit_in_shm(paper["num_workers"], per_worker)
    if note:  # batches do not depend on the number of workers (train.data)
        over.update(num_workers=workers)
    return over


def learning(ctx: Context, cfg, history) -> dict:
    """Steps and the verdict of a run: the training loss (Eq. 9) of the last epoch is below the
    first's, and the last validation accuracy's 95 % interval lies above chance (0.5)."""
    import pandas as pd

    from i2pa_core.train.data import PairBatchSampler
    from i2pa_core.train.validation import accuracy_half_width
    split = pd.read_parquet(ctx.data / "pairs.parquet", columns=["split"])["split"]
    n_train, n_val = int((split == "train").sum()), int((split == "val").sum())
    n_val = min(n_val, cfg.max_val_pairs or n_val)
    per_epoch = len(PairBatchSampler(n_train, cfg.batch_pairs, 0, budget=cfg.max_train_pairs))
    loss = [float(v) for v in history["train_loss"]]
    accuracy = [float(v) for v in history["val_accuracy"]]
    half = accuracy_half_width(accuracy[-1], n_val)
    fell, above = loss[-1] < loss[0], accuracy[-1] - half > 0.5
    return {"steps": per_epoch * len(loss), "steps_per_epoch": per_epoch, "val_pairs": n_val,
            "train_loss": loss, "val_accuracy": accuracy,
            "pairs_per_s": [float(v) for v in history["pairs_per_s"]],
            "final_train_loss": loss[-1], "final_val_accuracy": accuracy[-1],
            "val_half_width_95": half, "loss_fell": fell, "above_chance": above,
            "learned": fell and above}


def train_paper(ctx: Context) -> dict:
    """The ``paper`` profile through :func:`i2pa_core.train.loop.train_model` in this process,
    as the package runs it (no cuDNN autotuning; DataLoader workers of the profile)."""
    import pandas as pd

    from i2pa_core.train.config import train_config
    from i2pa_core.train.loop import train_model
    _, device = runtime(ctx, autotune=False)
    pretrained, init = resolve_init(ctx.sizes.backbone)
    overrides = paper_overrides(ctx, pretrained)
    cfg = train_config(overrides, "paper")
    pairs = pd.read_parquet(ctx.data / "pairs.parquet")
    posts = pd.read_parquet(ctx.data / "posts.parquet")
    tic = time.perf_counter()
    result = train_model(cfg, pairs, posts, ctx.data / "render", ctx.scratch / "train_paper",
                         seed=0, progress=False, live=False)
    return {"init": init, "profile": "paper", "overrides": overrides, "config": asdict(cfg),
            "train_seconds": time.perf_counter() - tic, **learning(ctx, cfg, result.history),
            **run_facts(device), **gpu_memory(device)}


def train_ddp(ctx: Context) -> dict:
    """The same run launched by torchrun through ``i2pa_core.train.ddp`` (nccl on CUDA, gloo on
    the CPU); reads the history from its ``last.pt``."""
    from i2pa_core.io.checkpoint import load_checkpoint
    from i2pa_core.train.config import train_config
    pretrained, init = resolve_init(ctx.sizes.backbone)
    overrides, out = paper_overrides(ctx, pretrained), ctx.scratch / "train_ddp"
    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    launch = ["--standalone", f"--nproc-per-node={ctx.sizes.ddp_procs}", "-m",
              "i2pa_core.train.ddp", "--profile", "paper", *sets,
              "--pairs", str(ctx.data / "pairs.parquet"), "--posts", str(ctx.data / "posts.parquet"),
              "--image-root", str(ctx.data / "render"), "--out", str(out), "--seed", "0",
              "--no-progress"]
    log = ctx.out / "logs" / "train_ddp.torchrun.log"
    tic = time.perf_counter()
    # --standalone: a free local port, no clash with another job's 29500
    # torchrun stops its workers within 30 s of SIGTERM (grace 35 s, then 5 s for SIGKILL):
    # even a run that overruns is over before this process's soft deadline
    code = run_bounded([sys.executable, "-m", "torch.distributed.run", *launch], log,
                       max(ctx.cap_s - SOFT_MARGIN_S - 45, 1), grace=35)
    figures = {"command": shlex.join(["torchrun", *launch]), "nproc_per_node":
               ctx.sizes.ddp_procs, "returncode": code, "init": init, "overrides": overrides,
               "train_seconds": time.perf_counter() - tic}
    if code != 0:
        raise CheckFailed(f"torchrun exited {code}: {tail(log, 1200)}", figures)
    world = re.search(r"world=(\d+)", log.read_text(errors="replace"))
    figures["world"] = int(world.group(1)) if world else None
    figures["ddp_wrapped"] = bool(world) and figures["world"] > 1
    if not figures["ddp_wrapped"]:
        figures["note"] = ("world size 1: init_distributed starts no process group and "
                           "train_model wraps no DistributedDataParallel, so this measures the "
                           "torchrun launch and the entry point, not DDP itself")
    history = load_checkpoint(out / "last.pt")["history"]
    return {**figures, **learning(ctx, train_config(overrides, "paper"), history)}


# --- check 8: torch.compile ---------------------------------------------------------------


def compile_speedup(ctx: Context) -> dict:
    """Eager vs ``torch.compile`` steps on the model-only batch; the first compiled step (the
    compilation) is timed apart. A compile error fails the check with its text."""
    _, device = runtime(ctx)
    s, batch = ctx.sizes, random_batch(ctx, device)
    batches = [batch] * (s.warmup + s.model_steps)
    eager = timed(trainer(ctx, device), batches, s.warmup, device)
    figures = {"backend": s.compile_backend, "mode": "default",
               "eager_images_per_s": eager["images_per_s"], **run_facts(device)}
    try:
        step = trainer(ctx, device, backend=s.compile_backend)
        tic = time.perf_counter()
        step(batch)
        sync(device)
        figures["first_step_seconds"] = time.perf_counter() - tic
        compiled = timed(step, batches, s.warmup, device)
    except Exception as exc:  # noqa: BLE001 -- the error text is the result
        raise CheckFailed(f"torch.compile ({s.compile_backend}): {one_line(exc)}",
                          {**figures, "traceback": traceback.format_exc()[-3000:]}) from exc
    figures.update(compiled_images_per_s=compiled["images_per_s"],
                   speedup=compiled["images_per_s"] / eager["images_per_s"],
                   timed_steps=compiled["timed_steps"], **gpu_memory(device))
    return figures


CHECKS = (
    Check("pytest_gpu", 90, pytest_gpu),
    Check("prepare", 90, prepare),
    Check("throughput_model", 60, throughput_model),
    Check("throughput_cpu_decode", 75, throughput_cpu_decode, needs=("prepare",)),
    Check("throughput_gpu_decode", 60, throughput_gpu_decode, needs=("prepare",)),
    Check("train_paper", 120, train_paper, needs=("prepare",)),
    Check("train_ddp", 160, train_ddp, needs=("prepare",)),
    Check("compile", 150, compile_speedup),
)
BY_NAME = {check.name: check for check in CHECKS}

DDP_VS_SINGLE = (
    "same seed and batches; equal up to rounding (and cuDNN's non-determinism) only with world "
    "size 1 or a preset without random augmentation: PairBatches draws each image's crop/flip "
    "in the order of the distinct images of its process's share, so with world > 1 the shares "
    "of a batch are augmented differently from the whole batch in one process")

UNMEASURED = [
    "ImageNet-pretrained initialisation, unless the train checks' init says ImageNet (the "
    "weights must already be in the offline torch cache)",
    "the paper's full run: 30 epochs on real Instagram PDIPs and its test accuracy",
    "DistributedDataParallel across several GPUs (one GPU gives world size 1)",
    "torch.compile inside train_model (the paper profile's compile: true); only the "
    "model-only speed-up is measured",
    "decoding real photos: the JPEGs here are 224 px synthetic renders, real ones are larger",
    "validation and test scoring throughput on the GPU on their own",
]


# --- the summary --------------------------------------------------------------------------


def number(records: dict, name: str, key: str):
    value = records.get(name, {}).get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def headline(records: dict, smoke: bool) -> dict:
    """Images/s of each route, full pipeline / model-only ratios, the 2,500 and 5,000 images/s
    thresholds (not for the smoke run), the learning verdicts and the compile speed-up."""
    rates = {"model_only": number(records, "throughput_model", "images_per_s"),
             "cpu_decode": number(records, "throughput_cpu_decode", "images_per_s"),
             "gpu_decode": number(records, "throughput_gpu_decode", "images_per_s")}
    model = rates["model_only"]
    figures = {"images_per_s": rates,
               "over_model_only": {k: v / model if v is not None and model else None
                                   for k, v in rates.items() if k != "model_only"}}
    figures["thresholds"] = (
        "not applicable: the smoke run checks code paths on the CPU, not speed" if smoke else
        {route: {f"{label}_{limit}": None if v is None else v >= limit
                 for label, limit in TARGETS.items()} for route, v in rates.items()})
    keys = ("init", "steps", "final_train_loss", "final_val_accuracy", "val_half_width_95",
            "loss_fell", "above_chance")
    figures["learning"] = {name: {k: records.get(name, {}).get(k) for k in keys}
                           for name in ("train_paper", "train_ddp")}
    single = number(records, "train_paper", "final_train_loss")
    ddp = number(records, "train_ddp", "final_train_loss")
    figures["ddp_minus_single_final_loss"] = None if None in (single, ddp) else ddp - single
    figures["ddp_minus_single_note"] = DDP_VS_SINGLE
    figures["compile_speedup"] = number(records, "compile", "speedup")
    figures["device_normalize_speedup"] = number(records, "throughput_model",
                                                 "device_normalize_speedup")
    figures["peak_gpu_memory_mib"] = {name: records.get(name, {}).get("peak_gpu_memory_mib")
                                      for name in ("throughput_model", "throughput_cpu_decode",
                                                   "throughput_gpu_decode", "train_paper",
                                                   "compile")}
    return figures


# --- command line -------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON files")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU")
    parser.add_argument("--budget-s", type=float, default=480.0,
                        help="wall-clock budget of all checks (default 480 s = 8 min)")
    parser.add_argument("--workers", type=int, default=0,
                        help="DataLoader workers of the throughput pipelines (0: cores - 2, "
                             "at most 14; 1 in the smoke run)")
    parser.add_argument("--only", nargs="+", choices=list(BY_NAME), help="run only these checks")
    parser.add_argument("--scratch", type=Path,
                        help="folder for data and checkpoints, kept (default: a temporary one, "
                             "removed at the end)")
    parser.add_argument("--child", choices=list(BY_NAME), help=argparse.SUPPRESS)
    parser.add_argument("--cap-s", type=float, default=600.0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_context(args, scratch: Path) -> Context:
    sizes = SMOKE if args.smoke else gpu_sizes()
    if args.workers:
        sizes = replace(sizes, workers=args.workers)
    return Context(args.out.resolve(), scratch.resolve(), args.smoke, sizes, args.cap_s)


def soft_deadline(cap_s: float) -> None:
    """Raise TimeoutError in this process a little before the parent's hard cap, so that the
    check still writes its record (and what it measured so far, where it catches it)."""
    def expire(signum, frame):
        raise TimeoutError(f"soft time cap ({seconds} s of a {cap_s:.0f} s cap) reached")
    seconds = max(1, int(cap_s - SOFT_MARGIN_S if cap_s > 2 * SOFT_MARGIN_S else cap_s * 0.7))
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def child_main(args) -> int:
    """One check in this process; its record goes to ``scratch/records/<name>.json``."""
    ctx = make_context(args, args.scratch)
    soft_deadline(ctx.cap_s)
    record = attempt(lambda: BY_NAME[args.child].fn(ctx))
    signal.alarm(0)
    write_json(ctx.scratch / "records" / f"{args.child}.json", record)
    print(f"{args.child}: {record['status']} {record.get('error', record.get('reason', ''))}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    import torch
    if not args.smoke and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device here; --smoke runs the CPU code paths")
    out, started = args.out.resolve(), time.monotonic()
    scratch = (args.scratch or Path(tempfile.mkdtemp(prefix="gpu_check_"))).resolve()
    shutil.rmtree(out / "logs", ignore_errors=True)
    for name in BY_NAME:  # no record of an earlier run may pass for this one's
        (out / f"{name}.json").unlink(missing_ok=True)
    shutil.rmtree(scratch / "records", ignore_errors=True)
    ctx = make_context(args, scratch)
    argv_used = sys.argv[1:] if argv is None else list(argv)
    load_start = load_avg()
    summary = {"benchmark": "gpu_check",
               "command": shlex.join(["python", "benchmarks/gpu_check.py", *argv_used]),
               "python_executable": sys.executable, "mode": "smoke" if args.smoke else "gpu",
               "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "budget_s": args.budget_s, "sizes": asdict(ctx.sizes),
               "machine": machine_facts(load_start), "checks": {}}
    write_json(out / "gpu_check.json", summary)
    checks = [c for c in CHECKS if not args.only or c.name in args.only]
    records = run_checks(checks, in_child(args, scratch, out), out, summary, args.budget_s)
    summary.update(figures=headline(records, args.smoke), unmeasured=UNMEASURED,
                   seconds=round(time.monotonic() - started, 1),
                   finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   git=git_record(), machine=machine_facts(load_start))
    write_json(out / "gpu_check.json", summary)
    if args.scratch is None:
        shutil.rmtree(scratch, ignore_errors=True)
    for name, record in records.items():
        note = record.get("error") or record.get("reason") or ""
        print(f"{name:22s} {record['status']:8s} {record['seconds']:7.1f} s  {note[:150]}")
    print(f"summary: {out / 'gpu_check.json'} ({summary['seconds']} s)")
    return 1 if any(r["status"] == "failed" for r in records.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
