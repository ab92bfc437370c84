"""The OpenAPI 3 document of /api/v1: every operation with its request and response schemas, as strict as the
server (required fields; statuses it answers), and the error shape with each status an operation can answer.
tests/test_api_fuzz.py holds the server to it (schemathesis, a token of each role)."""

import copy

from ..domain.objections import MAX_EVIDENCE_BYTES, MAX_FILES, MB

MAX_ID = 2**31 - 1  # ids past an INTEGER column: no such row (the route converter's bound)
DEC = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "95.00"}
NULLABLE_DEC = {"nullable": True, **DEC}
ERROR = {
    "type": "object",
    "required": ["error", "code", "fields"],
    "properties": {
        "error": {"type": "string", "description": "The message, in the session's language (Chinese by default)"},
        "code": {"type": "string", "example": "score.conflict",
                 "description": "Stable, one per meaning (dotted: sheet.unscored, round.published, ...); programs "
                                "branch on it, never on the message. 401: auth.required (no credential) or "
                                "auth.invalid_token (a bad, expired or revoked token); 415: "
                                "request.unsupported_media_type; 400 on a session's write: csrf"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Messages per input field, in the session's language"},
        "current": {"description": "409 only: the value saved meanwhile"},
    },
}


def _resp(description: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


def _obj(required: dict, optional: dict | None = None, **extra) -> dict:
    """An object schema whose `required` properties are all required (OpenAPI 3.0 wants no empty `required`)."""
    out = {"type": "object", "properties": {**required, **(optional or {})}, **extra}
    if required:
        out["required"] = list(required)
    return out


ERR = {"$ref": "#/components/schemas/Error"}
DATE_TIME = {"type": "string", "format": "date-time"}
TOKENS = {"type": "object", "required": ["token", "expires_at", "refresh_token", "refresh_expires_at"],
          "properties": {"token": {"type": "string"}, "expires_at": DATE_TIME,
                         "refresh_token": {"type": "string"}, "refresh_expires_at": DATE_TIME}}
DEVICE_ID = {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$",
             "description": "an id the browser (or program) keeps for the device"}
PENDING = {"type": "object", "maxProperties": 1000,
           "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
           "description": "sheet id (as a string) → changes the device holds unsent for it"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
UNAUTHORIZED = _resp(
    "No credential (code auth.required), or a Bearer token that is bad, expired or revoked (auth.invalid_token)",
    ERR, {"WWW-Authenticate": {"schema": STR, "description": 'Bearer, or Bearer error="invalid_token"'}})
READ_ERRORS = {"401": UNAUTHORIZED, "403": _resp("无权限", ERR), "404": _resp("不存在", ERR)}
# Writes: a session client's write without its X-CSRFToken is a 400 (code csrf); a Bearer token needs none.
WRITE_ERRORS = {"400": _resp("CSRF refused (session clients), or a malformed request", ERR), **READ_ERRORS}
# Operations that read a JSON body.
BODY_ERRORS = {"413": _resp("body too large", ERR),
               "415": _resp("body not declared JSON (Content-Type other than application/json)", ERR),
               "422": _resp("not a JSON object, or invalid input by field", ERR)}
JSON_ONLY = "Content-Type application/json; any other (text/plain, a form) is a 415, its body never read."


def _json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "description": JSON_ONLY,
            "content": {"application/json": {"schema": schema}}}


def spec() -> dict:
    """The document (built on request, so it always matches the routes)."""
    from ..domain import vocabulary
    from ..models.round import ROUND_STATUSES
    from ..models.sheet import SHEET_KINDS, SHEET_STATUSES
    from ..services.documents import TYPES as DOCUMENT_KINDS

    results = [r.value for r in vocabulary.Result]
    kinds, statuses = list(SHEET_KINDS), list(SHEET_STATUSES)
    ident = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    sid = {"name": "sheet_id", "in": "path", "required": True, "schema": ident}
    rid = {"name": "round_id", "in": "path", "required": True, "schema": ident}
    eid = {"name": "evidence_id", "in": "path", "required": True, "schema": ident}
    code = {"name": "indicator_code", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
            "description": "The indicator's code (A1, B2, ...): see the sheet's `indicators`"}
    unit = _obj({"code": STR, "name": STR, "level": STR})
    moved = _obj({"id": INT, "status": {"type": "string", "enum": statuses}})
    deduction = {"$ref": "#/components/schemas/Deduction"}
    photo_url = {"type": "string", "pattern": r"^/api/v1/evidence/\d+/(full|thumb)$",
                 "description": "GET /evidence/{evidence_id}/{variant}: with the caller's token (or session)"}
    photo = _obj({"id": INT, "name": STR, "url": photo_url, "thumb": photo_url})
    document_types = [content_type for content_type, _ in DOCUMENT_KINDS.values()]
    document = _obj({"id": INT, "name": STR, "content_type": {"type": "string", "enum": document_types},
                     "size": INT, "sha256": STR,
                     "url": {"type": "string", "pattern": r"^/api/v1/documents/\d+$"}})
    signature = {"nullable": True, **_obj({"id": INT, "signed_at": STR, "content_sha256": STR,
                                           "image": {"type": "string", "pattern": r"^/api/v1/signatures/\d+/image$",
                                                     "description": "GET /signatures/{signature_id}/image"}})}
    signing = _obj({"sheet_id": INT, "content_sha256": STR, "signed": INT, "stale": INT, "slots": {
        "type": "array", "items": _obj({"slot": STR, "role": {"type": "string",
                                                             "enum": ["inspector", "leader", "representative"]},
                                        "role_label": STR, "scores": BOOL, "name": STR,
                                        "state": {"type": "string", "enum": ["unsigned", "signed", "stale"]},
                                        "state_label": STR, "signature": signature})}})
    variant = {"name": "variant", "in": "path", "required": True,
               "schema": {"type": "string", "enum": ["full", "thumb"]},
               "description": "full: the photo as stored (re-encoded JPEG); thumb: its thumbnail"}
    mine = {"name": "mine", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
            "description": "true (or 1): only the sheets the caller fills in — an inspector's own sheets and a team "
                           "leader's final sheets, a township's or village's own self-assessment (not its "
                           "villages'); none for admin, district and finance. false (or 0, the default): every "
                           "sheet the caller may see, by the pages' rule (finance: self-assessments and final "
                           "sheets, no member's own sheet)."}
    indicator = _obj(
        {"code": STR, "title": STR, "max": DEC, "score": NULLABLE_DEC,
         "deductions": {"type": "array", "items": deduction}, "free_deduction": DEC,
         "direct_score": NULLABLE_DEC, "reason": {"type": "string", "nullable": True},
         "note": {"type": "string", "nullable": True}, "version": INT,
         "photos": {"type": "array", "items": photo}},
        {"final": NULLABLE_DEC, "gap": NULLABLE_DEC, "self_inflated": {"type": "boolean", "nullable": True}},
        description="`final`, `gap`, `self_inflated`: on a self-assessment the caller may compare with the final")
    standing = {"total": NULLABLE_DEC, "result": {"type": "string", "enum": results},
                "rank": {"type": "integer", "nullable": True}, "points_missing": NULLABLE_DEC, "vetoed": BOOL}
    unit_deduction = _obj({"member": STR, "points": DEC, "free": DEC, "reason": STR, "rules": {
        "type": "array", "items": _obj({"code": STR, "text": STR, "count": INT, "points": NULLABLE_DEC,
                                        "void": BOOL})}})
    unit_results = _obj(
        {"round_id": INT, "unit": _obj({"id": INT, "code": STR, "name": STR, "level": STR}), "published": BOOL},
        {"version": INT, "published_at": {"type": "string", "format": "date-time"}, "sha256": STR,
         "threshold": DEC, **standing, "reached_line": BOOL, "level_count": INT, "township_name": STR,
         "self_total": NULLABLE_DEC, "score_sum": NULLABLE_DEC, "bonus_sum": NULLABLE_DEC, "bonus_counted": DEC,
         "lost_total": DEC,
         "bonus_items": {"type": "array", "items": _obj({"code": STR, "text": STR, "points": DEC, "note": STR})},
         "veto_findings": {"type": "array", "items": _obj({"code": STR, "text": STR, "finding": STR})},
         "indicators": {"type": "array", "items": _obj({
             "code": STR, "title": STR, "category": STR, "max": DEC, "score": NULLABLE_DEC, "lost": DEC,
             "reason": STR, "self_score": NULLABLE_DEC, "gap": NULLABLE_DEC, "self_inflated": BOOL,
             "deductions": {"type": "array", "items": unit_deduction}, "photos": {"type": "array", "items": photo}})},
         "problems": {"type": "array", "items": STR},
         "villages": {"type": "array", "items": _obj({"id": INT, "code": STR, "name": STR, **standing})}},
        description="Without `published`: only round_id, unit and published")
    rule = _obj({"code": STR, "text": STR, "per": NULLABLE_DEC, "void": BOOL})
    catalogue = _obj({
        "round_id": INT, "kind": {"type": "string", "enum": ["village", "township"]},
        "catalogue": _obj({"id": INT, "code": STR, "version": INT, "name": STR, "total": DEC}),
        "threshold": DEC, "tolerance": DEC, "bonus_cap": DEC,
        "limits": _obj({"direct_step": DEC, "max_count": INT, "reason": INT, "note": INT}),
        "categories": {"type": "array", "items": _obj({"code": STR, "name": STR, "max": DEC, "indicators": {
            "type": "array", "items": STR}})},
        "indicators": {"type": "array", "items": _obj({
            "code": STR, "title": STR, "category": STR, "max": DEC, "methods": {"type": "array", "items": STR},
            "evidence": STR, "rules": {"type": "array", "items": rule}, "free_deduction": BOOL})},
        "bonus_items": {"type": "array", "items": _obj({"code": STR, "text": STR, "points": DEC})},
        "veto_items": {"type": "array", "items": _obj({"code": STR, "text": STR})}})
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "evalapp API", "version": "1.0",
                 "description": "云溪区“党建+社会救助”试点评估验收。Decimal values travel as strings with two "
                                "decimals. Programs send `Authorization: Bearer <token>` (POST /auth/token; no CSRF); "
                                "browser sessions send X-CSRFToken on writes. A request carrying a Bearer token is "
                                "that token's, whatever cookie comes with it: a bad, expired or revoked token is a 401 "
                                "with `WWW-Authenticate: Bearer error=\"invalid_token\"`. Bodies are JSON "
                                "(application/json): any other type is a 415. Errors: the Error schema."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Error": ERROR,
                "Decimal": DEC,
                "Deduction": _obj({"code": STR, "count": {"type": "integer", "minimum": 0}}),
                "ScoreInput": {
                    "type": "object", "required": ["version"],
                    "description": "`score`: a direct score (a non-empty `deductions` with it is refused). "
                                   "`deductions`: scored by the rules, [] meaning 无扣分（满分）; a non-zero "
                                   "`free_deduction` alone also scores by deductions. Neither: the `note` only, "
                                   "the indicator left as it was (unscored stays unscored). `clear: true`: back "
                                   "to unscored (清除评分), the note kept. A `note` left out stays as it is. On a "
                                   "final sheet only `score` (or `clear`): a value other than the submitted "
                                   "members' mean needs a `reason`. The same change sent again with an old "
                                   "`version` (a retry) is acknowledged, not a conflict.",
                    "properties": {
                        "deductions": {"type": "array", "items": deduction, "maxItems": 100},
                        "free_deduction": DEC, "score": DEC, "reason": {"type": "string", "maxLength": 500},
                        "note": {"type": "string", "maxLength": 2000}, "clear": BOOL,
                        "version": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}},
                "Score": _obj({
                    "indicator": STR, "score": NULLABLE_DEC, "scored_indicator": BOOL, "version": INT,
                    "sheet_total": NULLABLE_DEC, "scored": INT, "missing_to_threshold": NULLABLE_DEC,
                    "score_sum": DEC, "bonus_sum": DEC, "veto": BOOL,
                    "figures_version": {"type": "integer", "description": "higher = newer sheet figures"}}, {
                    "direct_score": NULLABLE_DEC, "deductions": {"type": "array", "items": deduction},
                    "free_deduction": DEC, "reason": {"type": "string", "nullable": True},
                    "note": {"type": "string", "nullable": True},
                    "updated_at": {"type": "string", "nullable": True},
                    "updated_by": {"type": "string", "nullable": True}}),
                "Sheet": _obj({
                    "id": INT, "round_id": INT, "unit": unit, "kind": {"type": "string", "enum": kinds},
                    "status": {"type": "string", "enum": statuses}, "version": INT, "total": NULLABLE_DEC,
                    "result": {"type": "string", "enum": results}, "scored": INT, "indicator_count": INT,
                    "editable": BOOL, "indicators": {"type": "array", "items": indicator}}, {
                    "comparison": _obj({"self_total": NULLABLE_DEC, "final_total": NULLABLE_DEC,
                                        "gap": NULLABLE_DEC, "self_inflated": {"type": "boolean",
                                                                              "nullable": True}}),
                    # self sheets: 代填 — who filled it in for a village without an account (null: the unit itself)
                    "proxy": {**_obj({"by": INT, "name": STR, "township": STR}), "nullable": True}}),
                "SheetListItem": _obj({
                    "id": INT, "unit": unit, "kind": {"type": "string", "enum": kinds},
                    "status": {"type": "string", "enum": statuses}, "inspector_id": {"type": "integer",
                                                                                     "nullable": True},
                    "scored": INT}),
                "Round": _obj({"id": INT, "name": STR,
                               "status": {"type": "string", "enum": [s.value for s in ROUND_STATUSES]},
                               "threshold": DEC, "tolerance": DEC}),
                "UnitResult": {"type": "object", "properties": {
                    "code": STR, "name": STR, "level": STR,
                    "township_code": {"type": "string", "nullable": True},
                    "self_total": NULLABLE_DEC, "final_total": NULLABLE_DEC,
                    "result": {"type": "string", "enum": results},
                    "rank": {"type": "integer", "nullable": True,
                             "description": "within the unit's level; null for a vetoed or incomplete unit"},
                    "points_missing": NULLABLE_DEC, "veto": BOOL}},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/auth/token": {"post": {
                "summary": "Exchange a username and password for a Bearer token (1 hour) and a refresh token (14 days)",
                "security": [],
                "description": "Administrator, district and finance accounts also send `code`: the 6-digit "
                               "code of their authenticator app (or a one-time recovery code). Without it: 401 "
                               "token.second_factor_required; a wrong or reused one: 401 "
                               "second_factor.wrong_code, counted with wrong passwords.",
                "requestBody": _json_body(_obj({"username": STR, "password": STR},
                                               {"code": {"type": "string", "maxLength": 64}})),
                "responses": {
                    "200": {**_resp("an access token (1 hour) and a refresh token (14 days)", TOKENS),
                            "links": {"refresh": {"operationId": "refresh_token", "requestBody":
                                                  {"refresh_token": "$response.body#/refresh_token"}}}},
                    "401": _resp("bad credentials", ERR, UNAUTHORIZED["headers"]),
                    "403": _resp("the password was set by an administrator: change it on the web page first "
                                 "(token.password_change_first); or the account has not enrolled its second "
                                 "factor on the web page yet (token.second_factor_enrol_first)", ERR),
                    "429": _resp("too many failed log-ins (auth.throttled)", ERR,
                                 {"Retry-After": {"schema": INT, "description": "seconds"}}),
                    **BODY_ERRORS}}},
            "/auth/refresh": {"post": {
                "summary": "Exchange a refresh token for a new access token and refresh token, without the password",
                "description": "The refresh token is spent (rotated). One used a second time revokes every token of "
                               "its log-in (401 auth.refresh_reused); an unknown, expired or revoked one is 401 "
                               "auth.invalid_refresh_token.", "security": [],
                "requestBody": _json_body(_obj({"refresh_token": {"type": "string", "maxLength": 256}})),
                "responses": {"200": _resp("new tokens", TOKENS),
                              "401": _resp("refused (auth.invalid_refresh_token, auth.refresh_reused)", ERR,
                                           UNAUTHORIZED["headers"]),
                              **BODY_ERRORS}}},
            "/rounds/{round_id}/catalogue": {"get": {
                "summary": "The round's catalogue for one unit level: what an indicator card and the standing rule "
                           "need (an offline tablet scores by it)",
                "parameters": [rid, {"name": "kind", "in": "query", "required": True,
                                     "schema": {"type": "string", "enum": ["village", "township"]}}],
                "responses": {"200": _resp("the catalogue", catalogue),
                              "422": _resp("`kind` neither village nor township (input.invalid, fields.kind)", ERR),
                              **READ_ERRORS}}},
            "/sync": {"post": {
                "summary": "Apply an offline device's operations, each in its own transaction, answered one by one",
                "description": "Each operation is the body of PUT /sheets/{sheet_id}/scores/{indicator_code} with "
                               "an `op_id` (a uuid the client made), the sheet, the indicator and the device's time. "
                               "Each result says what the single PUT would have answered (`http`, `data`) and how "
                               "it ended: applied; duplicate (the id was sent before: the first answer, nothing "
                               "changed); equal (the value was already stored); conflict (a stale `version`: "
                               "`data.current` holds the stored value and who made it); rejected (refused: "
                               "`data.code` says why, e.g. sheet.read_only once submitted). A malformed batch (no "
                               "device id, more than 200 operations, an operation without a uuid) is a 422 and "
                               "applies nothing. `pending`: the changes the device still holds after this batch, "
                               "a total (0 clears the device's report) or per sheet id as for /devices/report.",
                "requestBody": _json_body(_obj(
                    {"device_id": DEVICE_ID, "operations": {"type": "array", "maxItems": 200, "items": _obj(
                        {"op_id": {"type": "string", "format": "uuid"}, "type": {"type": "string",
                                                                               "enum": ["score"]},
                         "sheet_id": ident, "indicator": {"type": "string", "minLength": 1, "maxLength": 32},
                         "body": {"$ref": "#/components/schemas/ScoreInput"}},
                        {"device_time": {"type": "string", "format": "date-time", "nullable": True}})}},
                    {"pending": {"oneOf": [{"type": "integer", "minimum": 0}, PENDING]}})),
                "responses": {"200": _resp("one result per operation, in order", _obj({"results": {
                    "type": "array", "items": _obj({
                        "op_id": STR, "status": {"type": "string", "enum": ["applied", "duplicate", "equal",
                                                                          "conflict", "rejected"]},
                        "http": INT, "data": {"type": "object"}})}})),
                              **BODY_ERRORS, **WRITE_ERRORS}}},
            "/devices/report": {"post": {
                "summary": "How many changes a device still holds unsent, per sheet (the leader and the district "
                           "see them; a member sheet with such changes is not submitted)",
                "requestBody": _json_body(_obj({"device_id": DEVICE_ID, "pending": PENDING})),
                "responses": {"200": _resp("stored", _obj({"device_id": STR, "pending": PENDING})),
                              **BODY_ERRORS, **WRITE_ERRORS}}},
            "/csrf": {"get": {
                "summary": "A fresh CSRF token for a session's writes (programs with a token need none)",
                "responses": {"200": _resp("token", _obj({"csrf_token": STR})), "401": UNAUTHORIZED}}},
            "/rounds": {"get": {"summary": "Rounds", "responses": {
                "200": _resp("rounds", _obj({"rounds": {"type": "array",
                                                        "items": {"$ref": "#/components/schemas/Round"}}})),
                **READ_ERRORS}}},
            "/rounds/{round_id}/sheets": {"get": {
                "summary": "Sheets of a round the caller may see (?mine=1: the caller's own)",
                "parameters": [rid, mine],
                "responses": {"200": _resp("sheets", _obj({"sheets": {
                    "type": "array", "items": {"$ref": "#/components/schemas/SheetListItem"}}})),
                    "422": _resp("`mine` neither 1/true nor 0/false (input.invalid, fields.mine)", ERR),
                    **READ_ERRORS}}},
            "/rounds/{round_id}/results": {"get": {
                "summary": "Per unit: totals and result — once published, the round's last published version "
                           "(whatever was unlocked since); ?view=draft for the data as it stands",
                "parameters": [rid, {"name": "view", "in": "query", "required": False,
                                     "schema": {"type": "string", "enum": ["draft"]}}],
                "responses": {"200": _resp("results", _obj({"round_id": INT, "official": {"type": "boolean"}, "units": {
                    "type": "array", "items": {"$ref": "#/components/schemas/UnitResult"}}},
                    {"version": {"type": "integer", "nullable": True},
                     "sha256": {"type": "string", "nullable": True},
                     "published_at": {"type": "string", "format": "date-time", "nullable": True},
                     "pending_units": {"type": "integer", "nullable": True}})), **READ_ERRORS}}},
            "/rounds/{round_id}/units/{unit_id}/results": {"get": {
                "summary": "A unit's results as its page shows them (issue 32): once the round is published, its "
                           "last version — every indicator's score, maximum, points lost and the members' "
                           "deductions behind it, photos, bonus items, veto findings, rank, points missing, the "
                           "self-assessed score beside each final one, the 问题清单 (`problems`: the indicators "
                           "that lost points, most lost first) and, for a township, its villages; before "
                           "publication only `published: false`. The district, admin and finance see every unit; a "
                           "township lead its township and its villages; a village lead its village (404 for "
                           "another unit); other roles 403",
                "parameters": [rid, {"name": "unit_id", "in": "path", "required": True, "schema": ident}],
                "responses": {"200": _resp("the unit's results", unit_results), **READ_ERRORS}}},
            "/sheets/{sheet_id}": {"get": {
                "summary": "One sheet with every indicator's score", "parameters": [sid],
                "responses": {"200": _resp("sheet", {"$ref": "#/components/schemas/Sheet"}), **READ_ERRORS}}},
            "/sheets/{sheet_id}/scores/{indicator_code}": {"put": {
                "summary": "Save one indicator (autosave); refused with 409 on a stale version",
                "parameters": [sid, code],
                "requestBody": _json_body({"$ref": "#/components/schemas/ScoreInput"}),
                "responses": {"200": _resp("saved", {"$ref": "#/components/schemas/Score"}),
                              "409": _resp("stale version; `current` holds the saved value", ERR),
                              **BODY_ERRORS, **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/scores/{indicator_code}/photos": {"post": {
                "summary": "Add an evidence photo (JPEG, PNG or WebP, up to 15 MB)", "parameters": [sid, code],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["photo"],
                    "properties": {"photo": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": _resp("stored; `url` and `thumb` serve it (GET /evidence/{evidence_id}/"
                                           "{variant})", photo),
                              "200": _resp("the same bytes were stored for this indicator of this sheet before (a "
                                           "retry): that photo, nothing stored again", photo),
                              "413": _resp("too large", ERR), "422": _resp("not an accepted image", ERR),
                              **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/summary": {
                "get": {"summary": "A self-assessment's 工作总结 and the version to base the next save on",
                        "parameters": [sid],
                        "responses": {"200": _resp("summary", _obj({"id": INT, "summary": STR, "version": INT,
                                                                    "editable": BOOL})), **READ_ERRORS}},
                "put": {"summary": "Save the 工作总结 (autosave); 409 on a stale version, 403 once submitted",
                        "parameters": [sid],
                        "requestBody": _json_body(_obj({
                            "summary": {"type": "string", "maxLength": 10000,
                                        "description": "no control characters except line breaks and tabs"},
                            "version": {"type": "integer", "minimum": 0, "maximum": MAX_ID}})),
                        "responses": {"200": _resp("saved", _obj({"id": INT, "version": INT, "length": INT})),
                                      "409": _resp("saved meanwhile elsewhere; `current` holds {summary, version}",
                                                   ERR),
                                      **BODY_ERRORS, **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/submit": {"post": {
                "summary": "Submit a sheet", "parameters": [sid],
                "responses": {"200": _resp("submitted", moved), "409": _resp("status changed meanwhile", ERR),
                              "422": _resp("unscored indicators listed in fields.unscored", ERR),
                              **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/approve": {"post": {
                "summary": "Approve a submitted sheet (its reviewer)", "parameters": [sid],
                "responses": {"200": _resp("approved", moved), "409": _resp("status changed meanwhile", ERR),
                              "422": _resp("cannot be approved as it stands", ERR), **WRITE_ERRORS}}},
            "/sheets/approve": {"post": {
                "summary": "Approve many submitted final sheets at once (the district): each one without a flag is "
                           "approved (its own approval, audited as one); the others are skipped with the reasons",
                "requestBody": _json_body(_obj({"sheet_ids": {
                    "type": "array", "minItems": 1, "maxItems": 200, "uniqueItems": True, "items": ident}})),
                "responses": {"200": _resp("one result per id, in the order asked", _obj({
                    "results": {"type": "array", "items": _obj({
                        "id": INT, "status": {"type": "string", "enum": ["approved", "skipped"]},
                        "unit": {"type": "string", "nullable": True}, "total": NULLABLE_DEC,
                        "result": {"type": "string", "enum": results, "nullable": True},
                        "result_label": {"type": "string", "nullable": True},
                        "reasons": {"type": "array", "items": _obj({
                            "code": {"type": "string", "enum": [f.value for f in vocabulary.ReviewFlag]
                                     + [s.value for s in vocabulary.BulkSkip]},
                            "message": STR})}})},
                    "approved": INT, "skipped": INT})),
                    **BODY_ERRORS, **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/return": {"post": {
                "summary": "Return a submitted sheet for changes (its reviewer), with a comment", "parameters": [sid],
                "requestBody": _json_body(_obj({}, {"comment": {"type": "string", "maxLength": 2000}})),
                "responses": {"200": _resp("returned", moved), "409": _resp("status changed meanwhile", ERR),
                              **BODY_ERRORS, **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/signatures": {
                "get": {"summary": "A final sheet's signers (its members, the leader, the unit's representative) and "
                                   "each signature's state against the sheet's content as it stands",
                        "parameters": [sid], "responses": {"200": _resp("the signers", signing), **READ_ERRORS}},
                "post": {"summary": "Record one signer's signature, drawn as strokes on a width × height canvas "
                                    "(an inspector of the unit's team; refused when empty or a tap; 409 "
                                    "signature.published once the round is published)",
                         "parameters": [sid],
                         "requestBody": _json_body(_obj(
                             {"slot": {"type": "string", "example": "leader",
                                       "description": "inspector:<user id>, leader or representative"},
                              "strokes": {"type": "array", "maxItems": 200, "items": {
                                  "type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 3,
                                                             "items": {"type": "number"}}},
                                  "description": "strokes of [x, y, t ms] in the canvas's pixels"},
                              "width": {"type": "number", "minimum": 1, "maximum": 10000},
                              "height": {"type": "number", "minimum": 1, "maximum": 10000}},
                             {"name": {"type": "string", "maxLength": 50,
                                       "description": "the representative's name (required for that slot)"},
                              "op_id": {"type": "string", "format": "uuid",
                                        "description": "drawn offline: the operation's id; sent again, it is "
                                                       "answered as the first time and recorded once"},
                              "device_time": {"type": "string", "format": "date-time",
                                              "description": "drawn offline: the device's clock, with its offset"},
                              "seen_versions": {"type": "object", "additionalProperties": {
                                  "type": "integer", "minimum": 0, "maximum": MAX_ID},
                                  "description": "drawn offline: indicator code → the score's version the signer "
                                                 "saw (left out: unscored). When any has moved since, the "
                                                 "signature is recorded marked 签名后有改动 (state stale)"}})),
                         "responses": {"201": _resp("recorded; the signers as they stand now",
                                                    _obj({"id": INT, **signing["properties"]})),
                                       "409": _resp("the round is published (signature.published)", ERR),
                                       **BODY_ERRORS, **WRITE_ERRORS}}},
            "/signatures/{signature_id}/image": {"get": {
                "summary": "A signature's image (PNG, drawn by the server from the strokes), for a caller who may see "
                           "its sheet (404 otherwise)",
                "parameters": [{"name": "signature_id", "in": "path", "required": True, "schema": ident}],
                "responses": {"200": {"description": "the image", "content": {
                                  "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                              **READ_ERRORS}}},
            "/evidence/{evidence_id}/{variant}": {"get": {
                "summary": "An evidence photo (the `url` and `thumb` of a sheet's photos), for a caller who may see "
                           "its sheet (404 otherwise, and for a withdrawn photo)",
                "parameters": [eid, variant],
                "responses": {"200": {"description": "the image", "content": {
                                  "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
                              **READ_ERRORS}}},
            "/evidence/{evidence_id}": {"delete": {
                "summary": "Withdraw a photo", "parameters": [eid],
                "responses": {"200": _resp("removed", _obj({"id": INT, "removed": BOOL})),
                              "409": _resp("the sheet changed meanwhile", ERR), **WRITE_ERRORS}}},
            "/sheets/{sheet_id}/documents": {"post": {
                "summary": "Add a document to a self-assessment (PDF, DOCX, XLSX, JPEG or PNG, up to 20 MB): its "
                           "type is what its bytes open as, and the name it is kept under ends with that type's "
                           "extension; format and control characters are dropped from the name",
                "parameters": [sid],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["document"],
                    "properties": {"document": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": _resp("stored; `url` downloads it (GET /documents/{doc_id})", document),
                              "413": _resp("body too large (code request.too_large)", ERR),
                              "422": _resp("no file, or not an accepted document (field `document`)", ERR),
                              **WRITE_ERRORS}}},
            **_notice_paths(ident, rid),
            "/documents/{doc_id}": {"get": {
                "summary": "A self-assessment document, for a caller who may see its sheet (404 otherwise), as an "
                           "attachment named with its type's extension (Content-Disposition with filename*)",
                "parameters": [{"name": "doc_id", "in": "path", "required": True, "schema": ident}],
                "responses": {"200": {"description": "the file", "headers": {
                                  "Content-Disposition": {"schema": STR}},
                                  "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                              for t in document_types}},
                              **READ_ERRORS}}},
        },
    }
    _name_operations(doc)
    return doc


TAGS = {"auth": "auth", "csrf": "auth", "openapi.json": "meta", "rounds": "rounds", "sheets": "sheets",
        "evidence": "evidence", "signatures": "signatures", "documents": "documents", "sync": "offline",
        "devices": "offline", "objections": "objections"}
TAG_TEXTS = {"auth": "Tokens and CSRF", "meta": "This document", "rounds": "Rounds, their sheets, results and "
             "catalogues", "sheets": "Sheets: scores, moves, photos, 工作总结, signatures", "evidence": "Photos",
             "signatures": "Signature images", "documents": "Self-assessment documents",
             "offline": "Offline tablets: the sync batch and device reports",
             "objections": "公示 objections and their re-check (复核)"}


def _openapi_path(rule: str) -> str:
    """A Flask rule as the document's path: /api/v1/sheets/<int:sheet_id>/scores/<code> → /sheets/{sheet_id}/..."""
    import re

    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix("/api/v1"))
    return path.replace("{code}", "{indicator_code}").replace("{variant}", "{variant}")


def _name_operations(doc: dict) -> None:
    """Each operation's id (its view's name: put_score, sync, ...) and tag, from the app's own routes, so the
    document names what serves it."""
    from flask import current_app

    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = _openapi_path(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"].get(path, {}).get(method.lower())
            if operation is not None:
                operation["operationId"] = rule.endpoint.removeprefix("api.")
    for path, operations in doc["paths"].items():
        tag = TAGS.get(path.strip("/").split("/")[0], "meta")
        for operation in operations.values():
            operation["tags"] = [tag]
    doc["tags"] = [{"name": name, "description": text} for name, text in TAG_TEXTS.items()]
    _error_codes(doc, current_app)


def _error_codes(doc: dict, app) -> None:
    """Each operation's error responses name the codes it can answer (api.error_codes): the Error schema with
    `code` narrowed to them, and the list in the description. A status the view raises that the operation did not
    state yet is added."""
    from .error_codes import REQUEST_CODES, endpoint_codes

    by_endpoint = endpoint_codes(app)
    for operations in doc["paths"].values():
        for operation in operations.values():
            codes = by_endpoint.get(f"api.{operation.get('operationId')}", {})
            # (the responses are shared dicts — READ_ERRORS, UNAUTHORIZED —: each operation narrows its own copy)
            responses = operation["responses"] = copy.deepcopy(operation["responses"])
            for status, found in sorted(codes.items()):
                key = str(status)
                own = found - REQUEST_CODES.get(status, set())
                if key not in responses and (not own or status >= 500):
                    continue  # only the request's own codes: not stated unless the operation states the status
                response = responses.setdefault(key, _resp("error", ERR))
                if response.get("content", {}).get("application/json", {}).get("schema") != ERR:
                    continue  # not the Error shape: left as stated
                listed = sorted(found)
                response["content"]["application/json"]["schema"] = {"allOf": [ERR, {
                    "type": "object", "properties": {"code": {"type": "string", "enum": listed}}}]}
                response["description"] += " — codes: " + ", ".join(listed)
                response["x-error-codes"] = listed


def _notice_paths(ident: dict, rid: dict) -> dict:
    """公示, 异议, 复核 (issue 32): the notice page's operations (notice.routes), the same services and refusals."""
    oid = {"name": "objection_id", "in": "path", "required": True, "schema": ident}
    nullable_str = {"type": "string", "nullable": True}
    objection = _obj({
        "id": INT, "receipt": STR, "number": INT, "unit": STR, "unit_id": INT,
        "target": {"type": "string", "enum": ["indicator", "bonus", "veto"]}, "code": STR, "title": STR,
        "reason": STR, "status": {"type": "string", "enum": ["open", "assigned", "upheld", "changed"]},
        "on_paper": BOOL, "objector": STR, "filed_at": STR, "due_on": nullable_str,
        "reviewers": {"type": "array", "items": INT}, "leader": {"type": "integer", "nullable": True},
        "answer": STR, "new_value": NULLABLE_DEC,
        "files": {"type": "array", "items": _obj({"id": INT, "name": STR, "sha256": STR, "url": STR})}})
    notice = {"nullable": True, **_obj({
        "version": INT, "start": STR, "length": INT, "last_day": STR, "ends_at": STR,
        "state": {"type": "string", "enum": ["pending", "open", "closed", "settled"]},
        "settled_version": {"type": "integer", "nullable": True}})}
    conflict = _resp("refused by the objection's or the notice's state (e.g. objection.closed: the period "
                     "ended at 24:00 Beijing time on its last working day, by the server's clock)", ERR)
    return {
        "/rounds/{round_id}/objections": {
            "get": {"summary": "The round's 公示 period and the objections the caller may see",
                    "parameters": [rid],
                    "responses": {"200": _resp("the notice and objections",
                                               _obj({"notice": notice,
                                                     "objections": {"type": "array", "items": objection}})),
                                  **READ_ERRORS}},
            "post": {"summary": "File an objection during the 公示 (a unit's lead for its own unit; the district a "
                                "named paper objection, `objector`): one open objection per item per unit; "
                                "evidence checked by content as the self-assessment documents are",
                     "parameters": [rid],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["unit_id", "target", "code", "reason"],
                         "properties": {"unit_id": INT, "target": {"type": "string",
                                                                   "enum": ["indicator", "bonus", "veto"]},
                                        "code": STR, "reason": {"type": "string", "maxLength": 2000},
                                        "objector": STR,
                                        "files": {"type": "array", "maxItems": MAX_FILES,
                                                  "description": f"evidence: at most {MAX_FILES} files, together "
                                                                 f"at most {MAX_EVIDENCE_BYTES // MB} MB (larger: "
                                                                 "422 objection.files_too_large; a body past the "
                                                                 "route's limit: 413)",
                                                  "items": {"type": "string", "format": "binary"}}}}}}},
                     "responses": {"201": _resp("received, with its 受理编号 (`receipt`)", objection),
                                   "409": conflict, "413": _resp("body too large", ERR),
                                   "415": _resp("body not multipart/form-data", ERR),
                                   "422": _resp("invalid input by field (code, reason, objector, files), or a "
                                                "second open objection on the item (objection.duplicate)", ERR),
                                   **WRITE_ERRORS}}},
        "/objections/{objection_id}": {"get": {
            "summary": "One objection, for the district, the unit's leads and its re-check group",
            "parameters": [oid], "responses": {"200": _resp("the objection", objection), **READ_ERRORS}}},
        "/objections/{objection_id}/assign": {"post": {
            "summary": "The district assigns a re-check group: at least two active inspectors, none of the team that "
                       "scored the unit (refused with why, field `reviewers`), `leader` among them",
            "parameters": [oid],
            "requestBody": _json_body(_obj({"reviewers": {"type": "array", "items": INT}, "leader": INT})),
            "responses": {"200": _resp("assigned", objection), "409": conflict, **BODY_ERRORS, **WRITE_ERRORS}}},
        "/objections/{objection_id}/decide": {"post": {
            "summary": "The group's leader records the decision by majority: uphold with a written answer, or "
                       "change (`new_value` for an indicator), which unlocks the final sheet with the objection "
                       "as its reason",
            "parameters": [oid],
            "requestBody": _json_body(_obj({"decision": {"type": "string", "enum": ["uphold", "change"]},
                                            "answer": STR, "agree": {"type": "array", "items": INT}},
                                           {"new_value": STR})),
            "responses": {"200": _resp("decided", objection), "409": conflict, **BODY_ERRORS, **WRITE_ERRORS}}},
    }
