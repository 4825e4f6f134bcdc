"""The responses and subjects files of the experiment: append-only CSV that never holds a half line.

Both the web page (:mod:`i2pa_core.human.server`) and the simulated panel
(:mod:`i2pa_core.human.panel`) write through :func:`format_rows`, so the two sources are
indistinguishable to the analysis.

Responses (one row per answer, in the order given)::

    subject,session,pair_id,left_post_id,choice,rt_ms,timestamp
    S01,0,T01,P00000123,P00000123,2140,2019-03-04T09:00:02.140Z

``session`` is 0 for training pairs, 1.. for test sessions; ``left_post_id`` is the post shown
on the left; ``choice`` is the post chosen; ``rt_ms`` is the time from the pair being shown to
the click. A subject may go back ("previous") and answer a pair again: that appends a new row,
and **the last row of a (subject, pair_id) counts** (:func:`last_answers`).

Subjects (one row per subject, written when the questionnaire is sent)::

    subject,gender,age,used_instagram,social_hours,timestamp
    S01,female,23,yes,2.5,2019-03-04T08:59:10.000Z
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

RESPONSE_COLUMNS = ("subject", "session", "pair_id", "left_post_id", "choice", "rt_ms",
                    "timestamp")
SUBJECT_COLUMNS = ("subject", "gender", "age", "used_instagram", "social_hours", "timestamp")
GENDERS = ("female", "male", "other", "undisclosed")
_LOCK = threading.Lock()


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2019-03-04T09:00:02.140Z``."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def format_rows(rows: list[dict], columns: tuple[str, ...], header: bool) -> str:
    """CSV text of ``rows`` (every column required, no extras), with a header line if asked."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    if header:
        writer.writeheader()
    for row in rows:
        missing = set(columns) - set(row)
        if missing:
            raise ValueError(f"row lacks column(s) {', '.join(sorted(missing))}")
        writer.writerow(row)
    return buf.getvalue()


def append_row(path: str | os.PathLike, row: dict, columns: tuple[str, ...]) -> None:
    """Append one complete line to ``path`` (header first if the file is new) and fsync it.

    The line is written with a single ``os.write`` on an ``O_APPEND`` descriptor, under a thread
    lock and an exclusive ``flock`` (other processes), so a reader or a crash sees either the
    whole line or none of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            new = os.fstat(fd).st_size == 0
            data = format_rows([row], columns, header=new).encode("utf-8")
            if os.write(fd, data) != len(data):
                raise OSError(f"{path}: short write")
            os.fsync(fd)
        finally:
            os.close(fd)  # also releases the flock


def read_rows(path: str | os.PathLike, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a responses or subjects file; a missing file is an empty table with ``columns``.

    A last line without its newline (only possible if something other than :func:`append_row`
    wrote the file) is ignored rather than trusted.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if tuple(frame.columns) != columns:
        raise ValueError(f"{path}: columns {list(frame.columns)}, expected {list(columns)}")
    return frame


def read_responses(path: str | os.PathLike) -> pd.DataFrame:
    """The responses file with typed columns (session, rt_ms int)."""
    frame = read_rows(path, RESPONSE_COLUMNS)
    return frame.astype({"session": "int64", "rt_ms": "int64"})


def read_subjects(path: str | os.PathLike) -> pd.DataFrame:
    """The subjects file with typed columns (age int, used_instagram bool, social_hours float)."""
    frame = read_rows(path, SUBJECT_COLUMNS)
    frame = frame.astype({"age": "int64", "social_hours": "float64"})
    frame["used_instagram"] = frame["used_instagram"].map({"yes": True, "no": False}).astype(bool)
    return frame


def last_answers(responses: pd.DataFrame) -> pd.DataFrame:
    """The answer that counts for each (subject, pair_id): the last row given, file order."""
    return responses.drop_duplicates(["subject", "pair_id"], keep="last").reset_index(drop=True)
