"""Error pages in Chinese (JSON under /api/), with the session rolled back on a crash."""
from flask import Flask, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from .bodylimits import BodyTooLarge, human
from .domain.vocabulary import N_
from .extensions import db
from .services.seals import SealBroken
from .services.storage import StorageUnavailable

MESSAGES = {
    400: N_("请求有误"),
    401: N_("请先登录"),
    403: N_("您没有权限访问此页面"),
    404: N_("页面不存在"),
    405: N_("不支持此操作"),
    409: N_("数据已被他人修改，请刷新后再试"),
    413: N_("文件过大"),
    422: N_("输入有误"),
    429: N_("操作过于频繁，请稍后再试"),
    500: N_("服务器出错了，请稍后再试"),
}
STORAGE_UNAVAILABLE = N_("文件存储暂时无法访问，请稍后再试；如持续出现请联系管理员")
QUEUE_UNAVAILABLE = N_("后台任务队列暂时无法访问，请稍后再试；如持续出现请联系管理员")



def attach_field_errors(form, exc) -> bool:
    """A service's field messages (ServiceError.fields) beside the form's fields of those names; True when one found
    its field (the page shows the rest as a flash)."""
    placed = False
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
            placed = True
    return placed

def _json(message: str, status: int, code: str | None = None):
    """The API's error shape ({"error", "code", "fields"}, api.error) for errors no view answered itself."""
    from .api import error

    return error(gettext(message), status, code=code)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        message = MESSAGES.get(code, exc.name)
        if isinstance(exc, BodyTooLarge):  # refused unread, and the limit said (a 429 has a .limit too: not this)
            text = gettext("提交的内容过大：此处最多接受%(size)s，未予处理", size=human(exc.limit))
            if _wants_json():
                from .api import error

                return error(text, 413, {"body": text}, code="request.too_large")
            return render_template("error.html", code=413, message=text), 413
        if _wants_json():
            response, status = _json(message, code)
            if getattr(exc, "valid_methods", None):  # a 405 says what the path allows
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response, status
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = N_("页面已过期或来源不明（安全校验失败），请刷新页面后重试；已填写的内容请先复制保存。")  # error.html translates
        if _wants_json():
            return _json(N_("安全校验失败（CSRF），请刷新页面后重试"), 400, code="csrf")
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(SealBroken)
    def seal_broken(exc: SealBroken):
        # A version altered behind the app (or its key missing): every official face shows this alarm instead of
        # 正式 — the pages, the printed papers, the downloads and the API (its own handler: the same code).
        db.session.rollback()
        app.logger.error("Publication %s v%s fails its seal: %s", exc.publication.id, exc.publication.version,
                         "; ".join(exc.problems))
        if _wants_json():
            return _json(exc.message, exc.status, code=exc.code)
        return render_template("seal_broken.html", error=exc), exc.status

    def unavailable(what: str, exc: Exception, message: str, code: str):
        """A service the app stands on is down: a 503 that says which; the details only in the log."""
        db.session.rollback()
        app.logger.error("%s unavailable on %s %s: %s", what, request.method, request.path, exc)
        if _wants_json():
            return _json(message, 503, code=code)
        return render_template("error.html", code=503, message=message), 503

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(exc: StorageUnavailable):
        # The object store down, its bucket gone or credentials refused (the details may name the bucket).
        return unavailable("Storage", exc, STORAGE_UNAVAILABLE, "storage.unavailable")

    @app.errorhandler(RedisError)
    def queue_unavailable(exc: RedisError):
        # Redis down (the job queue's, or the rate limiter's). A job row committed before its enqueue failed stays
        # queued, and is queued again when the same export is asked for again (services.jobs.request_job).
        return unavailable("Redis", exc, QUEUE_UNAVAILABLE, "queue.unavailable")

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return _json(MESSAGES[500], 500)
        return render_template("error.html", code=500, message=MESSAGES[500]), 500
