"""The API's error answer, `{"statusCode", "message", "error"}` (the spec's ErrorResponse), as every
sandbox endpoint gives it."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse

# Upstream's reason phrases, fixed here: http.HTTPStatus's change between Python versions (3.13 calls
# 422 "Unprocessable Content"), and the sandbox must answer the same on every version.
REASON_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def error_response(status_code: int, message: str | list[str], headers: dict[str, str] | None = None) -> JSONResponse:
    """The spec's ErrorResponse: `{"statusCode", "message", "error"}` (error = upstream's reason phrase)."""
    reason = REASON_PHRASES.get(status_code) or HTTPStatus(status_code).phrase
    body = {"statusCode": status_code, "message": message, "error": reason}
    return JSONResponse(body, status_code=status_code, headers=headers)
