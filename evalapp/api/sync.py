"""The offline tablet's operations (issue 31): the sync batch and the device report."""
from flask import jsonify, request
from flask_login import current_user

from ..services import devices, sync as sync_service
from ..services.errors import Invalid, ServiceError, _l
from . import bp
from .parsing import json_body
from .routes import error_fields, save_and_answer


def _error_body(exc: ServiceError) -> dict:
    """What the single call answers for a service's error (the API's error shape), as data."""
    fields = error_fields(exc)
    return {"error": exc.message, **fields}


def _saver():
    sheets: dict = {}  # the request's sheets found editable (save_and_answer)

    def save(op: sync_service.Operation, sync: dict, then) -> dict:
        return save_and_answer(op.sheet_id, op.indicator, op.body, sync=sync, then=then, sheets=sheets,
                               no_wait=True)

    return save


@bp.post("/sync")
def sync():
    """Apply a batch of an offline device's operations, each in its own transaction, answered one by one in order
    (services.sync); a malformed batch is a 422 and applies nothing."""
    device_id, pending, ops = sync_service.parse_batch(json_body())
    user = current_user._get_current_object()
    results = [o.as_json() for o in sync_service.apply_batch(user, device_id, ops, _saver(), _error_body)]
    if pending is not None:
        devices.report(user, device_id, _pending(pending), address=request.remote_addr)
    return jsonify(results=results)


def _pending(value):
    return value if isinstance(value, int) else {int(k): v for k, v in value.items()}


@bp.post("/devices/report")
def device_report():
    """A device's count of the changes it still holds unsent, per sheet (services.devices)."""
    data = json_body()
    errors: dict = {}
    device_id = sync_service.device_id_of(data.get("device_id"), "device_id", errors)
    pending = data.get("pending")
    if not isinstance(pending, dict) or not sync_service.pending_ok(pending):
        errors["pending"] = _l("待同步数应按评分表编号给出非负整数")
    if errors:
        raise Invalid("device.report_invalid", _l("输入有误，请检查"), errors)
    devices.report(current_user._get_current_object(), device_id, _pending(pending), address=request.remote_addr)
    return jsonify(device_id=device_id, pending={str(k): v for k, v in pending.items() if v > 0})
