"""A local certificate authority and a certificate for the site's hosts, so that the production
stack serves https on a laptop out of the box (`make certs`, which `make up ENV=prod` runs).

Like `make env`, it never overwrites: an existing certificate (a real one dropped in, or a
renewed Let's Encrypt one) and an existing CA are kept. Files are named as nginx reads them,
and as certbot and most CAs deliver them: <certs>/fullchain.pem and <certs>/privkey.pem. The
CA lives apart (<ca>/ca.pem, <ca>/ca-key.pem): nginx never sees its key. Private keys are
mode 600. The hosts are DJANGO_ALLOWED_HOSTS (the environment, then the env file).

Usage: python scripts/make_certs.py [--certs DIR] [--ca DIR] [--hosts a,b,c]
"""

import argparse
import datetime
import ipaddress
import os
import socket
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from decouple import RepositoryEnv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOSTS = "localhost,127.0.0.1,[::1]"
# Browsers refuse server certificates valid for longer than about 13 months.
LEAF_DAYS = 397
CA_DAYS = 3650


def setting(name: str, default: str) -> str:
    """The environment first, then the env file make uses (DJANGO_ENV_FILE, else .env)."""
    if os.environ.get(name):
        return os.environ[name]
    env_file = Path(os.environ.get("DJANGO_ENV_FILE") or ROOT / ".env")
    values = RepositoryEnv(str(env_file)).data if env_file.is_file() else {}
    return values.get(name) or default


def subject_names(hosts: str) -> list[x509.GeneralName]:
    """DJANGO_ALLOWED_HOSTS as certificate names: ".example.com" is the domain and its
    subdomains, as Django reads it; "*" (any host) cannot be in a certificate."""
    names: list[x509.GeneralName] = []
    for host in (item.strip() for item in hosts.split(",")):
        if not host or host == "*":
            continue
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host.strip("[]"))))
        except ValueError:
            if host.startswith("."):
                names += [x509.DNSName(host[1:]), x509.DNSName(f"*{host}")]
            else:
                names.append(x509.DNSName(host))
    return list(dict.fromkeys(names))


def write_private(path: Path, data: bytes) -> None:
    """A new file of mode 600; never one that exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as file:
        file.write(data)


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Local development CA"),
            # Which machine made it, so that a browser's list of authorities says whose it is.
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"Local CA of {socket.gethostname()} {now:%Y-%m-%d}"[:64]
            ),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(ca_dir / "ca-key.pem", pem_key(key))
    write_public(ca_dir / "ca.pem", certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def load_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    certificate = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((ca_dir / "ca-key.pem").read_bytes(), None)
    return certificate, key


def make_leaf(certs_dir: Path, names: list[x509.GeneralName], ca: x509.Certificate, ca_key) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    first = names[0].value if names else "localhost"
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first)[:64])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    # The key first: nginx must never find a certificate without its key.
    write_private(certs_dir / "privkey.pem", pem_key(key))
    write_public(certs_dir / "fullchain.pem", certificate.public_bytes(serialization.Encoding.PEM))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=Path, default=None, help="default: NGINX_CERTS_DIR")
    parser.add_argument("--ca", type=Path, default=ROOT / "local-ca")
    parser.add_argument("--hosts", default=None, help="default: DJANGO_ALLOWED_HOSTS")
    args = parser.parse_args(argv)
    certs_dir = args.certs or ROOT / setting("NGINX_CERTS_DIR", "certs")
    hosts = args.hosts or setting("DJANGO_ALLOWED_HOSTS", DEFAULT_HOSTS)

    present = [name for name in ("fullchain.pem", "privkey.pem") if (certs_dir / name).exists()]
    if present:
        if len(present) == 1:
            print(f"{certs_dir}: {present[0]} without its pair; add it or remove both")
            return 1
        print(f"{certs_dir}: kept (delete fullchain.pem and privkey.pem for a new certificate)")
        return 0
    names = subject_names(hosts)
    if not names:
        print(f"no host of DJANGO_ALLOWED_HOSTS={hosts!r} can be in a certificate")
        return 1
    if (args.ca / "ca.pem").exists():
        ca, ca_key = load_ca(args.ca)
    else:
        ca, ca_key = make_ca(args.ca)
    make_leaf(certs_dir, names, ca, ca_key)
    listed = ", ".join(str(name.value) for name in names)
    print(f"{certs_dir}: a certificate for {listed}, signed by the local CA {args.ca}/ca.pem")
    print(
        f"To trust it in a browser, import {args.ca}/ca.pem as an authority (Firefox: Settings, "
        "Certificates; Chrome: Settings, Privacy and security, Manage certificates)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
