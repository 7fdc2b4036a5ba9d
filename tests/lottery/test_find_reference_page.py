"""Find my reference on a completed draw answers with the entry alone (the deadline rush,
issue 9): rank, outcome, group and ticket, and a link to the results page that lists it, instead
of a hundred rows of other entrants under the answer."""

import pytest

from tests.lottery.conftest import results_of

pytestmark = pytest.mark.django_db


def test_a_found_entry_is_answered_alone_with_a_link_to_its_results_page(client, completed):
    entry = next((e for e in results_of(completed)[5:] if e.stratum), None)
    assert entry is not None, "the fixture has a grouped entrant past the first page"
    page = client.get(f"/en/draws/{completed.draw_id}/", {"ref": entry.reference}).content.decode()
    assert f"rank {entry.rank}" in page
    assert entry.ticket in page and entry.stratum in page
    others = [other for other in results_of(completed) if other.rank != entry.rank]
    assert not any(other.reference in page for other in others)
    results_page = (entry.rank - 1) // 5 + 1
    link = f'href="?page={results_page}#results"'
    assert link in page
    listed = client.get(f"/en/draws/{completed.draw_id}/?page={results_page}").content.decode()
    assert entry.reference in listed and f"Page {results_page} of 3" in listed


def test_the_link_reads_in_chinese_on_the_chinese_page(client, completed):
    entry = results_of(completed)[0]
    page = client.get(
        f"/zh-hans/draws/{completed.draw_id}/", {"ref": entry.reference}
    ).content.decode()
    assert "在完整结果中查看（第 1 页）" in page


def test_a_reference_not_found_still_shows_the_results(client, completed):
    page = client.get(f"/en/draws/{completed.draw_id}/", {"ref": "NOPE-1"}).content.decode()
    assert "is not among the entrants" in page
    first = results_of(completed)[0]
    assert first.reference in page and "Page 1 of 3" in page
