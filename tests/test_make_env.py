"""`make env`: a `.env` from `.env.example` with fresh secrets, never overwriting one."""

import stat
import subprocess
import sys

from decouple import RepositoryEnv

from harness.project import ROOT
from scripts.make_env import declared_secrets

EXAMPLE = (ROOT / ".env.example").read_text()


def make_env(target):
    return subprocess.run(
        [sys.executable, "scripts/make_env.py", "--target", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def test_the_secrets_are_declared_once_in_the_example():
    assert declared_secrets() == [
        "DJANGO_SECRET_KEY",
        "POSTGRES_PASSWORD",
        "DJANGO_DB_PASSWORD",
        "DJANGO_SUPERUSER_PASSWORD",
        "PGADMIN_DEFAULT_PASSWORD",
    ]
    for name in declared_secrets():
        assert f"\n{name}=\n" in EXAMPLE, f"{name} must be left empty in .env.example"


def test_make_env_fills_every_secret_and_keeps_the_rest_of_the_example(tmp_path):
    target = tmp_path / ".env"
    make_env(target)
    values = RepositoryEnv(str(target)).data
    generated = [values[name] for name in declared_secrets()]
    assert all(len(value) >= 32 for value in generated)
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    assert len(set(generated)) == len(generated)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # What the example shows, the .env keeps (the template's own lines aside).
    kept = [line.split("=")[0] for line in target.read_text().splitlines()]
    shown = [line.split("=")[0] for line in EXAMPLE.splitlines() if not line.startswith("# %")]
    assert kept == shown
    # The app gets a role of its own, apart from the cluster's superuser.
    assert values["POSTGRES_USER"] == "postgres"
    assert values["DJANGO_DB_USER"] not in ("", "postgres")


def test_make_env_never_overwrites_an_existing_env(tmp_path):
    target = tmp_path / ".env"
    target.write_text("DJANGO_SECRET_KEY=mine\n")
    result = make_env(target)
    assert target.read_text() == "DJANGO_SECRET_KEY=mine\n"
    assert "left unchanged" in result.stdout


def test_make_env_generates_different_secrets_each_time(tmp_path):
    make_env(tmp_path / "a.env")
    make_env(tmp_path / "b.env")
    a = RepositoryEnv(str(tmp_path / "a.env")).data
    b = RepositoryEnv(str(tmp_path / "b.env")).data
    assert all(a[name] != b[name] for name in declared_secrets())
