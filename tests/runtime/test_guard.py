"""`_runtime/guard.py`: the one check in front of every real API, shared by the command line, the demo
and the contract suite."""

from __future__ import annotations

import httpx
import pytest
from leadway_invoices_client._runtime.guard import (
    SANDBOX_TOKEN_ENV,
    SANDBOX_TOKENS,
    InvoiceTarget,
    ReadOnlyGuard,
    RequestRefused,
    TargetRefused,
    check_invoice_target,
    check_target,
    is_loopback,
)

IDS = {"--invoice-id": "inv", "--location-id": "loc", "--user-id": "usr"}


def checked(url: str, token: str | None = "tok", **ids: str | None) -> InvoiceTarget:
    return check_invoice_target(url, token, who="the test", token_env="TOKEN_VAR", ids={**IDS, **ids}, environ={})


def test_a_safe_target_keeps_its_ids_and_hides_its_token() -> None:
    target = checked("https://api.example/")
    assert (target.base_url, target.host) == ("https://api.example", "api.example")
    assert (target.invoice_id, target.location_id, target.user_id) == ("inv", "loc", "usr")
    assert "tok" not in repr(target)


@pytest.mark.parametrize(
    ("url", "token", "ids", "message"),
    [
        ("api.example", "tok", {}, "the URL must be an https URL, got 'api.example'"),
        ("https://api.example", None, {}, r"no API token: set \$TOKEN_VAR \(the token is never taken"),
        ("https://api.example", "", {}, r"no API token: set \$TOKEN_VAR"),
        ("https://api.example", "  ", {}, r"no API token: set \$TOKEN_VAR"),
        ("http://api.example", "tok", {}, "over plain http"),
        ("https://api.example", "tok", {"--location-id": "", "--user-id": None}, "explicit --location-id, --user-id$"),
        *(
            ("https://api.example", token, {}, r"\$TOKEN_VAR holds a sandbox token; refusing to send it to https://")
            for token in sorted(SANDBOX_TOKENS)
        ),
    ],
)
def test_unsafe_targets_are_refused(url: str, token: str | None, ids: dict[str, str | None], message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        checked(url, token, **ids)


def test_the_sandbox_token_variable_names_a_sandbox_token_too() -> None:
    with pytest.raises(TargetRefused, match="holds a sandbox token"):
        check_target("https://api.example", "mine", token_env="T", environ={SANDBOX_TOKEN_ENV: "mine"})
    assert check_target("https://api.example", "mine", token_env="T", environ={}).token == "mine"


def test_loopback_may_use_plain_http_and_sandbox_tokens() -> None:
    assert checked("http://127.0.0.1:8765").host == "127.0.0.1:8765"
    assert checked("http://localhost:8765", "sandbox-agency-token").loopback
    assert all(is_loopback(host) for host in ("localhost", "127.0.0.2", "[::1]"))
    assert not any(is_loopback(host) for host in ("10.0.0.8", "localhost.example", "::2"))


def test_a_token_is_kept_as_given_for_the_client_to_judge() -> None:
    # A trailing newline is the client's to refuse (with a message that never shows the token).
    assert check_target("https://api.example", "tok\n", token_env="T", environ={}).token == "tok\n"


def test_the_guard_knows_the_sandbox_s_tokens() -> None:
    from scripts.sandbox import DEFAULT_TOKEN, LOCATION_TOKEN, TOKEN_ENV

    assert {DEFAULT_TOKEN, LOCATION_TOKEN} == SANDBOX_TOKENS
    assert TOKEN_ENV == SANDBOX_TOKEN_ENV


# --- ReadOnlyGuard: nothing but a GET of a named invoice leaves ----------------------------------

INVOICES = ["6578278e879ad2646715ba9c", "6578278e879ad2646715ba9d"]
QUERY = "altId=loc&altType=location"


def guarded(base_url: str = "https://api.example/v2") -> tuple[ReadOnlyGuard, list[httpx.Request]]:
    reached: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        reached.append(request)
        return httpx.Response(200)

    guard = ReadOnlyGuard(httpx.MockTransport(answer), base_url=base_url, invoice_ids=INVOICES, location_id="loc")
    return guard, reached


def test_the_guard_lets_a_get_of_a_named_invoice_through() -> None:
    guard, reached = guarded()
    for invoice in INVOICES:
        guard.handle_request(
            httpx.Request("GET", f"https://api.example/v2/invoices/{invoice}?altType=location&altId=loc")
        )
    assert [r.url.path for r in reached] == [f"/v2/invoices/{invoice}" for invoice in INVOICES]


@pytest.mark.parametrize(
    ("method", "url", "content", "reason"),
    [
        ("POST", f"https://api.example/v2/invoices/{INVOICES[0]}/send", b"{}", "POST"),
        ("POST", f"https://api.example/v2/invoices/{INVOICES[0]}?{QUERY}", None, "POST"),
        ("DELETE", f"https://api.example/v2/invoices/{INVOICES[0]}?{QUERY}", None, "DELETE"),
        ("GET", f"https://api.example/v2/invoices/{INVOICES[0]}/send?{QUERY}", None, "not named"),
        ("GET", f"https://api.example/invoices/{INVOICES[0]}?{QUERY}", None, "not named"),
        ("GET", f"https://api.example/v2/invoices/6578278e879ad2646715ba9e?{QUERY}", None, "not named"),
        ("GET", f"https://api.example/v2/invoices/{INVOICES[0]}?altId=other&altType=location", None, "query"),
        ("GET", f"https://api.example/v2/invoices/{INVOICES[0]}?{QUERY}&altId=loc", None, "query"),
        ("GET", f"https://api.example/v2/invoices/{INVOICES[0]}", None, "query"),
        ("GET", f"https://evil.example/v2/invoices/{INVOICES[0]}?{QUERY}", None, "not the target"),
        ("GET", f"http://api.example/v2/invoices/{INVOICES[0]}?{QUERY}", None, "not the target"),
        ("GET", f"https://api.example:444/v2/invoices/{INVOICES[0]}?{QUERY}", None, "not the target"),
        ("GET", f"https://api.example/v2/invoices/{INVOICES[0]}?{QUERY}", b"x", "body"),
    ],
)
def test_the_guard_refuses_everything_else_before_the_transport(
    method: str, url: str, content: bytes | None, reason: str
) -> None:
    guard, reached = guarded()
    request = httpx.Request(method, url, content=content)
    with pytest.raises(RequestRefused, match=reason):
        guard.handle_request(request)
    assert reached == []


async def test_the_guard_refuses_asynchronously_too() -> None:
    guard, reached = guarded()
    with pytest.raises(RequestRefused, match="POST"):
        await guard.handle_async_request(httpx.Request("POST", f"https://api.example/v2/invoices/{INVOICES[0]}/send"))
    assert reached == []
    assert isinstance(RequestRefused("x"), TargetRefused), "a ValueError naming the problem, nothing sent"
