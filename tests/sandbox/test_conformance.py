"""Sandbox answers conform to the spec: a quick schemathesis run in-process (the contract suite runs more)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from scripts.sandbox import DEFAULT_TOKEN, SandboxConfig, create_app
from scripts.sandbox.config import SPEC_PATH

schema = schemathesis.openapi.from_path(SPEC_PATH)
# The spec's examples and random requests (valid and invalid); the contract suite adds the slower
# coverage phase.
schema.config.phases.update(phases=["examples", "fuzzing"])
schema.app = create_app(SandboxConfig(agency_token=DEFAULT_TOKEN))


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_answers_conform_to_the_spec(case: schemathesis.Case[Any]) -> None:
    # All of schemathesis's checks: status codes, content types, headers and bodies as documented,
    # schema-valid requests accepted, invalid ones and missing auth rejected.
    case.call_and_validate(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
