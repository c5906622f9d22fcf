"""The GitHub App private key read as what GitHub issues: an unencrypted RSA key in PEM.

GitHub Apps sign their JWTs with RS256, and Flux reads the key with golang-jwt's
`ParseRSAPrivateKeyFromPEM` (fluxcd/pkg `auth/githubapp/client.go`, `NewClient`), which decodes
the PEM block, tries PKCS#1, then PKCS#8, and refuses any key that is not RSA. A key that fails
here would fail only in the cluster, as GitRepositories that never become Ready.

The DER is read by hand rather than with the `cryptography` package: the structure is small and
fixed (PKCS#1 `RSAPrivateKey`, RFC 8017 A.1.2; PKCS#8 `PrivateKeyInfo`, RFC 5208), the program
needs no signing, and a compiled dependency would reach every `pulumi` run for one check. Beyond
the shape, the modulus must be the product of the two primes, which a truncated or garbled key
fails. No message ever contains the key or a part of it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

# Object identifiers, DER-encoded (the content bytes of an OBJECT IDENTIFIER).
RSA_ENCRYPTION: Final = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
EC_PUBLIC_KEY: Final = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
ED25519: Final = bytes.fromhex("2b6570")  # 1.3.101.112
ED448: Final = bytes.fromhex("2b6571")  # 1.3.101.113
MIN_BITS: Final = 2048  # GitHub issues 2048-bit keys

_PEM: Final = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n(?P<body>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
ALLOWED: Final = (
    "allowed: the unencrypted RSA private key GitHub issues for an App, in PEM with its line "
    "breaks (-----BEGIN RSA PRIVATE KEY-----, or PKCS#8 -----BEGIN PRIVATE KEY----- of an RSA key)"
)


class UnusableKeyError(ValueError):
    """Why a value is not a usable App key, in words that never quote it."""


def check(text: str) -> None:
    """Raise `UnusableKeyError` unless `text` is one unencrypted RSA private key in PEM."""
    found = list(_PEM.finditer(text))
    if len(found) != 1 or text[: found[0].start()].strip() or text[found[0].end() :].strip():
        if "\\n" in text and "\n" not in text.strip():
            raise UnusableKeyError(
                f"not a PEM block: its line breaks were written as \\n; {ALLOWED}"
            )
        raise UnusableKeyError(f"not one PEM private key block; {ALLOWED}")
    label, body = found[0]["label"], found[0]["body"]
    if label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in body:
        raise UnusableKeyError(
            "an encrypted private key: Flux cannot decrypt it; decrypt it (openssl pkey -in key.pem) "
            f"or generate a new key in the App's settings; {ALLOWED}"
        )
    kinds = {
        "EC PRIVATE KEY": "an EC key",
        "OPENSSH PRIVATE KEY": "an OpenSSH key",
        "DSA PRIVATE KEY": "a DSA key",
    }
    if label in kinds:
        raise UnusableKeyError(
            f"{kinds[label]}: GitHub Apps sign with RS256, an RSA key; {ALLOWED}"
        )
    if label not in ("RSA PRIVATE KEY", "PRIVATE KEY"):
        raise UnusableKeyError(f"a PEM block of another kind ({label}); {ALLOWED}")
    lines = [line.strip() for line in body.strip().splitlines()]
    try:
        der = base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        raise UnusableKeyError(f"its base64 body is garbled or cut short; {ALLOWED}") from None
    try:
        if label == "RSA PRIVATE KEY":
            _pkcs1(der)
        else:
            _pkcs8(der)
    except _DerError as err:
        raise UnusableKeyError(f"{err}; {ALLOWED}") from None


class _DerError(ValueError):
    pass


def _read(der: bytes, at: int, tag: int) -> tuple[bytes, int]:
    """The content of the element of type `tag` at `at`, and where the next element starts."""
    if at + 2 > len(der) or der[at] != tag:
        raise _DerError("its DER structure is not a private key (truncated or garbled)")
    length, at = der[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(der):
            raise _DerError("its DER structure is not a private key (truncated or garbled)")
        length, at = int.from_bytes(der[at : at + count], "big"), at + count
    if at + length > len(der):
        raise _DerError("its DER structure is cut short (a truncated key)")
    return der[at : at + length], at + length


def _whole(der: bytes, tag: int) -> bytes:
    content, end = _read(der, 0, tag)
    if end != len(der):
        raise _DerError("its DER structure has trailing bytes (a garbled key)")
    return content


def _pkcs1(der: bytes) -> None:
    body = _whole(der, 0x30)
    numbers, at = [], 0
    while at < len(body):
        value, at = _read(body, at, 0x02)
        numbers.append(int.from_bytes(value, "big", signed=True))
    if len(numbers) != 9 or numbers[0] != 0:
        raise _DerError("its DER structure is not an RSA private key (truncated or garbled)")
    _, n, _e, _d, p, q, *_ = numbers
    if p * q != n:
        raise _DerError("its numbers do not belong together (a garbled key)")
    if n.bit_length() < MIN_BITS:
        raise _DerError(f"an RSA key of {n.bit_length()} bits, shorter than GitHub's {MIN_BITS}")


def _pkcs8(der: bytes) -> None:
    body = _whole(der, 0x30)
    _, at = _read(body, 0, 0x02)  # version
    algorithm, at = _read(body, at, 0x30)
    oid, _ = _read(algorithm, 0, 0x06)
    if oid in (EC_PUBLIC_KEY, ED25519, ED448):
        kind = {EC_PUBLIC_KEY: "an EC key", ED25519: "an Ed25519 key", ED448: "an Ed448 key"}
        raise _DerError(f"{kind[oid]}: GitHub Apps sign with RS256, an RSA key")
    if oid != RSA_ENCRYPTION:
        raise _DerError("a private key of an algorithm other than RSA")
    inner, _ = _read(body, at, 0x04)
    _pkcs1(inner)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def shaped(p: int, q: int, *, pkcs8: bool = False) -> str:
    """A PEM text with the structure of an RSA key made of `p` and `q`, which need not be prime:
    what offline renders and tests pass where the program wants a key, plainly not a real one."""
    numbers = (0, p * q, 65537, 3, p, q, 1, 1, 1)
    der = _der(0x30, b"".join(_integer(n) for n in numbers))
    label = "RSA PRIVATE KEY"
    if pkcs8:
        algorithm = _der(0x30, _der(0x06, RSA_ENCRYPTION) + b"\x05\x00")
        der = _der(0x30, _integer(0) + algorithm + _der(0x04, der))
        label = "PRIVATE KEY"
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
