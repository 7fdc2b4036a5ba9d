"""Founder-facing pages. Thin: validate with a form, call a service, render.

The application is one page, then a check-your-answers page, then a confirmation that works as a
bookmark. Between the first two the answers wait in the founder's browser, in a cookie of their
own, signed (so nobody can inject answers that skipped validation; they are validated again on
submit anyway). Keeping them in the session instead cost every founder a session row written,
committed and read back in PostgreSQL on each of these pages, most of their time at the deadline.
Answers too long for a cookie (a thousand Chinese characters of purpose) still go to the session.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.http import private_page
from core.page_frames import frame_hole, frame_render, frame_usable, model_values

from .forms import HONEYPOT_FIELD, ApplicationForm, ResendLinkForm, cities_offered
from .models import Application, Commitment
from .ratelimit import rate_limit_exceeded, retry_after_seconds
from .selectors import (
    application_by_id,
    application_confirmed,
    application_of_company,
    offer_read,
)
from .services import (
    ApplicationError,
    DuplicateApplication,
    RoundNotOpen,
    application_submit,
    application_withdraw,
    status_link_resend,
    status_link_send,
    status_token_make,
    status_token_read,
    status_token_reference,
)
from .templatetags.language_links import language_switch_part

PENDING_COOKIE = "suanli_pending_answers"
PENDING_SESSION_KEY = "applications.pending"
PENDING_SALT = "suanli.applications.pending-answers"
# Browsers keep at least 4,096 bytes per cookie, its name and attributes included.
PENDING_COOKIE_MAX_BYTES = 3_800
DUPLICATE_SESSION_KEY = "applications.duplicate_of"
# Answers left on the check page longer than this are dropped; the founder starts again.
PENDING_MAX_AGE_SECONDS = 24 * 3600
# Posting the long form (including corrections after errors) is cheaper than submitting.
FORM_POSTS_PER_SUBMISSION = 10
RECEIPT_CACHE_SECONDS = 3600


# --- helpers ---------------------------------------------------------------------------------
def _language(request: HttpRequest) -> str:
    return "en" if (translation.get_language() or "").startswith("en") else "zh-hans"


def _too_many_requests(request: HttpRequest) -> HttpResponse:
    response = render(request, "applications/rate_limited.html", status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response


def _pending_keep(request: HttpRequest, response: HttpResponse, data) -> HttpResponse:
    """Keep the answers for the check page: in their own cookie, or in the session if too long."""
    answers = {
        key: data.get(key)
        for key in data
        if key not in {"csrfmiddlewaretoken", HONEYPOT_FIELD} and key in ApplicationForm.base_fields
    }
    token = signing.dumps(answers, salt=PENDING_SALT, compress=True)
    if len(token) <= PENDING_COOKIE_MAX_BYTES:
        response.set_cookie(
            PENDING_COOKIE,
            token,
            max_age=PENDING_MAX_AGE_SECONDS,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        request.session[PENDING_SESSION_KEY] = token
        response.delete_cookie(PENDING_COOKIE, samesite="Lax")
    return response


def _answers_in(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        return signing.loads(token, salt=PENDING_SALT, max_age=PENDING_MAX_AGE_SECONDS)
    except signing.BadSignature:  # tampered, or older than a day: as if never given
        return None


def _pending_load(request: HttpRequest) -> dict[str, Any] | None:
    # The cookie first: reading the session costs a query whenever the browser has one.
    return _answers_in(request.COOKIES.get(PENDING_COOKIE)) or _answers_in(
        request.session.get(PENDING_SESSION_KEY)
    )


def _pending_forget(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The answers were sent (or belong to a company that already applied): drop them."""
    request.session.pop(PENDING_SESSION_KEY, None)
    if PENDING_COOKIE in request.COOKIES:
        response.delete_cookie(PENDING_COOKIE, samesite="Lax")
    return response


def _masked_email(address: str) -> str:
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def _duplicate(request: HttpRequest, existing: Application) -> HttpResponse:
    request.session[DUPLICATE_SESSION_KEY] = existing.pk
    return render(
        request,
        "applications/duplicate.html",
        {"existing": existing, "masked_email": _masked_email(existing.email)},
        status=409,
    )


def blank_form_shown(*, rounds: list, centers: list, initial_round: str | None) -> dict:
    """Everything a blank form shows that can change, as rendered now (open rounds with their
    closing dates, active centers, cities): with the language, the key of the kept page."""
    fields = ApplicationForm.base_fields
    return {
        "initial_round": initial_round,
        "rounds": [(item.code, str(fields["round"].label_from_instance(item))) for item in rounds],
        "centers": [
            (item.code, str(fields["center_1"].label_from_instance(item))) for item in centers
        ],
        "cities": [(code, str(name)) for code, name in cities_offered()],
    }


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _summary_rows(form: ApplicationForm) -> list[dict[str, Any]]:
    """What the check-your-answers page lists, each row with the field its Change link opens."""
    data = form.cleaned_data
    rows: list[dict[str, Any]] = []

    def row(section: str, field: str, value: Any, label: Any = None) -> None:
        rows.append(
            {
                "section": section,
                "label": label or form.fields[field].label,
                "value": value,
                "field_id": form[field].auto_id
                + ("_0" if field in {"round", "revenue_band"} else ""),
            }
        )

    company, contact, request, commitments, consents = (
        _("Company"),
        _("Contact"),
        _("Request"),
        _("Commitments"),
        _("Consents"),
    )
    row(company, "company_legal_name", data["company_legal_name"])
    row(company, "uscc", data["uscc"])
    row(
        company,
        "registration_city",
        dict(form.fields["registration_city"].choices).get(
            data["registration_city"], data["registration_city"]
        ),
    )
    row(company, "founded_on", date_format(data["founded_on"], "DATE_FORMAT"))
    row(company, "employees", data["employees"])
    row(company, "revenue_band", Application.RevenueBand(data["revenue_band"]).label)
    row(company, "website", data.get("website") or _("Not given"))
    row(contact, "founder_name", data["founder_name"])
    row(contact, "email", data["email"])
    row(contact, "mobile", data["mobile"])
    row(request, "round", data["round"].title)
    for position, center in enumerate(form.preferred_centers(), start=1):
        row(request, f"center_{position}", f"{center.name} ({center.city})")
    row(request, "gpu_hours_requested", f"{data['gpu_hours_requested']:,}")
    row(request, "purpose", data["purpose"])
    for item in form.commitments():
        row(
            commitments,
            f"commit_{item.kind}_date",
            _("by %(date)s") % {"date": date_format(item.target_date, "DATE_FORMAT")},
            label=Commitment.Kind(item.kind).label,
        )
    row(consents, "consent_terms", _yes_no(data["consent_terms"]), label=_("Terms accepted"))
    row(
        consents,
        "consent_publish_name",
        _yes_no(data.get("consent_publish_name", False)),
        label=_("Company name may be published if granted"),
    )
    sections: list[dict[str, Any]] = []
    for item in rows:
        if not sections or sections[-1]["title"] != item["section"]:
            sections.append({"title": item["section"], "rows": []})
        sections[-1]["rows"].append(item)
    return sections


# --- the application ---------------------------------------------------------------------------
def _blank_form_page(request: HttpRequest, initial: dict) -> HttpResponse | None:
    """The blank form page from the frame kept in this process (core.page_frames), keyed as the
    blank form's fields are (blank_form_shown), filled with this visitor's CSRF token. None when
    no round is open or a ?round= names one that is not (those pages render in full)."""
    offer = offer_read()
    rounds = offer.rounds_open()
    initial_round = initial.get("round") or (rounds[0].code if len(rounds) == 1 else None)
    if not rounds or initial_round not in {None, *(item.code for item in rounds)}:
        return None
    shown = blank_form_shown(rounds=rounds, centers=offer.centers, initial_round=initial_round)

    def context() -> dict:
        form = ApplicationForm(initial=initial, offer=offer)
        if initial_round is not None:
            form.initial["round"] = initial_round
        return {
            "form": form,
            "honeypot_field": HONEYPOT_FIELD,
            "any_round_open": True,
        }

    return frame_render(
        request,
        "applications/apply.html",
        shown=shown,
        context=context,
        parts={
            "csrf_token": conditional_escape(get_token(request)),
            "language_switch_path": language_switch_part(request),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get(HONEYPOT_FIELD):
            # Only software fills a field people cannot see; tell it nothing useful.
            return render(request, "applications/not_accepted.html", status=400)
        if rate_limit_exceeded(
            request=request,
            scope="apply-form",
            limit=settings.APPLICATION_RATE_LIMIT_PER_HOUR * FORM_POSTS_PER_SUBMISSION,
        ):
            return _too_many_requests(request)
        form = ApplicationForm(request.POST)
        if form.is_valid():
            existing = application_of_company(
                round=form.cleaned_data["round"], uscc=form.cleaned_data["uscc"]
            )
            if existing is not None:
                return _duplicate(request, existing)
            return _pending_keep(request, redirect("applications:check"), request.POST)
    else:
        initial = _pending_load(request) or {}
        blank = not initial
        if blank and request.GET.get("round"):
            initial["round"] = request.GET["round"]
        if blank and frame_usable(request):
            page = _blank_form_page(request, initial)
            if page is not None:
                return page
        form = ApplicationForm(initial=initial)
        rounds = form.fields["round"].offered
        if len(rounds) == 1 and "round" not in initial:
            form.initial["round"] = rounds[0].code
    context = {
        "form": form,
        "honeypot_field": HONEYPOT_FIELD,
        "any_round_open": bool(form.fields["round"].offered),
    }
    return render(
        request,
        "applications/apply.html",
        context,
        # Answers that need fixing were refused: say so to software too (browsers show the page).
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    pending = _pending_load(request)
    if pending is None:
        return redirect("applications:apply")
    form = ApplicationForm(pending)
    if not form.is_valid():
        # Something changed since the answers were given (the round closed, a center was
        # withdrawn): show the form again with what needs fixing.
        return render(
            request,
            "applications/apply.html",
            {"form": form, "honeypot_field": HONEYPOT_FIELD, "any_round_open": True},
            status=400 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        if rate_limit_exceeded(
            request=request,
            scope="apply-submit",
            limit=settings.APPLICATION_RATE_LIMIT_PER_HOUR,
        ):
            return _too_many_requests(request)
        try:
            application = application_submit(**form.submission(), language=_language(request))
        except DuplicateApplication as error:
            return _pending_forget(request, _duplicate(request, error.existing))
        except RoundNotOpen:
            form.add_error("round", _("This round has closed. Select a round that is open"))
            return render(
                request,
                "applications/apply.html",
                {"form": form, "honeypot_field": HONEYPOT_FIELD, "any_round_open": True},
                status=400,
            )
        return _pending_forget(
            request, redirect("applications:confirmation", token=status_token_make(application))
        )
    sections = _summary_rows(form)
    if not frame_usable(request):
        return render(request, "applications/check.html", {"sections": sections})
    # The page is the same for every founder who gave the same kinds of answers (which centers
    # and commitments), in the same language, but for the answers themselves: kept once per
    # process for its rows (core.page_frames), each answer filled in as the template shows it.
    answers = {}
    framed = []
    for section in sections:
        rows = []
        for row in section["rows"]:
            name = f"answer_{len(answers)}"
            answers[name] = linebreaksbr(row["value"], autoescape=True)
            rows.append({**row, "value": frame_hole(name)})
        framed.append({**section, "rows": rows})
    return frame_render(
        request,
        "applications/check.html",
        shown=[
            [
                str(section["title"]),
                [(str(row["label"]), row["field_id"]) for row in section["rows"]],
            ]
            for section in sections
        ],
        context=lambda: {"sections": framed},
        parts={
            **answers,
            "csrf_token": conditional_escape(get_token(request)),
            "language_switch_path": language_switch_part(request),
        },
    )


@require_POST
def duplicate_resend(request: HttpRequest) -> HttpResponse:
    """Send the status link of the company's existing application to the address on file."""
    application_id = request.session.pop(DUPLICATE_SESSION_KEY, None)
    application = application_by_id(application_id=application_id) if application_id else None
    if application is not None:
        if rate_limit_exceeded(
            request=request, scope="resend", limit=settings.APPLICATION_RATE_LIMIT_PER_HOUR
        ):
            return _too_many_requests(request)
        status_link_send(application=application)
    return redirect("applications:resend_sent")


def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    reference = status_token_reference(token)
    application = application_confirmed(reference=reference) if reference else None
    if application is None:
        return private_page(render(request, "applications/status_link_invalid.html", status=404))
    round_ = application.round
    founder = {"reference": application.reference, "email": application.email, "token": token}
    if not frame_usable(request):
        return private_page(
            render(request, "applications/confirmation.html", {**founder, "round": round_})
        )
    # Every founder of a round sees the same page but for their reference, address and link:
    # kept once per process for the round as it is now (core.page_frames). A token that passed
    # its signature check has only characters a link keeps as they are.
    return private_page(
        frame_render(
            request,
            "applications/confirmation.html",
            shown=model_values(round_, round_.program),
            context=lambda: {**founder, "round": round_},
            parts={
                **{name: conditional_escape(value) for name, value in founder.items()},
                "language_switch_path": language_switch_part(request),
            },
        )
    )


def receipt_pdf(request: HttpRequest, token: str) -> HttpResponse:
    application = status_token_read(token)
    if application is None:
        return private_page(render(request, "applications/status_link_invalid.html", status=404))
    from letters.rendering import render_pdf

    # The receipt is the same bytes every time (its date is the submission's), and a render
    # costs about 0.3 s of CPU: keep it for a while rather than redo it on every click.
    key = f"suanli:receipt:{application.reference}:{application.submitted_at.timestamp()}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = render_pdf(
            template_name="letters/application_receipt.html",
            context={"application": application},
            language=application.language,
        )
        cache.set(key, pdf, timeout=RECEIPT_CACHE_SECONDS)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{application.reference}.pdf"'
    return private_page(response)


# --- status --------------------------------------------------------------------------------------
def _can_withdraw(application: Application) -> bool:
    return application.status != Application.Status.WITHDRAWN and not application.round.is_closed


def status(request: HttpRequest, token: str) -> HttpResponse:
    application = status_token_read(token)
    if application is None:
        return private_page(render(request, "applications/status_link_invalid.html", status=404))
    return private_page(
        render(
            request,
            "applications/status.html",
            {
                "application": application,
                "token": token,
                "can_withdraw": _can_withdraw(application),
                "commitments": application.commitments.all(),
                "now": timezone.now(),
            },
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    application = status_token_read(token)
    if application is None:
        return private_page(render(request, "applications/status_link_invalid.html", status=404))
    if request.method == "POST":
        try:
            application_withdraw(application=application)
        except ApplicationError:
            messages.error(
                request, _("The round has closed, so the application can no longer be withdrawn.")
            )
        else:
            messages.success(request, _("Your application has been withdrawn."))
        return redirect("applications:status", token=token)
    if not _can_withdraw(application):
        return redirect("applications:status", token=token)
    return private_page(
        render(request, "applications/withdraw.html", {"application": application, "token": token})
    )


# --- resend my link --------------------------------------------------------------------------------
@require_http_methods(["GET", "HEAD", "POST"])
def resend_link(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ResendLinkForm(request.POST)
        if form.is_valid():
            if rate_limit_exceeded(
                request=request, scope="resend", limit=settings.APPLICATION_RATE_LIMIT_PER_HOUR
            ):
                return _too_many_requests(request)
            # The same answer whether or not it matched: the page must not reveal who applied.
            status_link_resend(
                reference=form.cleaned_data["reference"], email=form.cleaned_data["email"]
            )
            return redirect("applications:resend_sent")
    else:
        form = ResendLinkForm()
    return render(request, "applications/resend_link.html", {"form": form})


def resend_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "applications/resend_sent.html")
