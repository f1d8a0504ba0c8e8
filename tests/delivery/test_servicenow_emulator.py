"""The ServiceNow Table API emulator over real HTTP: records, queries, errors, faults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.aws_emulator import free_port
from devkit.emulators.servicenow import ServiceNowEmulator

from .conftest import SN_PASSWORD, SN_USER

AUTH = (SN_USER, SN_PASSWORD)
SIR = "/api/now/table/sn_si_incident"


def call(sn: ServiceNowEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("auth", AUTH)
    return requests.request(method, sn.url + path, timeout=5, **kwargs)


def create(sn: ServiceNowEmulator, **fields: Any) -> dict[str, str]:
    response = call(sn, "POST", SIR, json=fields)
    assert response.status_code == 201
    result: dict[str, str] = response.json()["result"]
    return result


def test_a_security_incident_gets_a_sys_id_a_sir_number_and_string_values(
    servicenow: ServiceNowEmulator,
) -> None:
    first = create(servicenow, short_description="x", severity=1, active=True)
    second = create(servicenow, short_description="y")
    assert len(first["sys_id"]) == 32 and first["sys_id"] != second["sys_id"]
    assert (first["number"], second["number"]) == ("SIR0010001", "SIR0010002")
    assert (first["severity"], first["active"]) == ("1", "true")
    assert second["severity"] == "3"  # the table's default: Low
    assert first["sys_created_on"] and first["sys_mod_count"] == "0"


def test_missing_or_wrong_credentials_get_servicenows_401(servicenow: ServiceNowEmulator) -> None:
    expected = {
        "error": {
            "message": "User Not Authenticated",
            "detail": "Required to provide Auth information",
        },
        "status": "failure",
    }
    for auth in (None, (SN_USER, "wrong")):
        response = call(servicenow, "GET", SIR, auth=auth)
        assert (response.status_code, response.json()) == (401, expected)


def test_a_query_on_correlation_id_finds_the_record(servicenow: ServiceNowEmulator) -> None:
    wanted = create(servicenow, correlation_id="aws-rsi:a", category="Posture")
    create(servicenow, correlation_id="aws-rsi:b", category="Posture")
    response = call(servicenow, "GET", SIR, params={"sysparm_query": "correlation_id=aws-rsi:a"})
    assert [r["sys_id"] for r in response.json()["result"]] == [wanted["sys_id"]]
    assert response.headers["X-Total-Count"] == "1"


def test_anded_terms_limit_offset_order_and_fields(servicenow: ServiceNowEmulator) -> None:
    for n, category in enumerate(["Posture", "Activity", "Posture", "Posture"]):
        create(servicenow, correlation_id=f"c{n}", category=category)
    params = {
        "sysparm_query": "category=Posture^correlation_idINc0,c2,c3^ORDERBYDESCcorrelation_id",
        "sysparm_limit": "2",
        "sysparm_offset": "0",
        "sysparm_fields": "correlation_id,category",
    }
    response = call(servicenow, "GET", SIR, params=params)
    assert response.json()["result"] == [
        {"correlation_id": "c3", "category": "Posture"},
        {"correlation_id": "c2", "category": "Posture"},
    ]
    assert response.headers["X-Total-Count"] == "3"


def test_or_binds_to_the_term_before_it_and_nq_is_refused(
    servicenow: ServiceNowEmulator,
) -> None:
    for category, state in (("a", "1"), ("b", "1"), ("b", "2"), ("c", "1")):
        create(servicenow, category=category, state=state)
    query = "category=a^ORcategory=b^state=1"
    response = call(servicenow, "GET", SIR, params={"sysparm_query": query})
    assert sorted(r["category"] for r in response.json()["result"]) == ["a", "b"]
    response = call(servicenow, "GET", SIR, params={"sysparm_query": "category=a^NQstate=1"})
    assert response.status_code == 400 and response.json()["status"] == "failure"


def test_patch_updates_fields_and_journal_fields_go_to_the_journal(
    servicenow: ServiceNowEmulator,
) -> None:
    record = create(servicenow, short_description="old")
    response = call(
        servicenow,
        "PATCH",
        f"{SIR}/{record['sys_id']}",
        json={"short_description": "new", "work_notes": "seen again"},
    )
    updated = response.json()["result"]
    assert (updated["short_description"], updated["work_notes"]) == ("new", "")
    assert updated["sys_mod_count"] == "1"
    assert servicenow.journal[-1]["value"] == "seen again"


def test_unknown_records_and_tables_get_servicenows_errors(servicenow: ServiceNowEmulator) -> None:
    missing = call(servicenow, "PATCH", f"{SIR}/{'0' * 32}", json={"a": "b"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No Record found"
    table = call(servicenow, "GET", "/api/now/table/sn_nothing")
    assert (table.status_code, table.json()["error"]["message"]) == (
        400,
        "Invalid table sn_nothing",
    )
    bad_json = call(servicenow, "POST", SIR, data="{not json")
    assert bad_json.json()["error"]["detail"] == "The payload is not valid JSON."


def test_a_word_in_a_numeric_choice_field_is_kept_and_flagged(
    servicenow: ServiceNowEmulator,
) -> None:
    record = create(servicenow, severity="high")
    assert record["severity"] == "high"
    assert servicenow.choice_violations == [
        {
            "table": "sn_si_incident",
            "sys_id": record["sys_id"],
            "field": "severity",
            "value": "high",
        }
    ]


@pytest.mark.parametrize(("kind", "status"), [("busy", 503), ("throttle", 429)])
def test_faults_answer_before_anything_is_written(
    servicenow: ServiceNowEmulator, kind: str, status: int
) -> None:
    servicenow.add_fault({"kind": kind, "retry_after": 2})
    response = call(servicenow, "POST", SIR, json={"short_description": "x"})
    assert response.status_code == status and response.json()["status"] == "failure"
    assert servicenow.records("sn_si_incident") == []


def test_a_dropped_connection_writes_nothing(servicenow: ServiceNowEmulator) -> None:
    servicenow.add_fault({"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        call(servicenow, "POST", SIR, json={"short_description": "x"})
    assert servicenow.records("sn_si_incident") == []


def test_records_are_inspectable_over_http(servicenow: ServiceNowEmulator) -> None:
    create(servicenow, correlation_id="c1")
    records = requests.get(
        servicenow.url + "/_emulator/records", params={"table": "sn_si_incident"}, timeout=5
    ).json()["records"]["sn_si_incident"]
    assert [r["correlation_id"] for r in records] == ["c1"]


def test_the_emulator_runs_standalone() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devkit.emulators.servicenow",
            "--port",
            str(port),
            "--user",
            SN_USER,
            "--password",
            SN_PASSWORD,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        response = requests.get(f"http://127.0.0.1:{port}{SIR}", auth=AUTH, timeout=5)
        assert response.json() == {"result": []}
    finally:
        process.terminate()
        process.wait(timeout=10)
