"""The package's public names, pinned: removing or renaming one is a breaking change."""

from __future__ import annotations

import leadway_invoices_client
from leadway_invoices_client import errors

PUBLIC = {
    "DEFAULT_API_VERSION",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "LOGGER_NAME",
    "APIStatusError",
    "AuthenticatedClient",
    "AuthenticationError",
    "BadRequestError",
    "ContractViolationError",
    "Deviation",
    "LeadwayError",
    "LedgerError",
    "LedgerRecord",
    "NotFoundError",
    "Outcome",
    "OutcomeUnknownError",
    "Pacer",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "Reconciliation",
    "RetryPolicy",
    "SendLedger",
    "SendState",
    "ServerError",
    "TokenError",
    "TokenProvider",
    "TransportError",
    "UnexpectedStatusError",
    "UnprocessableEntityError",
    "__version__",
    "areconcile",
    "areconcile_send",
    "reconcile",
    "reconcile_send",
}


def test_the_package_exports_exactly_the_public_names() -> None:
    assert set(leadway_invoices_client.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(leadway_invoices_client, name) is not None


def test_the_errors_module_exports_the_error_tree() -> None:
    # LedgerError is the send ledger's bad-input error, not one an API call raises.
    api_errors = {name for name in PUBLIC if name.endswith(("Error", "RateLimit"))} - {"LedgerError"}
    assert set(errors.__all__) == api_errors
    for name in errors.__all__:
        assert getattr(errors, name) is getattr(leadway_invoices_client, name)
