"""Each evidence checker against a real local server answering recorded API responses.

The recorded bodies under recorded/ follow the real shapes of GitHub's REST
API, the Hugging Face Hub API and arXiv's Atom API.  For each checker: a
success, not found, private, rate-limited, slow and malformed answer.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from milestones.checkers import (
    CHECKERS,
    CheckContext,
    Evidence,
    Verdict,
    checker_for,
    parse_arxiv_id,
    parse_github_repository,
    parse_huggingface_model,
)

from .conftest import RecordedServer

REPO = "/repos/shanshui-ai/lingxi-infer"
REPO_URL = "https://github.com/shanshui-ai/lingxi-infer"
MODEL = "/api/models/shanshui-ai/Lingxi-7B-Chat"
MODEL_URL = "https://huggingface.co/shanshui-ai/Lingxi-7B-Chat"
GITHUB_RATE_LIMIT = {
    "x-ratelimit-limit": "60",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset": "1779948000",
    "x-ratelimit-used": "60",
    "x-ratelimit-resource": "core",
}


def slow(context: CheckContext) -> CheckContext:
    return replace(context, policy=replace(context.policy, timeout=0.4))


def test_every_milestone_kind_has_a_registered_checker():
    assert {"open_code", "open_weights", "paper", "product_launch", "usage_report", "url"} <= set(
        CHECKERS
    )
    with pytest.raises(LookupError):
        checker_for("horoscope")


# --- generic URL / product launch --------------------------------------------


def test_product_page_passes_with_title_and_hash_recorded(server: RecordedServer, context):
    server.add("/launch", recorded="web/product_page.html")
    result = checker_for("product_launch").check(Evidence(f"{server.url}/launch"), context)
    assert result.verdict is Verdict.PASS
    fields = result.observed["fields"]
    assert fields["title"] == "灵犀推理云 · Lingxi Inference Cloud — 正式上线"
    assert fields["content_type"] == "text/html; charset=utf-8"
    assert len(fields["sha256"]) == 64
    assert result.observed["requests"][0]["status"] == 200


def test_missing_page_fails_with_the_reason_in_both_languages(server, context):
    result = checker_for("url").check(Evidence(f"{server.url}/gone"), context)
    assert result.verdict is Verdict.FAIL
    assert "not found" in result.reason_en
    assert "页面不存在" in result.reason_zh


def test_page_behind_a_login_fails_as_not_public(server, context):
    server.add("/private", status=403, body="<title>Sign in</title>")
    result = checker_for("url").check(Evidence(f"{server.url}/private"), context)
    assert result.verdict is Verdict.FAIL
    assert "not publicly accessible" in result.reason_en


def test_rate_limited_page_is_uncertain_and_retried(server, context):
    server.add("/launch", status=429, headers={"Retry-After": "30"}, body="Too Many Requests")
    result = checker_for("url").check(Evidence(f"{server.url}/launch"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True
    assert result.observed["requests"][0]["rate_limit"] == {"retry-after": "30"}


def test_slow_page_is_uncertain_and_retried(server, context):
    server.add("/launch", recorded="web/product_page.html", delay=2)
    result = checker_for("url").check(Evidence(f"{server.url}/launch"), slow(context))
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True
    assert result.observed["requests"][0]["error"] == "timeout"


def test_server_error_is_uncertain(server, context):
    server.add("/launch", status=502, body="Bad Gateway")
    result = checker_for("url").check(Evidence(f"{server.url}/launch"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True


def test_http_evidence_fails_when_https_is_required(server, context):
    """Production mode requires https for evidence pages: plain http is a clear fail."""
    server.add("/launch", recorded="web/product_page.html")
    strict = replace(context, policy=replace(context.policy, require_https=True))
    result = checker_for("url").check(Evidence(f"{server.url}/launch"), strict)
    assert result.verdict is Verdict.FAIL
    assert "https" in result.reason_en
    assert server.requests == []


def test_evidence_pointing_at_an_internal_address_fails(context):
    internal = replace(context, policy=replace(context.policy, allow_private=False))
    result = checker_for("url").check(Evidence("http://169.254.169.254/latest/"), internal)
    assert result.verdict is Verdict.FAIL
    assert "private or internal" in result.reason_en
    assert result.observed["requests"][0]["error"] == "address"


def test_oversized_page_goes_to_staff(server, context):
    server.add("/huge", body=b"a" * (context.policy.max_bytes + 10))
    result = checker_for("url").check(Evidence(f"{server.url}/huge"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is False


# --- code repository (GitHub) ---------------------------------------------------


def test_public_licensed_repository_with_new_commits_passes(server, context):
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.PASS, result.reason_en
    fields = result.observed["fields"]
    assert fields["license"] == "Apache-2.0"
    assert fields["commit_sha"] == "9f2c4e1b7a3d5c8e0f1a2b3c4d5e6f708192a3b4"
    commits_request = server.requests[1]
    assert commits_request.path.startswith(f"{REPO}/commits?since=2026-03-01T00%3A00%3A00Z")
    assert commits_request.headers["x-github-api-version"] == "2022-11-28"


def test_repository_with_only_a_release_since_the_grant_passes(server, context):
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_empty.json")
    server.add(f"{REPO}/releases", recorded="github/releases_after_start.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.PASS
    assert result.observed["fields"]["release_tag"] == "v0.3.0"


def test_repository_without_activity_since_the_grant_fails(server, context):
    """A draft release does not count, and neither does an older one."""
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_empty.json")
    server.add(f"{REPO}/releases", recorded="github/releases_before_start.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.FAIL
    assert "no commit or release" in result.reason_en


def test_empty_repository_answer_409_counts_as_no_commits(server, context):
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", status=409, recorded="github/repo_empty_commits.json")
    server.add(f"{REPO}/releases", recorded="github/commits_empty.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.FAIL


def test_missing_repository_fails(server, context):
    server.add(REPO, status=404, recorded="github/repo_not_found.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.FAIL
    assert "not found or is not public" in result.reason_en


@pytest.mark.parametrize(
    "recorded, reason",
    [
        ("github/repo_private.json", "not public"),
        ("github/repo_fork.json", "fork"),
        ("github/repo_archived.json", "archived"),
        ("github/repo_no_license.json", "no licence"),
    ],
)
def test_private_fork_archived_or_unlicensed_repository_fails(server, context, recorded, reason):
    server.add(REPO, recorded=recorded)
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.FAIL
    assert reason in result.reason_en


def test_github_rate_limit_is_uncertain_with_headers_kept(server, context):
    server.add(REPO, status=403, recorded="github/rate_limited.json", headers=GITHUB_RATE_LIMIT)
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True
    assert result.observed["requests"][0]["rate_limit"]["x-ratelimit-remaining"] == "0"


def test_github_slow_answer_is_uncertain(server, context):
    server.add(REPO, recorded="github/repo_ok.json", delay=2)
    result = checker_for("open_code").check(Evidence(REPO_URL), slow(context))
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True


def test_github_truncated_json_is_uncertain(server, context):
    server.add(REPO, recorded="github/repo_truncated.json")
    result = checker_for("open_code").check(Evidence(REPO_URL), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert "not valid JSON" in result.reason_en
    assert result.transient is False


def test_github_token_is_sent_when_configured(server, context):
    server.add(REPO, status=404, recorded="github/repo_not_found.json")
    checker_for("open_code").check(Evidence(REPO_URL), replace(context, github_token="ghp_x"))
    assert server.requests[0].headers["authorization"] == "Bearer ghp_x"


def test_repository_on_another_forge_goes_to_staff(server, context):
    result = checker_for("open_code").check(Evidence("https://gitee.com/shanshui/lingxi"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert server.requests == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://github.com/shanshui-ai/lingxi-infer", ("shanshui-ai", "lingxi-infer")),
        ("https://github.com/shanshui-ai/lingxi-infer.git", ("shanshui-ai", "lingxi-infer")),
        (
            "https://github.com/shanshui-ai/lingxi-infer/tree/main/src",
            ("shanshui-ai", "lingxi-infer"),
        ),
        ("shanshui-ai/lingxi-infer", ("shanshui-ai", "lingxi-infer")),
        ("https://github.com/shanshui-ai", None),
        ("https://github.com/../..%2f", None),
        ("https://evil.example.com/shanshui-ai/lingxi-infer", None),
    ],
)
def test_repository_links_are_parsed_strictly(text, expected):
    assert parse_github_repository(text) == expected


# --- model weights (Hugging Face) -------------------------------------------------


def test_public_model_with_weights_and_licence_passes(server, context):
    server.add(MODEL, recorded="huggingface/model_ok.json")
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.PASS, result.reason_en
    fields = result.observed["fields"]
    assert fields["weight_file_count"] == 4
    assert fields["license"] == "apache-2.0"
    assert fields["lastModified"] == "2026-05-12T07:21:45.000Z"


def test_gguf_only_model_passes(server, context):
    server.add(
        "/api/models/shanshui-ai/Lingxi-7B-Chat-GGUF", recorded="huggingface/model_gguf.json"
    )
    result = checker_for("open_weights").check(Evidence(f"{MODEL_URL}-GGUF"), context)
    assert result.verdict is Verdict.PASS


def test_missing_model_fails(server, context):
    server.add(
        MODEL,
        status=401,
        recorded="huggingface/model_not_found.json",
        headers={"X-Error-Code": "RepoNotFound"},
    )
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.FAIL
    assert result.observed["fields"]["error_code"] == "RepoNotFound"


@pytest.mark.parametrize(
    "recorded, reason",
    [
        ("huggingface/model_private.json", "private"),
        ("huggingface/model_no_weights.json", "no weight files"),
        ("huggingface/model_no_license.json", "no licence"),
        ("huggingface/model_old.json", "not been updated"),
    ],
)
def test_private_weightless_unlicensed_or_stale_model_fails(server, context, recorded, reason):
    server.add(MODEL, recorded=recorded)
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.FAIL
    assert reason in result.reason_en


def test_gated_model_goes_to_staff(server, context):
    server.add(MODEL, recorded="huggingface/model_gated.json")
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is False


def test_hub_rate_limit_is_uncertain(server, context):
    server.add(
        MODEL,
        status=429,
        recorded="huggingface/rate_limited.json",
        headers={
            "RateLimit": '"api";r=0;t=212',
            "RateLimit-Policy": '"fixed window";"api";q=1000;w=300',
        },
    )
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True
    assert result.observed["requests"][0]["rate_limit"]["ratelimit"] == '"api";r=0;t=212'


def test_hub_slow_answer_is_uncertain(server, context):
    server.add(MODEL, recorded="huggingface/model_ok.json", delay=2)
    result = checker_for("open_weights").check(Evidence(MODEL_URL), slow(context))
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True


def test_hub_answer_of_the_wrong_shape_is_uncertain(server, context):
    server.add(MODEL, recorded="huggingface/model_wrong_shape.json")
    result = checker_for("open_weights").check(Evidence(MODEL_URL), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert "could not read" in result.reason_en


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://huggingface.co/shanshui-ai/Lingxi-7B-Chat", "shanshui-ai/Lingxi-7B-Chat"),
        ("https://hf.co/shanshui-ai/Lingxi-7B-Chat/tree/main", "shanshui-ai/Lingxi-7B-Chat"),
        ("https://huggingface.co/gpt2", "gpt2"),
        ("https://huggingface.co/gpt2/blob/main/config.json", "gpt2"),
        ("https://huggingface.co/datasets/shanshui-ai/corpus", None),
        ("https://modelscope.cn/models/shanshui/lingxi", None),
    ],
)
def test_model_links_are_parsed(text, expected):
    assert parse_huggingface_model(text) == expected


def test_model_on_another_hub_goes_to_staff(server, context):
    result = checker_for("open_weights").check(
        Evidence("https://modelscope.cn/models/shanshui/lingxi"), context
    )
    assert result.verdict is Verdict.UNCERTAIN
    assert server.requests == []


# --- paper (arXiv) --------------------------------------------------------------


def test_arxiv_paper_after_the_grant_passes_and_records_the_affiliation_match(server, context):
    server.add("/api/query", recorded="arxiv/paper_ok.xml")
    result = checker_for("paper").check(Evidence("https://arxiv.org/abs/2605.08123v2"), context)
    assert result.verdict is Verdict.PASS, result.reason_en
    fields = result.observed["fields"]
    assert fields["published"] == "2026-05-11T17:58:02+00:00"
    assert fields["authors"] == ["Wei Li", "Fang Zhou", "Hao Chen"]
    assert fields["matches"] == ["Shanshui AI Technology Co., Ltd."]
    assert server.requests[0].path == "/api/query?id_list=2605.08123v2&max_results=1"


def test_arxiv_paper_without_a_matching_author_still_passes_but_says_so(server, context):
    server.add("/api/query", recorded="arxiv/paper_ok.xml")
    strangers = replace(context, company_names=("Other Co",), founder_names=("Zhang San",))
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), strangers)
    assert result.verdict is Verdict.PASS
    assert result.observed["fields"]["matches"] == []
    assert "No author or affiliation matched" in result.reason_en


def test_paper_submitted_before_the_grant_fails(server, context):
    server.add("/api/query", recorded="arxiv/paper_before_start.xml")
    result = checker_for("paper").check(Evidence("https://arxiv.org/pdf/2512.04417v1"), context)
    assert result.verdict is Verdict.FAIL
    assert "before the grant started" in result.reason_en


def test_unknown_arxiv_identifier_fails(server, context):
    server.add("/api/query", recorded="arxiv/not_found.xml")
    result = checker_for("paper").check(Evidence("https://arxiv.org/abs/2605.99999"), context)
    assert result.verdict is Verdict.FAIL
    assert "No paper" in result.reason_en


def test_arxiv_error_entry_fails(server, context):
    server.add("/api/query", recorded="arxiv/bad_id.xml")
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), context)
    assert result.verdict is Verdict.FAIL
    assert "does not accept" in result.reason_en


def test_arxiv_rate_limit_is_uncertain(server, context):
    server.add("/api/query", status=503, body="Rate exceeded.", headers={"Retry-After": "3"})
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True


def test_arxiv_slow_answer_is_uncertain(server, context):
    server.add("/api/query", recorded="arxiv/paper_ok.xml", delay=2)
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), slow(context))
    assert result.verdict is Verdict.UNCERTAIN
    assert result.transient is True


def test_arxiv_truncated_feed_is_uncertain(server, context):
    server.add("/api/query", recorded="arxiv/malformed_truncated.xml")
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert "Atom" in result.reason_en


def test_arxiv_answer_with_entities_is_refused_unparsed(server, context):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>&b;</title></feed>"
    )
    server.add("/api/query", body=bomb, content_type="application/atom+xml")
    result = checker_for("paper").check(Evidence("arXiv:2605.08123"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert "document type" in result.reason_en


def test_technical_report_outside_arxiv_is_recorded_for_staff(server, context):
    server.add("/report.html", recorded="web/usage_report.html")
    result = checker_for("paper").check(Evidence(f"{server.url}/report.html"), context)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.observed["fields"]["title"] == "Shanshui AI compute usage report, Q2 2026"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://arxiv.org/abs/2605.08123", "2605.08123"),
        ("https://arxiv.org/abs/2605.08123v3", "2605.08123v3"),
        ("https://arxiv.org/pdf/2605.08123v1.pdf", "2605.08123v1"),
        ("arXiv:2605.08123", "2605.08123"),
        ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("https://example.com/2605.08123", None),
    ],
)
def test_arxiv_identifiers_are_parsed(text, expected):
    assert parse_arxiv_id(text) == expected


# --- usage report ---------------------------------------------------------------


def test_usage_report_with_center_reported_use_passes(server, context):
    server.add("/usage", recorded="web/usage_report.html")
    with_use = replace(context, usage_used=Decimal("3120"), usage_released=Decimal("4000"))
    result = checker_for("usage_report").check(Evidence(f"{server.url}/usage"), with_use)
    assert result.verdict is Verdict.PASS
    assert result.observed["fields"]["center_reported_used"] == "3120"
    assert result.observed["fields"]["released"] == "4000"


def test_usage_report_without_center_reported_use_goes_to_staff(server, context):
    server.add("/usage", recorded="web/usage_report.html")
    result = checker_for("usage_report").check(Evidence(f"{server.url}/usage"), context)
    assert result.verdict is Verdict.UNCERTAIN


def test_usage_report_that_is_not_online_fails(server, context):
    result = checker_for("usage_report").check(Evidence(f"{server.url}/usage"), context)
    assert result.verdict is Verdict.FAIL
