"""Bearer tokens of the sandbox and the locations each one reaches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# These tokens are documented and only open the local sandbox: they are not secrets. The client's
# guard (`leadway_invoices_client._runtime.guard`) refuses to send them anywhere but loopback.
#: Agency-wide sandbox token: reaches every location the sandbox holds. `$LEADWAY_SANDBOX_TOKEN` replaces it.
DEFAULT_TOKEN = "sandbox-agency-token"  # noqa: S105
#: Sub-account sandbox token: reaches only the first seeded location.
LOCATION_TOKEN = "sandbox-location-token"  # noqa: S105
#: Environment variable that replaces `DEFAULT_TOKEN`.
TOKEN_ENV = "LEADWAY_SANDBOX_TOKEN"  # noqa: S105

#: Upstream's wording for a token used outside its locations.
FORBIDDEN_MESSAGE = "The token does not have access to this location."


@dataclass(frozen=True)
class Grant:
    """What one token may reach: every location (`agency`), or the listed ones."""

    agency: bool
    locations: frozenset[str] = frozenset()

    def allows(self, location_id: str) -> bool:
        """True when the token may act on invoices of `location_id`."""
        return self.agency or location_id in self.locations


class TokenRegistry:
    """The tokens the sandbox accepts. Unknown tokens get no grant, which the app answers with 401."""

    def __init__(self, grants: Mapping[str, Grant]) -> None:
        self._grants = dict(grants)

    @classmethod
    def for_sandbox(cls, agency_token: str, location_token: str, first_location: str) -> TokenRegistry:
        """The two documented tokens: one agency-wide, one reaching `first_location` only."""
        return cls(
            {
                agency_token: Grant(agency=True),
                location_token: Grant(agency=False, locations=frozenset({first_location})),
            }
        )

    def grant_for(self, token: str) -> Grant | None:
        """The grant of `token`, or None when the sandbox does not know it."""
        return self._grants.get(token)
