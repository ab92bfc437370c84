"""Seals on published versions (issue 28): a keyed MAC whose key lives outside the database, so that a person who can
write to the database but cannot read the app's configuration cannot alter a version unseen.

A version's SHA-256 (services.snapshots.checksum) proves a copy matches what was published — but anyone who can
change a row can recompute it. The seal is an HMAC-SHA256 under a key kept in the instance configuration or the
environment (`SEAL_KEYS`: key id → secret; `SEAL_KEY_ID`: the key new versions are sealed with; docs/deploy.md says
where to keep its backup, apart from the database's):

- the version's own row: every column but its database id's neighbours it does not depend on — round, number, name,
  time, who, threshold, tolerance, catalogues, subsidy rules, unit count, total, SHA-256, the key id and, when not
  the first, the roll-up rule its figures are read by (figures_rule);
- each unit row: every column a page relies on (the sheet ids it links to included), bound to its version (id, round,
  number), with the SHA-256 of that unit's indicator rows (`scores_sha256`), so a page that shows one unit's 评分表
  checks its rows without reading the whole version.

Pages check what they show (`check_units`, `check_scores`) and raise SealBroken, which every face renders as an alarm
instead of 正式. Old keys stay configured: a version names the key it was sealed with. A version published before
seals existed has none (`seal_key` NULL): `flask seal-publications` seals it after verifying it.
"""
import hashlib
import hmac
import json
from decimal import Decimal

from flask import current_app

from .errors import Conflict, _l

# The unit row's columns in the order they are sealed (everything but its own id, its version's id and the seal).
UNIT_FIELDS = ("position", "unit_id", "code", "name", "level", "township_code", "township_name", "self_sheet_id",
               "final_sheet_id", "final_status", "self_total", "score_sum", "bonus_sum", "final_total", "vetoed",
               "result", "rank", "missing", "place", "bonus_items", "veto_findings", "subsidy_basis", "subsidy_note",
               "amount_fen", "scores_sha256", "points_sha256")
# A unit's indicator rows are digested as the version's canonical form holds them (snapshots.canonical: the
# "scores" items), so publishing serialises each row once for both.
SCORE_FIELDS = ("unit_code", "indicator_code", "title", "max_points", "points", "reason", "deductions")


class SealBroken(Conflict):
    """What a page would show of a version does not carry its seal (altered, or its key is missing)."""

    def __init__(self, publication, problems: list[str]):
        super().__init__("publication.seal_broken", _l(
            "第%(version)s版的公布数据未通过防篡改校验，不能作为正式结果显示或导出。请系统管理员运行 "
            "flask verify-publication 核查：%(problems)s",
            version=publication.version, problems="；".join(problems[:5])))
        self.publication = publication
        self.problems = problems


def dump(value) -> bytes:
    """The canonical serialisation: sorted keys, no spaces, UTF-8 (snapshots.canonical's)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _plain(value):
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def keys() -> dict[str, bytes]:
    """The configured keys, id → secret bytes (hex secrets decoded; anything else taken as UTF-8)."""
    out = {}
    for key_id, secret in (current_app.config.get("SEAL_KEYS") or {}).items():
        try:
            out[str(key_id)] = bytes.fromhex(secret)
        except ValueError:
            out[str(key_id)] = str(secret).encode("utf-8")
    return out


def current_key() -> tuple[str, bytes]:
    """The key new versions are sealed with; a Conflict when none is configured (nothing is published unsealed)."""
    key_id = current_app.config.get("SEAL_KEY_ID")
    secret = keys().get(str(key_id)) if key_id is not None else None
    if secret is None:
        raise Conflict("publication.no_seal_key", _l(
            "未配置防篡改密钥（SEAL_KEYS、SEAL_KEY_ID），不能公布：请系统管理员按部署说明配置后再公布"))
    return str(key_id), secret


def scores_digest(rows) -> str:
    """SHA-256 of one unit's indicator rows (objects with SCORE_FIELDS) as canonical items, in indicator-code order
    (`scores_sha256`)."""
    items = sorted(([_plain(getattr(r, f)) for f in SCORE_FIELDS] for r in rows), key=lambda item: item[1])
    return chunk_digest(dump(items))


def chunk_digest(chunk: bytes) -> str:
    """SHA-256 of one unit's canonical score items as serialised (`dump` of the list)."""
    return hashlib.sha256(chunk).hexdigest()


def hundredths(value: Decimal | None) -> int | None:
    return None if value is None else int(value.scaleb(2))


def points_digest(items) -> str:
    """SHA-256 of one unit's (indicator code, max points, points) in integer hundredths, in code order
    (`points_sha256`: what the district workbook shows of them, read without a Decimal per cell)."""
    return hashlib.sha256(dump(sorted(list(item) for item in items))).hexdigest()


def _unit_message(publication, row) -> bytes:
    head = f"{publication.id}:{publication.round_id}:{publication.version}:".encode("ascii")
    return head + dump([_plain(getattr(row, f)) for f in UNIT_FIELDS])


def _header_message(publication) -> bytes:
    p = publication
    fields = [p.id, p.round_id, p.version, p.round_name, p.published_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              p.published_by_id, p.published_by_name, _plain(p.threshold), _plain(p.tolerance), p.catalogues,
              p.rules, p.unit_count, p.total_fen, p.sha256, p.seal_key]
    # The roll-up rule (Publication.figures_rule) only when it is not the first: a version sealed before the rule
    # existed (rule 1) has the message it was sealed with.
    rule = p.figures_rule or 1
    return dump(fields if rule == 1 else [*fields, rule])


def mac(secret: bytes, message: bytes) -> str:
    return hmac.digest(secret, message, "sha256").hex()


def seal_unit(secret: bytes, publication, row) -> str:
    return mac(secret, _unit_message(publication, row))


def seal_header(secret: bytes, publication) -> str:
    return mac(secret, _header_message(publication))


# ---------------------------------------------------------------- checking what a page shows


def problems_of(publication, units, *, whole: bool) -> list[str]:
    """What is wrong with the seal of a version's row and the given unit rows (empty: sealed as published).
    `whole`: the rows are all the version's (their number and positions are checked too)."""
    if publication.seal_key is None:
        return ["本版本没有防篡改印记（在启用印记之前公布，且尚未补加）"]
    secret = keys().get(publication.seal_key)
    if secret is None:
        return [f"防篡改密钥 {publication.seal_key} 未配置，无法校验"]
    problems = []
    if not hmac.compare_digest(publication.seal or "", seal_header(secret, publication)):
        problems.append("版本信息（批次、时间、合格线、奖补规则、单位数、总额或校验值）与印记不符")
    bad = [u for u in units if not hmac.compare_digest(u.seal or "", seal_unit(secret, publication, u))]
    problems += [f"{u.code} {u.name}：单位结果与印记不符" for u in bad[:20]]
    if len(bad) > 20:
        problems.append(f"另有{len(bad) - 20}个单位与印记不符")
    if whole and [u.position for u in units] != list(range(1, publication.unit_count + 1)):
        problems.append(f"单位行数或顺序与版本不符：应为 {publication.unit_count} 行")
    return problems


def check_units(publication, units, *, whole: bool = True) -> None:
    """Raise SealBroken unless the version's row and these unit rows carry their seals."""
    problems = problems_of(publication, units, whole=whole)
    if problems:
        raise SealBroken(publication, problems)


def check_scores(publication, unit, rows) -> None:
    """Raise SealBroken unless a unit's indicator rows (all of them) are the ones its unit row names — `unit` has
    the unit row's code, name and digests, itself checked with check_units."""
    _check_digest(publication, unit, unit.scores_sha256, scores_digest(rows))


def check_points(publication, unit, items) -> None:
    """The same for a unit's (indicator code, max points, points) in hundredths (points_digest)."""
    _check_digest(publication, unit, unit.points_sha256, points_digest(items))


def _check_digest(publication, unit, expected: str | None, found: str) -> None:
    if publication.seal_key is None:
        raise SealBroken(publication, problems_of(publication, [], whole=False))
    if not hmac.compare_digest(expected or "", found):
        raise SealBroken(publication, [f"{unit.code} {unit.name}：指标得分与印记不符"])
