"""The OpenAPI 3 document of /api/v1."""

DEC = {"type": "string", "pattern": r"^\d+\.\d{2}$", "example": "95.00"}
ERROR = {
    "type": "object",
    "required": ["error", "code", "fields"],
    "properties": {
        "error": {"type": "string", "description": "The message, in the session's language (Chinese by default)"},
        "code": {"type": "string", "example": "score.conflict",
                 "description": "Stable, one per meaning (dotted: sheet.unscored, round.published, ...); programs "
                                "branch on it, never on the message"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Messages per input field, in the session's language"},
    },
}


def _resp(description: str, schema: dict | None = None) -> dict:
    out = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


ERR = {"$ref": "#/components/schemas/Error"}
STANDARD_ERRORS = {"401": _resp("未登录", ERR), "403": _resp("无权限", ERR), "404": _resp("不存在", ERR)}


def spec() -> dict:
    """The document (built on request, so it always matches the routes)."""
    sid = {"name": "sheet_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    rid = {"name": "round_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    code = {"name": "indicator_code", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "evalapp API", "version": "1.0",
                 "description": "云溪区“党建+社会救助”试点评估验收。Decimal values travel as strings with two "
                                "decimals. Browser sessions send X-CSRFToken on writes; programs use a Bearer token."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Error": ERROR,
                "Decimal": DEC,
                "Deduction": {"type": "object", "required": ["code", "count"],
                              "properties": {"code": {"type": "string"}, "count": {"type": "integer", "minimum": 0}}},
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
                        "deductions": {"type": "array", "items": {"$ref": "#/components/schemas/Deduction"}},
                        "free_deduction": DEC, "score": DEC, "reason": {"type": "string", "maxLength": 500},
                        "note": {"type": "string", "maxLength": 2000}, "clear": {"type": "boolean"},
                        "version": {"type": "integer", "minimum": 0}}},
                "Score": {"type": "object", "properties": {
                    "indicator": {"type": "string"}, "score": {"nullable": True, **DEC},
                    "scored_indicator": {"type": "boolean"}, "version": {"type": "integer"},
                    "sheet_total": DEC, "scored": {"type": "integer"}, "missing_to_threshold": DEC,
                    "figures_version": {"type": "integer", "description": "higher = newer sheet figures"}}},
                "Sheet": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["self", "inspector", "final"]},
                    "status": {"type": "string", "enum": ["draft", "submitted", "returned", "approved", "closed"]},
                    "unit": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                              "level": {"type": "string"}}},
                    "total": DEC, "result": {"type": "string", "enum": ["pass", "fail", "veto", "incomplete"]},
                    "indicators": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "max": DEC, "score": {"nullable": True, **DEC},
                        "deductions": {"type": "array", "items": {"$ref": "#/components/schemas/Deduction"}},
                        "free_deduction": DEC, "reason": {"type": "string"}, "note": {"type": "string"},
                        "version": {"type": "integer"}}}}}},
                "UnitResult": {"type": "object", "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"},
                    "township_code": {"type": "string", "nullable": True},
                    "self_total": {"nullable": True, **DEC}, "final_total": {"nullable": True, **DEC},
                    "result": {"type": "string", "enum": ["pass", "fail", "veto", "incomplete"]},
                    "rank": {"type": "integer", "nullable": True,
                             "description": "within the unit's level; null for a vetoed or incomplete unit"},
                    "points_missing": {"nullable": True, **DEC}, "veto": {"type": "boolean"}}},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/auth/token": {"post": {
                "summary": "Exchange a username and password for a Bearer token (12 hours)", "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": _resp("token", {"type": "object", "properties": {
                    "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}),
                    "401": _resp("bad credentials", ERR)}}},
            "/rounds": {"get": {"summary": "Rounds", "responses": {"200": _resp("rounds"), **STANDARD_ERRORS}}},
            "/rounds/{round_id}/sheets": {"get": {
                "summary": "Sheets of a round the caller may see", "parameters": [rid],
                "responses": {"200": _resp("sheets"), **STANDARD_ERRORS}}},
            "/rounds/{round_id}/results": {"get": {
                "summary": "Per unit: totals and result", "parameters": [rid],
                "responses": {"200": _resp("results", {"type": "object", "properties": {
                    "units": {"type": "array", "items": {"$ref": "#/components/schemas/UnitResult"}}}}),
                    **STANDARD_ERRORS}}},
            "/sheets/{sheet_id}": {"get": {
                "summary": "One sheet with every indicator's score", "parameters": [sid],
                "responses": {"200": _resp("sheet", {"$ref": "#/components/schemas/Sheet"}), **STANDARD_ERRORS}}},
            "/sheets/{sheet_id}/scores/{indicator_code}": {"put": {
                "summary": "Save one indicator (autosave); refused with 409 on a stale version",
                "parameters": [sid, code],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ScoreInput"}}}},
                "responses": {"200": _resp("saved", {"$ref": "#/components/schemas/Score"}),
                              "409": _resp("stale version; `current` holds the saved value", ERR),
                              "422": _resp("invalid input, by field", ERR), **STANDARD_ERRORS}}},
            "/sheets/{sheet_id}/scores/{indicator_code}/photos": {"post": {
                "summary": "Add an evidence photo (JPEG, PNG or WebP, up to 15 MB)", "parameters": [sid, code],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": _resp("stored"), "413": _resp("too large", ERR),
                              "422": _resp("not an accepted image", ERR), **STANDARD_ERRORS}}},
            "/sheets/{sheet_id}/summary": {
                "get": {"summary": "A self-assessment's 工作总结 and the version to base the next save on",
                        "parameters": [sid],
                        "responses": {"200": _resp("summary", {"type": "object", "properties": {
                            "id": {"type": "integer"}, "summary": {"type": "string"}, "version": {"type": "integer"},
                            "editable": {"type": "boolean"}}}), **STANDARD_ERRORS}},
                "put": {"summary": "Save the 工作总结 (autosave); 409 on a stale version, 403 once submitted",
                        "parameters": [sid],
                        "requestBody": {"required": True, "content": {"application/json": {"schema": {
                            "type": "object", "required": ["summary", "version"], "properties": {
                                "summary": {"type": "string", "maxLength": 10000,
                                            "description": "no control characters except line breaks and tabs"},
                                "version": {"type": "integer", "minimum": 0}}}}}},
                        "responses": {"200": _resp("saved", {"type": "object", "properties": {
                            "id": {"type": "integer"}, "version": {"type": "integer"},
                            "length": {"type": "integer"}}}),
                            "409": _resp("saved meanwhile elsewhere; `current` holds {summary, version}", ERR),
                            "422": _resp("invalid input, by field", ERR), **STANDARD_ERRORS}}},
            "/sheets/{sheet_id}/submit": {"post": {
                "summary": "Submit a sheet", "parameters": [sid],
                "responses": {"200": _resp("submitted"), "409": _resp("status changed meanwhile", ERR),
                              "422": _resp("unscored indicators listed in fields.unscored", ERR),
                              **STANDARD_ERRORS}}},
            "/evidence/{evidence_id}": {"delete": {
                "summary": "Withdraw a photo", "parameters": [{"name": "evidence_id", "in": "path",
                                                               "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _resp("removed"), **STANDARD_ERRORS}}},
        },
    }
