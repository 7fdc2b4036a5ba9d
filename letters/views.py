"""Public verification of letters, and the founder's download. Thin: forms, selectors, services."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from applications.services import status_token_read
from letters.forms import VerifyCodeForm, VerifyUploadForm
from letters.models import GrantLetter
from letters.selectors import grant_latest_letter, letter_by_code
from letters.services import letter_upload_check
from letters.uploads import Sha256UploadHandler


@csrf_exempt  # only so the upload handler can be swapped before the body is read; see below
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Enter a code (or follow the QR link) to see a letter's status; upload a PDF to check it."""
    if request.method == "POST":
        # Hash the upload while it streams in; Django's default handlers would keep a copy.
        request.upload_handlers = [
            Sha256UploadHandler(request, max_bytes=settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES)
        ]
    return _verify(request)


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    context: dict = {"code_form": VerifyCodeForm(), "upload_form": VerifyUploadForm()}
    if "code" in request.GET:
        code_form = VerifyCodeForm(request.GET)
        context["code_form"] = code_form
        if code_form.is_valid():
            letter = letter_by_code(code=code_form.cleaned_data["code"])
            context["searched_code"] = code_form.cleaned_data["code"]
            context["letter"] = letter
            if letter is not None:
                context["latest"] = grant_latest_letter(grant_id=letter.grant_id)
    if request.method == "POST":
        upload_form = VerifyUploadForm(request.POST, request.FILES)
        context["upload_form"] = upload_form
        if upload_form.is_valid():
            check = letter_upload_check(sha256=upload_form.cleaned_data["pdf"].sha256)
            context["upload_check"] = check
            context["upload_results"] = [
                (match, grant_latest_letter(grant_id=match.grant_id)) for match in check.matches
            ]
    context["has_errors"] = bool(context["code_form"].errors or context["upload_form"].errors)
    return render(request, "letters/verify.html", context)


def founder_download(request: HttpRequest, token: str, letter_id: int) -> FileResponse:
    """A founder's letter, from the link on their status page (same signed token)."""
    application = status_token_read(token)
    if application is None:
        raise Http404
    letter = (
        GrantLetter.objects.filter(pk=letter_id, grant__application=application)
        .exclude(state=GrantLetter.State.PENDING)
        .first()
    )
    if letter is None:
        raise Http404
    response = letter_file_response(letter)
    response["Referrer-Policy"] = "no-referrer"
    return response


def letter_file_response(letter: GrantLetter) -> FileResponse:
    response = FileResponse(
        letter.file.open("rb"),
        as_attachment=True,
        filename=letter.download_name,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
