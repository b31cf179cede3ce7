"""`scripts/project.py`: the repository's facts and the spec's examples."""

from __future__ import annotations

from scripts.project import SPEC_PATH, example, load_spec


def test_examples_are_copies_of_the_spec_s() -> None:
    first = example("response", "leadwayPage")
    first["invoice"] = None
    assert example("response", "leadwayPage")["invoice"] is not None
    assert example("request", "emailAndSms")["action"] == "sms_and_email"
    assert load_spec(SPEC_PATH)["openapi"].startswith("3.1")
