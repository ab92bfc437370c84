"""Reading JSON bodies strictly: Decimal for numbers, every problem reported by field."""
import json
from decimal import Decimal

from flask import request

from ..domain.numbers import parse_points
from ..domain.scoring import ZERO, ScoreEntry
from ..services.errors import Invalid

MAX_BODY = 1024 * 1024


def _no_constants(name):
    raise ValueError(f"不支持的数值：{name}")


def json_body() -> dict:
    """The request's JSON object; floats arrive as Decimal, NaN/Infinity are refused."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise Invalid("请求内容过大", {"body": "请求内容过大"})
    try:
        data = json.loads(raw.decode("utf-8") or "null", parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("请求内容不是有效的JSON", {"body": "请求内容不是有效的JSON"}) from None
    if not isinstance(data, dict):
        raise Invalid("请求内容应为JSON对象", {"body": "请求内容应为JSON对象"})
    return data


def _points(value, field: str, errors: dict) -> Decimal | None:
    if isinstance(value, Decimal) or isinstance(value, int) or isinstance(value, str):
        try:
            return parse_points(value)
        except ValueError as exc:
            errors[field] = str(exc)
            return None
    errors[field] = "请输入数字"
    return None


def _text(data: dict, field: str, errors: dict) -> str:
    value = data.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = "应为文字"
        return ""
    return value


def score_entry(data: dict) -> tuple[ScoreEntry, int]:
    """A ScoreEntry and the expected version from a PUT body; Invalid with per-field errors otherwise.

    Either {"deductions": [{"code", "count"}], "free_deduction", "reason", "note", "version"} or
    {"score", "reason", "note", "version"}. Unknown fields (status, unit_id, ...) are ignored.
    """
    errors: dict[str, str] = {}
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        errors["version"] = "缺少有效的版本号"
    reason, note = _text(data, "reason", errors), _text(data, "note", errors)
    direct = None
    deductions: dict[str, int] = {}
    free = ZERO
    if data.get("score") is not None:
        direct = _points(data["score"], "score", errors)
    else:
        raw = data.get("deductions") or []
        if not isinstance(raw, list) or len(raw) > 100:
            errors["deductions"] = "扣分项格式无效"
        else:
            for item in raw:
                if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                    errors["deductions"] = "扣分项格式无效"
                    break
                code, count = item["code"][:32], item.get("count")
                if code in deductions:
                    errors["deductions"] = f"扣分项 {code} 重复"
                    break
                if isinstance(count, bool) or not isinstance(count, int):
                    errors["deductions"] = f"扣分项 {code} 的次数须为整数"
                    break
                if abs(count) > 10**6:
                    errors["deductions"] = f"扣分项 {code} 的次数过大"
                    break
                deductions[code] = count
        if data.get("free_deduction") not in (None, ""):
            free = _points(data["free_deduction"], "free_deduction", errors) or ZERO
    if errors:
        raise Invalid("输入有误，请检查", errors)
    return ScoreEntry(deductions=deductions, free_deduction=free, direct=direct, reason=reason, note=note), version
