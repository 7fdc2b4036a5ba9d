"""The one-page application and the small founder forms.

`ApplicationForm` holds every rule a submission must pass. The HTML view and the API both run it
(the API maps its JSON onto the form's fields with `form_data_from_api`), then both hand
`ApplicationForm.submission()` to `services.application_submit`: one validation, one service.
Forms only validate and shape data; they never save or send anything.
"""

import datetime as dt
import re
import unicodedata
from typing import Any

import phonenumbers
from django import forms
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from centers.models import Center

from . import uscc as uscc_rules
from .cities import city_choices
from .models import Application, Commitment, Round
from .selectors import Offer, offer_read
from .services import CommitmentInput

CENTER_CHOICE_FIELDS = ["center_1", "center_2", "center_3"]
COMMITMENT_KINDS = [kind for kind, _label in Commitment.Kind.choices]
# A commitment further away than this is not a commitment the program can follow up.
COMMITMENT_HORIZON_DAYS = 3 * 365
HONEYPOT_FIELD = "company_fax"


def _nfkc(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def parse_forgiving_date(text: str) -> dt.date | None:
    """2024-03-15, 2024/3/15, 2024.3.15, 2024年3月15日 or 20240315 (full-width digits too)."""
    text = _nfkc(text)
    match = re.fullmatch(r"(\d{4})\s*[-/.年\s]\s*(\d{1,2})\s*[-/.月\s]\s*(\d{1,2})\s*日?", text)
    if match is None:
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class GovukBoundField(BoundField):
    """Links the hint and the error message to the input (aria-describedby) with stable ids,
    and marks an input in error, as the GOV.UK pattern does."""

    @property
    def hint_id(self) -> str:
        return f"{self.auto_id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}-error"

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        attrs.pop("aria-describedby", None)
        if isinstance(widget, forms.RadioSelect):
            # Radios are described on their <fieldset> (see _radios.html), not one by one.
            attrs.pop("aria-invalid", None)
            return attrs
        described_by = []
        if self.help_text:
            described_by.append(self.hint_id)
        if self.errors:
            described_by.append(self.error_id)
            attrs["aria-invalid"] = "true"
            if not isinstance(widget, forms.CheckboxInput):
                attrs["class"] = (widget.attrs.get("class", "") + " input-error").strip()
        if described_by:
            attrs["aria-describedby"] = " ".join(described_by)
        return attrs


class GovukForm(forms.Form):
    bound_field_class = GovukBoundField
    # Validation happens on the server; browser pop-ups would pre-empt the error summary.
    use_required_attribute = False

    def error_list(self) -> list[tuple[str, str]]:
        """(input id, message) for the error summary, in the order the fields appear."""
        items = []
        for name in self.errors:
            if name == forms.forms.NON_FIELD_ERRORS:
                items.extend(("", str(message)) for message in self.errors[name])
                continue
            bound = self[name]
            target = bound.auto_id
            if isinstance(bound.field.widget, forms.RadioSelect):
                target = f"{bound.auto_id}_0"
            items.extend((target, str(message)) for message in bound.errors)
        return items


class ForgivingIntegerField(forms.IntegerField):
    """Accepts 1,000 / 1 000 / full-width digits."""

    def to_python(self, value):
        text = _nfkc(value).replace(",", "").replace(" ", "").replace("，", "")
        return super().to_python(text)


class MultilineTextField(forms.CharField):
    """Browsers send line breaks as CR LF; count each as one character, as the founder sees it."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class ForgivingEmailField(forms.EmailField):
    """Full-width ＠ and letters typed with a Chinese input method become ASCII."""

    def to_python(self, value):
        return super().to_python(_nfkc(value))


class ForgivingDateField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value
        parsed = parse_forgiving_date(str(value))
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class OfferedChoices(ModelChoiceIterator):
    """The choices of an OfferedChoiceField: the rows it was offered, with no query."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.offered:
            yield self.choice(row)

    def __len__(self) -> int:
        return len(self.field.offered) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.offered)


class OfferedChoiceField(forms.ModelChoiceField):
    """A choice, by code, among the rows the form offers (`offer`): the rounds and centers read
    once per process for a moment (selectors.offer_read), looked up in memory rather than in the
    database on every POST, check page and submission."""

    iterator = OfferedChoices

    def __init__(self, **kwargs):
        super().__init__(queryset=None, to_field_name="code", **kwargs)
        self.offered: tuple = ()

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.widget.choices = result.choices  # the copy's widget lists the copy's rows
        return result

    def offer(self, rows) -> None:
        self.offered = tuple(rows)
        self.widget.choices = self.choices

    def to_python(self, value):
        if value in self.empty_values:
            return None
        code = getattr(value, "code", value)  # a row given as itself, as ModelChoiceField takes
        for row in self.offered:
            if row.code == code:
                return row
        raise forms.ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


class RoundChoiceField(OfferedChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            # A founder who chose the round while it was open and pressed "submit" just after
            # it closed needs to hear that, not "select a round". (PostgreSQL rejects NUL.)
            plausible = isinstance(value, str) and "\x00" not in value and len(value) <= 64
            if (
                plausible
                and Round.objects.filter(code=value, closes_at__lte=timezone.now()).exists()
            ):
                raise forms.ValidationError(
                    _("This round has closed. Select a round that is open"), code="closed"
                ) from None
            raise

    def label_from_instance(self, obj: Round) -> str:
        closes = timezone.localtime(obj.closes_at).date()
        from django.utils.formats import date_format

        return _("%(title)s (closes %(date)s)") % {
            "title": obj.title,
            "date": date_format(closes, "DATE_FORMAT"),
        }


class CenterChoiceField(OfferedChoiceField):
    def label_from_instance(self, obj: Center) -> str:
        return f"{obj.name} ({obj.city})"


def cities_offered() -> list[tuple[str, Any]]:
    return [("", _("Select a city")), *city_choices()]


def commitment_date_field(label: str) -> ForgivingDateField:
    return ForgivingDateField(
        label=label,
        required=False,
        error_messages={
            "invalid": _("Enter the target date as year-month-day, for example 2027-06-30")
        },
        widget=forms.TextInput(attrs={"class": "input-width-10", "inputmode": "numeric"}),
    )


class ApplicationForm(GovukForm):
    # --- Company ---
    company_legal_name = forms.CharField(
        label=_("Company's legal name"),
        help_text=_("Exactly as it appears on the business licence."),
        max_length=200,
        error_messages={
            "required": _("Enter the company's legal name"),
            "max_length": _("The company's legal name must be 200 characters or fewer"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "organization", "spellcheck": "false"}),
    )
    uscc = forms.CharField(
        label=_("Unified Social Credit Code"),
        help_text=_(
            "The 18 characters on the business licence, for example 91310110666007217T. "
            "Spaces and hyphens are fine."
        ),
        max_length=64,
        error_messages={"required": _("Enter the Unified Social Credit Code")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "class": "input-width-20",
            }
        ),
    )
    registration_city = forms.ChoiceField(
        label=_("City of registration"),
        help_text=_("Where the company is registered, as on the business licence."),
        choices=cities_offered,  # called when used: the names in the language of the request
        error_messages={"required": _("Select the city where the company is registered")},
    )
    founded_on = ForgivingDateField(
        label=_("Date the company was founded"),
        help_text=_("As on the business licence, for example 2024-03-15."),
        error_messages={
            "required": _("Enter the date the company was founded"),
            "invalid": _("Enter the founding date as year-month-day, for example 2024-03-15"),
        },
        widget=forms.TextInput(attrs={"class": "input-width-10", "inputmode": "numeric"}),
    )
    employees = ForgivingIntegerField(
        label=_("Number of employees"),
        help_text=_("Everyone on the payroll, founders included."),
        min_value=1,
        max_value=1_000_000,
        error_messages={
            "required": _("Enter the number of employees"),
            "invalid": _("Enter the number of employees as a whole number, like 12"),
            "min_value": _("The number of employees must be at least 1 (the founder counts)"),
            "max_value": _("Enter a number of employees of 1,000,000 or fewer"),
        },
        widget=forms.TextInput(attrs={"class": "input-width-10", "inputmode": "numeric"}),
    )
    revenue_band = forms.ChoiceField(
        label=_("Revenue in the last 12 months"),
        help_text=_("Companies with no revenue yet are welcome."),
        choices=Application.RevenueBand.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select the company's revenue in the last 12 months")},
    )
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        max_length=200,
        error_messages={
            "invalid": _("Enter the website address, like https://example.cn"),
            "max_length": _("The website address must be 200 characters or fewer"),
        },
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    # --- Contact ---
    founder_name = forms.CharField(
        label=_("Founder's full name"),
        max_length=100,
        error_messages={
            "required": _("Enter the founder's full name"),
            "max_length": _("The founder's name must be 100 characters or fewer"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = ForgivingEmailField(
        label=_("Email address"),
        help_text=_("We send the reference number and your private status link here."),
        max_length=254,
        error_messages={
            "required": _("Enter an email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.cn"),
            "max_length": _("The email address must be 254 characters or fewer"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    mobile = forms.CharField(
        label=_("Mobile number"),
        help_text=_(
            "For a call if something is unclear. For example 138 0013 8000 or +86 138 0013 8000."
        ),
        max_length=40,
        error_messages={
            "required": _("Enter a mobile number"),
            "max_length": _("Enter a mobile number, like 138 0013 8000 or +86 138 0013 8000"),
        },
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "class": "input-width-20"}
        ),
    )
    # --- Request ---
    round = RoundChoiceField(
        label=_("Round"),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Select the round you are applying to"),
            "invalid_choice": _("Select a round that is open for applications"),
        },
    )
    center_1 = CenterChoiceField(
        label=_("First choice of computing center"),
        help_text=_("Where you would like to run your work. Centers are assigned by preference."),
        empty_label=_("Select a center"),
        error_messages={
            "required": _("Select your first choice of computing center"),
            "invalid_choice": _("Select a computing center from the list"),
        },
    )
    center_2 = CenterChoiceField(
        label=_("Second choice of computing center"),
        required=False,
        empty_label=_("No second choice"),
        error_messages={"invalid_choice": _("Select a computing center from the list")},
    )
    center_3 = CenterChoiceField(
        label=_("Third choice of computing center"),
        required=False,
        empty_label=_("No third choice"),
        error_messages={"invalid_choice": _("Select a computing center from the list")},
    )
    gpu_hours_requested = ForgivingIntegerField(
        label=_("GPU-hours requested"),
        help_text=_("One GPU-hour is one accelerator card for one hour."),
        min_value=1,
        max_value=100_000_000,
        error_messages={
            "required": _("Enter the number of GPU-hours you need"),
            "invalid": _("Enter the GPU-hours as a whole number, like 1000"),
            "min_value": _("Enter at least 1 GPU-hour"),
            "max_value": _("Enter the GPU-hours as a whole number, like 1000"),
        },
        widget=forms.TextInput(attrs={"class": "input-width-10", "inputmode": "numeric"}),
    )
    purpose = MultilineTextField(
        label=_("What the compute is for"),
        help_text=_(
            "In a few sentences: what you will train or run, and who benefits. "
            "At most 1,000 characters."
        ),
        max_length=1000,
        error_messages={
            "required": _("Describe what the compute is for"),
            "max_length": _("Describe what the compute is for in 1,000 characters or fewer"),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # --- Commitments: one checkbox and one target date per kind (no JavaScript needed) ---
    commit_open_weights = forms.BooleanField(
        label=Commitment.Kind.OPEN_WEIGHTS.label, required=False
    )
    commit_open_weights_date = commitment_date_field(_("Target date for open-source model weights"))
    commit_open_code = forms.BooleanField(label=Commitment.Kind.OPEN_CODE.label, required=False)
    commit_open_code_date = commitment_date_field(_("Target date for open-source code"))
    commit_paper = forms.BooleanField(label=Commitment.Kind.PAPER.label, required=False)
    commit_paper_date = commitment_date_field(_("Target date for the paper or technical report"))
    commit_product_launch = forms.BooleanField(
        label=Commitment.Kind.PRODUCT_LAUNCH.label, required=False
    )
    commit_product_launch_date = commitment_date_field(_("Target date for the product launch"))
    # --- Consents ---
    consent_terms = forms.BooleanField(
        label=_(
            "I confirm the information is true, and I accept the program's terms: grants are "
            "drawn by lot among eligible applications and paid out as the commitments are met."
        ),
        error_messages={"required": _("Confirm the information is true and accept the terms")},
    )
    consent_publish_name = forms.BooleanField(
        label=_("If we win a grant, the company name may be published with our reference"),
        required=False,
    )

    def __init__(self, *args, offer: Offer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        offer = offer or offer_read()
        self.fields["round"].offer(offer.rounds_open())
        for name in CENTER_CHOICE_FIELDS:
            self.fields[name].offer(offer.centers)

    # Field order groups, used by the templates and the check-your-answers page.
    COMPANY_FIELDS = [
        "company_legal_name",
        "uscc",
        "registration_city",
        "founded_on",
        "employees",
        "revenue_band",
        "website",
    ]
    CONTACT_FIELDS = ["founder_name", "email", "mobile"]
    REQUEST_FIELDS = ["round", *CENTER_CHOICE_FIELDS, "gpu_hours_requested", "purpose"]

    def commitment_rows(self) -> list[tuple[BoundField, BoundField]]:
        return [(self[f"commit_{kind}"], self[f"commit_{kind}_date"]) for kind in COMMITMENT_KINDS]

    # --- cleaning ---
    def clean_company_legal_name(self) -> str:
        name = " ".join(_nfkc(self.cleaned_data["company_legal_name"]).split())
        if not name:
            raise forms.ValidationError(_("Enter the company's legal name"), code="required")
        return name

    def clean_founder_name(self) -> str:
        name = " ".join(_nfkc(self.cleaned_data["founder_name"]).split())
        if not name:
            raise forms.ValidationError(_("Enter the founder's full name"), code="required")
        return name

    def clean_purpose(self) -> str:
        text = self.cleaned_data["purpose"].strip()
        if not text:
            raise forms.ValidationError(_("Describe what the compute is for"), code="required")
        return text

    def clean_uscc(self) -> str:
        try:
            return uscc_rules.validate(self.cleaned_data["uscc"])
        except uscc_rules.UsccError as error:
            raise forms.ValidationError(uscc_message(error), code=f"uscc_{error.code}") from None

    def clean_founded_on(self) -> dt.date:
        founded = self.cleaned_data["founded_on"]
        if founded > timezone.localdate():
            raise forms.ValidationError(
                _("The founding date must be today or in the past"), code="future"
            )
        if founded.year < 1949:
            raise forms.ValidationError(
                _("Enter the founding date as year-month-day, for example 2024-03-15"),
                code="invalid",
            )
        return founded

    def clean_mobile(self) -> str:
        text = _nfkc(self.cleaned_data["mobile"])
        message = _("Enter a mobile number, like 138 0013 8000 or +86 138 0013 8000")
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            raise forms.ValidationError(message, code="invalid") from None
        if not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(message, code="invalid")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen_round: Round | None = cleaned.get("round")
        hours = cleaned.get("gpu_hours_requested")
        if chosen_round is not None and hours is not None:
            low, high = chosen_round.grant_min_gpu_hours, chosen_round.grant_max_gpu_hours
            if not low <= hours <= high:
                self.add_error(
                    "gpu_hours_requested",
                    forms.ValidationError(
                        _(
                            "Enter between %(low)s and %(high)s GPU-hours, the grant sizes of this round"
                        )
                        % {"low": f"{low:,}", "high": f"{high:,}"},
                        code="out_of_range",
                    ),
                )
        seen: set[int] = set()
        for name in CENTER_CHOICE_FIELDS:
            center = cleaned.get(name)
            if center is None:
                continue
            if center.pk in seen:
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("Choose a different center for each preference, or leave it empty"),
                        code="repeated",
                    ),
                )
            seen.add(center.pk)
        if (
            cleaned.get("center_3")
            and not cleaned.get("center_2")
            and "center_2" not in self.errors
        ):
            self.add_error(
                "center_2",
                forms.ValidationError(
                    _("Select a second choice before a third choice"), code="gap"
                ),
            )
        self._clean_commitments(cleaned)
        return cleaned

    def _clean_commitments(self, cleaned: dict) -> None:
        today = timezone.localdate()
        horizon = today + dt.timedelta(days=COMMITMENT_HORIZON_DAYS)
        chosen = 0
        for kind in COMMITMENT_KINDS:
            date_name = f"commit_{kind}_date"
            target = cleaned.get(date_name)
            if not cleaned.get(f"commit_{kind}"):
                continue
            chosen += 1
            if date_name in self.errors:
                continue
            if target is None:
                self.add_error(
                    date_name,
                    forms.ValidationError(
                        _("Enter a target date for “%(kind)s”")
                        % {"kind": Commitment.Kind(kind).label},
                        code="required",
                    ),
                )
            elif target <= today:
                self.add_error(
                    date_name,
                    forms.ValidationError(_("The target date must be in the future"), code="past"),
                )
            elif target > horizon:
                self.add_error(
                    date_name,
                    forms.ValidationError(
                        _("The target date must be within 3 years from today"), code="too_far"
                    ),
                )
        if chosen == 0:
            self.add_error(
                "commit_open_weights",
                forms.ValidationError(
                    _("Select at least one outcome you commit to, and give its target date"),
                    code="no_commitment",
                ),
            )

    # --- output ---
    def commitments(self) -> list[CommitmentInput]:
        return [
            CommitmentInput(kind, self.cleaned_data[f"commit_{kind}_date"])
            for kind in COMMITMENT_KINDS
            if self.cleaned_data.get(f"commit_{kind}")
        ]

    def preferred_centers(self) -> list[Center]:
        return [
            self.cleaned_data[name] for name in CENTER_CHOICE_FIELDS if self.cleaned_data.get(name)
        ]

    def submission(self) -> dict[str, Any]:
        """Keyword arguments for services.application_submit (without `language`)."""
        data = self.cleaned_data
        return {
            "round": data["round"],
            "company_legal_name": data["company_legal_name"],
            "uscc": data["uscc"],
            "registration_city": data["registration_city"],
            "founded_on": data["founded_on"],
            "employees": data["employees"],
            "revenue_band": data["revenue_band"],
            "website": data.get("website") or "",
            "founder_name": data["founder_name"],
            "email": data["email"],
            "mobile": data["mobile"],
            "preferred_centers": self.preferred_centers(),
            "gpu_hours_requested": data["gpu_hours_requested"],
            "purpose": data["purpose"],
            "commitments": self.commitments(),
            "consent_terms": data["consent_terms"],
            "consent_publish_name": bool(data.get("consent_publish_name")),
        }


def uscc_message(error: uscc_rules.UsccError) -> str:
    """A message that says what is wrong with a code, in the active language."""
    if error.code == "empty":
        return str(_("Enter the Unified Social Credit Code"))
    if error.code == "length":
        return str(
            _(
                "The Unified Social Credit Code must be 18 characters; you entered %(count)s. "
                "Check it against the business licence"
            )
            % {"count": error.length}
        )
    if error.code == "character":
        return str(
            _(
                "The Unified Social Credit Code never contains “%(character)s”. Codes use digits "
                "and capital letters except I, O, S, V and Z"
            )
            % {"character": error.character}
        )
    return str(
        _(
            "The last character of the Unified Social Credit Code does not match the others, "
            "so there is a typo. Check each character against the business licence"
        )
    )


def form_data_from_api(payload: dict[str, Any]) -> dict[str, Any]:
    """Turn the API's JSON shape into the form's fields, so the API runs the very same rules.

    `preferred_centers` is a list of center codes (first = most wanted); `commitments` a list of
    {"kind", "target_date"}. Booleans become the checkbox values a browser would send."""
    data: dict[str, Any] = {}
    for name in [
        *ApplicationForm.COMPANY_FIELDS,
        *ApplicationForm.CONTACT_FIELDS,
        "gpu_hours_requested",
        "purpose",
    ]:
        if payload.get(name) is not None:
            data[name] = payload[name]
    if payload.get("round") is not None:
        data["round"] = payload["round"]
    centers = payload.get("preferred_centers") or []
    for name, code in zip(CENTER_CHOICE_FIELDS, centers, strict=False):
        data[name] = code
    for item in payload.get("commitments") or []:
        kind = item.get("kind")
        if kind in COMMITMENT_KINDS:
            data[f"commit_{kind}"] = "on"
            target = item.get("target_date")
            data[f"commit_{kind}_date"] = (
                target.isoformat() if hasattr(target, "isoformat") else target
            )
    for name in ["consent_terms", "consent_publish_name"]:
        if payload.get(name):
            data[name] = "on"
    return data


API_FIELD_FOR_FORM_FIELD = {
    **dict.fromkeys(CENTER_CHOICE_FIELDS, "preferred_centers"),
    **{f"commit_{kind}": "commitments" for kind in COMMITMENT_KINDS},
    **{f"commit_{kind}_date": "commitments" for kind in COMMITMENT_KINDS},
}


class ResendLinkForm(GovukForm):
    reference = forms.CharField(
        label=_("Reference number"),
        help_text=_(
            "It is in the email we sent when you applied, for example WU26-7KQ3-M9XP-2B4D."
        ),
        max_length=64,
        error_messages={"required": _("Enter the reference number")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "input-width-20"}
        ),
    )
    email = ForgivingEmailField(
        label=_("Email address"),
        help_text=_("The address you gave when you applied."),
        max_length=254,
        error_messages={
            "required": _("Enter an email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.cn"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    def clean_reference(self) -> str:
        # References are printed in groups of four; accept them typed with or without the dashes.
        text = _nfkc(self.cleaned_data["reference"]).upper()
        compact = re.sub(r"[^A-Z0-9]", "", text)
        if len(compact) == 16:
            return "-".join(compact[i : i + 4] for i in range(0, 16, 4))
        return re.sub(r"\s+", "", text)[:32]
