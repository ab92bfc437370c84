"""Template filters and globals."""
import re
import threading
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, g, url_for
from flask_babel import format_datetime, get_locale, get_translations
from markupsafe import Markup

from .domain.numbers import q2
from .domain.subsidy import fen_to_yuan
from .ids import ID_MAX


def points(value) -> str:
    """Points with two decimals ("95.00"); a dash for no value."""
    if value is None:
        return "—"
    return f"{q2(Decimal(value)):.2f}"


def _translations():
    """The request's translations, looked up once per request (a scoring page translates ~450 strings)."""
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def _gettext(string: str, **variables) -> Markup:
    """{{ _('…') }} as Jinja's newstyle gettext does it: the translation as markup, formatted with the variables
    (and always when it holds a %, as Jinja would: "%%" means one %)."""
    translated = Markup(_translations().ugettext(string))
    return translated % variables if variables or "%" in translated else translated


ID_SENTINEL = ID_MAX  # the largest id a route takes: ten digits no other part of these URLs holds


def url_parts(endpoint: str, name: str, **values) -> tuple[str, str]:
    """A URL that varies only by one id, as (before, after): a page with a link per row builds the URL once and
    writes `before ~ id ~ after` per row instead of 50 url_for calls (a fifth of the results page's time)."""
    url = url_for(endpoint, **{name: ID_SENTINEL}, **values)
    before, found, after = url.rpartition(str(ID_SENTINEL))
    if not found:
        raise ValueError(f"{endpoint} has no {name} in its URL")
    return before, after


# Rendered pieces of results pages (templating.kept): bounded, whatever the queries asked.
KEPT_SIZE = 256
_kept: "OrderedDict[tuple, Markup]" = OrderedDict()
_kept_lock = threading.Lock()


def kept(report, key: tuple, macro, *args) -> Markup:
    """`macro(*args)`, rendered once per kept report, language and `key`, then reused.

    For pieces of a page that hold the report's data and labels only — never a viewer's data, a CSRF token or
    anything the version does not cover (the caller renders those directly). Whole markup is kept, keyed by the
    report it was rendered from (`Report.serial`: a report is kept per results version, and every change to what
    results read bumps it), so a change shows at the next view, the rows are always the report's the rest of the
    page shows, and no text in the data can affect what is kept. A report without a version (computed outside the
    cache) keeps nothing."""
    if report.version is None or not report.serial:
        return macro(*args)
    full = (report.serial, str(get_locale()), key)
    with _kept_lock:
        found = _kept.get(full)
        if found is not None:
            _kept.move_to_end(full)
            return found
    rendered = Markup(str(macro(*args)))
    with _kept_lock:
        _kept[full] = rendered
        while len(_kept) > KEPT_SIZE:
            _kept.popitem(last=False)
    return rendered


def card_values(ind, score, saved: str, unscored: str, **markup) -> dict:
    """An indicator card's per-sheet values (scoring/_card.html's card_markup), from the score row (None: nothing saved yet;
    a row with points None holds only a note: unscored)."""
    scored = score is not None and score.points is not None
    applied = {d.rule_id: d.count for d in score.deductions} if scored else {}
    values = {
        "unscored": "" if scored else " is-unscored",
        "version": score.version if score else 0,
        "scored": 1 if scored else 0,
        "mode": ("direct" if score.direct_score is not None else "deductions") if scored else "",
        "score": points(score.points) if scored else "—",
        "state": saved if scored else unscored,
        "clear_hidden": "" if scored else " hidden",
        "free": points(score.free_deduction) if scored and score.free_deduction else "",
        "direct": points(score.direct_score) if scored and score.direct_score is not None else "",
        "reason": score.reason if score else "",
        "note": score.note if score else "",
        **markup,
    }
    for rule in ind.rules:
        count = applied.get(rule.id)
        values["checked:" + rule.code] = "checked" if count else ""
        values["applied:" + rule.code] = " is-applied" if count else ""
        values["count:" + rule.code] = count or 0
    return values


# A number on paper with what belongs to it: a rule code (F1-1, A3), a sign, 扣/失 before and 分 after, a count (×2).
_WHOLE_NUMBER = re.compile(r"[扣失计]?(?:[A-Za-z]+\d+(?:[-.]\d+)*|[×+\-−]?\d+(?:\.\d+)?)分?")


def whole_numbers(text) -> Markup:
    """Text with every number (and rule code) in a span that never breaks across lines (.nw): the printed 评分表's
    扣分情况 wraps in a narrow column, between words, never inside 扣0.50分 or F1-1."""
    escaped = str(Markup.escape("" if text is None else text))
    return Markup(_WHOLE_NUMBER.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', escaped))


def photo_provenance(ev):
    """What is shown under a photo (templates/_provenance.html): its capture time and place from EXIF, whether
    that time is far from the inspection (domain.provenance.capture_far), who sent it.

    The place (EXIF GPS to about a metre, often a home of someone receiving assistance: personal information under
    PIPL) only to the roles that may open the original (services.evidence.ORIGINAL_ROLES); the others learn only
    that the photo has one (`located`). The uploader's name is not shown to the unit's own leads (township,
    village: the results page they are published): they see the uploader's role."""
    from types import SimpleNamespace

    from flask import current_app
    from flask_login import current_user

    from .domain.provenance import capture_far, format_e6
    from .domain.workdays import BEIJING
    from .models.user import SCOPED_ROLES
    from .services.evidence import ORIGINAL_ROLES

    role = getattr(current_user, "role", None)
    days = int(current_app.config["EVIDENCE_CAPTURE_MAX_DAYS"])
    round_ = ev.sheet.round
    far = capture_far(ev.captured_at, round_.inspection_start, round_.inspection_end,
                      ev.uploaded_at.astimezone(BEIJING).date(), days)
    located = ev.gps_lat_e6 is not None and ev.gps_lon_e6 is not None
    gps = f"{format_e6(ev.gps_lat_e6)}, {format_e6(ev.gps_lon_e6)}" if located and role in ORIGINAL_ROLES else ""
    if ev.uploaded_by is None:
        uploader = ""
    elif role in SCOPED_ROLES:
        uploader = _gettext(ev.uploaded_by.role_label)
    else:
        uploader = ev.uploaded_by.display_name
    return SimpleNamespace(captured=ev.captured_at.strftime("%Y-%m-%d %H:%M") if ev.captured_at else "", gps=gps,
                           located=located and not gps, far=far, days=days, uploader=uploader,
                           original=role in ORIGINAL_ROLES)


def register(app: Flask) -> None:
    # Flask-Babel resolves the locale and its catalogue on every {{ _() }}: a third of the scoring page's time.
    app.jinja_env.install_gettext_callables(lambda s: _translations().ugettext(s),
                                            lambda s, p, n: _translations().ungettext(s, p, n),
                                            pgettext=lambda c, s: _translations().upgettext(c, s), newstyle=True)
    # Jinja's newstyle `_()` goes through two context calls and formats every string, placeholders or not; a
    # page calls it ~50 times. The same result (every template here autoescapes), in one call.
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext)
    app.jinja_env.filters["points"] = points
    app.jinja_env.filters["whole_numbers"] = whole_numbers
    app.jinja_env.filters["yuan"] = fen_to_yuan  # integer fen as yuan ("1,234.50")
    app.jinja_env.globals.update(card_values=card_values, url_parts=url_parts, kept=kept,
                                 photo_provenance=photo_provenance)
    app.jinja_env.filters["dt"] = lambda v: format_datetime(v, "yyyy-MM-dd HH:mm") if v else "—"
    app.jinja_env.filters["d"] = lambda v: v.isoformat() if isinstance(v, (date, datetime)) else "—"

    @app.context_processor
    def globals_():
        return {"languages": current_app.config["LANGUAGES"], "get_locale": get_locale}
