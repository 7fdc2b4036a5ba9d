from django import template

from milestones.selectors import milestones_for_application

register = template.Library()


@register.simple_tag
def milestones_for(application):
    """The founder's milestones, for the status page section."""
    return list(milestones_for_application(application=application))
