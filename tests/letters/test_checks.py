"""Start-up warnings: a missing libharfbuzz-subset0 or CJK font is said, not silently slow."""

import logging

from django.apps import apps
from django.core import checks

from letters import rendering
from letters.checks import HARFBUZZ_MISSING


def test_start_up_warns_when_harfbuzz_subset_is_missing(monkeypatch, caplog):
    monkeypatch.setattr(rendering, "harfbuzz_subset_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="letters"):
        apps.get_app_config("letters").ready()
    assert any("libharfbuzz-subset0" in record.getMessage() for record in caplog.records)
    warnings = [
        message
        for message in checks.run_checks()
        if message.id and message.id.startswith("letters.")
    ]
    assert [warning.msg for warning in warnings] == [HARFBUZZ_MISSING]
    assert all(warning.level == checks.WARNING for warning in warnings)


def test_start_up_names_a_missing_cjk_font(monkeypatch, caplog):
    monkeypatch.setattr(rendering, "CJK_FONT_FAMILIES", ("Noto Serif CJK SC", "Missing Font SC"))
    with caplog.at_level(logging.WARNING, logger="letters"):
        apps.get_app_config("letters").ready()
    assert any("Missing Font SC" in record.getMessage() for record in caplog.records)


def test_no_warning_on_a_machine_set_up_by_setup_sh(caplog):
    with caplog.at_level(logging.WARNING, logger="letters"):
        apps.get_app_config("letters").ready()
    assert [record for record in caplog.records if record.name == "letters"] == []
    assert not [m for m in checks.run_checks() if m.id and m.id.startswith("letters.")]
