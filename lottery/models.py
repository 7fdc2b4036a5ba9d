"""The draw of a round (suanli-draw/1), its frozen entrants, results and public events.

Nothing here is edited by hand: the services in ``lottery.services`` are the only writers, and
the database itself refuses to change a completed draw (check constraints below, and triggers
added in migration 0002 that reject updates to results and published values).
"""

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from applications.models import reference_validator, slug_validator


class Draw(models.Model):
    class State(models.TextChoices):
        ANNOUNCED = "announced", _("Announced")
        FROZEN = "frozen", _("Entrants published")
        COMPLETED = "completed", _("Drawn")

    class BeaconSource(models.TextChoices):
        DRAND = "drand", _("drand randomness beacon")
        DECLARED = "declared", _("Declared public value")

    round = models.OneToOneField(
        "applications.Round",
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="draw",
    )
    draw_id = models.CharField(
        _("draw id"), max_length=64, unique=True, validators=[slug_validator]
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.ANNOUNCED
    )
    # Published when the round opens; frozen from then on.
    winners = models.PositiveIntegerField(_("winners"))
    quotas = models.JSONField(_("quotas"), default=dict, blank=True)
    entries_close_at = models.DateTimeField(_("entries close at"))
    beacon_source = models.CharField(
        _("beacon source"), max_length=16, choices=BeaconSource.choices
    )
    beacon_chain_hash = models.CharField(_("beacon chain hash"), max_length=64, blank=True)
    beacon_round = models.PositiveBigIntegerField(_("beacon round"), null=True, blank=True)
    beacon_description = models.TextField(_("beacon description"), blank=True)
    announced_at = models.DateTimeField(_("announced at"))
    # Published when entries close.
    entrants_digest = models.CharField(_("entrants digest"), max_length=64, blank=True)
    entrants_count = models.PositiveIntegerField(_("entrants count"), default=0)
    # The exact text whose SHA-256 is the digest: "ref TAB stratum LF" lines sorted by ref.
    entrants_lines = models.TextField(_("entrants lines"), blank=True, editable=False)
    # Application ids in the same order as entrants_lines, comma separated.
    entrant_application_ids = models.TextField(
        _("entrant application ids"), blank=True, editable=False
    )
    # Entrants per stratum ({"strata": {code: n}}), counted at the freeze: the fairness test on
    # the transparency page compares the winners' shares with these.
    entrant_counts = models.JSONField(_("entrant counts"), default=dict, blank=True, editable=False)
    # Entrants per local day of submission ({"2026-11-03": n, ...}), for the same test. Counted
    # once, by a task right after the freeze commits, from the frozen application ids: inside
    # the freeze it cost as much as the rest of it on a million entrants, and nothing published
    # needs it. None until counted; the database refuses a second count (lottery.db_guards).
    entrant_days = models.JSONField(_("entrant days"), null=True, blank=True, editable=False)
    excluded_count = models.PositiveIntegerField(
        _("excluded count"),
        default=0,
        help_text=_("Applications still under review at the deadline, left out."),
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    # Published at the draw.
    beacon_randomness = models.CharField(_("beacon randomness"), max_length=64, blank=True)
    beacon_signature = models.CharField(_("beacon signature"), max_length=192, blank=True)
    beacon_value = models.TextField(_("beacon value"), blank=True)
    beacon_value_at = models.DateTimeField(_("beacon value at"), null=True, blank=True)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    winners_drawn = models.PositiveIntegerField(_("winners drawn"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Set when a fetched beacon round failed verification; cleared never (staff investigate).
    beacon_problem = models.TextField(_("beacon problem"), blank=True)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["-entries_close_at", "draw_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(beacon_source="declared")
                | (Q(beacon_source="drand") & ~Q(beacon_chain_hash="") & Q(beacon_round__gte=1)),
                name="draw_drand_beacon_named",
            ),
            models.CheckConstraint(
                condition=Q(beacon_source="drand") | ~Q(beacon_description=""),
                name="draw_declared_beacon_described",
            ),
            models.CheckConstraint(
                condition=Q(state="announced")
                | (Q(frozen_at__isnull=False) & ~Q(entrants_digest="")),
                name="draw_frozen_has_digest",
            ),
            models.CheckConstraint(
                condition=~Q(state="completed")
                | (
                    Q(completed_at__isnull=False)
                    & ~Q(seed="")
                    & (~Q(beacon_randomness="") | ~Q(beacon_value=""))
                ),
                name="draw_completed_has_seed_and_beacon",
            ),
            models.CheckConstraint(
                condition=Q(winners_drawn__lte=F("winners")), name="draw_winners_within_k"
            ),
        ]

    def __str__(self) -> str:
        return self.draw_id

    def get_absolute_url(self) -> str:
        return reverse("lottery:draw_detail", kwargs={"draw_id": self.draw_id})

    @property
    def is_completed(self) -> bool:
        return self.state == self.State.COMPLETED

    @property
    def is_frozen(self) -> bool:
        return self.state in (self.State.FROZEN, self.State.COMPLETED)

    @property
    def has_beacon_value(self) -> bool:
        if self.beacon_source == self.BeaconSource.DRAND:
            return bool(self.beacon_randomness)
        return bool(self.beacon_value)


class DrawRanking(models.Model):
    """The draw's result for every entrant, as published: one row per block of consecutive
    ranks (``RANKING_BLOCK`` entrants), never changed once written.

    A million entrants are two thousand rows instead of a million: storing a row and three
    index entries per entrant cost four times the draw itself (issue 3's benchmark), and
    nothing reads an entrant's result except by rank (results pages, the record, e-mails,
    promotions) or by reference (find my reference, the status page). Rank order is ticket
    order, so a reference's block is found from its ticket (``SHA-256(seed:ref)``) on the
    (draw, first_ticket) index, then its line in the block's text.

    ``lines`` holds one line per entrant in rank order, each preceded by a newline and the
    last followed by one, so ``"\n" + ref + "\t"`` finds a line and a whole line is delimited:
    ``ref TAB rank TAB stratum TAB ticket TAB application id TAB waitlist position`` (empty for
    a winner). Entrants whose result changes later (withdrawals, promotions) and every winner
    also have a ``DrawEntry`` that the database checks against their line here."""

    draw = models.ForeignKey(
        Draw,
        verbose_name=_("draw"),
        on_delete=models.PROTECT,
        related_name="ranking",
        db_index=False,  # unique (draw, first_rank) serves every lookup by draw
    )
    first_rank = models.PositiveIntegerField(_("first rank"))
    last_rank = models.PositiveIntegerField(_("last rank"))
    first_ticket = models.CharField(_("first ticket"), max_length=64)
    lines = models.TextField(_("lines"))

    class Meta:
        verbose_name = _("draw ranking block")
        verbose_name_plural = _("draw ranking blocks")
        ordering = ["draw", "first_rank"]
        constraints = [
            # One result set per draw: a second run cannot write another block from rank 1.
            models.UniqueConstraint(fields=["draw", "first_rank"], name="draw_ranking_block_once"),
            models.CheckConstraint(
                condition=Q(first_rank__gte=1) & Q(last_rank__gte=F("first_rank")),
                name="draw_ranking_ranks_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["draw", "first_ticket"], name="draw_ranking_by_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.draw_id} #{self.first_rank}-{self.last_rank}"


# Entrants per ranking block: a results page (100 ranks) reads one or two blocks, and "find my
# reference" reads one line of one block; two thousand blocks for a million entrants.
RANKING_BLOCK = 500


class DrawEntry(models.Model):
    """One entrant's result as it stands now, kept for every winner the draw chose and for
    every entrant whose result changed since (a waitlisted entrant promoted or withdrawn);
    everyone else's result is their line in ``DrawRanking``. ``outcome`` is the current one
    (a withdrawn winner becomes "withdrawn", a promoted one "winner"); ``drawn_outcome`` and
    ``waitlist_position`` are what the draw published and never change (the database checks
    every row against its ranking line)."""

    class Outcome(models.TextChoices):
        WINNER = "winner", _("Winner")
        WAITLIST = "waitlist", _("Waitlist")
        # A context of its own: the applications catalogue, loaded first, reads "Withdrawn" as
        # an application's 已撤回; an entrant who leaves the draw has 已退出 (as the public page).
        WITHDRAWN = "withdrawn", pgettext_lazy("draw entry", "Withdrawn")

    # Referential integrity is enforced by set-based triggers (lottery.db_guards) instead of
    # per-row foreign-key checks: the winners are checked with one join at insert, and rows
    # can neither be re-pointed nor orphaned.
    draw = models.ForeignKey(
        Draw,
        verbose_name=_("draw"),
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,  # unique (draw, rank) serves every lookup by draw
    )
    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="draw_entry",
        db_constraint=False,
    )
    reference = models.CharField(_("reference"), max_length=32, validators=[reference_validator])
    stratum = models.CharField(_("stratum"), max_length=64, blank=True)
    ticket = models.CharField(_("ticket"), max_length=64)
    rank = models.PositiveIntegerField(_("rank"))
    drawn_outcome = models.CharField(
        _("drawn outcome"),
        max_length=16,
        choices=[c for c in Outcome.choices if c[0] != "withdrawn"],
    )
    waitlist_position = models.PositiveIntegerField(_("waitlist position"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    # A context of its own: an application's "withdrawn at" is 撤回时间, an entry's is 退出时间.
    withdrawn_at = models.DateTimeField(
        pgettext_lazy("draw entry", "withdrawn at"), null=True, blank=True
    )
    withdrawal_reason = models.CharField(_("withdrawal reason"), max_length=16, blank=True)

    class Meta:
        ordering = ["draw", "rank"]
        constraints = [
            # One result set per draw: a second run cannot insert another rank 1.
            models.UniqueConstraint(fields=["draw", "rank"], name="draw_entry_rank_once"),
            # A reference is unique in its draw because each entry is one application (unique
            # below) and the insert trigger checks the reference is that application's own:
            # no second index over a million references is needed for that.
            models.CheckConstraint(condition=Q(rank__gte=1), name="draw_entry_rank_positive"),
            models.CheckConstraint(
                condition=Q(drawn_outcome="winner", waitlist_position__isnull=True)
                | Q(drawn_outcome="waitlist", waitlist_position__gte=1),
                name="draw_entry_waitlist_position_matches",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["winner", "waitlist", "withdrawn"]),
                name="draw_entry_outcome_known",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="withdrawn")
                | Q(
                    withdrawn_at__isnull=False,
                    withdrawal_reason__in=["declined", "disqualified", "not_accepted"],
                ),
                name="draw_entry_withdrawal_has_reason",
            ),
        ]
        indexes = [
            # Current winners in rank order: a small partial index (K rows, not a million).
            models.Index(
                fields=["draw", "rank"],
                condition=Q(outcome="winner"),
                name="draw_entry_winners_by_rank",
            ),
        ]
        verbose_name = _("draw entry")
        verbose_name_plural = _("draw entries")

    def __str__(self) -> str:
        return f"{self.draw_id} #{self.rank} {self.reference}"


WITHDRAWAL_REASON_LABELS = {
    "declined": _("declined"),
    "disqualified": _("disqualified"),
    "not_accepted": _("did not accept in time"),
}


class DrawEvent(models.Model):
    """The public history of a draw, in order: what was published when. Append-only."""

    class Kind(models.TextChoices):
        ANNOUNCED = "announced", _("Draw announced")
        BEACON_CHANGED = "beacon_changed", _("Beacon changed before entries closed")
        ENTRANTS_PUBLISHED = "entrants_published", _("Entrants and digest published")
        EXCLUDED = "excluded", _("Applications under review left out")
        BEACON_VALUE = "beacon_value", _("Beacon value published")
        BEACON_REJECTED = "beacon_rejected", _("Beacon round failed verification")
        RESULTS_PUBLISHED = "results_published", _("Results published")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        PROMOTION = "promotion", _("Promotion from the waitlist")

    draw = models.ForeignKey(
        Draw, verbose_name=_("draw"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    entry = models.ForeignKey(
        DrawEntry,
        verbose_name=_("entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    replaces = models.ForeignKey(
        DrawEntry,
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=16, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("draw event")
        verbose_name_plural = _("draw events")
        ordering = ["draw", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="withdrawal")
                | Q(entry__isnull=False, reason__in=["declined", "disqualified", "not_accepted"]),
                name="draw_event_withdrawal_has_entry_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="promotion") | Q(entry__isnull=False, replaces__isnull=False),
                name="draw_event_promotion_names_both",
            ),
            # A vacancy is filled once: at most one promotion replaces a given entry.
            models.UniqueConstraint(
                fields=["replaces"],
                condition=Q(kind="promotion"),
                name="draw_event_one_promotion_per_vacancy",
            ),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(kind="withdrawal"),
                name="draw_event_one_withdrawal_per_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.draw_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def reason_label(self) -> str:
        return WITHDRAWAL_REASON_LABELS.get(self.reason, self.reason)
