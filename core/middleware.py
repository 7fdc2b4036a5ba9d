"""Request checks that apply to every view."""

import logging
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

logger = logging.getLogger(__name__)

UNDECODABLE_FORM = (
    "提交的内容含有无法识别的字符（不是 UTF-8 编码），未作任何处理。请返回页面重新输入。\n"
    "The form data was not valid UTF-8 text, so nothing was done. Go back and type it again.\n"
)


class RejectUndecodableFormMiddleware:
    """Every page is UTF-8, so browsers send form fields as UTF-8. A form body that does not
    decode is malformed or hostile; Django would quietly turn the bytes into U+FFFD and a form
    could store the mojibake. Refuse it with 400 instead, before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and request.content_params.get("charset", "utf-8").lower() in ("utf-8", "utf8")
        ):
            try:
                # "&" and "=" are ASCII: decoding the whole unquoted body checks every field.
                unquote_to_bytes(request.body.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return HttpResponseBadRequest(
                    UNDECODABLE_FORM, content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that fails because the database cannot be reached (restarting, failing over)
    answers 503 Service Unavailable with Retry-After, not 500: the portal is not broken, it
    is briefly unavailable, and proxies, monitors and well-behaved clients treat the two
    differently. The page is the bilingual error page, which needs no database."""

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from django.db import InterfaceError, OperationalError
        from django.template import loader

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "database unavailable, answered 503 for %s %s",
            request.method,
            request.path,
            exc_info=exception,
        )
        response = HttpResponse(loader.get_template("500.html").render(), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
