"""Signatures drawn on the tablet: what a drawing must hold to count, and what a signature is bound to.

A drawing arrives as strokes of points in the canvas's own pixels; `normalise` scales them into one box
(1000 × 400, the canvas keeps that 5 : 2 shape at any size, so a rotation or a resize while signing scales the strokes
and loses none), rounds them to whole units and checks that they hold a signature: some ink, not a tap. What a
signature is bound to is the 评分表's content (`content_bytes`): the scores with their reasons and the members'
deductions behind them, the bonus items and the veto findings — the same bytes whether read from the live sheet or
from a published version, so a signature taken before publication still matches the published 评分表 if nothing
changed. Pure functions; services.signatures reads and writes.
"""
import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from .text import bad_character

BOX_WIDTH, BOX_HEIGHT = 1000, 400
MAX_STROKES = 200
MAX_POINTS = 6000         # in all strokes: a long signature at 60 points a second is ~600
MIN_POINTS = 6            # fewer is a tap
MIN_INK = 150             # box units of line in all (15 % of the box's width): less is a dot or a slip
MAX_CANVAS = 10_000       # the canvas's size in CSS pixels, as the client reports it
MAX_COORDINATE = 1e7      # a coordinate sent (canvas pixels): beyond it a scaled one could overflow (round(inf))
MAX_TIMESTAMP = 1e14      # a point's time as sent (signature_pad: Date.now(), ms since 1970; 1e14 is the year 5138)
MAX_TIME_MS = 3_600_000   # a point's time since the first one
NAME_MAX = 50


class SignatureProblem(ValueError):
    """Why a drawing cannot be kept: `code` is one of PROBLEMS."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


PROBLEMS = ("malformed", "empty", "too_small", "too_large")


@dataclass(frozen=True)
class Drawing:
    strokes: list[list[list[int]]]  # [[[x, y, t], ...], ...] in the box, t in ms from the first point
    points: int
    ink: float                      # the strokes' length in box units

    def as_json(self) -> list:
        return self.strokes


def _number(value, limit: float = MAX_COORDINATE) -> float:
    """A coordinate, a size or a time as a float within ±limit; SignatureProblem("malformed") otherwise. Compared
    before it is converted: JSON's integers have no bound (a 400-digit one is an OverflowError in float())."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise SignatureProblem("malformed")  # (the API reads JSON numbers as Decimal)
    if isinstance(value, Decimal) and not value.is_finite():
        raise SignatureProblem("malformed")
    if not (isinstance(value, float) and math.isnan(value)) and -limit <= value <= limit:
        return float(value)
    raise SignatureProblem("malformed")


def normalise(raw, width, height) -> Drawing:
    """The strokes `raw` ([[[x, y, t], ...], ...] or signature_pad's toData() groups with `points` of {x, y, time})
    drawn on a `width` × `height` canvas, as a Drawing in the box. Raises SignatureProblem."""
    width, height = _number(width), _number(height)
    if not (1 <= width <= MAX_CANVAS and 1 <= height <= MAX_CANVAS):
        raise SignatureProblem("malformed")
    if not isinstance(raw, list):
        raise SignatureProblem("malformed")
    if not raw:
        raise SignatureProblem("empty")
    if len(raw) > MAX_STROKES:
        raise SignatureProblem("too_large")
    scale = min(BOX_WIDTH / width, BOX_HEIGHT / height)  # one scale for both axes: the drawing keeps its shape
    strokes, count, start = [], 0, None
    for stroke in raw:
        if isinstance(stroke, dict):
            stroke = stroke.get("points")
        if not isinstance(stroke, list):
            raise SignatureProblem("malformed")
        count += len(stroke)
        if count > MAX_POINTS:
            raise SignatureProblem("too_large")
        out = []
        for point in stroke:
            if isinstance(point, dict):
                x, y, t = point.get("x"), point.get("y"), point.get("time", 0)
            elif isinstance(point, list) and len(point) in (2, 3):
                x, y, t = (point + [0])[:3]
            else:
                raise SignatureProblem("malformed")
            x, y, t = _number(x), _number(y), _number(t, MAX_TIMESTAMP)
            start = t if start is None else start
            out.append([min(BOX_WIDTH, max(0, round(x * scale))), min(BOX_HEIGHT, max(0, round(y * scale))),
                        min(MAX_TIME_MS, max(0, round(t - start)))])
        if out:
            strokes.append(out)
    if count == 0:
        raise SignatureProblem("empty")
    ink = sum(math.dist(a[:2], b[:2]) for s in strokes for a, b in zip(s, s[1:]))
    if count < MIN_POINTS or ink < MIN_INK:
        raise SignatureProblem("too_small")
    return Drawing(strokes, count, ink)


NAME_PROBLEMS = ("empty", "too_long", "invisible")


def name_problem(name: str) -> str | None:
    """Why a typed name (the representative's) cannot stand on the paper, or None: nothing readable in it (no
    letter: spaces, zero-width or direction marks only), longer than NAME_MAX, or a control, format (zero-width,
    bidi override: the printed name would differ from the typed one) or invalid character."""
    if len(name) > NAME_MAX:
        return "too_long"
    # the text rule (domain.text: controls, bidi, line breaks), and more: any format or unassigned character
    if bad_character(name) is not None or any(unicodedata.category(c) in ("Cf", "Cs", "Co", "Cn") for c in name):
        return "invisible" if any(unicodedata.category(c).startswith("L") for c in name) else "empty"
    if not any(unicodedata.category(c).startswith("L") for c in name):
        return "empty"
    return None


def parse_slot(key: str) -> tuple[str, int | None] | None:
    """A signer's slot as the form names it — "leader", "representative" or "inspector:<user id>" — as
    (role, user id or None); None when it is not one."""
    if key in ("leader", "representative"):
        return key, None
    role, _, ident = (key or "").partition(":")
    if role == "inspector" and ident.isascii() and ident.isdigit() and len(ident) <= 10:
        return role, int(ident)
    return None


def slot_key(role: str, signer_id: int | None) -> str:
    return f"inspector:{signer_id}" if role == "inspector" else role


def _without_names(deductions: list) -> list:
    """The members' deductions without their display names (in member order): what was deducted is the content;
    a member's name corrected since is not a change of it."""
    return [{k: v for k, v in entry.items() if k != "member"} for entry in deductions]


def content_bytes(round_id: int, unit_code: str, scores: list, bonus_codes: list[str], vetoes: list) -> bytes:
    """The 评分表's content as canonical JSON: `scores` [(indicator code, points "95.00", reason, members'
    deductions)], the bonus items' codes, the vetoes [(code, finding)]. Sorted, so the order read does not count."""
    doc = {"round": round_id, "unit": unit_code,
           "scores": sorted([code, points, reason or "", _without_names(deductions)]
                            for code, points, reason, deductions in scores),
           "bonus": sorted(bonus_codes), "vetoes": sorted([code, finding or ""] for code, finding in vetoes)}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_sha256(*args) -> str:
    return hashlib.sha256(content_bytes(*args)).hexdigest()
