"""The posts-table format: readers and every class of bad input (issue: foundation, point 6)."""

import json

import pandas as pd
import pytest

from i2pa_core.io.posts import PostsFormatError, read_posts, validate_posts

GOOD = [
    {"post_id": "p1", "user_id": "u1", "upload_time": "2018-01-01T10:00:00Z",
     "download_time": "2018-03-01T00:00:00Z", "likes": 120, "caption": "nice #sun",
     "media_type": "image", "followers": 1000},
    {"post_id": "p2", "user_id": "u1", "upload_time": "2018-01-05T10:00:00",
     "download_time": "2018-03-01T00:00:00Z", "likes": 60, "caption": "",
     "media_type": "Carousel", "followers": 1000},
    {"post_id": "p3", "user_id": "u2", "upload_time": "2018-01-07 08:30:00+01:00",
     "download_time": "2018-03-01T00:00:00Z", "likes": 0, "caption": "x",
     "media_type": "video", "followers": 5},
]


def _write(tmp_path, rows, fmt):
    path = tmp_path / f"posts.{fmt}"
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_readers_agree(tmp_path, fmt):
    posts = read_posts(_write(tmp_path, GOOD, fmt))
    assert list(posts["post_id"]) == ["p1", "p2", "p3"]
    assert list(posts["likes"]) == [120, 60, 0]
    assert list(posts["media_type"]) == ["image", "carousel", "video"]
    # naive times are UTC; offsets are converted: 08:30+01:00 is 07:30 UTC
    assert posts["upload_time"].iloc[1] == pd.Timestamp("2018-01-05T10:00:00Z")
    assert posts["upload_time"].iloc[2] == pd.Timestamp("2018-01-07T07:30:00Z")
    assert posts["caption"].iloc[1] == ""
    assert posts["followers"].dtype == "int64"


def _bad(**change):
    rows = [dict(r) for r in GOOD]
    index = change.pop("row")
    rows[index].update(change)
    return rows


@pytest.mark.parametrize("rows, message", [
    ([{k: v for k, v in r.items() if k != "likes"} for r in GOOD], "missing column(s) likes"),
    (_bad(row=1, upload_time="yesterday"), "row 2, column 'upload_time': not a parseable time"),
    (_bad(row=2, likes=-3), "row 3, column 'likes': negative count"),
    (_bad(row=0, likes=1.5), "row 1, column 'likes': not an integer"),
    (_bad(row=0, likes="many"), "row 1, column 'likes': not a number"),
    (_bad(row=2, post_id="p1"), "row 3, column 'post_id': duplicate post_id (first seen in row 1)"),
    (_bad(row=1, media_type="reel"), "row 2, column 'media_type': unknown media type"),
    (_bad(row=0, download_time="2017-12-31T00:00:00Z"),
     "row 1, column 'download_time': download_time is before upload_time"),
    (_bad(row=1, followers=-1), "row 2, column 'followers': negative count"),
])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_bad_input_names_row_and_column(tmp_path, rows, message, fmt):
    path = _write(tmp_path, rows, fmt)
    with pytest.raises(PostsFormatError) as err:
        read_posts(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(PostsFormatError, match="no such posts file"):
        read_posts(tmp_path / "nope.csv")
    odd = tmp_path / "posts.xlsx"
    odd.write_text("x")
    with pytest.raises(PostsFormatError, match="unknown posts format '.xlsx'"):
        read_posts(odd)
    broken = tmp_path / "posts.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(PostsFormatError, match="cannot be read as parquet"):
        read_posts(broken)


def test_empty_user_id_is_rejected():
    frame = pd.DataFrame(_bad(row=1, user_id=""))
    with pytest.raises(PostsFormatError, match="row 2, column 'user_id': value is empty"):
        validate_posts(frame, source="t")
