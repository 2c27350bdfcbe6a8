"""Certificates for network probe tests: a root CA, an intermediate CA and server leaves."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: _Key


def _issue(
    subject: str,
    days: float,
    issuer: Issued | None,
    *,
    ca: bool,
    sans: tuple[str, ...] = (),
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    signer = issuer.key if issuer else key
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        names: list[x509.GeneralName] = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class ServerFiles:
    """PEM files to serve: ``chain`` holds the leaf then any intermediates; ``key`` its key."""

    chain: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """A root CA (``root_pem``, the trust anchor) and an intermediate that signs leaves."""

    directory: Path
    root: Issued
    intermediate: Issued
    root_pem: Path

    def leaf(
        self,
        name: str,
        days: float = 60,
        *,
        sans: tuple[str, ...] = ("localhost", "127.0.0.1"),
        send_intermediate: bool = True,
    ) -> ServerFiles:
        leaf = _issue(f"{name}.traceo.test", days, self.intermediate, ca=False, sans=sans)
        chain = _pem(leaf.cert) + (_pem(self.intermediate.cert) if send_intermediate else b"")
        return _write(self.directory, name, chain, leaf.key)


def _write(directory: Path, name: str, chain: bytes, key: _Key) -> ServerFiles:
    chain_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    chain_path.write_bytes(chain)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ServerFiles(chain_path, key_path)


def make_pki(directory: Path, *, intermediate_days: float = 365) -> Pki:
    """A fresh root (10 years) and intermediate CA under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    root = _issue("Traceo Test Root CA", 3650, None, ca=True)
    intermediate = _issue("Traceo Test Intermediate CA", intermediate_days, root, ca=True)
    root_pem = directory / "root-ca.pem"
    root_pem.write_bytes(_pem(root.cert))
    return Pki(directory, root, intermediate, root_pem)


def self_signed(directory: Path, name: str, days: float = 60) -> ServerFiles:
    """A self-signed leaf for 127.0.0.1 (its own trust anchor)."""
    issued = _issue(f"{name}.traceo.test", days, None, ca=False, sans=("127.0.0.1",))
    return _write(directory, name, _pem(issued.cert), issued.key)
