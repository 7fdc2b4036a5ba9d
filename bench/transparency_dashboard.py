"""How fast is the transparency dashboard with a big program behind it?

Generates 100,000 applications and 10,000 grants (with draws, tranches, ledger entries, usage
reports and milestones) by bulk_create in a throwaway database, then reports the response time
of /en/transparency/ cold (figures computed) and warm (figures from the cache), the register
page and the figures API, and how many queries a cold computation takes.

    .venv/bin/python bench/transparency_dashboard.py            # full volume, throwaway SQLite
    .venv/bin/python bench/transparency_dashboard.py --short    # small volume, for CI
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_throwaway \\
        .venv/bin/python bench/transparency_dashboard.py       # PostgreSQL (the DB is filled!)

The ratio warm/cold is measured in the same run, so it does not depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(database_url: str | None) -> str:
    workdir = tempfile.mkdtemp(prefix="suanli-bench-transparency-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    os.environ["SUANLI_VAR_DIR"] = workdir
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def generate(*, applications: int, grants: int, seed: int = 2026) -> None:
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from applications.cities import CITIES
    from applications.models import Application, CityProgram, Round, Stratum
    from centers.models import CapacityEntry, Center, CenterCapacity, GpuType
    from grants.models import Grant, Tranche, UsageReport
    from lottery import ranking
    from lottery.models import RANKING_BLOCK, Draw, DrawEntry, DrawRanking
    from milestones.models import Milestone

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    cities = [code for code, _zh, _en in CITIES]
    bands = list(Application.RevenueBand.values)
    programs = [
        CityProgram.objects.create(
            code=code,
            name_zh=f"{zh}算力券计划",
            name_en=f"{en} Compute Program",
            city_zh=zh,
            city_en=en,
            contact_email=f"suanli@{code}.example.cn",
        )
        for code, zh, en in CITIES[:3]
    ]
    centers = [
        Center.objects.create(
            code=f"{program.code}-ai",
            name_zh=f"{program.city_zh}人工智能计算中心",
            name_en=f"{program.city_en} AI Computing Center",
            city_zh=program.city_zh,
            city_en=program.city_en,
        )
        for program in programs
    ]
    gpu_types = [
        GpuType.objects.create(center=center, code="ascend-910b", name="Ascend 910B")
        for center in centers
    ]
    rounds = []
    for index, program in enumerate(programs):
        for number in (1, 2):
            is_open = number == 2
            opens = now - dt.timedelta(days=10 if is_open else 120 + index)
            rounds.append(
                Round.objects.create(
                    program=program,
                    code=f"{program.code}-2026-{number}",
                    title_zh=f"{program.city_zh}2026年第{number}轮",
                    title_en=f"{program.city_en} 2026 round {number}",
                    opens_at=opens,
                    closes_at=now + dt.timedelta(days=20) if is_open else opens + dt.timedelta(30),
                    gpu_hours_on_offer=2_000_000,
                    winners=grants // 3 + 1,
                )
            )
    for round_ in rounds:
        Stratum.objects.create(
            round=round_,
            code="small",
            name_zh="1–9人企业",
            name_en="1–9 employees",
            reserved=10,
            match_size_bands=["1-9"],
        )
    capacities = {
        (round_.pk, gpu.pk): CenterCapacity.objects.create(
            gpu_type=gpu, round=round_, capacity=Decimal("50000000")
        )
        for round_ in rounds
        for gpu in gpu_types
    }

    print(f"generating {applications:,} applications …", flush=True)
    closed = [r for r in rounds if r.closes_at <= now]
    batch = []
    for index in range(applications):
        round_ = rng.choice(rounds)
        span = max((min(round_.closes_at, now) - round_.opens_at).total_seconds(), 1)
        employees = rng.choice([rng.randint(1, 9), rng.randint(10, 19), rng.randint(20, 49)])
        status = rng.choices(
            ["eligible", "ineligible", "needs_review", "withdrawn"], weights=[80, 12, 5, 3]
        )[0]
        batch.append(
            Application(
                reference=f"B{index:09d}",
                round=round_,
                company_legal_name=f"基准测试科技有限公司{index}",
                uscc=f"91{index:016d}",
                registration_city=rng.choice(cities),
                founded_on=today - dt.timedelta(days=rng.randint(30, 5000)),
                employees=employees,
                revenue_band=rng.choice(bands),
                founder_name="张伟",
                email=f"bench{index}@example.cn",
                mobile="+8613800138000",
                gpu_hours_requested=rng.randint(100, 5000),
                purpose="基准测试",
                consent_terms=True,
                consent_publish_name=rng.random() < 0.6,
                status=status,
                stratum="small" if employees < 10 else "",
                submitted_at=round_.opens_at + dt.timedelta(seconds=rng.uniform(0, span)),
            )
        )
    Application.objects.bulk_create(batch, batch_size=2000)

    print("drawing the closed rounds …", flush=True)
    winners_by_round: dict[int, list[int]] = {}
    for round_ in closed:
        ids = list(
            Application.objects.filter(round=round_, status="eligible").values_list(
                "id", "reference", "stratum", TruncDate("submitted_at")
            )
        )
        rng.shuffle(ids)
        draw = Draw.objects.create(
            round=round_,
            draw_id=round_.code,
            state=Draw.State.FROZEN,
            winners=len(ids) // 2 + 1,
            entries_close_at=round_.closes_at,
            beacon_source=Draw.BeaconSource.DECLARED,
            beacon_description="benchmark",
            announced_at=round_.opens_at,
            entrants_digest="0" * 64,
            entrants_count=len(ids),
            entrant_counts={"strata": dict(Counter(stratum for _a, _r, stratum, _d in ids))},
            entrant_days=dict(Counter(day.isoformat() for _a, _r, _s, day in ids)),
            frozen_at=round_.closes_at,
        )
        half = len(ids) // 2
        # Stored as the real draw stores them: every result in the ranking blocks, an entry
        # per winner (lottery.services.draw_execute).
        tickets = [f"{rank:064x}" for rank in range(1, len(ids) + 1)]
        for first, last, first_ticket, lines in ranking.blocks_text(
            [reference for _a, reference, _s, _d in ids],
            [stratum for _a, _r, stratum, _d in ids],
            tickets,
            [str(app_id) for app_id, _r, _s, _d in ids],
            [None if rank <= half else rank - half for rank in range(1, len(ids) + 1)],
            RANKING_BLOCK,
        ):
            DrawRanking.objects.create(
                draw=draw, first_rank=first, last_rank=last, first_ticket=first_ticket, lines=lines
            )
        DrawEntry.objects.bulk_create(
            (
                DrawEntry(
                    draw=draw,
                    application_id=app_id,
                    reference=reference,
                    stratum=stratum,
                    ticket=tickets[rank - 1],
                    rank=rank,
                    drawn_outcome="winner",
                    outcome="winner",
                )
                for rank, (app_id, reference, stratum, _day) in enumerate(ids[:half], start=1)
            ),
            batch_size=2000,
        )
        Draw.objects.filter(pk=draw.pk).update(
            state=Draw.State.COMPLETED,
            beacon_value="benchmark",
            seed="1" * 64,
            winners_drawn=half,
            completed_at=round_.closes_at,
        )
        winners_by_round[round_.pk] = [app_id for app_id, _r, _s, _d in ids[:half]]

    print(f"granting {grants:,} grants …", flush=True)
    pool = [(round_id, app_id) for round_id, ids in winners_by_round.items() for app_id in ids]
    rng.shuffle(pool)
    pool = pool[:grants]
    grant_rows = []
    for round_id, app_id in pool:
        gpu = rng.choice(gpu_types)
        status = rng.choices(
            ["offered", "active", "completed", "declined", "revoked"], weights=[10, 60, 20, 7, 3]
        )[0]
        grant_rows.append(
            Grant(
                application_id=app_id,
                center_id=gpu.center_id,
                gpu_type=gpu,
                capacity=capacities[(round_id, gpu.pk)],
                amount=Decimal(rng.randrange(500, 5000, 100)),
                status=status,
                valid_from=today,
                expires_at=today + dt.timedelta(days=365),
                offer_expires_at=now + dt.timedelta(days=14),
                offered_at=now - dt.timedelta(days=rng.randint(1, 100)),
                accepted_at=None if status in ("offered", "declined") else now,
            )
        )
    Grant.objects.bulk_create(grant_rows, batch_size=2000)
    made = list(Grant.objects.values_list("id", "amount", "status", "capacity_id"))
    tranches, ledger, usage, milestones = [], [], [], []
    kinds = ["open_weights", "paper", "product_launch"]
    for grant_id, amount, status, capacity_id in made:
        accepted = status not in ("offered", "declined")
        ledger.append(
            CapacityEntry(
                capacity_id=capacity_id, kind="allocation", amount=amount, grant_id=grant_id
            )
        )
        if status in ("declined", "revoked"):
            ledger.append(
                CapacityEntry(
                    capacity_id=capacity_id, kind="return", amount=amount, grant_id=grant_id
                )
            )
        share = (amount / 3).quantize(Decimal("0.01"))
        for number in (1, 2, 3):
            released = accepted and (number == 1 or rng.random() < 0.4)
            forfeited = status == "revoked" and not released
            tranches.append(
                Tranche(
                    grant_id=grant_id,
                    number=number,
                    amount=share,
                    state="released" if released else "forfeited" if forfeited else "pending",
                    released_at=now if released else None,
                )
            )
        if accepted:
            usage.append(
                UsageReport(
                    center_id=centers[0].pk,
                    grant_id=grant_id,
                    report_id=f"bench-{grant_id}",
                    period_start=today - dt.timedelta(days=30),
                    period_end=today,
                    used=(share * Decimal(rng.random())).quantize(Decimal("0.01")),
                )
            )
            for kind in rng.sample(kinds, 2):
                state = rng.choices(
                    ["pending", "verified", "overdue", "forfeited"], weights=[50, 30, 15, 5]
                )[0]
                decided = state in ("verified", "forfeited")
                milestones.append(
                    Milestone(
                        grant_id=grant_id,
                        kind=kind,
                        target_date=today + dt.timedelta(days=rng.randint(-60, 120)),
                        original_target_date=today,
                        state=state,
                        evidence_url=f"https://github.com/bench/{grant_id}-{kind}"
                        if state == "verified"
                        else "",
                        decided_at=now if decided else None,
                    )
                )
    Tranche.objects.bulk_create(tranches, batch_size=2000)
    CapacityEntry.objects.bulk_create(ledger, batch_size=2000)
    UsageReport.objects.bulk_create(usage, batch_size=2000)
    Milestone.objects.bulk_create(milestones, batch_size=2000)


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="2,000 applications, 200 grants")
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the slowest queries")
    options = parser.parse_args()
    warnings.filterwarnings("ignore", message="No directory at")
    if options.short:
        options.applications, options.grants, options.repeat = 2_000, 200, 3

    given = os.environ.get("DATABASE_URL")
    url = configure(given)
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from applications.models import Application
    from grants.models import Grant
    from transparency.selectors import figures_compute

    print(f"database: {connection.vendor} ({url.split('@')[-1]})")
    call_command("migrate", verbosity=0)
    if Application.objects.exists():
        sys.exit("The database is not empty: point DATABASE_URL at a throwaway database.")
    started = time.perf_counter()
    generate(applications=options.applications, grants=options.grants)
    # Fresh bulk loads have no planner statistics yet; a live database has them (autovacuum).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"generated {Application.objects.count():,} applications, {Grant.objects.count():,} "
        f"grants in {time.perf_counter() - started:.1f} s"
    )

    client = Client()

    def dashboard():
        response = client.get("/en/transparency/")
        assert response.status_code == 200, response.status_code

    def cold():
        cache.clear()
        dashboard()

    slowest: list[tuple[float, str]] = []

    def clock(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            slowest.append(((time.perf_counter() - start) * 1000, sql))

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(clock):
        figures_compute()
    if options.profile:
        for elapsed, sql in sorted(slowest, reverse=True)[:8]:
            print(f"{elapsed:9.1f} ms  {sql[:300]}")
    # Read now: every request made below resets Django's query log.
    query_count = len(queries.captured_queries)
    cold_ms = timed(cold, options.repeat)
    dashboard()
    warm_ms = timed(dashboard, options.repeat * 4)
    register_ms = timed(lambda: client.get("/en/transparency/grants/?page=3"), options.repeat)
    api_ms = timed(lambda: client.get("/api/transparency/figures/"), options.repeat * 4)
    register_csv_ms = timed(lambda: client.get("/en/transparency/grants.csv"), 1)

    cold_median = statistics.median(cold_ms)
    warm_median = statistics.median(warm_ms)
    print(f"queries for all figures (every scope): {query_count}")
    print(
        f"dashboard cold (figures computed): median {cold_median:8.1f} ms  max {max(cold_ms):8.1f}"
    )
    print(
        f"dashboard warm (figures cached):   median {warm_median:8.1f} ms  max {max(warm_ms):8.1f}"
    )
    print(
        f"warm / cold: {warm_median / cold_median:.3f} (cache speed-up x{cold_median / warm_median:.0f})"
    )
    print(f"register page 3 (50 grants):       median {statistics.median(register_ms):8.1f} ms")
    print(f"figures API, warm:                 median {statistics.median(api_ms):8.1f} ms")
    print(f"register CSV, every grant:                {register_csv_ms[0]:8.1f} ms")
    if not given:
        shutil.rmtree(os.environ["SUANLI_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
