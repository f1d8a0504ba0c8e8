"""IAM Roles Anywhere end to end against a CreateSession endpoint that verifies the X.509
signature, with moto issuing the credentials: key types, passphrases, chains, refresh before
expiry, CE's proxy and TLS settings, and errors that name the field to fix - never a secret."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from netskope.plugins.custom_plugins.aws_role_session_cto.utils import roles_anywhere as ra
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import AwsAuthError

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.base import Fault
from devkit.emulators.proxy import ProxyEmulator
from devkit.emulators.rolesanywhere import RolesAnywhereEmulator
from devkit.tls import CertificateAuthority, DevPki

from .ra_helpers import (
    PASSPHRASE,
    PROFILE,
    REGION,
    ROLE,
    ROLE_NAME,
    TRUST_ANCHOR,
    USER_AGENT,
    FakeClock,
    create_role,
    emulator,
    settings_for,
)

# ssl_validation off is what some of these tests exercise.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def endpoint(aws: MotoServer, pki: DevPki) -> Iterator[RolesAnywhereEmulator]:
    create_role()
    with emulator(pki, aws.endpoint) as server:
        yield server


def no_sleep(_seconds: float) -> None:
    pass


def session_for(
    settings: ra.RolesAnywhereSettings, server: RolesAnywhereEmulator, **options: Any
) -> Any:
    options.setdefault("proxy", None)
    options.setdefault("verify", False)
    options.setdefault("endpoint_url", server.url)
    return ra.roles_anywhere_session(
        settings, region=REGION, user_agent=USER_AGENT, sleep=no_sleep, **options
    )


def refusal(
    settings: ra.RolesAnywhereSettings, server: RolesAnywhereEmulator, **options: Any
) -> str:
    """The AwsAuthError text, checked to carry none of the configured secrets."""
    with pytest.raises(AwsAuthError) as failure:
        session_for(settings, server, **options)
    text = str(failure.value)
    for secret in settings.secrets:
        assert secret not in text
    assert "PRIVATE KEY" not in text
    return text


def caller_arn(session: Any) -> str:
    return str(session.client("sts").get_caller_identity()["Arn"])


# ----------------------------------------------------------------------------- success


@pytest.mark.parametrize(
    ("key_type", "algorithm"),
    [("rsa", ra.ALGORITHM_RSA), ("ec256", ra.ALGORITHM_ECDSA), ("ec384", ra.ALGORITHM_ECDSA)],
)
def test_credentials_from_a_verified_signature_work_against_aws(
    endpoint: RolesAnywhereEmulator, pki: DevPki, key_type: Any, algorithm: str
) -> None:
    client = pki.client(key_type)
    session = session_for(settings_for(client), endpoint)
    serial_hex = format(client.serial, "x")
    assert caller_arn(session).endswith(f":assumed-role/{ROLE_NAME}/{serial_hex}")
    [record] = endpoint.sessions
    assert record.algorithm == algorithm
    assert record.serial == str(client.serial)
    assert (record.trust_anchor_arn, record.profile_arn, record.role_arn) == (
        TRUST_ANCHOR,
        PROFILE,
        ROLE,
    )
    assert record.user_agent == USER_AGENT


@pytest.mark.parametrize("pkcs8", [True, False], ids=["pkcs8", "traditional"])
def test_an_encrypted_private_key_opens_with_its_passphrase(
    endpoint: RolesAnywhereEmulator, pki: DevPki, pkcs8: bool
) -> None:
    client = pki.client("ec256")
    settings = settings_for(client, private_key=client.key_pem(PASSPHRASE, pkcs8=pkcs8))
    settings = ra.RolesAnywhereSettings(**{**settings.__dict__, "passphrase": PASSPHRASE})
    assert caller_arn(session_for(settings, endpoint)).startswith("arn:aws:sts::")


def test_a_wrong_passphrase_is_named_and_never_shown(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    client = pki.client("rsa")
    settings = settings_for(
        client, private_key=client.key_pem(PASSPHRASE), passphrase="n0t-the-Passphrase"
    )
    text = refusal(settings, endpoint)
    assert "Private Key Passphrase: the passphrase does not decrypt the private key" in text
    assert PASSPHRASE not in text
    assert endpoint.requests == []  # refused before any network call


def test_a_certificate_chained_through_an_intermediate_ca_needs_the_chain(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    intermediate = CertificateAuthority("devkit issuing CA", parent=pki.client_ca)
    client = intermediate.issue("workload-via-intermediate", key_type="ec256", client=True)
    with_chain = settings_for(client, chain=intermediate.cert_pem)
    assert caller_arn(session_for(with_chain, endpoint))
    assert endpoint.sessions[0].chain_length == 1
    text = refusal(settings_for(client), endpoint)
    assert "does not chain to the CA of the trust anchor" in text
    assert ra.FIELD_CHAIN in text


def test_the_endpoint_comes_from_aws_endpoint_url_rolesanywhere_as_in_boto3(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    with patched_env({"AWS_ENDPOINT_URL_ROLESANYWHERE": endpoint.url}):
        session = ra.roles_anywhere_session(
            settings_for(pki.client("rsa")),
            region=REGION,
            proxy=None,
            verify=False,
            user_agent=USER_AGENT,
        )
    assert caller_arn(session)
    assert endpoint.sessions_created == 1


def test_transient_failures_are_retried_a_bounded_number_of_times(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    endpoint.add_fault(Fault("status", count=2, status=503, body={"message": "busy"}))
    assert caller_arn(session_for(settings_for(pki.client("rsa")), endpoint))
    assert [r["status"] for r in endpoint.requests] == [503, 503, 201]
    endpoint.add_fault(Fault("status", count=None, status=503, body={"message": "busy"}))
    assert "HTTP 503" in refusal(settings_for(pki.client("rsa")), endpoint)


def test_long_throttling_gives_up_instead_of_stalling_the_pull(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    endpoint.add_fault(Fault("throttle", count=None, retry_after="3600"))
    text = refusal(settings_for(pki.client("rsa")), endpoint)
    assert "throttling" in text and "3600" in text


# ----------------------------------------------------------------------------- refresh


def test_credentials_are_renewed_before_they_expire_and_never_after(
    aws: MotoServer, pki: DevPki
) -> None:
    create_role()
    clock = FakeClock()
    with emulator(pki, aws.endpoint, clock=clock) as server:
        settings = settings_for(pki.client("ec256"), duration_seconds=3600)
        session = session_for(settings, server, clock=clock)
        sts = session.client("sts")
        signed_with: list[tuple[datetime, str]] = []  # (when, access key) of every AWS request

        def note_key(request: Any, **_: Any) -> None:
            authorization = request.headers["Authorization"]
            text = authorization.decode() if isinstance(authorization, bytes) else authorization
            signed_with.append((clock(), text.split("Credential=")[1].split("/")[0]))

        sts.meta.events.register("before-send", note_key)
        for _ in range(6 * 12):  # six hours in five-minute steps, one AWS call each
            sts.get_caller_identity()
            clock.advance(minutes=5)
        sessions = server.sessions
    assert len(sessions) >= 6
    for previous, renewal in itertools.pairwise(sessions):
        assert renewal.issued_at < previous.expires_at  # renewed before expiry...
        assert previous.expires_at - renewal.issued_at >= ra.refresh_windows(
            previous.expires_at - previous.issued_at
        )[1] * timedelta(seconds=1)  # ...at least the mandatory window ahead
    expiry = {s.access_key_id: s.expires_at for s in sessions}
    assert len(signed_with) == 6 * 12
    assert all(when < expiry[key] for when, key in signed_with)  # never used after expiry
    issue_times = {s.issued_at for s in sessions}
    assert len(issue_times) == len(sessions)  # one CreateSession per renewal, no storms


def test_a_fifteen_minute_session_is_not_renewed_on_every_call(
    aws: MotoServer, pki: DevPki
) -> None:
    create_role()
    clock = FakeClock()
    with emulator(pki, aws.endpoint, clock=clock) as server:
        session = session_for(
            settings_for(pki.client("rsa"), duration_seconds=900), server, clock=clock
        )
        sts = session.client("sts")
        for _ in range(10):
            sts.get_caller_identity()
            clock.advance(seconds=60)
        assert server.sessions_created == 1  # ten minutes into a fifteen-minute session
        clock.advance(seconds=120)
        sts.get_caller_identity()
        assert server.sessions_created == 2  # three minutes left, inside the last quarter


def test_a_failed_renewal_surfaces_as_a_named_error_before_expiry(
    aws: MotoServer, pki: DevPki
) -> None:
    create_role()
    clock = FakeClock()
    with emulator(pki, aws.endpoint, clock=clock) as server:
        session = session_for(settings_for(pki.client("rsa")), server, clock=clock)
        sts = session.client("sts")
        sts.get_caller_identity()
        server.add_fault(Fault("untrusted", count=None))
        clock.advance(minutes=55)  # inside the mandatory window: must renew or stop
        with pytest.raises(AwsAuthError, match="does not chain"):
            sts.get_caller_identity()


# ----------------------------------------------------------------------------- refusals


def tampering_session(mutate: Callable[[requests.PreparedRequest], None]) -> requests.Session:
    class Tampering(requests.Session):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            mutate(request)
            return super().send(request, **kwargs)

    return Tampering()


def flip_signature(request: requests.PreparedRequest) -> None:
    auth = request.headers["Authorization"]
    last = auth[-1]
    request.headers["Authorization"] = auth[:-1] + ("0" if last != "0" else "1")


def test_a_tampered_signature_is_rejected_and_the_private_key_named(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    settings = settings_for(pki.client("rsa"))
    text = refusal(settings, endpoint, session=tampering_session(flip_signature))
    assert "HTTP 403 AccessDeniedException" in text
    assert (
        f"{ra.FIELD_PRIVATE_KEY}: the signature made with the private key was not accepted" in text
    )
    assert endpoint.sessions_created == 0


def test_a_tampered_body_breaks_the_signature(endpoint: RolesAnywhereEmulator, pki: DevPki) -> None:
    def swap_role(request: requests.PreparedRequest) -> None:
        assert isinstance(request.body, bytes)
        request.body = request.body.replace(ROLE_NAME.encode(), b"SomeoneElsesRole")
        request.headers["Content-Length"] = str(len(request.body))

    text = refusal(
        settings_for(pki.client("ec256")), endpoint, session=tampering_session(swap_role)
    )
    assert "does not match the signature" in text and ra.FIELD_PRIVATE_KEY in text


def test_a_certificate_from_another_ca_is_untrusted(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    stranger = pki.other_ca.issue("stranger", key_type="ec256", client=True)
    text = refusal(settings_for(stranger), endpoint)
    assert "Untrusted signing certificate" in text
    assert ra.FIELD_CERTIFICATE in text and ra.FIELD_TRUST_ANCHOR in text
    assert endpoint.sessions_created == 0


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("expired_certificate", f"{ra.FIELD_CERTIFICATE}: issue a new certificate"),
        ("untrusted", f"{ra.FIELD_CERTIFICATE} / {ra.FIELD_TRUST_ANCHOR}"),
    ],
)
def test_injected_refusals_name_the_field(
    endpoint: RolesAnywhereEmulator, pki: DevPki, fault: str, expected: str
) -> None:
    endpoint.add_fault(Fault(fault))
    assert expected in refusal(settings_for(pki.client("rsa")), endpoint)


@pytest.mark.parametrize(
    ("override", "field_label", "status"),
    [
        ({"trust_anchor_arn": TRUST_ANCHOR[:-1] + "9"}, ra.FIELD_TRUST_ANCHOR, "HTTP 404"),
        ({"profile_arn": PROFILE[:-1] + "9"}, ra.FIELD_PROFILE, "HTTP 404"),
        ({"role_arn": ROLE + "Admin"}, ra.FIELD_ROLE, "HTTP 403"),
    ],
    ids=["trust-anchor", "profile", "role"],
)
def test_unknown_resources_name_their_arn_field(
    endpoint: RolesAnywhereEmulator,
    pki: DevPki,
    override: dict[str, str],
    field_label: str,
    status: str,
) -> None:
    text = refusal(settings_for(pki.client("rsa"), **override), endpoint)
    assert status in text and f"{field_label}:" in text


def test_an_expired_certificate_is_refused_before_any_request(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    now = datetime.now(UTC)
    expired = pki.client_ca.issue(
        "old",
        key_type="ec256",
        client=True,
        not_before=now - timedelta(days=60),
        not_after=now - timedelta(days=1),
    )
    text = refusal(settings_for(expired), endpoint)
    assert f"{ra.FIELD_CERTIFICATE}: the certificate expired on" in text
    assert endpoint.requests == []


def test_a_clock_off_by_more_than_five_minutes_is_named(aws: MotoServer, pki: DevPki) -> None:
    create_role()
    clock = FakeClock()
    with emulator(pki, aws.endpoint, clock=lambda: clock() + timedelta(minutes=10)) as server:
        text = refusal(settings_for(pki.client("rsa")), server, clock=clock)
    assert "clock of the Cloud Exchange host" in text


def test_a_malformed_answer_is_not_quoted(endpoint: RolesAnywhereEmulator, pki: DevPki) -> None:
    leaked = "wJalrXUtnFEMI/K7MDENG/SHOULD-NEVER-BE-SHOWN"
    endpoint.add_fault(
        Fault(
            "status",
            status=201,
            body={"credentialSet": [{"credentials": {"secretAccessKey": leaked}}]},
        )
    )
    text = refusal(settings_for(pki.client("rsa")), endpoint)
    assert "without usable credentials" in text and leaked not in text


# ----------------------------------------------------------------------------- proxy and TLS


def test_create_session_goes_through_ce_proxy(
    aws: MotoServer, pki: DevPki, proxy: ProxyEmulator
) -> None:
    create_role()
    with emulator(pki, aws.endpoint) as server:
        target = f"rolesanywhere.invalid:{server.port}"  # only the proxy resolves it
        session = session_for(
            settings_for(pki.client("rsa")),
            server,
            endpoint_url=f"https://{target}",
            proxy=proxy.proxies(),
        )
        assert caller_arn(session)
        assert server.sessions_created == 1
    assert [(r.method, r.target, r.status) for r in proxy.records] == [("CONNECT", target, 200)]


def test_a_proxy_refusal_is_named_without_its_credentials(
    endpoint: RolesAnywhereEmulator, pki: DevPki, proxy: ProxyEmulator
) -> None:
    wrong = "Wr0ng-Proxy-Secret-99"
    text = refusal(settings_for(pki.client("rsa")), endpoint, proxy=proxy.proxies(password=wrong))
    assert "407" in text and "Settings > Proxy" in text
    assert wrong not in text and "ce-proxy-user" not in text


def test_verification_on_refuses_a_self_signed_endpoint_naming_the_problem(
    aws: MotoServer, pki: DevPki
) -> None:
    create_role()
    with emulator(pki, aws.endpoint, self_signed=True) as server:
        text = refusal(settings_for(pki.client("rsa")), server, verify=True)
        assert re.search(r"certificate verify failed: self[- ]signed certificate", text)
        assert "trusted certificates" in text and "SSL validation" in text
        assert server.requests == []
        assert caller_arn(session_for(settings_for(pki.client("rsa")), server, verify=False))


def test_verification_on_works_once_the_ca_is_trusted(
    endpoint: RolesAnywhereEmulator, pki: DevPki
) -> None:
    text = refusal(settings_for(pki.client("rsa")), endpoint, verify=True)
    assert "unable to get local issuer certificate" in text
    os.environ["REQUESTS_CA_BUNDLE"] = str(pki.server_ca_path)  # cleared by clean_proxy_env
    assert caller_arn(session_for(settings_for(pki.client("rsa")), endpoint, verify=True))
