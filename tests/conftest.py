"""Shared test configuration: the vendored fixtures and Hypothesis profiles."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

#: Reference outputs and samples vendored into the repository (see fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFORMANCE = FIXTURES / "conformance"
#: Permissively licensed data (tag lists, real prompts) and hand-written prompt books.
DATA = FIXTURES / "data"

settings.register_profile(
    "default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# `HYPOTHESIS_PROFILE=fuzz pytest` for a long run.
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
# `.ci/run` uses `ci`: the same examples on every run, so whether main lands does not depend on a
# random draw. Local runs and `fuzz` keep exploring new examples (report what they find as bugs).
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def conformance(name: str) -> Any:
    """A vendored reference output (``fixtures/conformance/<name>``), parsed."""
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


def tag_list(name: str) -> list[str]:
    """The tag names of ``danbooru`` or ``e621`` (first column of the tagcomplete CSV, one per line)."""
    with gzip.open(DATA / f"{name}_tags.txt.gz", "rt", encoding="utf-8", newline="\n") as handle:
        return handle.read().split("\n")[:-1]


def novelai_book() -> dict[str, dict[str, str]]:
    """Hand-written NovelAI prompts ``{title: {tags, ntags, scale}}``: unbalanced and deep ``{}``, ``[]``."""
    book: dict[str, dict[str, str]] = json.loads((DATA / "novelai_book.json").read_text(encoding="utf-8"))
    return book


def seed_repo_prompts() -> list[dict[str, Any]]:
    """The prompts of the research note's repository (infotexts, API payloads, code blocks)."""
    lines = (DATA / "seed_repo_prompts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def demo_chants() -> list[dict[str, Any]]:
    """The tag-autocomplete extension's demo "chants": WebUI prompts."""
    chants: list[dict[str, Any]] = json.loads((DATA / "tagcomplete_demo-chants.json").read_text(encoding="utf-8"))
    return chants
