"""The README Performance rows of each benchmark's record (``results/benchmarks/*.json``).

One function per benchmark turns its record (the schema of ``benchmarks/_record.py``) into
``(what, figure)`` rows; every number printed is read from the record. Records of
``pairs_engines`` written before that schema (``figures`` a list, ``extrapolation_2e8`` and
``machine.load_avg_at_start`` at other places) are read as they are.
"""

from __future__ import annotations

import math

Row = tuple[str, str]


def num(x: float) -> str:
    """About three significant digits: ``1,745``, ``52.3``, ``2.59``, ``0.44``, ``0.275``."""
    size = abs(x)
    if size >= 100:
        return f"{x:,.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def count(n: int) -> str:
    """A post count: ``10^5``, ``5 x 10^7``, else ``179,036``."""
    n = int(n)
    if n >= 1000:
        exp = int(math.log10(n))
        mantissa, rest = divmod(n, 10**exp)
        if rest == 0:
            return f"10^{exp}" if mantissa == 1 else f"{mantissa} x 10^{exp}"
    return f"{n:,}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB"


def duration(seconds: float) -> str:
    """``52.3 s``; ``13 min 25 s`` from 10 minutes on."""
    if seconds >= 600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s"
    return f"{num(seconds)} s"


def load_note(record: dict) -> str:
    """``2 cores, load 0.53 → 2.20`` (1-minute load averages at the start and the end)."""
    machine = record.get("machine", {})
    start = (machine.get("load_avg_start") or machine.get("load_avg_at_start") or [None])[0]
    end = (machine.get("load_avg_end") or [None])[0]
    if end is None:  # a pairs_engines record of the older schema: the last engine's
        engines = [e for size in _engine_sizes(record) for e in size["engines"]]
        end = engines[-1].get("load_avg_after") if engines else None
    parts = [f"{machine['cores']} cores"] if machine.get("cores") else []
    if start is not None:
        parts.append(f"load {start:.2f}" + (f" → {end:.2f}" if end is not None else ""))
    return ", ".join(parts)


def simulate_rows(record: dict) -> list[Row]:
    figures, rows = record["figures"], []
    for key, what in (("with_images", "simulation with {image_px} px images, one core"),
                      ("metadata_only", "simulation, metadata only, one core")):
        if key in figures:
            f = figures[key]
            rows.append((what.format(**f), f"{f['posts']:,} posts in {num(f['seconds'])} s "
                         f"({num(f['posts_per_s'])} posts/s), {num(f['peak_rss_mib_so_far'])} "
                         "MiB peak RSS"))
    return rows


def pairs_scale_rows(record: dict) -> list[Row]:
    figures, rows = record["figures"], []
    sampler = figures.get("sampler", [])
    if sampler:
        sizes = " / ".join(count(r["posts"]) for r in sampler)
        walls = " / ".join(f"{num(r['wall_s'])} s" for r in sampler)
        cpus = " / ".join(f"{num(r['cpu_s'])} s" for r in sampler)
        peaks = " / ".join(f"{r['peak_rss_gib']:.2f}" for r in sampler)
        pdips = " / ".join(f"{r['pdips']:,}" for r in sampler)
        rows.append((f"PDIPs in memory from {sizes} posts",
                     f"{walls} wall ({cpus} CPU); {peaks} GiB peak; {pdips} PDIPs"))
    if "reference" in figures:
        ref = figures["reference"]
        rows.append((f"sampler vs brute-force reference at {count(ref['posts'])} posts",
                     f"sampler {num(ref['sampler']['wall_s'])} s vs brute force "
                     f"{num(ref['brute_force']['wall_s'])} s (speed-up "
                     f"{num(ref['speedup_vs_brute_force'])}x)"))
    if "pathological" in figures:
        p = figures["pathological"]
        rows.append((f"pathological user ({count(p['posts'])} posts in 100 days, one caption)",
                     f"{num(p['wall_s'])} s wall ({num(p['cpu_s'])} s CPU), "
                     f"{p['peak_rss_gib']:.2f} GiB peak, "
                     f"{p['pdips']:,} PDIPs"))
    streams = [r for r in figures.get("stream", []) if r.get("kind") == "stream"]
    if streams:
        rows.append(("streaming Parquet (per-user partitions)", "; ".join(
            f"{count(r['posts'])} posts: {num(r['wall_s'])} s wall ({num(r['cpu_s'])} s CPU), "
            f"{r['peak_rss_gib']:.2f} GiB peak, "
            f"{r['tmp_disk_gib']:.2f} GiB temporary disk, {r['pdips']:,} PDIPs" for r in streams)))
    return rows


def _engine_sizes(record: dict) -> list[dict]:
    figures = record.get("figures", {})
    return figures if isinstance(figures, list) else figures.get("sizes", [])


def _extrapolation(record: dict) -> dict:
    figures = record.get("figures", {})
    old = record.get("extrapolation_2e8", {})
    return old if isinstance(figures, list) else figures.get("extrapolation_2e8", {})


def _engine(e: dict) -> str:
    name = {"inprocess": "in-process", "streaming": "streaming"}.get(e["engine"])
    if name:
        return f"{name} {num(e['wall_s'])} s, {gib(e['driver']['peak_rss_mib'])}"
    workers = e["workers"]
    peaks = " / ".join(f"{w['peak_rss_mib'] / 1024:.2f}" for w in workers)
    return (f"Dask {plural(len(workers), 'worker')} {num(e['wall_s'])} s "
            f"({'workers' if len(workers) > 1 else 'worker'} {peaks} GiB, "
            f"driver {gib(e['driver']['peak_rss_mib'])})")


def pairs_engines_rows(record: dict) -> list[Row]:
    rows = []
    for size in _engine_sizes(record):
        engines = size["engines"]
        text = "; ".join(_engine(e) for e in engines)
        if size.get("identical_tables") and len(engines) > 1:
            text += f"; identical tables, {engines[0]['pdips']:,} PDIPs"
        else:
            text += f"; {engines[0]['pdips']:,} PDIPs"
        speedup = size.get("speedup_dask2_over_dask1")
        if speedup:
            text += (f"; Dask 2 over 1 worker: {speedup['wall']:.2f}x wall clock, "
                     f"{speedup['worker_cpu']:.2f}x worker CPU seconds")
        rows.append((f"PDIP engines at {count(size['posts'])} posts", text))
    return rows


def extrapolation_source(record: dict) -> int:
    """The posts the record's extrapolation starts from (0 without one)."""
    return int(_extrapolation(record).get("from_posts", 0))


def extrapolation_row(record: dict) -> Row | None:
    """The 2 x 10^8 extrapolation of a pairs_engines record, labelled as one; None if absent."""
    ex = _extrapolation(record)
    if not ex:
        return None
    cpu = ex["cpu"]
    what = (f"2 x 10^8 posts, the paper's pool (**extrapolation**, not a measurement: linear in "
            f"posts from {count(ex['from_posts'])}, Amdahl with the parallel share "
            f"{cpu['parallel_share']:.2f} implied by the worker-CPU speed-up)")
    figure = (f"Dask on 2 cores about {cpu['dask_2_cores_s'] / 60:.0f} min, on 32 cores about "
              f"{cpu['dask_32_cores_s'] / 60:.0f} min, plus a real cluster's network shuffle; "
              f"the driver holds the pairs table (about {gib(ex['pairs_table_mib'])}) a few "
              "times over")
    if ex.get("streaming_1_core_s") is not None:
        figure = f"streaming on one core about {ex['streaming_1_core_s'] / 60:.0f} min; " + figure
    return what, figure


def train_rows(record: dict) -> list[Row]:
    f = record["figures"]
    if f["device"] == "cuda":
        return [(f"training on {f['gpu']} (ResNet-50, 224 px, bf16, {f['batch_images']} images "
                 f"per step{', compiled' if f['compile'] else ''}), tensors on the device",
                 f"{num(f['images_per_s'])} images/s")]
    what = (f"training input pipeline vs preloaded tensors ({f['backbone']}/{f['preset']}, "
            f"{f['batch_pairs']} pairs per step, {f['steps']} steps, "
            f"{plural(f['torch_threads'], 'thread')}, {plural(f['workers'], 'worker')}, "
            f"cache {f['cache_mib']} MiB)")
    return [(what, "; ".join(
        f"pass {p['pass']}, {p['kind']}: pipeline {num(p['pipeline_pairs_per_s'])} pairs/s vs "
        f"preloaded {num(p['preloaded_pairs_per_s'])} pairs/s, ratio "
        f"{p['pipeline_over_preloaded_rate']:.3f}" for p in f["passes"]))]


def score_rows(record: dict) -> list[Row]:
    figures, rows = record["figures"], []
    if "throughput" in figures:
        t = figures["throughput"]
        rows.append((f"batched scoring vs the authors' one-process-per-image script (ResNet-50, "
                     f"{t['batched_images']} / {t['authors_images']} photos)",
                     f"{num(t['speedup_batched_over_authors'])}x "
                     f"({num(t['batched_images_per_s'])} vs {num(t['authors_images_per_s'])} "
                     f"images/s); batched peak RSS {num(t['batched_peak_rss_mib'])} MiB"))
    memory = figures.get("memory", [])
    if memory:
        m = memory[0]
        rows.append((f"scoring memory ({m['backbone']}, {m['image_px']} px JPEGs, streamed)",
                     f"peak RSS {' / '.join(num(r['peak_rss_mib']) for r in memory)} MiB for "
                     f"{' / '.join(count(r['images']) for r in memory)} images"))
    return rows


def repro_rows(record: dict) -> list[Row]:
    f = record["figures"]
    ran = [(name, e["seconds"]) for name, e in f["stages"].items() if e["in_this_run"]]
    stages = (", ".join(f"{name} {num(s)} s" for name, s in ran) + " (papermill durations)"
              if ran else "no notebook ran in this run")
    dry = " (**dry run**: nothing executed)" if f["dry"] else ""
    return [(f"`{f['repro_command']}`{dry}",
             f"{duration(f['repro_s'])}: {stages}; no-op `{f['noop_command']}` "
             f"{duration(f['noop_s'])}")]


def gpu_check_rows(record: dict) -> list[Row]:
    checks = record.get("checks", {})
    status = {s: sum(c.get("status") == s for c in checks.values())
              for s in ("ok", "failed", "skipped")}
    rates = record.get("figures", {}).get("images_per_s", {})
    shown = ", ".join(f"{k.replace('_', ' ')} {num(v)}" for k, v in rates.items() if v is not None)
    where = record.get("machine", {}).get("gpu", "no GPU")
    smoke = record.get("mode") == "smoke"
    what = f"GPU check on {where}" + (" (smoke run: code paths, not speed)" if smoke else "")
    return [(what, f"checks {status['ok']} ok, {status['failed']} failed, {status['skipped']} "
             f"skipped; training images/s: {shown or 'none measured'}")]
