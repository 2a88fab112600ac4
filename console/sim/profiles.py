"""Deterministic inbound shared user profiles for the simulated tenant.

The same ``(count, seed)`` always gives the same profiles, in the same order, so demos,
screenshots and tests are reproducible. 20,000 profiles take a few tens of milliseconds.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

HOME_TENANT_DOMAINS: tuple[str, ...] = (
    "contoso-partner.com",
    "fabrikam.com",
    "northwindtraders.com",
    "adatum.com",
    "litwareinc.com",
    "tailspintoys.com",
    "woodgrovebank.com",
    "wingtiptoys.com",
)
"""Home tenants of the shared users (Microsoft's fictitious companies); the first is the most common."""

_TENANT_WEIGHTS: tuple[int, ...] = (30, 18, 14, 10, 9, 8, 6, 5)

FIRST_NAMES: tuple[str, ...] = (
    "Adele",
    "Alex",
    "Allan",
    "Amara",
    "Ana",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Diego",
    "Elif",
    "Emma",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Henrik",
    "Isaac",
    "Isabella",
    "Ivan",
    "Jamal",
    "Johanna",
    "Jun",
    "Karin",
    "Kenji",
    "Lars",
    "Lea",
    "Lidia",
    "Lucas",
    "Lynne",
    "Maya",
    "Megan",
    "Miriam",
    "Nestor",
    "Nia",
    "Noah",
    "Olga",
    "Omar",
    "Patti",
    "Pradeep",
    "Priya",
    "Rafael",
    "Rosa",
    "Sakura",
    "Samir",
    "Sofia",
    "Sven",
    "Tomasz",
    "Valentina",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoltan",
)
"""Given names the generator draws from."""

LAST_NAMES: tuple[str, ...] = (
    "Abara",
    "Andersen",
    "Bauer",
    "Bianchi",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Haddad",
    "Hansen",
    "Ito",
    "Jansen",
    "Johansson",
    "Kim",
    "Kowalski",
    "Kumar",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Oliveira",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Vargas",
    "Wagner",
    "Wang",
    "Weber",
    "Wilson",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
)
"""Family names the generator draws from."""


def home_tenant_id(domain: str) -> str:
    """A stable tenant GUID for a home tenant domain (uuid5, so it never changes between runs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"tenant.{domain}"))


@dataclass(frozen=True, slots=True)
class SimulatedProfile:
    """One inbound shared user profile as Graph serialises it."""

    user_id: str
    """Object id of the user in their home tenant (the resource key, a lowercase GUID)."""
    display_name: str
    user_principal_name: str
    home_tenant_id: str

    def to_json(self) -> dict[str, str]:
        """The profile as Graph's ``microsoft.graph.inboundSharedUserProfile`` JSON object."""
        return {
            "userId": self.user_id,
            "displayName": self.display_name,
            "userPrincipalName": self.user_principal_name,
            "homeTenantId": self.home_tenant_id,
        }


def generate_profiles(count: int, seed: int = 7) -> list[SimulatedProfile]:
    """``count`` realistic profiles, deterministic for ``seed``.

    UPNs look like ``first.last@contoso-partner.com``; a name already used in the same home
    tenant gets a number (``first.last2@...``) so UPNs stay unique, as a directory requires.
    """
    rng = random.Random(seed)
    tenants = [(domain, home_tenant_id(domain)) for domain in HOME_TENANT_DOMAINS]
    used: dict[str, int] = {}
    profiles: list[SimulatedProfile] = []
    for _ in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        domain, tenant_id = rng.choices(tenants, weights=_TENANT_WEIGHTS)[0]
        local = f"{first}.{last}".lower()
        key = f"{local}@{domain}"
        seen = used.get(key, 0) + 1
        used[key] = seen
        if seen > 1:
            local = f"{local}{seen}"
        user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        profiles.append(
            SimulatedProfile(
                user_id=user_id,
                display_name=f"{first} {last}",
                user_principal_name=f"{local}@{domain}",
                home_tenant_id=tenant_id,
            )
        )
    return profiles


def generate_outbound(count: int, seed: int = 7) -> dict[str, list[str]]:
    """Our own users whose profile data other tenants hold (``outboundSharedUserProfile``), deterministic.

    Returns ``{userId: [tenantId, ...]}`` in list order; each user is held by one to three of the
    home tenants above (graph-api.md, "Erasure, the outbound side").
    """
    rng = random.Random(f"{seed}:outbound")
    tenants = [home_tenant_id(domain) for domain in HOME_TENANT_DOMAINS]
    result: dict[str, list[str]] = {}
    for _ in range(count):
        user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        result[user_id] = sorted(rng.sample(tenants, rng.randint(1, 3)))
    return result
