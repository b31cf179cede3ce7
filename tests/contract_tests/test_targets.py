"""`contract_tests.targets`: a production token goes over https only."""

from __future__ import annotations

import pytest

from contract_tests.targets import RecordingError, production_target


def test_production_refuses_to_send_a_token_over_plain_http() -> None:
    with pytest.raises(RecordingError, match="https only"):
        production_target(token="t", invoice="i", location="l", user="u", base_url="http://services.example")
    with pytest.raises(RecordingError, match="https only"):
        production_target(token="t", invoice="i", location="l", user="u", base_url="http://127.0.0.1:8765")
