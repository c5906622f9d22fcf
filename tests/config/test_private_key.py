"""The App key read as GitHub issues it: an unencrypted RSA key, PKCS#1 or PKCS#8.

Flux parses it with golang-jwt's `ParseRSAPrivateKeyFromPEM` (fluxcd/pkg
`auth/githubapp/client.go`, `NewClient`): PKCS#1, else PKCS#8, RSA only, and no decryption. Each
other case gets its own message, none of which quotes the key.
"""

from __future__ import annotations

import base64

import pytest

from fleet.program.config import errors, parse, private_key
from tests.helpers import APP_KEY, APPS_APP_KEY, VALID, app_config

P, Q = 2**1024 + 1, 2**1024 + 3
ED25519 = bytes.fromhex("2b6570")
EC = bytes.fromhex("2a8648ce3d0201")
P256 = bytes.fromhex("2a8648ce3d030107")


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _pkcs8(oids: bytes, key: bytes) -> str:
    info = _der(0x02, b"\x00") + _der(0x30, oids) + _der(0x04, key)
    return _pem("PRIVATE KEY", _der(0x30, info))


def _body(pem: str) -> bytes:
    return base64.b64decode("".join(pem.strip().splitlines()[1:-1]))


def _garbled() -> str:
    der = bytearray(_body(APP_KEY))
    der[20] ^= 0x01  # a bit of the modulus
    return _pem("RSA PRIVATE KEY", bytes(der))


def _truncated_der() -> str:
    der = _body(APP_KEY)
    return _pem("RSA PRIVATE KEY", der[: len(der) - 30])


def _truncated_base64() -> str:
    lines = APP_KEY.splitlines()
    return "\n".join([*lines[:3], lines[3][:-3], lines[-1]]) + "\n"


CASES = {
    "encrypted PKCS#8": (
        _pem("ENCRYPTED PRIVATE KEY", _body(APPS_APP_KEY)),
        "an encrypted private key",
    ),
    "encrypted PKCS#1": (
        APP_KEY.replace(
            "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n", 1
        ),
        "an encrypted private key",
    ),
    "EC (SEC 1)": (_pem("EC PRIVATE KEY", _der(0x30, b"")), "an EC key"),
    "EC (PKCS#8)": (
        _pkcs8(_der(0x06, EC) + _der(0x06, P256), _der(0x30, b"")),
        "an EC key",
    ),
    "Ed25519": (_pkcs8(_der(0x06, ED25519), _der(0x04, b"\x01" * 32)), "an Ed25519 key"),
    "OpenSSH": (_pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00"), "an OpenSSH key"),
    "truncated base64": (_truncated_base64(), "base64 body is garbled or cut short"),
    "truncated DER": (_truncated_der(), "truncated"),
    "garbled DER": (_garbled(), "do not belong together"),
    "short key": (private_key.shaped(2**511 + 1, 2**511 + 3), "shorter than GitHub's 2048"),
    "no PEM": ("ssh-rsa AAAAB3NzaC1yc2E", "not one PEM private key block"),
    "escaped line breaks": (APP_KEY.replace("\n", "\\n"), "line breaks were written as \\n"),
    "certificate": (_pem("CERTIFICATE", b"\x30\x00"), "another kind (CERTIFICATE)"),
}


def test_the_keys_github_issues_are_accepted() -> None:
    private_key.check(APP_KEY)  # PKCS#1
    private_key.check(APPS_APP_KEY)  # PKCS#8, rsaEncryption
    private_key.check(APP_KEY.replace("\n", "\r\n"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_other_key_gets_its_own_message_without_the_key(case: str) -> None:
    text, message = CASES[case]
    with pytest.raises(private_key.UnusableKeyError) as caught:
        private_key.check(text)
    shown = str(caught.value)
    assert message in shown
    assert "allowed: the unencrypted RSA private key GitHub issues" in shown
    for line in text.splitlines():
        if len(line) > 16 and not line.startswith("-----"):
            assert line not in shown


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_program_refuses_each_bad_key_naming_the_key(case: str) -> None:
    text, message = CASES[case]
    raw = {k: v for k, v in VALID.items() if "Token" not in k}
    raw.update(app_config(githubAppPrivateKey=text))
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(raw)
    (problem,) = [p for p in caught.value.problems if "githubAppPrivateKey" in p]
    assert problem.startswith("d1-fleet:githubAppPrivateKey: [secret] is invalid: ")
    assert message in problem


def test_the_installation_owner_must_own_the_repositories() -> None:
    raw = {k: v for k, v in VALID.items() if "Token" not in k}
    raw.update(
        app_config(githubAppInstallationId="", githubAppInstallationOwner="someone-else"),
        fluxVersion="2.8.x",
    )
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(raw)
    assert (
        "d1-fleet:githubAppInstallationOwner: 'someone-else' is not githubOwner 'acme', the "
        "account that owns the repositories Flux reads"
    ) in caught.value.problems[0]
    raw["githubAppInstallationOwner"] = "ACME"  # GitHub logins ignore case
    assert parse.parse(raw).github_app_installation_owner == "ACME"
