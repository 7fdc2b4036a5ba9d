"""Request checks that apply to every view."""

from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

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
