"""Demo staff: one user per group and a superuser, all with the printed demo password."""

from django.contrib.auth.models import Group, User

from .roles import ALLOCATORS, AUDITORS, REVIEWERS

DEMO_PASSWORD = "suanli-demo-2026"  # noqa: S105 - demo data on a local machine only
DEMO_USERS = [
    ("admin", None, True),
    ("reviewer", REVIEWERS, False),
    ("allocator", ALLOCATORS, False),
    ("auditor", AUDITORS, False),
]


def load_demo(stdout) -> None:
    for username, group_name, is_superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "is_staff": True,
                "is_superuser": is_superuser,
                "email": f"{username}@suanli.localhost",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
    stdout.write(f"staff: {', '.join(u for u, _, _ in DEMO_USERS)} (password {DEMO_PASSWORD})")
