"""Checks of everything the browser sends to the experiment server (pure; no Flask).

Each parser takes the decoded JSON body (any Python value) and returns clean values or raises
:class:`BadInput`, whose message becomes the body of a 400 response.
"""

from __future__ import annotations

from i2pa_core.human.store import GENDERS

MAX_RT_MS = 3_600_000  # an hour: anything longer is not a response time
SIDES = ("left", "right")


class BadInput(ValueError):
    """Browser input that is malformed or out of range (HTTP 400)."""


def _fields(body, required: tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise BadInput("body must be a JSON object")
    missing = [k for k in required if k not in body]
    unknown = sorted(set(body) - set(required))
    if missing:
        raise BadInput(f"missing field(s): {', '.join(missing)}")
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(unknown)}")
    return body


def _number(value, name: str, low: float, high: float, integer: bool = False):
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or value != value:
        raise BadInput(f"{name} must be {'an integer' if integer else 'a number'}")
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(value, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed or not isinstance(value, str):
        raise BadInput(f"{name} must be one of {', '.join(allowed)}")
    return value


def parse_questionnaire(body) -> dict:
    """``{gender, age, used_instagram, social_hours}`` -> a subjects-file row (without ids)."""
    body = _fields(body, ("gender", "age", "used_instagram", "social_hours"))
    if not isinstance(body["used_instagram"], bool):
        raise BadInput("used_instagram must be true or false")
    return {"gender": _choice(body["gender"], "gender", GENDERS),
            "age": _number(body["age"], "age", 16, 120, integer=True),
            "used_instagram": "yes" if body["used_instagram"] else "no",
            "social_hours": float(_number(body["social_hours"], "social_hours", 0, 24))}


def parse_answer(body) -> dict:
    """``{subject, pair_id, side, rt_ms}`` -> checked values (ids are checked by the caller)."""
    body = _fields(body, ("subject", "pair_id", "side", "rt_ms"))
    for key in ("subject", "pair_id"):
        if not isinstance(body[key], str) or not body[key]:
            raise BadInput(f"{key} must be a non-empty string")
    return {"subject": body["subject"], "pair_id": body["pair_id"],
            "side": _choice(body["side"], "side", SIDES),
            "rt_ms": _number(body["rt_ms"], "rt_ms", 0, MAX_RT_MS, integer=True)}
