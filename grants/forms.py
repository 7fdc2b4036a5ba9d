from django import forms
from django.utils.translation import gettext_lazy as _

from centers.models import CenterCapacity


class OfferResponseForm(forms.Form):
    """The founder's answer to an offer; accepting needs the terms confirmed."""

    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    confirm_terms = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "accept" and not cleaned.get("confirm_terms"):
            self.add_error(
                "confirm_terms", _("Confirm that you have read the terms to accept the offer.")
            )
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class AmendForm(ReasonForm):
    amount = forms.DecimalField(label=_("New amount"), max_digits=16, decimal_places=2)
    capacity = forms.ModelChoiceField(
        label=_("Center capacity"), queryset=CenterCapacity.objects.none()
    )

    def __init__(self, *args, grant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capacity"].queryset = CenterCapacity.objects.filter(
            round=grant.capacity.round
        ).select_related("gpu_type__center")
        self.fields["capacity"].initial = grant.capacity_id
        self.fields["amount"].initial = grant.amount


class RecoverSinceForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Failed since"),
        help_text=_("Every delivery that failed at or after this time is sent again."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
