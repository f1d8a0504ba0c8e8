"""The plugin on a Cloud Exchange whose image lacks ``cryptography``.

Only IAM Roles Anywhere needs it: every other configuration imports, validates and pulls
without it, and a Roles Anywhere configuration fails validation and pulls with a message that
names the Authentication Method field and the fix, never an ImportError or a secret.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from netskope.common.utils import Logger

from devkit.aws_emulator import MotoServer
from devkit.loader import PACKAGE, REPO_ROOT
from devkit.runner import StateDir, TenantConfig, run_pull
from devkit.tls import dev_pki

from .no_cryptography import CRYPTOGRAPHY, HiddenModules, hidden_modules, under
from .tenant import configuration, seed_small_tenant

NEEDS_CRYPTOGRAPHY = (
    "Authentication Method: IAM Roles Anywhere needs the Python package 'cryptography'"
)
FIX = "Choose another Authentication Method ('Deployed on AWS' or 'Access keys'"
PASSPHRASE = "Wr0ng-Pl4ce-for-a-Passphrase"
ACCOUNT = "123456789012"
TRUST_ANCHOR = f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:trust-anchor/4f3c0e1a-0001"
PROFILE = f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:profile/9b2d7c40-0002"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/NetskopeCeReader"
PKI_MODULE = f"{PACKAGE}.utils.roles_anywhere.pki"


@dataclass(frozen=True)
class Workload:
    certificate: str
    private_key: str

    @property
    def secrets(self) -> list[str]:
        """The passphrase and every base64 line of the encrypted key."""
        lines = self.private_key.splitlines()
        return [PASSPHRASE, *(ln for ln in lines if ln and "-----" not in ln and ":" not in ln)]


@pytest.fixture(scope="module")
def workload() -> Workload:
    """A real client certificate and encrypted key as PEM text, made while ``cryptography``
    is still importable."""
    issued = dev_pki().client("ec256")
    return Workload(issued.cert_pem, issued.key_pem(PASSPHRASE))


def roles_anywhere_configuration(workload: Workload) -> dict[str, Any]:
    return configuration(
        aws={
            "authentication_method": "iam_roles_anywhere",
            "ra_certificate": workload.certificate,
            "ra_private_key": workload.private_key,
            "ra_private_key_passphrase": PASSPHRASE,
            "ra_trust_anchor_arn": TRUST_ANCHOR,
            "ra_profile_arn": PROFILE,
            "ra_role_arn": ROLE,
        }
    )


def load_emulator_backends() -> None:
    """moto serves from this process and some of its services import ``cryptography`` when
    first used: use the ones a pull needs before it is hidden."""
    boto3.client("sts").get_caller_identity()
    boto3.client("ec2").describe_regions()
    boto3.client("iam").list_roles()
    boto3.client("s3").list_buckets()


@pytest.fixture
def without_cryptography(aws: MotoServer) -> Iterator[tuple[type[Any], HiddenModules]]:
    load_emulator_backends()
    with hidden_modules() as hidden:
        yield hidden


def loaded(predicate: Any) -> list[str]:
    return sorted(name for name in sys.modules if predicate(name))


def test_the_plugin_imports_in_a_process_that_never_had_cryptography() -> None:
    script = (
        "import json, sys\n"
        "from tests.contract.no_cryptography import CRYPTOGRAPHY, hide, under\n"
        "hide(under(CRYPTOGRAPHY))\n"
        "from devkit.loader import load_plugin\n"
        "plugin_cls = load_plugin()\n"
        "from netskope.common.utils import Logger\n"
        "plugin_cls(None, None, None, None, Logger())\n"
        "print(json.dumps({'plugin': plugin_cls.__name__,\n"
        "    'loaded': sorted(m for m in sys.modules if under(CRYPTOGRAPHY)(m))}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"plugin": "AWSRoleSessionIdentityPlugin", "loaded": []}


def test_an_access_key_configuration_validates_and_pulls_without_cryptography(
    without_cryptography: tuple[type[Any], HiddenModules], tmp_path: Path
) -> None:
    plugin_cls, _finder = without_cryptography
    seed_small_tenant()
    plugin = plugin_cls("no-crypto", None, {}, None, Logger())
    for step in ("aws", "cloudtrail", "rule", "splunk"):
        result = plugin.validate_step(step, configuration())
        assert result.success, (step, result.message)
    pulled = run_pull(TenantConfig("no-crypto", configuration()), StateDir(tmp_path))
    assert {a.rawData["role_name"] for a in pulled.alerts} == {"OpenRole"}
    assert loaded(under(CRYPTOGRAPHY, PKI_MODULE)) == []


def test_roles_anywhere_validation_without_cryptography_names_the_field_and_the_fix(
    workload: Workload, without_cryptography: tuple[type[Any], HiddenModules]
) -> None:
    plugin_cls, finder = without_cryptography
    logger = Logger()
    plugin = plugin_cls("no-crypto", None, {}, None, logger)
    result = plugin.validate_step("aws", roles_anywhere_configuration(workload))
    assert not result.success
    assert result.message.startswith(NEEDS_CRYPTOGRAPHY), result.message
    assert FIX in result.message
    assert CRYPTOGRAPHY in finder.refused
    logged = "\n".join(f"{r.message}\n{r.details or ''}" for r in logger.records)
    assert NEEDS_CRYPTOGRAPHY in logged
    assert "Traceback" not in logged and "ImportError" not in logged
    for secret in workload.secrets:
        assert secret not in result.message and secret not in logged


def test_a_roles_anywhere_pull_without_cryptography_fails_with_the_same_message(
    workload: Workload, without_cryptography: tuple[type[Any], HiddenModules]
) -> None:
    plugin_cls, _finder = without_cryptography
    logger = Logger()
    plugin = plugin_cls("no-crypto", roles_anywhere_configuration(workload), {}, None, logger)
    with pytest.raises(Exception) as failure:
        plugin.pull_alerts()
    assert type(failure.value).__name__ == "AwsAuthError"
    assert str(failure.value).startswith(NEEDS_CRYPTOGRAPHY)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    [error] = [r for r in logger.records if r.level == "error"]
    assert f"Pull failed: {NEEDS_CRYPTOGRAPHY}" in error.message
    assert "ImportError" not in (error.details or "")
    assert "ModuleNotFoundError" not in (error.details or "")
    logged = "\n".join(f"{r.message}\n{r.details or ''}" for r in logger.records)
    for secret in workload.secrets:
        assert secret not in logged


def test_offline_checks_without_cryptography_say_so_first_and_still_check_the_arns(
    without_cryptography: tuple[type[Any], HiddenModules],
) -> None:
    ra = importlib.import_module(f"{PACKAGE}.utils.roles_anywhere")
    settings = ra.RolesAnywhereSettings(
        certificate="",
        private_key="",
        trust_anchor_arn="anchor",
        profile_arn=PROFILE,
        role_arn=ROLE,
    )
    problems = ra.validate_material(settings)
    assert [p.split(":")[0] for p in problems] == [ra.FIELD_METHOD, ra.FIELD_TRUST_ANCHOR]
    assert problems[0].startswith(NEEDS_CRYPTOGRAPHY)
    assert "does not provide. " in problems[0]  # absent: no module named in the message
    errors = importlib.import_module(f"{PACKAGE}.utils.exceptions")
    with pytest.raises(errors.AwsAuthError) as failure:
        ra.load_material(settings)
    assert str(failure.value) == problems[0]


def _empty_material(ra: Any) -> Any:
    """Roles Anywhere settings with no certificate or key (only the ARNs), for the checks
    that fail before any material is read."""
    return ra.RolesAnywhereSettings(
        certificate="",
        private_key="",
        trust_anchor_arn=TRUST_ANCHOR,
        profile_arn=PROFILE,
        role_arn=ROLE,
    )


def test_a_cryptography_install_missing_a_module_names_that_module() -> None:
    rust = "cryptography.hazmat.bindings._rust"
    with hidden_modules(under(rust), unloaded=under(CRYPTOGRAPHY)) as (_plugin_cls, finder):
        ra = importlib.import_module(f"{PACKAGE}.utils.roles_anywhere")
        settings = _empty_material(ra)
        [problem] = ra.validate_material(settings)
    assert rust in finder.refused
    assert problem.startswith(NEEDS_CRYPTOGRAPHY)
    assert f"does not provide in a usable form (its module '{rust}' cannot be loaded)" in problem


def test_an_import_error_inside_the_plugin_is_raised_not_explained_as_missing_cryptography() -> (
    None
):
    with hidden_modules(under(PKI_MODULE)) as (_plugin_cls, _finder):
        ra = importlib.import_module(f"{PACKAGE}.utils.roles_anywhere")
        settings = _empty_material(ra)
        with pytest.raises(ModuleNotFoundError) as failure:
            ra.validate_material(settings)
    assert failure.value.name == PKI_MODULE


def test_only_the_pki_module_imports_cryptography() -> None:
    """Anything else importing it, even inside a function, would break another
    authentication method on a Cloud Exchange without it."""
    importers = []
    for path in sorted([REPO_ROOT / "main.py", *(REPO_ROOT / "utils").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            if any(under(CRYPTOGRAPHY)(name) for name in names):
                importers.append(path.relative_to(REPO_ROOT).as_posix())
    assert sorted(set(importers)) == ["utils/roles_anywhere/pki.py"]
