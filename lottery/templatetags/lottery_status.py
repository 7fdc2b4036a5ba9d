"""`{% draw_entry_of application as entry %}`: an application's draw result for its status
page (the application itself does not know whether its result is a kept entry or a line of the
published ranking; lottery.selectors does)."""

from django import template

from lottery import selectors

register = template.Library()


@register.simple_tag
def draw_entry_of(application):
    return selectors.entry_of_application(application)
