"""Evidence checkers: one small class per kind of outcome, no Django.

Each checker has one method, ``check(evidence, context) -> CheckResult``.  A
result is ``pass`` (the evidence clearly shows the outcome), ``fail`` (it
clearly does not: the founder is told why and may resubmit) or ``uncertain``
(code cannot decide: rate limits, timeouts, odd answers, cases for a human).
``transient`` marks uncertain results worth retrying later before a human
looks.  ``observed`` keeps what the checker saw (every request with its URL
and status, and the fields it used) so staff can audit the verdict.

The outside APIs are reached at base URLs from the context (settings in the
portal), so tests point them at a local server answering recorded responses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from milestones.safe_fetch import (
    FetchError,
    FetchPolicy,
    FetchRefused,
    FetchResponse,
    FetchTimeout,
    FetchTooLarge,
    Resolver,
    fetch,
    redact,
)

__all__ = [
    "CHECKERS",
    "CheckContext",
    "CheckResult",
    "Checker",
    "Evidence",
    "Verdict",
    "checker_for",
    "register",
]


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Evidence:
    url: str
    note: str = ""


@dataclass(frozen=True)
class CheckContext:
    grant_started_at: datetime  # timezone-aware
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    github_api: str = "https://api.github.com"
    huggingface_api: str = "https://huggingface.co"
    arxiv_api: str = "https://export.arxiv.org"
    github_token: str = ""
    huggingface_token: str = ""
    company_names: tuple[str, ...] = ()
    founder_names: tuple[str, ...] = ()
    # Center-reported usage for the grant (grants app), for usage reports.
    usage_used: Decimal | None = None
    usage_released: Decimal | None = None
    resolver: Resolver | None = None


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    reason_en: str
    reason_zh: str
    observed: dict[str, Any]
    transient: bool = False


class Checker:
    kind = ""

    def check(self, evidence: Evidence, context: CheckContext) -> CheckResult:
        raise NotImplementedError


CHECKERS: dict[str, type[Checker]] = {}


def register(kind: str) -> Callable[[type[Checker]], type[Checker]]:
    def decorate(cls: type[Checker]) -> type[Checker]:
        if kind in CHECKERS:
            raise ValueError(f"a checker is already registered for {kind!r}")
        CHECKERS[kind] = cls
        cls.kind = kind
        return cls

    return decorate


def checker_for(kind: str) -> Checker:
    try:
        return CHECKERS[kind]()
    except KeyError:
        raise LookupError(f"no checker registered for milestone kind {kind!r}") from None


# --- plumbing shared by the checkers ---------------------------------------


class _Stop(Exception):
    """Raised inside a checker to end it with a result."""

    def __init__(self, result: CheckResult):
        super().__init__(result.reason_en)
        self.result = result


class _Probe:
    """Makes requests for one check and records each one for the audit trail."""

    def __init__(self, context: CheckContext):
        self.context = context
        self.requests: list[dict[str, Any]] = []
        self.fields: dict[str, Any] = {}

    def observed(self, **extra: Any) -> dict[str, Any]:
        return {"requests": self.requests, "fields": self.fields, **extra}

    def result(
        self, verdict: Verdict, reason_en: str, reason_zh: str, *, transient: bool = False
    ) -> CheckResult:
        return CheckResult(verdict, reason_en, reason_zh, self.observed(), transient)

    def stop(
        self, verdict: Verdict, reason_en: str, reason_zh: str, *, transient: bool = False
    ) -> _Stop:
        return _Stop(self.result(verdict, reason_en, reason_zh, transient=transient))

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        api: bool,
    ) -> FetchResponse:
        """GET ``url``; turn every failure a checker cannot judge into a _Stop.

        ``api`` requests go to configured base URLs (trusted origin, untrusted
        path) so https is not forced on them; evidence URLs follow the policy.
        """
        policy = self.context.policy
        if api:
            policy = replace(policy, require_https=False)
        record: dict[str, Any] = {"url": redact(url), "method": "GET"}
        self.requests.append(record)
        try:
            response = fetch(url, policy=policy, headers=headers, resolver=self.context.resolver)
        except FetchRefused as exc:
            record["error"] = exc.code
            if api:
                raise self.stop(
                    Verdict.UNCERTAIN,
                    f"The checking service address was refused ({exc}); staff must review.",
                    f"核验服务地址被拒绝（{exc}），需人工审核。",
                ) from exc
            raise self.stop(Verdict.FAIL, *_refusal_reason(exc)) from exc
        except FetchTimeout as exc:
            record["error"] = exc.code
            raise self.stop(
                Verdict.UNCERTAIN,
                "The server did not answer in time; the check will be retried.",
                "服务器未在时限内响应，将稍后重试。",
                transient=True,
            ) from exc
        except FetchTooLarge as exc:
            record["error"] = exc.code
            raise self.stop(
                Verdict.UNCERTAIN,
                f"The answer was larger than the {policy.max_bytes}-byte limit; staff must review.",
                f"响应超过 {policy.max_bytes} 字节上限，需人工审核。",
            ) from exc
        except FetchError as exc:
            record["error"] = exc.code
            raise self.stop(
                Verdict.UNCERTAIN,
                f"The server could not be reached ({exc}); the check will be retried.",
                f"无法连接服务器（{exc}），将稍后重试。",
                transient=True,
            ) from exc
        record.update(
            status=response.status,
            final_url=redact(response.url),
            redirects=[redact(u) for u in response.redirects],
            content_type=response.content_type,
            bytes=len(response.body),
            elapsed_ms=round(response.elapsed * 1000),
        )
        self._stop_if_limited(response, record)
        return response

    def _stop_if_limited(self, response: FetchResponse, record: dict[str, Any]) -> None:
        status = response.status
        limited_headers = {
            name: response.header(name)
            for name in (
                "retry-after",
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "ratelimit",
                "ratelimit-policy",
            )
            if response.header(name)
        }
        rate_limited = status == 429 or (
            status == 403
            and (
                response.header("x-ratelimit-remaining") == "0" or "retry-after" in limited_headers
            )
        )
        if rate_limited:
            record["rate_limit"] = limited_headers
            raise self.stop(
                Verdict.UNCERTAIN,
                f"The service is rate-limiting us (HTTP {status}); the check will be retried.",
                f"对方服务限流（HTTP {status}），将稍后重试。",
                transient=True,
            )
        if status >= 500:
            if limited_headers:
                record["rate_limit"] = limited_headers
            raise self.stop(
                Verdict.UNCERTAIN,
                f"The service had an error (HTTP {status}); the check will be retried.",
                f"对方服务出错（HTTP {status}），将稍后重试。",
                transient=True,
            )

    def json(self, response: FetchResponse, expect: type) -> Any:
        try:
            data = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self.malformed("the answer is not valid JSON") from exc
        if not isinstance(data, expect):
            raise self.malformed(f"expected a JSON {expect.__name__}")
        return data

    def malformed(self, detail: str) -> _Stop:
        return self.stop(
            Verdict.UNCERTAIN,
            f"The service gave an answer we could not read ({detail}); staff must review.",
            f"对方服务的响应无法解析（{detail}），需人工审核。",
        )


def _refusal_reason(exc: FetchRefused) -> tuple[str, str]:
    reasons = {
        "scheme": ("The link must start with https://.", "链接必须以 https:// 开头。"),
        "https_required": ("The link must use https://.", "链接必须使用 https://。"),
        "credentials": (
            "Links containing a user name or password are not accepted.",
            "不接受包含用户名或密码的链接。",
        ),
        "address": (
            "The link points to a private or internal network address, which is not accepted.",
            "链接指向内部或私有网络地址，不予接受。",
        ),
        "too_many_redirects": (
            "The link redirects too many times.",
            "链接重定向次数过多。",
        ),
        "https_downgrade": (
            "The link redirects from https to an insecure http address.",
            "链接从 https 重定向到不安全的 http 地址。",
        ),
    }
    return reasons.get(exc.code, ("The link is not a valid web address.", "链接不是有效的网址。"))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _path_segments(url: str) -> list[str]:
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return []
    return [segment for segment in path.split("/") if segment]


# --- generic URL -------------------------------------------------------------


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._in_title = False
        self.done = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.done:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.parts.append(data)


_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _decode(body: bytes, content_type: str) -> str:
    match = _CHARSET.search(content_type) or _CHARSET.search(body[:2048].decode("ascii", "ignore"))
    encoding = match.group(1) if match else "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def page_title(body: bytes, content_type: str) -> str:
    if "html" not in content_type.lower() and b"<title" not in body[:65536].lower():
        return ""
    parser = _TitleParser()
    parser.feed(_decode(body, content_type))
    return " ".join("".join(parser.parts).split())[:300]


class _ProbingChecker(Checker):
    """A checker whose steps may stop early: each step raises ``probe.stop(...)`` with the
    verdict, and ``check`` turns that into the result (one place, not one per checker)."""

    def check(self, evidence: Evidence, context: CheckContext) -> CheckResult:
        probe = _Probe(context)
        try:
            return self._check(probe, evidence, context)
        except _Stop as stop:
            return stop.result

    def _check(self, probe: _Probe, evidence: Evidence, context: CheckContext) -> CheckResult:
        raise NotImplementedError


@register("url")
class GenericUrlChecker(_ProbingChecker):
    """A public web page: reachable (https in production), 2xx, kept as evidence."""

    def _check(self, probe: _Probe, evidence: Evidence, context: CheckContext) -> CheckResult:
        response = probe.get(evidence.url, api=False)
        status = response.status
        if status in (404, 410):
            raise probe.stop(
                Verdict.FAIL,
                f"The page was not found (HTTP {status}).",
                f"页面不存在（HTTP {status}）。",
            )
        if 400 <= status < 500:
            raise probe.stop(
                Verdict.FAIL,
                f"The page is not publicly accessible (HTTP {status}).",
                f"页面无法公开访问（HTTP {status}）。",
            )
        if not 200 <= status < 300:
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"The page gave an unexpected answer (HTTP {status}); staff must review.",
                f"页面返回了意外的结果（HTTP {status}），需人工审核。",
            )
        probe.fields.update(
            final_url=redact(response.url),
            content_type=response.content_type,
            title=page_title(response.body, response.content_type),
            sha256=response.sha256,
            bytes=len(response.body),
        )
        return probe.result(
            Verdict.PASS,
            "The page is publicly reachable; its title and a content hash were recorded.",
            "页面可公开访问，已记录其标题和内容哈希。",
        )


@register("product_launch")
class ProductLaunchChecker(GenericUrlChecker):
    """A launched product is shown by its public page."""


# --- code repository (GitHub REST API shape) --------------------------------

_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_GITHUB_HOSTS = ("github.com", "www.github.com")


def parse_github_repository(url: str) -> tuple[str, str] | None:
    text = url.strip()
    if "://" in text:
        if _host(text) not in _GITHUB_HOSTS:
            return None
        segments = _path_segments(text)
    else:
        segments = [segment for segment in text.split("/") if segment]
    if len(segments) < 2:
        return None
    owner, repo = segments[0], segments[1]
    repo = repo.removesuffix(".git")
    if not _GITHUB_OWNER.match(owner) or not _GITHUB_REPO.match(repo) or repo in (".", ".."):
        return None
    return owner, repo


@register("open_code")
class CodeRepositoryChecker(_ProbingChecker):
    """Public GitHub repository, not a fork or archived, licensed, active since the grant."""

    def _headers(self, context: CheckContext) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if context.github_token:
            headers["Authorization"] = f"Bearer {context.github_token}"
        return headers

    def _check(self, probe: _Probe, evidence: Evidence, context: CheckContext) -> CheckResult:
        parsed = parse_github_repository(evidence.url)
        if parsed is None:
            if "://" in evidence.url and _host(evidence.url) not in _GITHUB_HOSTS:
                # Gitee, GitLab, a self-hosted forge: real outcomes, but no
                # automatic check; a person looks.
                raise probe.stop(
                    Verdict.UNCERTAIN,
                    "Only GitHub repositories are checked automatically; staff will review.",
                    "目前仅自动核验 GitHub 仓库，将由工作人员审核。",
                )
            raise probe.stop(
                Verdict.FAIL,
                "The link is not a repository address (https://github.com/owner/name).",
                "链接不是代码仓库地址（https://github.com/所有者/名称）。",
            )
        owner, repo = parsed
        base = f"{context.github_api.rstrip('/')}/repos/{quote(owner)}/{quote(repo)}"
        headers = self._headers(context)
        response = probe.get(base, headers=headers, api=True)
        if response.status in (404, 451):
            raise probe.stop(
                Verdict.FAIL,
                "The repository was not found or is not public.",
                "未找到该仓库，或仓库未公开。",
            )
        if response.status != 200:
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"GitHub gave an unexpected answer (HTTP {response.status}); staff must review.",
                f"GitHub 返回了意外的结果（HTTP {response.status}），需人工审核。",
            )
        data = probe.json(response, dict)
        for key in ("full_name", "private", "fork", "archived", "license"):
            if key not in data:
                raise probe.malformed(f"field {key!r} is missing")
        license_info = data.get("license")
        spdx = license_info.get("spdx_id") if isinstance(license_info, dict) else None
        probe.fields.update(
            full_name=data["full_name"],
            private=data["private"],
            visibility=data.get("visibility"),
            fork=data["fork"],
            archived=data["archived"],
            disabled=data.get("disabled"),
            license=spdx,
            pushed_at=data.get("pushed_at"),
            html_url=data.get("html_url"),
        )
        if data["private"] is True or data.get("visibility") not in (None, "public"):
            raise probe.stop(Verdict.FAIL, "The repository is not public.", "该仓库未公开。")
        if data["fork"] is True:
            raise probe.stop(
                Verdict.FAIL,
                "The repository is a fork; submit the original repository.",
                "该仓库是复刻（fork），请提交原始仓库。",
            )
        if data["archived"] is True or data.get("disabled") is True:
            raise probe.stop(
                Verdict.FAIL,
                "The repository is archived or disabled.",
                "该仓库已归档或被停用。",
            )
        if not spdx:
            raise probe.stop(
                Verdict.FAIL,
                "The repository has no licence; add an open-source licence file.",
                "该仓库没有许可证，请添加开源许可证文件。",
            )
        if spdx == "NOASSERTION":
            raise probe.stop(
                Verdict.UNCERTAIN,
                "GitHub could not identify the repository's licence; staff will review it.",
                "GitHub 无法识别该仓库的许可证，将由工作人员审核。",
            )
        # GitHub documents timestamps as YYYY-MM-DDTHH:MM:SSZ (UTC).
        since = context.grant_started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        commits = probe.get(
            f"{base}/commits?{urlencode({'since': since, 'per_page': 1})}",
            headers=headers,
            api=True,
        )
        if commits.status == 200:
            listed = probe.json(commits, list)
            if listed:
                first = listed[0] if isinstance(listed[0], dict) else {}
                commit = first.get("commit") if isinstance(first.get("commit"), dict) else {}
                committer = commit.get("committer") if isinstance(commit, dict) else None
                probe.fields.update(
                    commit_sha=first.get("sha"),
                    commit_date=committer.get("date") if isinstance(committer, dict) else None,
                )
                return probe.result(
                    Verdict.PASS,
                    "Public, licensed repository with commits since the grant started.",
                    "公开且有许可证的仓库，资助开始后有新的提交。",
                )
        elif commits.status != 409:  # 409: GitHub's answer for an empty repository
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"GitHub gave an unexpected answer for commits (HTTP {commits.status}).",
                f"GitHub 提交记录接口返回了意外结果（HTTP {commits.status}）。",
            )
        releases = probe.get(f"{base}/releases?per_page=30", headers=headers, api=True)
        if releases.status != 200:
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"GitHub gave an unexpected answer for releases (HTTP {releases.status}).",
                f"GitHub 发布接口返回了意外结果（HTTP {releases.status}）。",
            )
        for release in probe.json(releases, list):
            if not isinstance(release, dict) or release.get("draft"):
                continue
            published = _parse_time(release.get("published_at"))
            if published is not None and published >= context.grant_started_at:
                probe.fields.update(
                    release_tag=release.get("tag_name"), release_published_at=published.isoformat()
                )
                return probe.result(
                    Verdict.PASS,
                    "Public, licensed repository with a release since the grant started.",
                    "公开且有许可证的仓库，资助开始后有新的发布。",
                )
        raise probe.stop(
            Verdict.FAIL,
            "The repository has no commit or release since the grant started.",
            "资助开始后，该仓库没有新的提交或发布。",
        )


# --- model weights (Hugging Face Hub API shape) -----------------------------

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")
_HF_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
_HF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def parse_huggingface_model(url: str) -> str | None:
    text = url.strip()
    if "://" in text:
        if _host(text) not in _HF_HOSTS:
            return None
        segments = _path_segments(text)
    else:
        segments = [segment for segment in text.split("/") if segment]
    if not segments or segments[0] in ("datasets", "spaces", "docs", "models", "api"):
        return None
    segments = (
        segments[:2] if len(segments) >= 2 and segments[1] not in ("tree", "blob") else segments[:1]
    )
    if not all(_HF_NAME.match(segment) for segment in segments):
        return None
    return "/".join(segments)


@register("open_weights")
class ModelWeightsChecker(_ProbingChecker):
    """Public Hugging Face model with weight files, a licence, updated since the grant."""

    def _check(self, probe: _Probe, evidence: Evidence, context: CheckContext) -> CheckResult:
        model_id = parse_huggingface_model(evidence.url)
        if model_id is None:
            if "://" in evidence.url and _host(evidence.url) not in _HF_HOSTS:
                # ModelScope and other hubs: a person looks.
                raise probe.stop(
                    Verdict.UNCERTAIN,
                    "Only Hugging Face models are checked automatically; staff will review.",
                    "目前仅自动核验 Hugging Face 模型，将由工作人员审核。",
                )
            raise probe.stop(
                Verdict.FAIL,
                "The link is not a model address (https://huggingface.co/owner/model).",
                "链接不是模型地址（https://huggingface.co/所有者/模型）。",
            )
        headers = {"Accept": "application/json"}
        if context.huggingface_token:
            headers["Authorization"] = f"Bearer {context.huggingface_token}"
        url = f"{context.huggingface_api.rstrip('/')}/api/models/{quote(model_id)}"
        response = probe.get(url, headers=headers, api=True)
        if response.status in (401, 403, 404):
            # The Hub answers 401 RepoNotFound for private and missing repos
            # alike when asked without a token.
            probe.fields["error_code"] = response.header("x-error-code")
            raise probe.stop(
                Verdict.FAIL,
                "The model was not found or is not public.",
                "未找到该模型，或模型未公开。",
            )
        if response.status != 200:
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"Hugging Face gave an unexpected answer (HTTP {response.status}).",
                f"Hugging Face 返回了意外的结果（HTTP {response.status}）。",
            )
        data = probe.json(response, dict)
        siblings = data.get("siblings")
        if "id" not in data or not isinstance(siblings, list) or "lastModified" not in data:
            raise probe.malformed("fields id, siblings or lastModified are missing")
        files = [s.get("rfilename", "") for s in siblings if isinstance(s, dict)]
        weights = [name for name in files if name.lower().endswith(WEIGHT_SUFFIXES)]
        tags = [tag for tag in data.get("tags") or [] if isinstance(tag, str)]
        card = data.get("cardData") if isinstance(data.get("cardData"), dict) else {}
        licence = next((tag.split(":", 1)[1] for tag in tags if tag.startswith("license:")), None)
        licence = licence or (card.get("license") if isinstance(card.get("license"), str) else None)
        last_modified = _parse_time(data.get("lastModified"))
        probe.fields.update(
            id=data["id"],
            private=data.get("private"),
            disabled=data.get("disabled"),
            gated=data.get("gated"),
            weight_files=weights[:20],
            weight_file_count=len(weights),
            license=licence,
            lastModified=data.get("lastModified"),
            sha=data.get("sha"),
        )
        if data.get("private") is True:
            raise probe.stop(Verdict.FAIL, "The model is private.", "该模型未公开。")
        if data.get("disabled") is True:
            raise probe.stop(Verdict.FAIL, "The model is disabled.", "该模型已被停用。")
        if not weights:
            raise probe.stop(
                Verdict.FAIL,
                "The model repository has no weight files (.safetensors, .bin or .gguf).",
                "该模型仓库中没有权重文件（.safetensors、.bin 或 .gguf）。",
            )
        if not licence:
            raise probe.stop(
                Verdict.FAIL,
                "The model has no licence tag; add a licence to its model card.",
                "该模型没有许可证标签，请在模型卡中注明许可证。",
            )
        if last_modified is None:
            raise probe.malformed("lastModified is not a date")
        if last_modified < context.grant_started_at:
            raise probe.stop(
                Verdict.FAIL,
                "The model has not been updated since the grant started.",
                "资助开始后，该模型没有更新。",
            )
        if data.get("gated") not in (None, False):
            raise probe.stop(
                Verdict.UNCERTAIN,
                "The model is gated (access must be requested); staff decide whether it is open.",
                "该模型需申请访问（gated），由工作人员判断是否算作开放。",
            )
        return probe.result(
            Verdict.PASS,
            "Public model with weight files and a licence, updated since the grant started.",
            "公开模型，含权重文件和许可证，资助开始后有更新。",
        )


# --- paper (arXiv API Atom shape) --------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ARXIV_NEW_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD_ID = re.compile(r"\b([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b")
_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org")


def parse_arxiv_id(text: str) -> str | None:
    value = text.strip()
    if "://" in value:
        if _host(value) not in _ARXIV_HOSTS:
            return None
        value = urlsplit(value).path.removesuffix(".pdf")
    elif value.lower().startswith("arxiv:"):
        value = value[6:]
    for pattern in (_ARXIV_NEW_ID, _ARXIV_OLD_ID):
        match = pattern.search(value)
        if match:
            return match.group(1) + (match.group(2) or "")
    return None


def _normalised(name: str) -> str:
    return re.sub(r"[\s.,()（）·-]+", "", name).casefold()


def name_matches(candidates: list[str], names: tuple[str, ...]) -> list[str]:
    """Candidates (authors, affiliations) that contain or are contained in a known name."""
    wanted = [_normalised(name) for name in names if len(_normalised(name)) >= 2]
    found: list[str] = []
    for candidate in candidates:
        normal = _normalised(candidate)
        if normal and any(w in normal or normal in w for w in wanted):
            found.append(candidate)
    return found


@register("paper")
class PaperChecker(_ProbingChecker):
    """An arXiv paper submitted since the grant; author match recorded for staff."""

    def _check(self, probe: _Probe, evidence: Evidence, context: CheckContext) -> CheckResult:
        arxiv_id = parse_arxiv_id(evidence.url)
        if arxiv_id is None:
            # A technical report on the company's own site: keep what the page
            # shows, and let a person judge whether it is the promised paper.
            page = GenericUrlChecker().check(evidence, context)
            if page.verdict is not Verdict.PASS:
                return page
            return replace(
                page,
                verdict=Verdict.UNCERTAIN,
                reason_en="The report is not on arXiv; the page was recorded for staff review.",
                reason_zh="该报告不在 arXiv 上，已记录页面，由工作人员审核。",
            )
        query = urlencode({"id_list": arxiv_id, "max_results": 1})
        response = probe.get(
            f"{context.arxiv_api.rstrip('/')}/api/query?{query}",
            headers={"Accept": "application/atom+xml"},
            api=True,
        )
        if response.status != 200:
            raise probe.stop(
                Verdict.UNCERTAIN,
                f"arXiv gave an unexpected answer (HTTP {response.status}).",
                f"arXiv 返回了意外的结果（HTTP {response.status}）。",
            )
        # Entity expansion and external entities (XXE) need a DTD; arXiv never
        # sends one, so refusing any DTD makes the stdlib parser safe here.
        if b"<!DOCTYPE" in response.body.upper() or b"<!ENTITY" in response.body.upper():
            raise probe.malformed("document type declarations are not accepted")
        try:
            feed = ElementTree.fromstring(response.body)  # noqa: S314 - DTDs refused above
        except ElementTree.ParseError as exc:
            raise probe.malformed("the answer is not a valid Atom feed") from exc
        if feed.tag != f"{_ATOM}feed":
            raise probe.malformed("the answer is not an Atom feed")
        probe.fields["arxiv_id"] = arxiv_id
        entries = feed.findall(f"{_ATOM}entry")
        total = feed.findtext(f"{_OPENSEARCH}totalResults")
        probe.fields["total_results"] = total
        entry = entries[0] if entries else None
        entry_id = (entry.findtext(f"{_ATOM}id") or "") if entry is not None else ""
        if entry is not None and "/api/errors" in entry_id:
            probe.fields["error"] = (entry.findtext(f"{_ATOM}summary") or "").strip()
            raise probe.stop(
                Verdict.FAIL,
                "arXiv does not accept this identifier.",
                "arXiv 不接受该编号。",
            )
        published_text = entry.findtext(f"{_ATOM}published") if entry is not None else None
        if entry is None or not published_text:
            raise probe.stop(
                Verdict.FAIL,
                f"No paper with the identifier {arxiv_id} exists on arXiv.",
                f"arXiv 上不存在编号为 {arxiv_id} 的论文。",
            )
        published = _parse_time(published_text)
        if published is None:
            raise probe.malformed("published is not a date")
        authors: list[str] = []
        affiliations: list[str] = []
        for author in entry.findall(f"{_ATOM}author"):
            name = (author.findtext(f"{_ATOM}name") or "").strip()
            if name:
                authors.append(name)
            for affiliation in author.findall(f"{_ARXIV}affiliation"):
                if affiliation.text and affiliation.text.strip():
                    affiliations.append(affiliation.text.strip())
        matches = name_matches(authors, context.founder_names) + name_matches(
            affiliations, context.company_names
        )
        probe.fields.update(
            entry_id=entry_id.strip(),
            title=" ".join((entry.findtext(f"{_ATOM}title") or "").split()),
            published=published.isoformat(),
            authors=authors[:50],
            affiliations=sorted(set(affiliations))[:20],
            matches=matches,
        )
        if published < context.grant_started_at:
            raise probe.stop(
                Verdict.FAIL,
                "The paper was first submitted before the grant started.",
                "该论文首次提交早于资助开始日期。",
            )
        note_en = (
            " An author or affiliation matches the company or founder."
            if matches
            else " No author or affiliation matched the company or founder (recorded for staff)."
        )
        note_zh = (
            "作者或单位与公司或创始人相符。"
            if matches
            else "作者及单位均未与公司或创始人匹配（已记录供工作人员参考）。"
        )
        return probe.result(
            Verdict.PASS,
            "The paper is on arXiv, first submitted after the grant started." + note_en,
            "该论文已在 arXiv 发布，首次提交晚于资助开始日期。" + note_zh,
        )


# --- usage report -------------------------------------------------------------


@register("usage_report")
class UsageReportChecker(Checker):
    """The founder's published usage report, read against what the center reported."""

    def check(self, evidence: Evidence, context: CheckContext) -> CheckResult:
        page = GenericUrlChecker().check(evidence, context)
        observed = dict(page.observed)
        observed["fields"] = {
            **page.observed.get("fields", {}),
            "center_reported_used": _decimal_text(context.usage_used),
            "released": _decimal_text(context.usage_released),
        }
        if page.verdict is not Verdict.PASS:
            return replace(page, observed=observed)
        if context.usage_used is None or context.usage_used <= 0:
            return CheckResult(
                Verdict.UNCERTAIN,
                "The report is online, but the center has reported no use of this grant; "
                "staff will review.",
                "报告已发布，但计算中心未报告该资助的任何使用量，将由工作人员审核。",
                observed,
            )
        return CheckResult(
            Verdict.PASS,
            "The usage report is online and the center has reported use of the grant.",
            "使用报告已发布，且计算中心已报告该资助的使用量。",
            observed,
        )


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
