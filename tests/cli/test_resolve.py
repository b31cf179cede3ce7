"""`cli/resolve.py`: `leadway-invoices resolve LEDGER KEY --sent|--not-sent --note TEXT`."""

from __future__ import annotations

from pathlib import Path

import pytest
from leadway_invoices_client import SendLedger, SendState

from .ledgers import ledger_with_every_state
from .test_command import run


@pytest.mark.parametrize(("flag", "state"), [("--sent", SendState.SENT), ("--not-sent", SendState.NOT_SENT)])
def test_resolve_records_the_verdict_and_its_note(tmp_path: Path, flag: str, state: SendState) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, out, err = run(["resolve", str(path), "k-attention", flag, "--note", "customer confirmed"])
    assert (code, err) == (0, "")
    assert out.strip() == f"key k-attention: {state.value} (resolved by hand: customer confirmed)"
    with SendLedger(path) as ledger:
        record = ledger.get("k-attention")
    assert record is not None
    assert record.state is state


def test_resolve_refuses_an_unknown_key_a_blank_note_and_a_missing_verdict(tmp_path: Path) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, _, err = run(["resolve", str(path), "nope", "--sent", "--note", "x"])
    assert (code, err.strip()) == (2, "leadway-invoices: error: ledger key 'nope' is unknown")
    code, _, err = run(["resolve", str(path), "k-attention", "--sent", "--note", "  "])
    assert code == 2
    assert "needs a note" in err
    with pytest.raises(SystemExit) as exited:
        run(["resolve", str(path), "k-attention", "--note", "x"])
    assert exited.value.code == 2
