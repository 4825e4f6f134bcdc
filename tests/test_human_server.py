"""The experiment server's API: questionnaire, answers, resume, feedback, review, validation."""

from __future__ import annotations

import pytest

from i2pa_core.human.plan import trials
from i2pa_core.human.server import create_app
from i2pa_core.human.store import read_responses, read_subjects
from test_human_data import tiny_plan

FORM = {"gender": "female", "age": 23, "used_instagram": True, "social_hours": 2.5}


@pytest.fixture()
def setup(tmp_path):
    plan = tiny_plan(tmp_path)
    app = create_app(plan, tmp_path, tmp_path / "r.csv", tmp_path / "s.csv")
    return plan, app.test_client(), tmp_path


def _answer(client, pair, side="left", subject="S01", rt=900):
    return client.post("/api/answer", json={"subject": subject, "pair_id": pair, "side": side,
                                            "rt_ms": rt})


def test_questionnaire_registers_numbered_subjects(setup):
    plan, client, tmp = setup
    assert client.post("/api/subjects", json=FORM).json == {"subject": "S01"}
    assert client.post("/api/subjects", json={**FORM, "gender": "male",
                                              "used_instagram": False}).json == {"subject": "S02"}
    subjects = read_subjects(tmp / "s.csv")
    columns = ["subject", "gender", "age", "used_instagram", "social_hours"]
    assert subjects[columns].values.tolist() == [["S01", "female", 23, True, 2.5],
                                                 ["S02", "male", 23, False, 2.5]]


def test_answers_are_recorded_with_server_side_sides_and_resume(setup):
    plan, client, tmp = setup
    client.post("/api/subjects", json=FORM)
    state = client.get("/api/subject/S01").json
    first, second = state["trials"][0]["pair_id"], state["trials"][1]["pair_id"]
    feedback = _answer(client, first, "right").json
    trial = {t["pair_id"]: t for t in trials(plan, 0)}
    likes = {k: v["likes"] for k, v in plan["posts"].items()}
    assert feedback == {"ok": True, "likes_left": likes[trial[first]["left"]],
                        "likes_right": likes[trial[first]["right"]],
                        "correct": likes[trial[first]["right"]] > likes[trial[first]["left"]]}
    _answer(client, second, "left")
    _answer(client, first, "left")  # went back with "previous" and changed the answer
    state = client.get("/api/subject/S01").json
    assert state["answers"] == {first: "left", second: "left"}
    rows = read_responses(tmp / "r.csv")
    assert rows["pair_id"].tolist() == [first, second, first]
    assert rows["choice"].tolist() == [trial[first]["right"], trial[second]["left"],
                                       trial[first]["left"]]
    assert rows["left_post_id"].tolist() == [trial[first]["left"], trial[second]["left"],
                                             trial[first]["left"]]
    assert set(rows["session"]) == {0} and rows["rt_ms"].tolist() == [900] * 3


def test_test_pairs_get_no_feedback_and_review_opens_at_the_end(setup):
    plan, client, tmp = setup
    client.post("/api/subjects", json=FORM)
    order = client.get("/api/subject/S01").json["trials"]
    for t in order[:-1]:
        _answer(client, t["pair_id"])
    assert _answer(client, order[3]["pair_id"]).json == {"ok": True}
    assert client.get("/api/review/S01").status_code == 400
    _answer(client, order[-1]["pair_id"], "right")
    review = client.get("/api/review/S01").json
    assert review["n_pairs"] == 6 and [p["session"] for p in review["pairs"]] == [1, 1, 1, 2, 2, 2]
    assert review["n_correct"] == sum(p["correct"] for p in review["pairs"])
    assert all((p["likes_left"] > p["likes_right"]) == (p["side"] == "left") for p in
               review["pairs"] if p["correct"])


@pytest.mark.parametrize("body, message", [
    (b"{", "valid JSON"), (b"[1]", "JSON object"), (b'"x"', "JSON object"),
    (b'{"subject": "S01"}', "missing field"),
    (b'{"subject": "S01", "pair_id": "H01", "side": "left", "rt_ms": 1, "x": 1}', "unknown field"),
    (b'{"subject": "S09", "pair_id": "H01", "side": "left", "rt_ms": 1}', "unknown subject"),
    (b'{"subject": "../S01", "pair_id": "H01", "side": "left", "rt_ms": 1}', "unknown subject"),
    (b'{"subject": "S01", "pair_id": "H99", "side": "left", "rt_ms": 1}', "unknown pair"),
    (b'{"subject": "S01", "pair_id": "H01", "side": "up", "rt_ms": 1}', "side must be"),
    (b'{"subject": "S01", "pair_id": "H01", "side": "left", "rt_ms": -1}', "rt_ms must be"),
    (b'{"subject": "S01", "pair_id": "H01", "side": "left", "rt_ms": 1.5}', "integer"),
    (b'{"subject": "S01", "pair_id": "H01", "side": "left", "rt_ms": true}', "integer"),
    (b'{"subject": 1, "pair_id": "H01", "side": "left", "rt_ms": 1}', "non-empty string"),
])
def test_bad_answers_are_400_with_a_message(setup, body, message):
    plan, client, tmp = setup
    client.post("/api/subjects", json=FORM)
    response = client.post("/api/answer", data=body, content_type="application/json")
    assert response.status_code == 400 and message in response.json["error"]
    assert read_responses(tmp / "r.csv").empty


@pytest.mark.parametrize("change, message", [
    ({"gender": "robot"}, "gender must be"), ({"age": 7}, "age must be between"),
    ({"age": "23"}, "age must be an integer"), ({"used_instagram": "yes"}, "true or false"),
    ({"social_hours": 25}, "social_hours must be between"),
    ({"social_hours": None}, "social_hours must be a number")])
def test_bad_questionnaires_are_400(setup, change, message):
    plan, client, tmp = setup
    response = client.post("/api/subjects", json={**FORM, **change})
    assert response.status_code == 400 and message in response.json["error"]
    assert not (tmp / "s.csv").exists()


@pytest.mark.parametrize("url", [
    "/image/S01/H01/top", "/image/S01/../../etc/passwd", "/image/S01/H01/left/x",
    "/image/S01/..%2F..%2Fetc%2Fpasswd/left", "/image/S05/H01/left", "/image/S01/H77/left",
    "/image/..%2Fplan/H01/left", "/api/subject/S02", "/api/subject/..%2F"])
def test_image_and_state_urls_only_resolve_known_ids(setup, url):
    plan, client, tmp = setup
    client.post("/api/subjects", json=FORM)
    assert client.get(url).status_code == 400


def test_images_are_served_by_pair_id_and_never_leave_the_root(setup):
    plan, client, tmp = setup
    client.post("/api/subjects", json=FORM)
    response = client.get("/image/S01/H01/left")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    first = next(iter(plan["posts"]))
    plan["posts"][first]["image"] = "../outside.jpg"  # a hand-edited plan
    (tmp.parent / "outside.jpg").write_bytes(b"x")
    pair = next(p for p in plan["training"] + plan["pairs"] if first in p.values())
    bad = create_app(plan, tmp, tmp / "r.csv", tmp / "s.csv").test_client()
    codes = {bad.get(f"/image/S01/{pair['pair_id']}/{s}").status_code for s in ("left", "right")}
    assert codes == {200, 400}
    assert client.get("/").status_code == 200 and client.get("/static/app.js").status_code == 200
