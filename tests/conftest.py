"""Shared test configuration: the reference folder and Hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

#: ../shared beside the repository: specs, WebUI's own outputs, real prompts.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

#: Reference outputs and samples vendored into the repository (see fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFORMANCE = FIXTURES / "conformance"

settings.register_profile(
    "default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# `HYPOTHESIS_PROFILE=fuzz pytest` for a long run.
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder, or a clean skip when this checkout has none."""
    if not SHARED.is_dir():
        pytest.skip("../shared (reference outputs and data) is not present beside the repository")
    return SHARED
