"""`{% include_optional "lottery/status_section.html" %}`: the status page shows the sections
other apps contribute (draw, grant, milestones, letters) when their template exists, and renders
fine before they do. Django's `{% include %}` has no "ignore missing"."""

from django import template
from django.template.loader import get_template

register = template.Library()


@register.simple_tag(takes_context=True)
def include_optional(context, template_name: str) -> str:
    try:
        included = get_template(template_name)
    except template.TemplateDoesNotExist:
        return ""
    return included.render(context.flatten(), request=context.get("request"))
