"""The errors API calls raise. Catch LeadwayError for all of them; see each class for when it is
safe to send again (`safe_to_retry`)."""

from ._runtime.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContractViolationError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    ServerError,
    TokenError,
    TransportError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ContractViolationError",
    "LeadwayError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "ServerError",
    "TokenError",
    "TransportError",
    "UnexpectedStatusError",
    "UnprocessableEntityError",
]
