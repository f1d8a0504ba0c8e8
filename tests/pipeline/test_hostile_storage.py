"""Damaged storage never fails a pull: each section is checked against the model its writer
writes; one that does not match is reset and reported once, naming the section, and the
other sections are used as they are (threat model: CE itself may hand back damaged state)."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline import stored_state

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.hec import HecEmulator
from devkit.runner import StateDir, run_pull
from tests.pipeline.hostile import (
    NOW,
    alert_summary,
    fresh,
    hec_emulator,
    paths_of,
    pull_with_storage,
    replaced,
    section_of,
    sections_reported,
    seed_valid_trail,
    tenant,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
PROPERTY = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def world(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One tenant for the module (the pulls do not change it), a Splunk HEC, and the
    storage after two pulls: every section written (held events, windows, checks, a
    backlog from the alert cap, an outbox whose Splunk was busy, the replay)."""
    moto_server.reset()
    with patched_env(moto_server.env()), hec_emulator() as hec:
        seed_valid_trail(NOW)
        state = StateDir(tmp_path_factory.mktemp("baseline"))
        config = tenant(hec, max_alerts_per_pull=10)
        hec.add_fault({"kind": "busy", "count": None})
        run_pull(config, state, validate=False)
        second = run_pull(config, state, validate=False)
        hec.faults.clear()  # the pulls under test deliver at once (no retry back-off)
        yield hec, second


@pytest.fixture
def hec(world: Any) -> HecEmulator:
    emulator: HecEmulator = world[0]
    return emulator


@pytest.fixture
def baseline(world: Any) -> dict[str, Any]:
    second = world[1]
    storage = json.loads(json.dumps(second.storage))  # as CE stores it
    for section in ("posture", "activity", "index", "sources", "outbox", "backlog", "replay"):
        assert storage.get(section), section
    assert storage["backlog"]["alerts"] and storage["outbox"]["pending"]
    assert stored_state.load_storage(copy.deepcopy(storage)) == []  # what it writes, it reads
    return storage


def expected_reports(storage: dict[str, Any], section: str) -> list[str]:
    """What a pull must report for ``storage`` damaged in ``section``: the section once when
    its model rejects it; nothing when the damage is still a value the writer could write."""
    resets = stored_state.load_storage(copy.deepcopy(storage))
    return [reset.section for reset in resets]


def check_pull(hec: HecEmulator, directory: Path, storage: dict[str, Any], section: str) -> None:
    result = pull_with_storage(tenant(hec, max_alerts_per_pull=10), directory, storage)
    reported = sections_reported(result)
    expected = expected_reports(storage, section)
    assert set(expected) <= {section}, expected  # the damage is judged where it is
    if section == "index" and not expected:
        assert reported in ([], ["index"])  # rows the index's own loader dropped
    elif section.startswith("sources") and not expected:
        assert reported == []  # another checkpoint version is its reader's to report
    else:
        assert reported == expected
    assert result.storage["health"]["stored_sections_reset"] == reported


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("outbox", "totals"), "delivered"),
        (("posture", "last_scan"), "yesterday"),
        (("posture", "last_scan"), "2026-01-01T00:00:00"),  # no offset: naive minus aware
        (("posture", "roles"), 5),
        (("posture", "roles", 0), ["arn", "weak", "fp", "id"]),
        (("activity", "open", 0, "first_seen"), "noon"),
        (("activity", "open", 0, "counts"), {"s3:ListBuckets": 1}),
        (("activity", "checks"), "not-a-blob"),
        (("activity", "users"), "alice"),
        (("backlog", "alerts", 0), {"id": 7}),
        (("backlog", "alerts", 0, "timestamp"), "soon"),
        (("replay", "blob"), "eJzLSM3JyQcABiwCFQ=="),  # a valid blob of "hello", not alerts
        (("index", "watermark"), "late"),
        (("index", "timeline"), []),
        (("outbox", "pending", 0, "z"), 12),
        (("outbox", "delivered"), {"id": "v"}),
        (("health",), "fine"),
    ],
)
def test_each_known_damage_is_reset_and_reported_once(
    baseline: dict[str, Any], hec: HecEmulator, tmp_path: Path, path: tuple[Any, ...], value: Any
) -> None:
    damaged = replaced(baseline, path, value)
    section = section_of(path)
    assert expected_reports(damaged, section) == [section]
    check_pull(hec, tmp_path / "pull", damaged, section)


def test_a_second_pull_reports_nothing(
    baseline: dict[str, Any], hec: HecEmulator, tmp_path: Path
) -> None:
    damaged = replaced(baseline, ("posture", "roles"), 5)
    directory = tmp_path / "again"
    first = pull_with_storage(tenant(hec, max_alerts_per_pull=10), directory, damaged)
    assert sections_reported(first) == ["posture"]
    second = run_pull(tenant(hec, max_alerts_per_pull=10), StateDir(directory), validate=False)
    assert sections_reported(second) == []


@pytest.mark.parametrize(
    "section", ["posture", "activity", "index", "sources", "outbox", "backlog", "replay", "health"]
)
def test_any_json_in_place_of_a_section(
    baseline: dict[str, Any], hec: HecEmulator, tmp_path: Path, section: str
) -> None:
    counter = itertools.count()

    @PROPERTY
    @given(value=json_values)
    def pull(value: Any) -> None:
        damaged = replaced(baseline, (section,), value)
        check_pull(hec, tmp_path / f"p{next(counter)}", damaged, section)

    pull()


def test_any_json_anywhere_inside_a_section(
    baseline: dict[str, Any], hec: HecEmulator, tmp_path: Path
) -> None:
    places = [p for p in paths_of(baseline) if len(p) > 1]
    assert len(places) > 100
    counter = itertools.count()

    @settings(PROPERTY, max_examples=80)
    @given(path=st.sampled_from(places), value=json_values)
    def pull(path: tuple[Any, ...], value: Any) -> None:
        damaged = replaced(baseline, path, value)
        check_pull(hec, tmp_path / f"p{next(counter)}", damaged, section_of(path))

    pull()


def test_the_alerts_do_not_change_when_a_section_no_finding_reads_is_damaged(
    baseline: dict[str, Any], hec: HecEmulator, tmp_path: Path
) -> None:
    """Health and replay are not read for findings: the fresh alerts are those of the
    undamaged storage, and only the damaged section is reported."""
    config = tenant(hec, max_alerts_per_pull=10)
    control = pull_with_storage(config, tmp_path / "control", copy.deepcopy(baseline))
    for section in ("health", "replay"):
        damaged = replaced(baseline, (section,), [1, 2, 3])
        result = pull_with_storage(config, tmp_path / section, damaged)
        assert sections_reported(result) == [section]
        assert alert_summary(fresh(result)) == alert_summary(fresh(control))
