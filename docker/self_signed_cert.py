"""Make a self-signed TLS certificate for the compose stack's nginx, unless one is already there.

    python self_signed_cert.py DIR     writes DIR/tls.crt and DIR/tls.key (kept when both exist)

For local use only: browsers warn about it. In production mount a real certificate instead (README, HTTPS).
Names: localhost, 127.0.0.1 and ::1, plus any in TLS_CERT_NAMES (comma-separated host names).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 365


def make_certificate(directory: Path, extra_names: list[str]) -> bool:
    """Write tls.crt and tls.key into `directory`; False (and nothing written) when both exist already."""
    certificate_path, key_path = directory / "tls.crt", directory / "tls.key"
    if certificate_path.exists() and key_path.exists():
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    alternative_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    alternative_names += [x509.DNSName(name) for name in extra_names]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python self_signed_cert.py DIR")
    names = [name.strip() for name in os.environ.get("TLS_CERT_NAMES", "").split(",") if name.strip()]
    directory = Path(sys.argv[1])
    made = make_certificate(directory, names)
    print(f"{'made a self-signed certificate in' if made else 'kept the certificate in'} {directory}")


if __name__ == "__main__":
    main()
