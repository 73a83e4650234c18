"""HTTPS in production: the base compose file alone (`make up ENV=prod`), with a certificate
that `make certs` made, in a compose project of the suite's own (<project>-tls).

What a user and a scanner meet: TLS 1.0 and 1.1 refused (by a client that does offer them),
1.2 and 1.3 accepted, HTTP/2 by ALPN, sessions resumed, plain http redirected to the https
port, HSTS and Secure cookies, the admin signed in to by Chromium trusting the local CA. And
around Let's Encrypt, which CI cannot reach: the ACME challenge path served from the volume
certbot shares, and a certificate replaced under load, picked up without a failed request.
"""

import json
import os
import re
import secrets
import ssl
import time
from http import HTTPStatus

import pytest
import requests
from playwright.sync_api import expect

from harness.accounts import Account, sign_in
from harness.browser import home_trusting, launch_chromium
from harness.compose import MIGRATE, PROD, Compose, docker
from harness.project import ROOT
from harness.tls import (
    Certificates,
    client,
    handshake,
    health_load_over_https,
    legacy_client,
    make_certificates,
    permissive_server,
    replace_certificate,
)
from harness.waiting import wait_until

pytestmark = pytest.mark.docker

CERTBOT = ("compose.certbot.yaml",)
LEGACY = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1}
CURRENT = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    made = make_certificates(tmp_path_factory.mktemp("tls") / "certs")
    if os.geteuid() == 0:
        # As on a laptop: the files belong to whoever ran `make certs`, the key is theirs
        # alone (mode 600), and nginx's master, root with DAC_OVERRIDE alone, still reads it.
        for name in ("fullchain.pem", "privkey.pem"):
            os.chown(made.directory / name, 4242, 4242)
    assert (made.directory / "privkey.pem").stat().st_mode & 0o777 == 0o600
    return made


@pytest.fixture(scope="module")
def stack(compose_env_file, certificates):
    """The production stack, migrated, looking for a new certificate every second."""
    compose = Compose(
        "tls",
        compose_env_file,
        files=PROD,
        settings={
            "NGINX_CERTS_DIR": str(certificates.directory),
            "NGINX_CERT_CHECK_SECONDS": "1",
        },
    )
    compose.run("build", timeout=900)
    compose.down(volumes=True, files=PROD + MIGRATE)
    try:
        compose.up()
        compose.migrate()
        yield compose
    finally:
        compose.run("down", "--volumes", "--remove-orphans", files=PROD + MIGRATE, check=False)


def superuser(compose: Compose) -> Account:
    values = compose.values
    return Account(values["DJANGO_SUPERUSER_USERNAME"], values["DJANGO_SUPERUSER_PASSWORD"])


def https_port(stack: Compose) -> int:
    return stack.ports["NGINX_HTTPS_PORT"]


def test_https_serves_the_app_with_the_certificate_of_the_folder(stack, certificates):
    health = requests.get(f"{stack.https_url()}/health/", verify=certificates.ca, timeout=10)
    assert health.status_code == HTTPStatus.OK
    assert health.json()["database"] == "ok"
    served = handshake(https_port(stack), client(certificates.ca))
    assert served.serial == certificates.serial()
    # By address too (no SNI): 127.0.0.1 is one of the hosts the certificate holds.
    by_address = requests.get(
        f"{stack.https_url('127.0.0.1')}/health/", verify=certificates.ca, timeout=10
    )
    assert by_address.status_code == HTTPStatus.OK


def test_plain_http_is_redirected_to_the_https_port_but_for_health_and_acme(stack):
    port = https_port(stack)
    for claim in ({}, {"X-Forwarded-Proto": "https"}):  # nobody in front is trusted
        plain = requests.get(
            f"{stack.url()}/accounts/login/?next=/admin/",
            headers=claim,
            allow_redirects=False,
            timeout=10,
        )
        assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY, claim
        assert plain.headers["Location"] == (
            f"https://127.0.0.1:{port}/accounts/login/?next=/admin/"
        )
    localhost = requests.get(
        f"{stack.url()}/", headers={"Host": "localhost"}, allow_redirects=False, timeout=10
    )
    assert localhost.headers["Location"] == f"https://localhost:{port}/"
    health = requests.get(f"{stack.url()}/nginx-health", allow_redirects=False, timeout=10)
    assert health.status_code == HTTPStatus.OK


def test_tls_1_0_and_1_1_are_refused_and_1_2_and_1_3_accepted(stack, certificates, capsys):
    results = {}
    # The legacy client offers what it says: a Python server that allows it agrees to it.
    with permissive_server(certificates) as port:
        for name, version in LEGACY.items():
            assert handshake(port, legacy_client(version)).version == name
    for name, version in LEGACY.items():
        with pytest.raises(ssl.SSLError) as refused:
            handshake(https_port(stack), legacy_client(version))
        # nginx's own answer (a protocol_version alert), not a failure of the client.
        assert refused.value.reason in {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}
        results[name] = f"refused ({refused.value.reason})"
    for name, version in CURRENT.items():
        context = client(certificates.ca)
        context.minimum_version = context.maximum_version = version
        agreed = handshake(https_port(stack), context)
        assert agreed.version == name
        results[name] = "accepted"
    with capsys.disabled():
        print(f"\n  [tls] compose, nginx: {results}")


def test_alpn_negotiates_http2(stack, certificates):
    port = https_port(stack)
    assert handshake(port, client(certificates.ca, alpn=["h2", "http/1.1"])).alpn == "h2"
    assert handshake(port, client(certificates.ca, alpn=["http/1.1"])).alpn == "http/1.1"


@pytest.mark.parametrize("version", CURRENT)
def test_tls_sessions_are_resumed(stack, certificates, version):
    context = client(certificates.ca)
    context.minimum_version = context.maximum_version = CURRENT[version]
    first = handshake(https_port(stack), context)
    again = handshake(https_port(stack), context, session=first.session)
    assert (first.reused, again.reused) == (False, True)


def test_https_pages_carry_hsts_and_secure_cookies_and_the_superuser_signs_in(stack, certificates):
    page = requests.get(f"{stack.https_url()}/accounts/login/", verify=certificates.ca, timeout=10)
    # Staged (config/settings.py): an hour, until the operator raises it.
    assert page.headers["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert re.search(r"csrftoken=[^;]+;.*Secure", page.headers["Set-Cookie"])

    session = requests.Session()
    # requests would take REQUESTS_CA_BUNDLE over the session's own CA.
    session.trust_env = False
    session.verify = certificates.ca
    session, signed_in = sign_in(
        stack.https_url(), superuser(stack), path="/admin/login/", next="/admin/", session=session
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    assert re.search(r"sessionid=[^;]+;.*Secure", signed_in.headers["Set-Cookie"])
    assert "Site administration" in session.get(f"{stack.https_url()}/admin/", timeout=10).text


@pytest.mark.browser
def test_chromium_trusting_the_local_ca_signs_in_to_the_admin_over_https(
    stack, certificates, playwright, tmp_path
):
    """A browser that imported the CA, as `make certs` tells the user to: no certificate
    error is ignored, so a wrong certificate fails the page load."""
    home = home_trusting(certificates.ca, tmp_path / "home")
    account = superuser(stack)
    browser = launch_chromium(playwright, home=home)
    try:
        page = browser.new_context().new_page()
        response = page.goto(f"{stack.https_url()}/admin/login/?next=/admin/")
        assert response.status == HTTPStatus.OK
        assert response.headers["strict-transport-security"].startswith("max-age=")
        page.get_by_label("Username").fill(account.username)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("Site administration")).to_be_visible()
        assert page.url == f"{stack.https_url()}/admin/"
        assert page.evaluate("window.isSecureContext") is True
    finally:
        browser.close()


def test_the_acme_challenge_path_is_served_from_the_shared_volume_on_plain_http(stack):
    """What certbot's webroot plugin writes into the volume, Let's Encrypt fetches over plain
    http: served, not redirected, and not refused as a dotfile."""
    token, content = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    image = stack.inspect("nginx", "{{.Config.Image}}")
    docker(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        "-v",
        f"{stack.name}_acme-challenge:/var/www/acme",
        image,
        "-c",
        'mkdir -p /var/www/acme/.well-known/acme-challenge && printf %s "$2" > '
        '"/var/www/acme/.well-known/acme-challenge/$1"',
        "-",
        token,
        content,
    )
    answer = requests.get(
        f"{stack.url()}/.well-known/acme-challenge/{token}", allow_redirects=False, timeout=10
    )
    assert answer.status_code == HTTPStatus.OK
    assert answer.text == content
    missing = requests.get(
        f"{stack.url()}/.well-known/acme-challenge/nothing", allow_redirects=False, timeout=10
    )
    assert missing.status_code == HTTPStatus.NOT_FOUND


def test_the_certbot_file_is_valid_and_shares_the_webroot_and_the_certificates(stack):
    def services(*profile: str) -> dict:
        config = stack.run(*profile, "config", "--format", "json", files=PROD + CERTBOT)
        return json.loads(config.stdout)["services"]

    # Off unless its profile is asked for.
    assert "certbot" not in services()
    config = services("--profile", "letsencrypt")
    mounts = {
        service: {mount["target"]: mount.get("source") for mount in config[service]["volumes"]}
        for service in ("certbot", "nginx")
    }
    assert mounts["certbot"]["/var/www/acme"] == mounts["nginx"]["/var/www/acme"]
    assert mounts["certbot"]["/certs"] == mounts["nginx"]["/etc/nginx/certs"]
    assert config["certbot"]["entrypoint"] == ["/bin/sh", "/docker/certbot/renew.sh"]
    renew = (ROOT / "docker" / "certbot" / "renew.sh").read_text()
    assert "--webroot-path /var/www/acme" in renew
    assert "--deploy-hook /docker/certbot/deploy-hook.sh" in renew


def test_a_certificate_replaced_under_load_is_served_without_a_failed_request(
    stack, certificates, capsys
):
    """As certbot's deploy hook replaces the files: nginx, looking every second, reloads, and
    the old workers finish what they serve. Twice, so that the watcher outlives a reload. A
    keep-alive connection idle in an old worker is closed; the client sends its next GET
    again on a new one, as browsers do (harness/load.py counts those)."""
    port = https_port(stack)
    pickups = []
    with health_load_over_https(stack.https_url(), certificates) as load:
        time.sleep(2)
        for _ in range(2):
            before = handshake(port, client(certificates.ca)).serial
            new = replace_certificate(certificates)
            replaced = time.monotonic()  # the files in place (making them took a moment before)
            assert new != before
            wait_until(
                lambda new=new: handshake(port, client(certificates.ca)).serial == new,
                timeout=20,
                interval=0.1,
                message="nginx did not serve the new certificate",
            )
            pickups.append(time.monotonic() - replaced)
            time.sleep(2)
    with capsys.disabled():
        print(
            f"\n  [tls] compose, certificate replaced twice under load: {load.summary()}; "
            f"new certificate served after {', '.join(f'{s:.1f}s' for s in pickups)}"
        )
    assert load.failures() == []
    assert len(load.outcomes) > 100
    # At most the connections that were idle in an old worker when it stopped, per reload.
    assert load.retried <= load.connections * 2
    assert stack.logs().count("the certificate changed: nginx reloaded") == 2
