"""The client every call of `api` takes (the module openapi-python-client's users import it from)."""

from ._runtime.client import DEFAULT_RETRY, AuthenticatedClient
from ._runtime.constants import DEFAULT_API_VERSION, DEFAULT_TIMEOUT

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_RETRY", "DEFAULT_TIMEOUT", "AuthenticatedClient"]
