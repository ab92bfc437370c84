"""Approving or returning a submitted sheet: the one route body behind the district's review of an inspection sheet
(inspection.review) and the township's or district's review of a self-assessment (selfassess.review). The rule is
services.moves.review_sheet; this is the form's check, the refusal, the messages and where each answer goes."""
from flask import abort, flash, redirect, request
from flask_login import current_user

from . import access
from .auth.forms import EmptyForm
from .services import moves
from .services.errors import ServiceError


def review_submitted(sheet, *, refused: str, approved: str, returned: str, back_to: str, done_to: str, page_again):
    """`refused`: the warning when the sheet can no longer be reviewed (then back to `back_to`); `approved` and
    `returned`: the message of each outcome (then on to `done_to`); `page_again(status, typed_comment)`: the sheet's
    page again when the service refuses, the comment as typed."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_review_sheet(current_user, sheet):
        flash(refused, "warning")
        return redirect(back_to)
    comment = request.form.get("comment", "")
    try:
        outcome = moves.review_sheet(sheet, current_user, request.form.get("action", ""), comment,
                                     address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return page_again(exc.status, comment)
    flash(approved if outcome == "approved" else returned, "success")
    return redirect(done_to)
