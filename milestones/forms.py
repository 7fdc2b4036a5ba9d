from django import forms
from django.utils.translation import gettext_lazy as _

from applications.forms import GovukForm

from .services import EVIDENCE_NOTE_MAX_LENGTH, EVIDENCE_URL_MAX_LENGTH, evidence_url_problem

URL_PROBLEMS = {
    "too_long": _("Enter a shorter link (at most 2,000 characters)."),
    "malformed": _("Enter a web address, like https://github.com/your-company/your-project."),
    "scheme": _("Enter a web address starting with https://."),
    "https": _("Enter a link starting with https:// (not http://)."),
    "credentials": _("Remove the user name or password from the link."),
    "private": _("Enter a public web address; internal network addresses cannot be checked."),
}


class EvidenceForm(GovukForm):
    """The founder's (or staff's) evidence for one milestone: a link and a short note."""

    evidence_url = forms.URLField(
        label=_("Link to the evidence"),
        max_length=EVIDENCE_URL_MAX_LENGTH,
        assume_scheme="https",
        help_text=_(
            "A public page that shows the outcome: the repository, the model page, the paper "
            "on arXiv or the launched product."
        ),
        error_messages={
            "required": _("Enter the link to your evidence."),
            "invalid": URL_PROBLEMS["malformed"],
        },
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    note = forms.CharField(
        label=_("Note for the reviewers"),
        required=False,
        max_length=EVIDENCE_NOTE_MAX_LENGTH,
        help_text=_("Anything that helps us check it, in at most 500 characters."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Shorten the note to 500 characters or fewer.")},
    )

    def clean_evidence_url(self) -> str:
        url = self.cleaned_data["evidence_url"].strip()
        problem = evidence_url_problem(url)
        if problem is not None:
            raise forms.ValidationError(URL_PROBLEMS.get(problem, URL_PROBLEMS["malformed"]))
        return url
