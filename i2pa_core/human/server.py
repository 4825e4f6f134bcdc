"""The experiment's web server (paper Fig. 8): questionnaire, training, sessions, review.

Run with ``i2pa human serve``; it listens on 127.0.0.1 only. The page (``web/``) talks to a small
JSON API; every answer is appended to the responses file the moment it is given
(:func:`i2pa_core.human.store.append_row`), and all state is derived from that file, so a reload or
a server crash loses nothing: the page resumes at the first unanswered pair.

API (all errors are ``400 {"error": message}``):

``POST /api/subjects`` questionnaire ``{gender, age, used_instagram, social_hours}`` ->
``{subject}``; ``GET /api/subject/<S>`` trials, answers so far (by side), session start times;
``POST /api/answer`` ``{subject, pair_id, side, rt_ms}`` -> ``{ok}`` plus the likes for training
pairs (feedback); ``GET /api/review/<S>`` the subject's choices against the likes, once every
test pair is answered; ``GET /image/<S>/<pair_id>/<left|right>`` the image. The browser never
names a post or a path: images go pair id -> post id -> the plan's relative path under the root.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, jsonify, request, send_file
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from i2pa_core.human.plan import subject_id, subject_index, trials
from i2pa_core.human.store import (RESPONSE_COLUMNS, SUBJECT_COLUMNS, append_row, last_answers,
                          read_responses, read_rows, utc_timestamp)
from i2pa_core.human.validate import BadInput, parse_answer, parse_questionnaire

WEB_ROOT = Path(__file__).with_name("web")


class Experiment:
    """The plan plus its three files; every method re-reads the files (they are the state)."""

    def __init__(self, plan: dict, image_root, responses, subjects):
        self.plan, self.image_root = plan, Path(image_root).resolve()
        self.responses, self.subjects = Path(responses), Path(subjects)
        self.posts = plan["posts"]
        self._register_lock = threading.Lock()

    def register(self, form: dict) -> str:
        with self._register_lock:  # count + append must not interleave between two subjects
            subject = subject_id(len(read_rows(self.subjects, SUBJECT_COLUMNS)))
            append_row(self.subjects, {"subject": subject, **form, "timestamp": utc_timestamp()},
                       SUBJECT_COLUMNS)
        return subject

    def trials_of(self, subject) -> dict[str, dict]:
        """Pair id -> trial of a registered subject; BadInput for anything else."""
        try:
            index = subject_index(subject)
        except ValueError:
            raise BadInput(f"unknown subject {subject!r}") from None
        if index >= len(read_rows(self.subjects, SUBJECT_COLUMNS)):
            raise BadInput(f"unknown subject {subject!r}")
        return {t["pair_id"]: t for t in trials(self.plan, index)}

    def trial(self, subject, pair_id) -> dict:
        found = self.trials_of(subject).get(pair_id)
        if found is None:
            raise BadInput(f"unknown pair {pair_id!r}")
        return found

    def answers(self, subject: str) -> dict[str, dict]:
        """Pair id -> the last response row of ``subject`` (the answer that counts)."""
        rows = read_responses(self.responses)
        rows = last_answers(rows[rows["subject"] == subject])
        return {r["pair_id"]: r for r in rows.to_dict("records")}

    def image_path(self, post_id: str) -> Path:
        path = (self.image_root / self.posts[post_id]["image"]).resolve()
        if not path.is_relative_to(self.image_root):
            raise BadInput("image path leaves the image root")
        return path


def _side_of(trial: dict, post_id: str) -> str:
    return "left" if trial["left"] == post_id else "right"


def _state(exp: Experiment, subject: str) -> dict:
    order = list(exp.trials_of(subject).values())
    answers = exp.answers(subject)
    started = {}
    for row in sorted(answers.values(), key=lambda r: r["timestamp"]):
        started.setdefault(str(row["session"]), row["timestamp"])
    shown = [{"pair_id": t["pair_id"], "session": t["session"],
              "left_url": f"/image/{subject}/{t['pair_id']}/left",
              "right_url": f"/image/{subject}/{t['pair_id']}/right"} for t in order]
    return {"subject": subject, "question": exp.plan["question"],
            "session_minutes": exp.plan["config"]["session_minutes"], "trials": shown,
            "answers": {pid: _side_of(t, answers[pid]["choice"])
                        for pid, t in exp.trials_of(subject).items() if pid in answers},
            "session_started": started}


def _answer(exp: Experiment, body) -> dict:
    given = parse_answer(body)
    trial = exp.trial(given["subject"], given["pair_id"])
    row = {"subject": given["subject"], "session": trial["session"], "pair_id": trial["pair_id"],
           "left_post_id": trial["left"], "choice": trial[given["side"]],
           "rt_ms": given["rt_ms"], "timestamp": utc_timestamp()}
    append_row(exp.responses, row, RESPONSE_COLUMNS)
    if trial["session"] > 0:
        return {"ok": True}
    return {"ok": True, **_truth(exp, trial, row["choice"])}


def _truth(exp: Experiment, trial: dict, choice: str) -> dict:
    likes_left = exp.posts[trial["left"]]["likes"]
    likes_right = exp.posts[trial["right"]]["likes"]
    more = trial["left"] if likes_left > likes_right else trial["right"]
    return {"likes_left": likes_left, "likes_right": likes_right, "correct": choice == more}


def _review(exp: Experiment, subject: str) -> dict:
    order = [t for t in exp.trials_of(subject).values() if t["session"] > 0]
    answers = exp.answers(subject)
    if any(t["pair_id"] not in answers for t in order):
        raise BadInput("the review opens once every pair is answered")
    rows = [{"pair_id": t["pair_id"], "session": t["session"],
             "side": _side_of(t, answers[t["pair_id"]]["choice"]),
             "left_url": f"/image/{subject}/{t['pair_id']}/left",
             "right_url": f"/image/{subject}/{t['pair_id']}/right",
             **_truth(exp, t, answers[t["pair_id"]]["choice"])} for t in order]
    return {"subject": subject, "pairs": rows,
            "n_correct": sum(r["correct"] for r in rows), "n_pairs": len(rows)}


def create_app(plan: dict, image_root, responses, subjects) -> Flask:
    """The Flask app of one experiment (plan, image root, responses and subjects files)."""
    exp = Experiment(plan, image_root, responses, subjects)
    app = Flask(__name__, static_folder=str(WEB_ROOT), static_url_path="/static")
    app.config["experiment"] = exp

    def body():
        data = request.get_json(silent=True, force=True)
        if data is None:
            raise BadInput("body must be valid JSON")
        return data

    app.add_url_rule("/", "index", lambda: send_file(WEB_ROOT / "index.html"))
    app.add_url_rule("/api/subjects", "subjects", methods=["POST"],
                     view_func=lambda: {"subject": exp.register(parse_questionnaire(body()))})
    app.add_url_rule("/api/subject/<path:subject>", "state", lambda subject: _state(exp, subject))
    app.add_url_rule("/api/answer", "answer", lambda: _answer(exp, body()), methods=["POST"])
    app.add_url_rule("/api/review/<path:subject>", "review", lambda subject: _review(exp, subject))
    app.add_url_rule("/image/<path:rest>", "image", lambda rest: _image(exp, rest))
    app.register_error_handler(BadInput, lambda exc: (jsonify(error=str(exc)), 400))
    app.register_error_handler(HTTPException,
                               lambda exc: (jsonify(error=exc.description), exc.code))
    return app


def _image(exp: Experiment, rest: str):
    """``rest`` is SUBJECT/PAIR_ID/SIDE; anything else (``..``, extra parts) is a 400."""
    parts = rest.split("/")
    if len(parts) != 3 or parts[2] not in ("left", "right"):
        raise BadInput("image URLs are /image/SUBJECT/PAIR_ID/left or /right")
    subject, pair_id, side = parts
    path = exp.image_path(exp.trial(subject, pair_id)[side])
    if not path.is_file():
        return jsonify(error=f"image of pair {pair_id} is missing on the server"), 404
    return send_file(path, max_age=3600)


def start_server(app: Flask, port: int = 0):
    """Serve ``app`` on 127.0.0.1:``port`` (0: a free port) in a daemon thread; returns the server.

    ``server.port`` is the port; ``server.shutdown()`` stops it.
    """
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(app: Flask, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until interrupted."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"experiment page: http://127.0.0.1:{server.port}/  (Ctrl-C to stop)", flush=True)
    server.serve_forever()


__all__ = ["create_app", "start_server", "serve", "Experiment", "WEB_ROOT"]
