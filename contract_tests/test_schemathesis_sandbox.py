"""Schemathesis against the sandbox, in-process: generated requests, every single-POST check.

The sandbox (scripts/sandbox) validates requests with the same spec, so this proves that the spec,
and an API that follows it, agree under positive and negative generation: examples, coverage
(boundary and missing-part cases) and fuzzing phases. The sandbox's rate limit is raised here: a
limiter answering 429 to the fuzzer would hide what is being tested (429 itself is in the cassettes).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from contract_tests.budget import contract_settings, tally
from contract_tests.exchanges import SINGLE_POST_CHECKS
from scripts.sandbox import DEFAULT_TOKEN, SPEC_PATH, SandboxConfig, create_app

# With the default budget the phases add up to about 510 cases (examples 3, coverage about 260,
# fuzzing 250); the suite asserts the minimum below rather than trusting this comment.
MINIMUM_CASES = 500

schema = schemathesis.openapi.from_path(SPEC_PATH)
# In-process ASGI (`schema.app`, not `case.call(app=...)`: ignored_auth needs the base URL it gives).
schema.app = create_app(SandboxConfig(burst_limit=1_000_000, daily_limit=1_000_000))


@schema.parametrize()
@contract_settings(250)
def test_the_sandbox_honours_the_spec(case: Any) -> None:
    mode = case.meta.generation.mode.value if case.meta is not None else "unknown"
    tally[f"schemathesis {mode}"] += 1
    # Given per call, not in config: config-level headers make ignored_auth report a false failure.
    case.call_and_validate(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, checks=SINGLE_POST_CHECKS)


def test_the_default_run_generated_enough_cases(request: pytest.FixtureRequest) -> None:
    ran = tally["schemathesis positive"] + tally["schemathesis negative"]
    if ran == 0:
        pytest.skip("the schemathesis test did not run in this session")
    if request.config.getoption("--contract-max-examples") is not None:
        pytest.skip("--contract-max-examples sets its own budget")
    assert tally["schemathesis positive"] > 0
    assert tally["schemathesis negative"] > 0
    assert ran >= MINIMUM_CASES
