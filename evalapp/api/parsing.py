"""Reading JSON bodies strictly: Decimal for numbers, every problem reported by field."""
import json
from decimal import Decimal

from flask import request

from ..domain.numbers import parse_points
from ..domain.scoring import ZERO, EntryMode, ScoreEntry
from ..services.errors import Invalid, ServiceError, Text, _l, shown

MAX_BODY = 1024 * 1024
MAX_VERSION = 2**31 - 1  # a version column holds no more


def _no_constants(name):
    raise ValueError(f"不支持的数值：{name}")


class UnsupportedMediaType(ServiceError):
    """A body that is not declared JSON (text/plain, a form, an upload) on an endpoint that reads JSON."""

    status = 415


def json_body() -> dict:
    """The request's JSON object; floats arrive as Decimal, NaN/Infinity are refused. A body (or a Content-Type)
    other than application/json or application/*+json is a 415, read no further: a body is taken for what its
    sender says it is (a text/plain or form body is never read as JSON, nor any password in it checked)."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise Invalid("request.too_large", _l("请求内容过大"), {"body": _l("请求内容过大")})
    if (raw or request.content_type) and not request.is_json:
        raise UnsupportedMediaType(
            "request.unsupported_media_type", _l("请求内容须为JSON（Content-Type: application/json）"),
            {"body": _l("请求内容须为JSON（Content-Type: application/json）")})
    try:
        data = json.loads(raw.decode("utf-8") or "null", parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):  # (a nesting a thousand deep: RecursionError)
        raise Invalid("request.not_json", _l("请求内容不是有效的JSON"), {"body": _l("请求内容不是有效的JSON")}) from None
    if not isinstance(data, dict):
        raise Invalid("request.not_object", _l("请求内容应为JSON对象"), {"body": _l("请求内容应为JSON对象")})
    return data


def _points(value, field: str, errors: dict) -> Decimal | None:
    if isinstance(value, Decimal) or isinstance(value, int) or isinstance(value, str):
        try:
            return parse_points(value)
        except ValueError as exc:
            errors[field] = shown(exc)
            return None
    errors[field] = _l("请输入数字")
    return None


def _text(data: dict, field: str, errors: dict) -> str:
    value = data.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = _l("应为文字")
        return ""
    return value


def _deductions(raw, errors: dict) -> dict[str, int]:
    deductions: dict[str, int] = {}
    if not isinstance(raw, list) or len(raw) > 100:
        errors["deductions"] = _l("扣分项格式无效")
        return deductions
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            errors["deductions"] = _l("扣分项格式无效")
            break
        code, count = item["code"][:32], item.get("count")
        if code in deductions:
            errors["deductions"] = _l("扣分项 %(code)s 重复", code=code)
            break
        if isinstance(count, bool) or not isinstance(count, int):
            errors["deductions"] = _l("扣分项 %(code)s 的次数须为整数", code=code)
            break
        if abs(count) > 10**6:
            errors["deductions"] = _l("扣分项 %(code)s 的次数过大", code=code)
            break
        deductions[code] = count
    return deductions


def score_entry(data: dict) -> tuple[ScoreEntry, int]:
    """A ScoreEntry and the expected version from a PUT body; Invalid with per-field errors otherwise.

    The contract (the scoring page mirrors it; the rules themselves are the domain's):
    * `{"score": ...}`: a direct score (with a non-empty `deductions` list: refused);
    * `{"deductions": [{"code", "count"}], "free_deduction"}`: scored by deductions, `[]` meaning 无扣分（满分）; a
      non-zero `free_deduction` alone also scores by deductions;
    * neither: the `note` only, the indicator left as it was (unscored stays unscored);
    * `{"clear": true}`: back to unscored (清除评分), the note kept.
    Each with `version` (the score's version the client last saw, 0 for none) and optional `reason`, `note`.
    Unknown fields (status, unit_id, ...) are ignored.
    """
    errors: dict[str, Text] = {}
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
        errors["version"] = _l("缺少有效的版本号")
    reason = _text(data, "reason", errors)
    note = _text(data, "note", errors) if "note" in data else None  # absent: the note stays as it is
    clear = data.get("clear", False)
    if not isinstance(clear, bool):
        errors["clear"] = _l("应为 true 或 false")
        clear = False
    if data.get("score") == "":
        errors["score"] = _l("请填写得分（如需清除评分，请点“清除评分”）")
        direct = None
    else:
        direct = _points(data["score"], "score", errors) if data.get("score") is not None else None
    deductions = _deductions(data["deductions"], errors) if data.get("deductions") is not None else {}
    free = ZERO
    if data.get("free_deduction") not in (None, ""):
        free = _points(data["free_deduction"], "free_deduction", errors) or ZERO
    if clear:
        mode = EntryMode.CLEAR
    elif data.get("score") is not None:
        mode = EntryMode.DIRECT
    elif data.get("deductions") is not None or free:
        mode = EntryMode.DEDUCTIONS
    else:
        mode = EntryMode.NOTE
    if errors:
        raise Invalid("score.invalid", _l("输入有误，请检查"), errors)
    return ScoreEntry(deductions=deductions, free_deduction=free, direct=direct, reason=reason, note=note,
                      mode=mode), version
