import logging

from django.contrib.auth.models import Group, Permission

from .roles import ROLE_PERMISSIONS

logger = logging.getLogger(__name__)


def groups_apply_permissions(**kwargs) -> None:
    """Give each staff group exactly the permissions core/roles.py lists (idempotent)."""
    for group_name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = Permission.objects.none()
        for code in codes:
            if code == "view:*":
                wanted |= Permission.objects.filter(codename__startswith="view_")
            elif code.endswith(".*"):
                wanted |= Permission.objects.filter(content_type__app_label=code[:-2])
            else:
                app_label, codename = code.split(".", 1)
                wanted |= Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
        group.permissions.set(wanted.distinct())
