"""The client's profile model reads and writes Graph's JSON names, the simulated tenant's twin agrees."""

from __future__ import annotations

from console.graph.models import InboundSharedUserProfile
from console.sim.profiles import generate_profiles


def test_a_profile_reads_and_writes_graphs_names_as_the_simulator_sends_them() -> None:
    for simulated in generate_profiles(5, seed=3):
        sent = simulated.to_json()
        profile = InboundSharedUserProfile.from_json(sent)
        assert profile.user_id == simulated.user_id
        assert profile.user_principal_name == simulated.user_principal_name
        assert profile.display_name == simulated.display_name and profile.home_tenant_id == simulated.home_tenant_id
        assert profile.to_json() == sent  # what --json prints: Graph's names, both ways


def test_a_profile_missing_a_field_or_with_a_non_text_one_reads_it_as_empty() -> None:
    profile = InboundSharedUserProfile.from_json({"userId": "u1", "displayName": 7})
    assert profile == InboundSharedUserProfile(user_id="u1", display_name="", user_principal_name="", home_tenant_id="")
