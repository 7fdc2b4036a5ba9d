from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from letters.content import verification_code_normalize


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_(
            "12 letters and digits printed beside the QR code, for example K7QM-4XPR-9HTD."
        ),
    )

    def clean_code(self) -> str:
        code = verification_code_normalize(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _(
                    "Enter the 12 letters and digits printed beside the QR code on the letter, "
                    "for example K7QM-4XPR-9HTD."
                )
            )
        return code


class VerifyUploadForm(forms.Form):
    pdf = forms.FileField(
        label=_("The letter as a PDF file"),
        help_text=_("We compute its SHA-256 and compare it; the file is not kept."),
        error_messages={
            "required": _("Choose the PDF file of the letter."),
            "empty": _("The file you chose is empty. Choose the PDF file of the letter."),
        },
    )

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if getattr(upload, "too_large", False):
            limit = settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES // 1_000_000
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB; a letter issued by Suanli is far smaller.")
                % {"limit": limit}
            )
        return upload
