"""`contract_tests.project`: the one guard in front of every real API, and the spec's examples."""

from __future__ import annotations

import pytest

from contract_tests.project import SPEC_PATH, Target, TargetRefused, example, is_loopback, load_spec

IDS = {"--invoice-id": "inv", "--location-id": "loc", "--user-id": "usr"}


def checked(url: str, token: str | None = "tok", **ids: str | None) -> Target:
    return Target.checked(url, who="the test", token=token, token_env="TOKEN_VAR", ids={**IDS, **ids})


def test_a_safe_target_keeps_its_ids_and_hides_its_token() -> None:
    target = checked("https://api.example/")
    assert (target.base_url, target.host) == ("https://api.example", "api.example")
    assert (target.invoice_id, target.location_id, target.user_id) == ("inv", "loc", "usr")
    assert "tok" not in repr(target)


@pytest.mark.parametrize(
    ("url", "token", "ids", "message"),
    [
        ("api.example", "tok", {}, "the URL must be an http"),
        (
            "https://api.example",
            None,
            {},
            r"api.example is not a loopback address: the test needs a token in \$TOKEN_VAR",
        ),
        ("https://api.example", "", {}, r"needs a token in \$TOKEN_VAR"),
        ("http://api.example", "tok", {}, "over plain http"),
        ("https://api.example", "tok", {"--location-id": "", "--user-id": None}, "explicit --location-id, --user-id$"),
    ],
)
def test_unsafe_targets_are_refused(url: str, token: str | None, ids: dict[str, str | None], message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        checked(url, token, **ids)


def test_loopback_may_use_plain_http() -> None:
    assert checked("http://127.0.0.1:8765").host == "127.0.0.1:8765"
    assert all(is_loopback(host) for host in ("localhost", "127.0.0.2", "[::1]"))
    assert not any(is_loopback(host) for host in ("10.0.0.8", "localhost.example", "::2"))


def test_examples_are_copies_of_the_spec_s() -> None:
    first = example("response", "leadwayPage")
    first["invoice"] = None
    assert example("response", "leadwayPage")["invoice"] is not None
    assert example("request", "emailAndSms")["action"] == "sms_and_email"
    assert load_spec(SPEC_PATH)["openapi"].startswith("3.1")
