"""Append-only responses/subjects files: whole lines, last answer counts, concurrent appends."""

from __future__ import annotations

import threading

from i2pa_core.human.store import (RESPONSE_COLUMNS, append_row, last_answers, read_responses,
                                   utc_timestamp)


def _row(subject, pair, choice, rt=1000):
    return {"subject": subject, "session": 1, "pair_id": pair, "left_post_id": "P1",
            "choice": choice, "rt_ms": rt, "timestamp": "2019-03-04T09:00:00.000Z"}


def test_append_writes_header_once_and_whole_lines(tmp_path):
    path = tmp_path / "r.csv"
    append_row(path, _row("S01", "H01", "P1"), RESPONSE_COLUMNS)
    append_row(path, _row("S01", "H02", "P2", rt=15), RESPONSE_COLUMNS)
    assert path.read_text() == (
        "subject,session,pair_id,left_post_id,choice,rt_ms,timestamp\n"
        "S01,1,H01,P1,P1,1000,2019-03-04T09:00:00.000Z\n"
        "S01,1,H02,P1,P2,15,2019-03-04T09:00:00.000Z\n")


def test_a_torn_last_line_is_ignored_and_the_last_answer_counts(tmp_path):
    path = tmp_path / "r.csv"
    for pair, choice in [("H01", "P1"), ("H02", "P3"), ("H01", "P2")]:
        append_row(path, _row("S01", pair, choice), RESPONSE_COLUMNS)
    with open(path, "a") as f:
        f.write("S01,1,H02,P1,P4,12")  # what a crash mid-write by another tool would leave
    frame = read_responses(path)
    assert len(frame) == 3 and frame["rt_ms"].tolist() == [1000, 1000, 1000]
    last = last_answers(frame).set_index("pair_id")["choice"].to_dict()
    assert last == {"H01": "P2", "H02": "P3"}


def test_missing_file_reads_as_empty_table(tmp_path):
    frame = read_responses(tmp_path / "none.csv")
    assert list(frame.columns) == list(RESPONSE_COLUMNS) and frame.empty


def test_concurrent_appends_never_interleave(tmp_path):
    path = tmp_path / "r.csv"

    def worker(k):
        for i in range(25):
            append_row(path, _row(f"S{k:02d}", f"H{i:02d}", "P" * 50), RESPONSE_COLUMNS)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 8 * 25 and lines.count(lines[0]) == 1
    assert all(line.count(",") == 6 for line in lines)
    assert read_responses(path).groupby("subject").size().tolist() == [25] * 8


def test_timestamps_are_utc_milliseconds():
    from datetime import datetime, timezone
    moment = datetime(2019, 3, 4, 9, 0, 2, 140500, tzinfo=timezone.utc)
    assert utc_timestamp(moment) == "2019-03-04T09:00:02.140Z"
