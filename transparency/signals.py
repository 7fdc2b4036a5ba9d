"""Safety-net invalidation: any saved or deleted grant, tranche, usage report, capacity entry,
draw, draw entry or milestone marks the public figures out of date. Nothing else happens here."""

from django.db.models.signals import post_delete, post_save

from .services import figures_invalidate

WATCHED_MODELS = (
    "grants.Grant",
    "grants.Tranche",
    "grants.UsageReport",
    "centers.CapacityEntry",
    "centers.CenterCapacity",
    "lottery.Draw",
    "lottery.DrawEntry",
    "milestones.Milestone",
    "applications.Round",
)


def _invalidate(sender, **kwargs) -> None:
    figures_invalidate()


def connect() -> None:
    from django.apps import apps

    for label in WATCHED_MODELS:
        model = apps.get_model(label)
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"transparency:{label}:save")
        post_delete.connect(_invalidate, sender=model, dispatch_uid=f"transparency:{label}:del")
