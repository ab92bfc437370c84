"""The district approves the clean final sheets of its queue together (services.bulk_review): a confirmation page
listing each sheet's unit, total and result (and the sheets left out, with why), then one POST."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..auth.forms import EmptyForm
from ..domain.vocabulary import Result
from ..services import bulk_review
from . import bp


def _back():
    return redirect(url_for("results.index", _anchor="review-queue"))


@bp.get("/review/approve")
@role_required("district")
def bulk_confirm():
    """The confirmation: what would be approved now, and what is left out (reads only)."""
    requested = bulk_review.parse_tokens(request.args.getlist("sheet"))
    if not requested:
        flash(gettext("请先勾选要审核通过的评分表"), "warning")
        return _back()
    outcomes = bulk_review.preview(current_user, requested)
    return render_template("results/bulk_approve.html", ready=[o for o in outcomes if o.ready],
                           left_out=[o for o in outcomes if not o.ready], result_labels=Result.labels(),
                           form=EmptyForm())


@bp.post("/review/approve")
@role_required("district")
def bulk_approve():
    if not EmptyForm().validate_on_submit():
        abort(400)
    requested = bulk_review.parse_tokens(request.form.getlist("sheet"))
    if not requested:
        flash(gettext("请先勾选要审核通过的评分表"), "warning")
        return _back()
    outcomes = bulk_review.approve_clean(current_user, requested, address=request.remote_addr)
    approved = [o.unit for o in outcomes if o.approved]
    if approved:
        flash(gettext("已审核通过%(count)d份评分表：%(units)s", count=len(approved), units="、".join(approved)),
              "success")
    for o in outcomes:
        if not o.approved:
            flash(gettext("%(unit)s未审核通过：%(reasons)s", unit=o.unit or f"#{o.sheet_id}",
                          reasons=gettext("；").join(str(r) for r in o.reasons)), "warning")
    return _back()
