"""The Dask (and streaming) engine gives the in-process pairs table byte for byte, and fails cleanly.

Most tests share one LocalCluster of threads (``processes=False``: fast); the worker-process
tests start their own clusters of 1, 2 and 3 processes, and the fault tests kill workers.
"""

from __future__ import annotations

import dask
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dask_faults import DieOnKernel
from i2pa_core.cli.main import main
from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.io import files as io
from i2pa_core.io.posts import PostsFormatError, validate_posts
from i2pa_core.io.posts_parquet import posts_pieces
from i2pa_core.pdip.config import EngineConfig
from i2pa_core.pdip.dask_engine import DaskEngineError, generate_pdips_dask
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.pdip.streaming import generate_pdips_parquet
from i2pa_core.stages.pairs import PairsStage, stage_pdips
from pdip_reference import reference_candidates, reference_greedy
from test_pairs import _synthetic

BASE = pd.Timestamp("2020-01-01T00:00:00Z")
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


def _dask(path, cfg, seed, client, partitions=None, piece_rows=1000):
    return generate_pdips_dask(path, cfg, seed, EngineConfig("dask", partitions=partitions),
                               client=client, progress=False, piece_rows=piece_rows)


def _same_table(tmp_path, expected, got) -> None:
    """Same rows, order, dtypes, funnel; and the written Parquet files are the same bytes."""
    pd.testing.assert_frame_equal(expected.pairs, got.pairs)
    assert list(expected.pairs.dtypes) == list(got.pairs.dtypes)
    pd.testing.assert_frame_equal(expected.funnel, got.funnel)
    assert expected.n_candidates == got.n_candidates
    a = io.write_parquet(tmp_path / "expected.parquet", expected.pairs).read_bytes()
    assert a == io.write_parquet(tmp_path / "got.parquet", got.pairs).read_bytes()


row = st.tuples(st.integers(0, 5), st.floats(0, 40), st.sampled_from([29, 31, 60]),
                st.sampled_from([10, 50, 60, 100, 150, 200, 400, 1000, 5000]),
                st.sampled_from(["", "#a", "#a #b", "@x", "one two", "#a a b c d e f g"]),
                st.sampled_from(["image"] * 5 + ["video"]))


def _posts(rows) -> pd.DataFrame:
    up = [BASE + r[1] * DAY for r in rows]
    return validate_posts(pd.DataFrame({
        "post_id": [f"p{k}" for k in range(len(rows))], "user_id": [f"u{r[0]}" for r in rows],
        "upload_time": up, "download_time": [t + r[2] * DAY for t, r in zip(up, rows)],
        "likes": [r[3] for r in rows], "caption": [r[4] for r in rows],
        "media_type": [r[5] for r in rows]}))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=60), partitions=st.sampled_from([1, 2, 3, 7]),
       row_group=st.sampled_from([1, 5, 100]), matching=st.sampled_from(
           ["greedy_gap", "chronological"]), split=st.sampled_from(["random", "user"]),
       block_pairs=st.sampled_from([1, 1000]))
def test_any_partitioning_gives_the_in_process_table(rows, partitions, row_group, matching,
                                                     split, block_pairs, client, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prop")
    posts = _posts(rows)
    posts.sample(frac=1.0, random_state=len(rows)).to_parquet(  # rows in any order
        tmp / "posts.parquet", index=False, row_group_size=row_group)
    cfg = PDIPConfig(matching=matching, split=split, val_size=3, test_size=4,
                     block_pairs=block_pairs)
    got = _dask(tmp / "posts.parquet", cfg, 11, client, partitions, piece_rows=row_group * 2)
    _same_table(tmp, generate_pdips(posts, cfg, 11), got)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=2, max_size=40), partitions=st.sampled_from([1, 4]))
def test_dask_equals_the_brute_force_reference(rows, partitions, client, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    posts = _posts(rows)
    posts.to_parquet(tmp / "posts.parquet", index=False, row_group_size=7)
    pairs = _dask(tmp / "posts.parquet", PDIPConfig(), 0, client, partitions, piece_rows=7).pairs
    assert sorted(zip(pairs.a_post_id, pairs.b_post_id)) == \
        reference_greedy(reference_candidates(posts, PDIPConfig()))


def test_folder_and_glob_inputs_and_a_dense_user(client, tmp_path):
    posts = _synthetic(n=2000, seed=4)
    heavy = _synthetic(n=400, seed=5).assign(user_id="heavy", caption="#a")  # one dense group
    heavy["post_id"] = "h" + heavy["post_id"]
    posts = validate_posts(pd.concat([posts, heavy]).sample(frac=1.0, random_state=0))
    (tmp_path / "crawl" / "day2").mkdir(parents=True)
    for k, chunk in enumerate((posts.iloc[:900], posts.iloc[900:1700], posts.iloc[1700:])):
        where = tmp_path / "crawl" / ("day2" if k else "") / f"part-{k}.parquet"
        chunk.to_parquet(where, index=False, row_group_size=200)  # users across files
    cfg = PDIPConfig(val_size=30, test_size=40, block_pairs=5000)
    mem = generate_pdips(posts, cfg, 2)
    _same_table(tmp_path, mem, _dask(tmp_path / "crawl", cfg, 2, client, 5, piece_rows=300))
    _same_table(tmp_path, mem, _dask(str(tmp_path / "crawl/**/part-*.parquet"), cfg, 2, client, 2))
    _same_table(tmp_path, mem, generate_pdips_parquet(tmp_path / "crawl", cfg, 2, partitions=3,
                                                      batch_rows=300))
    assert (mem.pairs.user_id == "heavy").sum() > 50
    assert [p.num_rows for p in posts_pieces(tmp_path / "crawl", piece_rows=300)] == [
        400, 400, 400, 300, 400, 400, 100]  # whole row groups of 200, sorted paths


def test_empty_input_and_bad_rows(client, tmp_path):
    empty = _synthetic(n=10).iloc[:0]
    path = io.write_parquet(tmp_path / "empty.parquet", empty)
    _same_table(tmp_path, generate_pdips(empty, PDIPConfig(), 0),
                _dask(path, PDIPConfig(), 0, client, 3))
    bad = _synthetic(n=50).astype({"likes": "float64"})
    bad.loc[37, "likes"] = -1.0
    bad.to_parquet(tmp_path / "bad.parquet", index=False, row_group_size=10)
    with pytest.raises(PostsFormatError, match=r"bad.parquet \(rows 31-40\): row 8, column 'likes'"):
        _dask(tmp_path / "bad.parquet", PDIPConfig(), 0, client, piece_rows=10)
    with pytest.raises(PostsFormatError, match="no Parquet posts file"):
        _dask(tmp_path / "nothing-*.parquet", PDIPConfig(), 0, client)
    with pytest.raises(ValueError, match="same_user"):
        _dask(path, PDIPConfig(same_user=False), 0, client)


def test_stage_switch_gives_the_same_table(client, tmp_path):
    posts = _synthetic(n=1500, seed=9)
    path = io.write_parquet(tmp_path / "posts.parquet", posts)
    rules = {"val_size": 20, "test_size": 20}
    inproc = from_mapping(PairsStage, {"rules": rules}, "pairs")
    on_dask = from_mapping(PairsStage, {"rules": rules, "engine": "dask", "partitions": 3},
                           "pairs")
    assert on_dask.engine_config == EngineConfig("dask", partitions=3)
    streaming = from_mapping(PairsStage, {"rules": rules, "engine": "streaming",
                                          "partitions": 2}, "pairs")
    expected = stage_pdips(inproc, str(path), posts, 1)
    _same_table(tmp_path, expected, stage_pdips(on_dask, str(path), posts, 1, progress=False,
                                                client=client))
    _same_table(tmp_path, expected, stage_pdips(streaming, str(path), posts, 1))


@pytest.mark.parametrize("mapping, message", [
    ({"engine": "spark"}, "pairs.engine: 'spark' is not one of 'inprocess', 'streaming', 'dask'"),
    ({"workers": 0, "engine": "dask"}, "workers must be >= 1"),
    ({"scheduler": "tcp://h:8786"}, r"scheduler do\(es\) not apply to engine 'inprocess'"),
    ({"engine": "streaming", "workers": 2}, "workers do.*streaming"),
    ({"engine": "dask", "partitions": 2.5}, "pairs.partitions: expected an integer")])
def test_engine_keys_fail_loudly(mapping, message):
    with pytest.raises(ConfigError, match=message):
        from_mapping(PairsStage, mapping, "pairs")


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_worker_processes_give_the_same_bytes(workers, tmp_path):
    posts = _synthetic(n=2500, seed=workers)
    path = io.write_parquet(tmp_path / "posts.parquet", posts)
    cfg = PDIPConfig(val_size=30, test_size=40)
    got = generate_pdips_dask(path, cfg, 5, EngineConfig("dask", workers=workers,
                              partitions=workers + 2), progress=False, piece_rows=600)
    _same_table(tmp_path, generate_pdips(posts, cfg, 5), got)


def test_cli_dask_engine_writes_the_in_process_table(tmp_path, capsys):
    posts = _synthetic(n=1200, seed=3)
    path = io.write_parquet(tmp_path / "posts.parquet", posts)
    common = [str(path), "--seed", "4", "--val-size", "10", "--test-size", "10", "--quiet"]
    assert main(["pairs", *common, "--out", str(tmp_path / "a.parquet")]) == 0
    assert main(["pairs", *common, "--out", str(tmp_path / "b.parquet"), "--engine", "dask",
                 "--workers", "1", "--set", "partitions=2", "--funnel",
                 str(tmp_path / "f.csv")]) == 0
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert main(["pairs", *common, "--out", str(tmp_path / "s.parquet"), "--engine",
                 "streaming", "--partitions", "3"]) == 0
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "s.parquet").read_bytes()
    posts.to_csv(tmp_path / "x.csv", index=False)
    assert main(["pairs", str(tmp_path / "x.csv"), "--out", str(tmp_path / "c.parquet"),
                 "--engine", "dask", "--quiet"]) == 2
    assert "not a Parquet posts table" in capsys.readouterr().err


@pytest.fixture()
def dying_cluster():
    """Two worker processes; a task may run on two workers that die before it fails."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=50) as cluster, Client(cluster) as dask_client:
        yield cluster, dask_client


def test_a_worker_killed_mid_run_is_retried(dying_cluster, tmp_path):
    cluster, dask_client = dying_cluster
    dask_client.register_plugin(DieOnKernel(once=str(tmp_path / "died")))
    posts = _synthetic(n=2000, seed=6)
    path = io.write_parquet(tmp_path / "posts.parquet", posts)
    cfg = PDIPConfig(val_size=30, test_size=40)
    got = _dask(path, cfg, 1, dask_client, partitions=4, piece_rows=500)
    assert (tmp_path / "died").exists()  # a worker did die, and the run recovered
    _same_table(tmp_path, generate_pdips(posts, cfg, 1), got)


def test_workers_that_keep_dying_give_one_line_and_no_table(dying_cluster, tmp_path, capsys):
    cluster, dask_client = dying_cluster
    dask_client.register_plugin(DieOnKernel())
    path = io.write_parquet(tmp_path / "posts.parquet", _synthetic(n=800, seed=7))
    with pytest.raises(DaskEngineError, match="KilledWorker.*no pairs table was written"):
        _dask(path, PDIPConfig(), 0, dask_client, partitions=2)
    out = tmp_path / "pairs.parquet"
    assert main(["pairs", str(path), "--out", str(out), "--engine", "dask", "--quiet",
                 "--scheduler", cluster.scheduler_address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("i2pa pairs: error: KilledWorker") and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".pairs.parquet*"))


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    path = io.write_parquet(tmp_path / "posts.parquet", _synthetic(n=50))
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["pairs", str(path), "--out", str(tmp_path / "p.parquet"), "--quiet",
                     "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("i2pa pairs: error: cannot start or reach the Dask scheduler "
                              "(tcp://127.0.0.1:9)")
    assert not (tmp_path / "p.parquet").exists()
