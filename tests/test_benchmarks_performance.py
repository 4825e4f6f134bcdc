"""The README Performance table (i2pa_core.stages.performance) from hand-written records.

Every expected row below is typed by hand from the fixture's numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from i2pa_core.stages import performance as P
from i2pa_core.stages import performance_rows as R

ROOT = Path(__file__).resolve().parents[1]

SIMULATE = {
    "benchmark": "simulate_throughput", "command": "python benchmarks/simulate_throughput.py",
    "machine": {"cores": 2, "load_avg_start": [0.5, 0.4, 0.3], "load_avg_end": [1.25, 0.6, 0.4]},
    "figures": {"with_images": {"posts": 97676, "seconds": 55.98, "posts_per_s": 1744.8,
                                "peak_rss_mib_so_far": 270.4, "image_px": 64},
                "metadata_only": {"posts": 9969719, "seconds": 60.47, "posts_per_s": 164875.2,
                                  "peak_rss_mib_so_far": 873.0}}}
# a pairs_engines record of the schema before benchmarks/_record.py (no "benchmark" key)
ENGINES_OLD = {
    "command": "python benchmarks/pairs_engines.py --sizes 1e7",
    "machine": {"cores": 2, "load_avg_at_start": [0.27, 0.74, 0.65]},
    "figures": [{"posts": 10000000, "identical_tables": True,
                 "speedup_dask2_over_dask1": {"wall": 1.3, "worker_cpu": 1.5},
                 "engines": [
                     {"engine": "inprocess", "wall_s": 52.32, "driver": {"peak_rss_mib": 3844.3},
                      "pdips": 450673, "load_avg_after": 0.85},
                     {"engine": "dask2", "wall_s": 40.41, "driver": {"peak_rss_mib": 395.0},
                      "workers": [{"peak_rss_mib": 1671.1}, {"peak_rss_mib": 1307.5}],
                      "pdips": 450673, "load_avg_after": 2.09}]}],
    "extrapolation_2e8": {"from_posts": 10000000, "streaming_1_core_s": 1055,
                          "pairs_table_mib": 771,
                          "cpu": {"dask_2_cores_s": 703, "dask_32_cores_s": 375,
                                  "parallel_share": 0.665}}}
ENGINES_NEW = {
    "benchmark": "pairs_engines", "command": "python benchmarks/pairs_engines.py --sizes 5e7",
    "machine": {"cores": 2, "load_avg_start": [1.06, 0.7, 0.3], "load_avg_end": [3.82, 2, 1]},
    "figures": {"sizes": [{"posts": 50000000, "identical_tables": True, "engines": [
        {"engine": "streaming", "wall_s": 436.21, "driver": {"peak_rss_mib": 1340.7},
         "pdips": 2252691},
        {"engine": "dask1", "wall_s": 529.22, "driver": {"peak_rss_mib": 941.9},
         "workers": [{"peak_rss_mib": 1469.5}], "pdips": 2252691}]}],
        "extrapolation_2e8": {"from_posts": 50000000, "streaming_1_core_s": 1745,
                              "pairs_table_mib": 796,
                              "cpu": {"dask_2_cores_s": 1143, "dask_32_cores_s": 229,
                                      "parallel_share": 0.921}}}}
REPRO = {
    "benchmark": "repro_time", "command": "python benchmarks/repro_time.py",
    "machine": {"cores": 2, "load_avg_start": [0.1, 0.1, 0.1], "load_avg_end": [2.0, 1, 1]},
    "figures": {"repro_command": "dvc repro -f", "repro_s": 805.4, "noop_command": "dvc repro",
                "noop_s": 3.94, "dry": False, "targets": [], "stages": {
                    "simulate": {"seconds": 9.67, "in_this_run": True},
                    "pairs": {"seconds": 47.58, "in_this_run": False},
                    "ablate@vgg16": {"seconds": 58.14, "in_this_run": True}}}}

EXPECTED = """\
| what | figure | command | file |
|---|---|---|---|
| simulation with 64 px images, one core | 97,676 posts in 56.0 s (1,745 posts/s), 270 MiB peak RSS [2 cores, load 0.50 → 1.25] | `python benchmarks/simulate_throughput.py` | `results/benchmarks/simulate_throughput.json` |
| simulation, metadata only, one core | 9,969,719 posts in 60.5 s (164,875 posts/s), 873 MiB peak RSS [2 cores, load 0.50 → 1.25] | `python benchmarks/simulate_throughput.py` | `results/benchmarks/simulate_throughput.json` |
| PDIP engines at 10^7 posts | in-process 52.3 s, 3.75 GiB; Dask 2 workers 40.4 s (workers 1.63 / 1.28 GiB, driver 0.39 GiB); identical tables, 450,673 PDIPs; Dask 2 over 1 worker: 1.30x wall clock, 1.50x worker CPU seconds [2 cores, load 0.27 → 2.09] | `python benchmarks/pairs_engines.py --sizes 1e7` | `results/benchmarks/pairs_engines_1e7.json` |
| PDIP engines at 5 x 10^7 posts | streaming 436 s, 1.31 GiB; Dask 1 worker 529 s (worker 1.44 GiB, driver 0.92 GiB); identical tables, 2,252,691 PDIPs [2 cores, load 1.06 → 3.82] | `python benchmarks/pairs_engines.py --sizes 5e7` | `results/benchmarks/pairs_engines_5e7.json` |
| 2 x 10^8 posts, the paper's pool (**extrapolation**, not a measurement: linear in posts from 5 x 10^7, Amdahl with the parallel share 0.92 implied by the worker-CPU speed-up) | streaming on one core about 29 min; Dask on 2 cores about 19 min, on 32 cores about 4 min, plus a real cluster's network shuffle; the driver holds the pairs table (about 0.78 GiB) a few times over | `python benchmarks/pairs_engines.py --sizes 5e7` | `results/benchmarks/pairs_engines_5e7.json` |
| `dvc repro -f` | 13 min 25 s: simulate 9.67 s, ablate@vgg16 58.1 s (papermill durations); no-op `dvc repro` 3.94 s [2 cores, load 0.10 → 2.00] | `python benchmarks/repro_time.py` | `results/benchmarks/repro_time.json` |

No record yet, so no row: `pairs_scale` (`python benchmarks/pairs_scale.py`), `train_throughput` (`python benchmarks/train_throughput.py`), `score_throughput` (`python benchmarks/score_throughput.py`), `gpu_check` (`python benchmarks/gpu_check.py --out results/benchmarks/gpu_check`).

Records of no known benchmark, not shown: `results/benchmarks/notes.json`.
"""


def _records(tmp_path, monkeypatch, records: dict[str, dict]) -> Path:
    """Write ``records`` under tmp_path/results/benchmarks and work from tmp_path."""
    folder = tmp_path / "results" / "benchmarks"
    for name, record in records.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(record))
    monkeypatch.chdir(tmp_path)
    return Path("results/benchmarks")


def test_the_table_from_hand_written_records(tmp_path, monkeypatch):
    folder = _records(tmp_path, monkeypatch, {
        "simulate_throughput.json": SIMULATE, "pairs_engines_1e7.json": ENGINES_OLD,
        "pairs_engines_5e7.json": ENGINES_NEW, "repro_time.json": REPRO,
        "notes.json": {"x": 1}})
    block = P.render(P.read_records(folder))
    assert block.split("\n\n", 1)[1] == EXPECTED


def test_no_record_no_row_and_a_note_naming_every_benchmark(tmp_path, monkeypatch):
    folder = _records(tmp_path, monkeypatch, {})
    block = P.render(P.read_records(folder))
    assert "|---|---|---|---|\n\nNo record yet" in block     # a table without rows
    for name, (command, _) in P.BENCHMARKS.items():
        assert f"`{name}` (`{command}`)" in block


def test_rows_of_the_other_benchmarks():
    scale = {"sampler": [{"posts": 100000, "pdips": 4438, "wall_s": 0.44, "cpu_s": 0.41,
                          "peak_rss_gib": 0.21},
                         {"posts": 1000000, "pdips": 45116, "wall_s": 2.59, "cpu_s": 2.5,
                          "peak_rss_gib": 0.593}],
             "reference": {"posts": 10000, "sampler": {"wall_s": 0.05},
                           "brute_force": {"wall_s": 2.7}, "speedup_vs_brute_force": 54.0},
             "pathological": {"posts": 100000, "wall_s": 255.7, "cpu_s": 250.2,
                              "peak_rss_gib": 0.78, "pdips": 1234},
             "stream": [{"kind": "write", "posts": 10000000, "wall_s": 30.0},
                        {"kind": "stream", "posts": 10000000, "wall_s": 42.9, "cpu_s": 40.0,
                         "peak_rss_gib": 1.42, "tmp_disk_gib": 0.4, "pdips": 450673}]}
    assert R.pairs_scale_rows({"figures": scale}) == [
        ("PDIPs in memory from 10^5 / 10^6 posts",
         "0.44 s / 2.59 s wall (0.41 s / 2.50 s CPU); 0.21 / 0.59 GiB peak; 4,438 / 45,116 PDIPs"),
        ("sampler vs brute-force reference at 10^4 posts",
         "sampler 0.05 s vs brute force 2.70 s (speed-up 54.0x)"),
        ("pathological user (10^5 posts in 100 days, one caption)",
         "256 s wall (250 s CPU), 0.78 GiB peak, 1,234 PDIPs"),
        ("streaming Parquet (per-user partitions)",
         "10^7 posts: 42.9 s wall (40.0 s CPU), 1.42 GiB peak, 0.40 GiB temporary disk, "
         "450,673 PDIPs")]
    train = {"device": "cpu", "torch_threads": 1, "workers": 0, "backbone": "smallcnn",
             "preset": "synthetic", "batch_pairs": 64, "steps": 30, "cache_mib": 256,
             "passes": [{"pass": 1, "kind": "cold (decoding)", "pipeline_pairs_per_s": 93.62,
                         "preloaded_pairs_per_s": 110.67, "pipeline_over_preloaded_rate": 0.846},
                        {"pass": 2, "kind": "warm (cached)", "pipeline_pairs_per_s": 104.0,
                         "preloaded_pairs_per_s": 111.0, "pipeline_over_preloaded_rate": 0.937}]}
    assert R.train_rows({"figures": train}) == [(
        "training input pipeline vs preloaded tensors (smallcnn/synthetic, 64 pairs per step, "
        "30 steps, 1 thread, 0 workers, cache 256 MiB)",
        "pass 1, cold (decoding): pipeline 93.6 pairs/s vs preloaded 111 pairs/s, ratio 0.846; "
        "pass 2, warm (cached): pipeline 104 pairs/s vs preloaded 111 pairs/s, ratio 0.937")]
    gpu = {"device": "cuda", "gpu": "NVIDIA H200", "batch_images": 128, "compile": False,
           "images_per_s": 2841.7}
    assert R.train_rows({"figures": gpu}) == [(
        "training on NVIDIA H200 (ResNet-50, 224 px, bf16, 128 images per step), tensors on "
        "the device", "2,842 images/s")]
    score = {"throughput": {"batched_images": 64, "authors_images": 10,
                            "speedup_batched_over_authors": 22.73, "batched_images_per_s": 6.25,
                            "authors_images_per_s": 0.275, "batched_peak_rss_mib": 905.6},
             "memory": [{"backbone": "tinycnn", "image_px": 32, "images": 1000,
                         "peak_rss_mib": 906.2},
                        {"backbone": "tinycnn", "image_px": 32, "images": 10000,
                         "peak_rss_mib": 912.0}]}
    assert R.score_rows({"figures": score}) == [
        ("batched scoring vs the authors' one-process-per-image script (ResNet-50, 64 / 10 "
         "photos)", "22.7x (6.25 vs 0.275 images/s); batched peak RSS 906 MiB"),
        ("scoring memory (tinycnn, 32 px JPEGs, streamed)",
         "peak RSS 906 / 912 MiB for 10^3 / 10^4 images")]
    check = {"mode": "gpu", "machine": {"gpu": "NVIDIA H200"},
             "checks": {"a": {"status": "ok"}, "b": {"status": "ok"},
                        "c": {"status": "failed"}, "d": {"status": "skipped"}},
             "figures": {"images_per_s": {"model_only": 3000.4, "cpu_decode": 1500.0,
                                          "gpu_decode": None}}}
    assert R.gpu_check_rows(check) == [(
        "GPU check on NVIDIA H200",
        "checks 2 ok, 1 failed, 1 skipped; training images/s: model only 3,000, cpu decode 1,500")]


@pytest.mark.parametrize("name, record, expected", [
    ("pairs_engines_5e7_quiet_dask2.json", {"command": "x"}, "pairs_engines"),
    ("pairs_engines.json", {}, "pairs_engines"),
    ("other.json", {"benchmark": "pairs_scale"}, "pairs_scale"),
    ("pairs_scaled.json", {}, None),                  # a prefix of the name is not enough
    ("notes.json", {}, None)])
def test_which_benchmark_a_record_belongs_to(name, record, expected):
    assert P.benchmark_of(name, record) == expected


def test_count_and_duration():
    assert [R.count(n) for n in (100000, 50000000, 179036, 999, 2 * 10**8)] == \
        ["10^5", "5 x 10^7", "179,036", "999", "2 x 10^8"]
    assert [R.duration(s) for s in (0.44, 52.32, 599.4, 805.4)] == \
        ["0.44 s", "52.3 s", "599 s", "13 min 25 s"]


def test_main_splices_the_block_and_check_says_when_it_is_stale(tmp_path, monkeypatch, capsys):
    folder = _records(tmp_path, monkeypatch, {"simulate_throughput.json": SIMULATE})
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Performance\n\n{P.BEGIN}\nold\n{P.END}\n\nprose after\n")
    args = ["--benchmarks", str(folder), "--readme", str(readme)]
    assert P.main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert P.main(args) == 0
    text = readme.read_text()
    assert text.startswith(f"# x\n\n## Performance\n\n{P.BEGIN}\nWritten by ")
    assert text.endswith(f"`results/benchmarks/simulate_throughput.json` |\n\nNo record yet, so no "
                         f"row: `pairs_scale` (`python benchmarks/pairs_scale.py`), `pairs_engines`"
                         f" (`python benchmarks/pairs_engines.py`), `train_throughput` (`python "
                         f"benchmarks/train_throughput.py`), `score_throughput` (`python benchmarks"
                         f"/score_throughput.py`), `repro_time` (`python benchmarks/repro_time.py"
                         f"`), `gpu_check` (`python benchmarks/gpu_check.py --out results/"
                         f"benchmarks/gpu_check`).\n{P.END}\n\nprose after\n")
    assert P.main([*args, "--check"]) == 0
    assert P.main(args) == 0 and readme.read_text() == text      # idempotent
    readme.write_text("# no markers\n")
    assert P.main(args) == 2 and "markers" in capsys.readouterr().err


def test_a_broken_record_is_an_error_naming_its_file(tmp_path, monkeypatch, capsys):
    folder = _records(tmp_path, monkeypatch, {"pairs_scale.json": {"benchmark": "pairs_scale"}})
    readme = tmp_path / "README.md"
    readme.write_text(f"{P.BEGIN}\n{P.END}\n")
    assert P.main(["--benchmarks", str(folder), "--readme", str(readme)]) == 2
    assert "results/benchmarks/pairs_scale.json: not a pairs_scale record" in \
        capsys.readouterr().err
    (tmp_path / folder / "pairs_scale.json").write_text("{broken")
    assert P.main(["--benchmarks", str(folder), "--readme", str(readme)]) == 2
    assert "pairs_scale.json: not valid JSON" in capsys.readouterr().err


def test_the_readme_performance_block_is_the_one_the_records_give(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert P.main(["--check"]) == 0, "run `make performance` after adding a benchmark record"
