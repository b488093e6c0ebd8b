"""The pages' cached reads (``ui.reads.cached``): keyed on the read, its arguments and the
data version, so that two reads never answer for each other and an import refreshes all."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ui import common, reads


@dataclass
class FakeStore:
    """What the cache asks of a store: its file and its data version."""

    path: Path
    version: int = 0
    calls: list[tuple[str, object]] = field(default_factory=list)

    def data_version(self) -> int:
        return self.version


@pytest.fixture
def fake(tmp_path, monkeypatch) -> FakeStore:
    store = FakeStore(tmp_path / "x.duckdb")
    monkeypatch.setattr(common, "store", lambda: store)
    monkeypatch.setattr(common, "open_store", lambda path: store)
    return store


def households(store: FakeStore, village: str, *, basis: str = "households") -> str:
    store.calls.append(("households", village))
    return f"households of {village} ({basis})"


def meetings(store: FakeStore, village: str, *, basis: str = "households") -> str:
    store.calls.append(("meetings", village))
    return f"meetings of {village} ({basis})"


def test_two_reads_with_the_same_arguments_keep_their_own_results(fake):
    a, b = reads.cached(households), reads.cached(meetings)  # type: ignore[arg-type]
    assert a("甲村") == "households of 甲村 (households)"
    assert b("甲村") == "meetings of 甲村 (households)"
    assert a("甲村") == "households of 甲村 (households)"
    assert fake.calls == [("households", "甲村"), ("meetings", "甲村")]


def test_a_new_data_version_reads_again_and_the_same_one_does_not(fake):
    read = reads.cached(households)  # type: ignore[arg-type]
    read("乙村", basis="persons")
    read("乙村", basis="persons")
    assert fake.calls == [("households", "乙村")]
    fake.version += 1  # an import, a deletion or a settings change
    assert read("乙村", basis="persons") == "households of 乙村 (persons)"
    assert fake.calls == [("households", "乙村"), ("households", "乙村")]


def test_other_arguments_are_another_entry(fake):
    read = reads.cached(households)  # type: ignore[arg-type]
    assert read("甲村") != read("甲村", basis="persons")
    assert read("丙村") == "households of 丙村 (households)"
    assert len(fake.calls) == 3
