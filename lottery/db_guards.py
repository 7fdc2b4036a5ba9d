"""Database triggers that make published draw data immutable, whoever writes to the database.

Check constraints can only look at the new row; these triggers compare it with the old one:
- a completed draw's published values (entrants, beacon value, seed, results count) never change,
  and its state never goes back;
- the entrants list and digest never change once published (state past "announced");
- a beacon value, once set, is never replaced;
- the published ranking (lottery.models.DrawRanking) is written once, by the draw, and never
  changed;
- an entry's drawn ticket, rank, drawn outcome and waitlist position never change, and every
  entry is exactly its line of the ranking;
- no winner is added to a completed draw (only a waitlisted entrant whose result changes);
- an application entered in a draw is never deleted;
- draw events are append-only.
On PostgreSQL deletes are refused too (SQLite's test flush deletes rows, so there only the
PROTECT foreign keys guard deletion).

Installed by migration 0002 and again after every migrate (``LotteryConfig.ready``), because
SQLite drops a table's triggers when a later migration rebuilds the table.
"""

DRAW_PUBLISHED = [
    "draw_id",
    "winners",
    "quotas",
    "entries_close_at",
    "beacon_source",
    "beacon_chain_hash",
    "beacon_round",
    "entrants_digest",
    "entrants_lines",
    "entrant_application_ids",
    "entrant_counts",
    "entrants_count",
    "excluded_count",
    "frozen_at",
    "beacon_randomness",
    "beacon_signature",
    "beacon_value",
    "seed",
    "winners_drawn",
    "completed_at",
    "state",
]
ENTRANTS_PUBLISHED = [
    "entrants_digest",
    "entrants_lines",
    "entrant_application_ids",
    "entrant_counts",
    "entrants_count",
    "excluded_count",
    "frozen_at",
]
ENTRY_DRAWN = [
    "draw_id",
    "application_id",
    "reference",
    "stratum",
    "ticket",
    "rank",
    "drawn_outcome",
    "waitlist_position",
]


def _present(columns: list[str], draw_columns: set[str]) -> list[str]:
    """The guarded columns the draw table has now: an early migration (0002) installs the
    guards before later columns exist; the install after every migrate covers them all."""
    return [c for c in columns if c in draw_columns]


def _changed(columns, op):
    return " OR ".join(f"NEW.{c}{op}OLD.{c}" for c in columns)


def _postgres(draw_columns: set[str], column_cast=lambda c: c):
    changed = lambda columns: " OR ".join(  # noqa: E731
        f"NEW.{column_cast(c)} IS DISTINCT FROM OLD.{column_cast(c)}" for c in columns
    )
    # Counted once after the freeze (an early migration installs this before the column exists).
    days_counted_once = (
        """
          IF OLD.entrant_days IS NOT NULL AND NEW.entrant_days IS DISTINCT FROM OLD.entrant_days THEN
            RAISE EXCEPTION 'suanli: entrants per day are counted once' USING ERRCODE = 'integrity_constraint_violation';
          END IF;"""
        if "entrant_days" in draw_columns
        else ""
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION lottery_draw_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.state <> 'announced' THEN
              RAISE EXCEPTION 'suanli: a published draw cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN OLD;
          END IF;
          IF OLD.state = 'completed' AND ({changed(_present(DRAW_PUBLISHED, draw_columns))}) THEN
            RAISE EXCEPTION 'suanli: a completed draw cannot be changed or re-run' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF OLD.state <> 'announced' AND ({changed(_present(ENTRANTS_PUBLISHED, draw_columns))}) THEN
            RAISE EXCEPTION 'suanli: published entrants cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF OLD.state <> 'announced' AND NEW.state = 'announced' THEN
            RAISE EXCEPTION 'suanli: a draw cannot go back to announced' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF (OLD.beacon_randomness <> '' AND NEW.beacon_randomness IS DISTINCT FROM OLD.beacon_randomness)
             OR (OLD.beacon_signature <> '' AND NEW.beacon_signature IS DISTINCT FROM OLD.beacon_signature)
             OR (OLD.beacon_value <> '' AND NEW.beacon_value IS DISTINCT FROM OLD.beacon_value) THEN
            RAISE EXCEPTION 'suanli: a beacon value is set once' USING ERRCODE = 'integrity_constraint_violation';
          END IF;{days_counted_once}
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
        "DROP TRIGGER IF EXISTS lottery_draw_guard ON lottery_draw;",
        "CREATE TRIGGER lottery_draw_guard BEFORE UPDATE OR DELETE ON lottery_draw "
        "FOR EACH ROW EXECUTE FUNCTION lottery_draw_guard();",
        f"""
        CREATE OR REPLACE FUNCTION lottery_entry_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'suanli: draw results cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF {changed(ENTRY_DRAWN)} THEN
            RAISE EXCEPTION 'suanli: a drawn ticket, rank or outcome cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """,
        "DROP TRIGGER IF EXISTS lottery_entry_guard ON lottery_drawentry;",
        "CREATE TRIGGER lottery_entry_guard BEFORE UPDATE OR DELETE ON lottery_drawentry "
        "FOR EACH ROW EXECUTE FUNCTION lottery_entry_guard();",
        # One check per INSERT statement (all the winners of a draw at once), not per row.
        """
        CREATE OR REPLACE FUNCTION lottery_entry_insert_guard() RETURNS trigger AS $$
        DECLARE
          draws bigint[];
        BEGIN
          -- The draws this statement wrote to, in one pass over its rows.
          SELECT array_agg(s.draw_id) INTO draws FROM (SELECT DISTINCT draw_id FROM inserted) s;
          IF EXISTS (SELECT 1 FROM unnest(draws) AS i(draw_id)
                     LEFT JOIN lottery_draw d ON d.id = i.draw_id
                     WHERE d.id IS NULL) THEN
            RAISE EXCEPTION 'suanli: a draw entry must belong to an existing draw'
              USING ERRCODE = 'foreign_key_violation';
          END IF;
          -- After the draw only a waitlisted entrant's result can be kept as an entry (when
          -- it changes): the winners were all written with the results.
          IF EXISTS (SELECT 1 FROM inserted i JOIN lottery_draw d ON d.id = i.draw_id
                     WHERE d.state = 'completed' AND i.drawn_outcome <> 'waitlist') THEN
            RAISE EXCEPTION 'suanli: no winner can be added to a completed draw' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          -- Every entry is exactly a line of the published ranking (its rank is in the line,
          -- so the line can only be in the block of that rank). Each block the entries fall in
          -- is read and split once: searching it once per entry read the same 50 KB again for
          -- every winner (0.2 s for a thousand).
          IF EXISTS (
               WITH touched AS (
                 SELECT DISTINCT b.id FROM inserted i CROSS JOIN LATERAL (
                   SELECT k.id FROM lottery_drawranking k
                   WHERE k.draw_id = i.draw_id AND k.first_rank <= i.rank
                   ORDER BY k.first_rank DESC LIMIT 1) b
               ), published AS (
                 SELECT k.draw_id, l.line FROM lottery_drawranking k JOIN touched t ON t.id = k.id
                 CROSS JOIN LATERAL unnest(string_to_array(k.lines, E'\n')) AS l(line)
               )
               SELECT 1 FROM inserted i WHERE NOT EXISTS (
                 SELECT 1 FROM published p
                 WHERE p.draw_id = i.draw_id
                   AND p.line = i.reference || E'\t' || i.rank || E'\t' || i.stratum || E'\t'
                                || i.ticket || E'\t' || i.application_id || E'\t'
                                || coalesce(i.waitlist_position::text, ''))) THEN
            RAISE EXCEPTION 'suanli: a draw entry must be its line of the published ranking' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF EXISTS (SELECT 1 FROM inserted i
                     LEFT JOIN applications_application a ON a.id = i.application_id
                     WHERE a.id IS NULL OR a.reference <> i.reference) THEN
            RAISE EXCEPTION 'suanli: a draw entry must belong to an existing application, by its reference'
              USING ERRCODE = 'foreign_key_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql
        -- Entries are the winners (a few thousand at most, in one statement) and then one
        -- changed entrant at a time: probing the indexes per entry is the right plan. Forcing
        -- hash joins instead (as when every entrant had an entry) read all the applications of
        -- every round, about half a second per draw. JIT only adds compile time.
        SET jit = off;
        """,
        "DROP TRIGGER IF EXISTS lottery_entry_insert_guard ON lottery_drawentry;",
        "CREATE TRIGGER lottery_entry_insert_guard AFTER INSERT ON lottery_drawentry "
        "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
        "EXECUTE FUNCTION lottery_entry_insert_guard();",
        """
        CREATE OR REPLACE FUNCTION lottery_ranking_guard() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'suanli: a published ranking cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql;
        """,
        "DROP TRIGGER IF EXISTS lottery_ranking_guard ON lottery_drawranking;",
        "CREATE TRIGGER lottery_ranking_guard BEFORE UPDATE OR DELETE ON lottery_drawranking "
        "FOR EACH ROW EXECUTE FUNCTION lottery_ranking_guard();",
        """
        CREATE OR REPLACE FUNCTION lottery_ranking_insert_guard() RETURNS trigger AS $$
        BEGIN
          -- Written once, by the draw, between the freeze and completion.
          IF EXISTS (SELECT 1 FROM inserted i LEFT JOIN lottery_draw d ON d.id = i.draw_id
                     WHERE d.id IS NULL OR d.state <> 'frozen') THEN
            RAISE EXCEPTION 'suanli: a ranking is written only by the draw of frozen entrants'
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql;
        """,
        "DROP TRIGGER IF EXISTS lottery_ranking_insert_guard ON lottery_drawranking;",
        "CREATE TRIGGER lottery_ranking_insert_guard AFTER INSERT ON lottery_drawranking "
        "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
        "EXECUTE FUNCTION lottery_ranking_insert_guard();",
        """
        CREATE OR REPLACE FUNCTION lottery_event_guard() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'suanli: draw events are append-only' USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql;
        """,
        # Applications drawn in a lottery are never deleted (no per-row foreign key does it).
        """
        CREATE OR REPLACE FUNCTION lottery_application_delete_guard() RETURNS trigger AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM lottery_drawentry e WHERE e.application_id = OLD.id)
             OR EXISTS (SELECT 1 FROM lottery_draw d
                        WHERE d.round_id = OLD.round_id AND d.state <> 'announced'
                          AND strpos(E'\n' || d.entrants_lines, E'\n' || OLD.reference || E'\t') > 0) THEN
            RAISE EXCEPTION 'suanli: an application entered in a draw cannot be deleted'
              USING ERRCODE = 'foreign_key_violation';
          END IF;
          RETURN OLD;
        END $$ LANGUAGE plpgsql;
        """,
        "DROP TRIGGER IF EXISTS lottery_application_delete_guard ON applications_application;",
        "CREATE TRIGGER lottery_application_delete_guard BEFORE DELETE ON applications_application "
        "FOR EACH ROW EXECUTE FUNCTION lottery_application_delete_guard();",
        "DROP TRIGGER IF EXISTS lottery_event_guard ON lottery_drawevent;",
        "CREATE TRIGGER lottery_event_guard BEFORE UPDATE OR DELETE ON lottery_drawevent "
        "FOR EACH ROW EXECUTE FUNCTION lottery_event_guard();",
    ]


def _sqlite(draw_columns: set[str]):
    def changed(columns):
        return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)

    return [
        "CREATE TRIGGER IF NOT EXISTS lottery_draw_completed_guard BEFORE UPDATE ON lottery_draw "
        f"WHEN OLD.state = 'completed' AND ({changed(_present(DRAW_PUBLISHED, draw_columns))}) "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a completed draw cannot be changed or re-run'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_draw_entrants_guard BEFORE UPDATE ON lottery_draw "
        f"WHEN OLD.state <> 'announced' AND ({changed(_present(ENTRANTS_PUBLISHED, draw_columns))} "
        "OR NEW.state = 'announced') "
        "BEGIN SELECT RAISE(ABORT, 'suanli: published entrants cannot be changed'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_draw_beacon_guard BEFORE UPDATE ON lottery_draw "
        "WHEN (OLD.beacon_randomness <> '' AND NEW.beacon_randomness IS NOT OLD.beacon_randomness) "
        "OR (OLD.beacon_signature <> '' AND NEW.beacon_signature IS NOT OLD.beacon_signature) "
        "OR (OLD.beacon_value <> '' AND NEW.beacon_value IS NOT OLD.beacon_value) "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a beacon value is set once'); END;",
        *(
            [
                "CREATE TRIGGER IF NOT EXISTS lottery_draw_days_guard BEFORE UPDATE ON lottery_draw "
                "WHEN OLD.entrant_days IS NOT NULL AND NEW.entrant_days IS NOT OLD.entrant_days "
                "BEGIN SELECT RAISE(ABORT, 'suanli: entrants per day are counted once'); END;"
            ]
            if "entrant_days" in draw_columns
            else []
        ),
        "CREATE TRIGGER IF NOT EXISTS lottery_entry_guard BEFORE UPDATE ON lottery_drawentry "
        f"WHEN {changed(ENTRY_DRAWN)} "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a drawn ticket, rank or outcome cannot be changed'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_entry_insert_guard BEFORE INSERT ON lottery_drawentry "
        "WHEN (SELECT state FROM lottery_draw WHERE id = NEW.draw_id) = 'completed' "
        "AND NEW.drawn_outcome <> 'waitlist' "
        "BEGIN SELECT RAISE(ABORT, 'suanli: no winner can be added to a completed draw'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_entry_ranking_guard BEFORE INSERT ON lottery_drawentry "
        "WHEN NOT EXISTS (SELECT 1 FROM lottery_drawranking k WHERE k.draw_id = NEW.draw_id "
        "AND NEW.rank BETWEEN k.first_rank AND k.last_rank AND instr(k.lines, char(10) "
        "|| NEW.reference || char(9) || NEW.rank || char(9) || NEW.stratum || char(9) "
        "|| NEW.ticket || char(9) || NEW.application_id || char(9) "
        "|| coalesce(NEW.waitlist_position, '') || char(10)) > 0) "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a draw entry must be its line of the published "
        "ranking'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_ranking_guard BEFORE UPDATE ON lottery_drawranking "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a published ranking cannot be changed'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_ranking_insert_guard BEFORE INSERT "
        "ON lottery_drawranking WHEN (SELECT state FROM lottery_draw WHERE id = NEW.draw_id) "
        "IS NOT 'frozen' "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a ranking is written only by the draw of frozen "
        "entrants'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_entry_parent_guard BEFORE INSERT ON lottery_drawentry "
        "WHEN NOT EXISTS (SELECT 1 FROM applications_application "
        "WHERE id = NEW.application_id AND reference = NEW.reference) "
        "OR NOT EXISTS (SELECT 1 FROM lottery_draw WHERE id = NEW.draw_id) "
        "BEGIN SELECT RAISE(ABORT, 'suanli: a draw entry must belong to an existing "
        "application and draw'); END;",
        "CREATE TRIGGER IF NOT EXISTS lottery_event_guard BEFORE UPDATE ON lottery_drawevent "
        "BEGIN SELECT RAISE(ABORT, 'suanli: draw events are append-only'); END;",
    ]


def install(connection) -> None:
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    with connection.cursor() as cursor:
        draw_columns = {
            column.name
            for column in connection.introspection.get_table_description(cursor, "lottery_draw")
        }
    statements = (_postgres if connection.vendor == "postgresql" else _sqlite)(draw_columns)
    # An early migration (0002) installs the guards before the ranking table exists: leave out
    # what needs that table then; the install after every migrate puts it in.
    ranking_missing = "lottery_drawranking" not in connection.introspection.table_names()
    needs_ranking = "ON lottery_drawranking" if connection.vendor == "postgresql" else "drawranking"
    with connection.cursor() as cursor:
        for statement in statements:
            if ranking_missing and needs_ranking in statement:
                continue
            cursor.execute(statement)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, trigger in [
                ("lottery_draw", "lottery_draw_guard"),
                ("lottery_drawentry", "lottery_entry_guard"),
                ("lottery_drawentry", "lottery_entry_insert_guard"),
                ("lottery_drawevent", "lottery_event_guard"),
                ("lottery_drawranking", "lottery_ranking_guard"),
                ("lottery_drawranking", "lottery_ranking_insert_guard"),
                ("applications_application", "lottery_application_delete_guard"),
            ]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table};")
        elif connection.vendor == "sqlite":
            for trigger in [
                "lottery_draw_completed_guard",
                "lottery_draw_entrants_guard",
                "lottery_draw_beacon_guard",
                "lottery_draw_days_guard",
                "lottery_entry_guard",
                "lottery_entry_insert_guard",
                "lottery_entry_parent_guard",
                "lottery_entry_ranking_guard",
                "lottery_ranking_guard",
                "lottery_ranking_insert_guard",
                "lottery_event_guard",
            ]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger};")
