"""Dependencies kept current and checked: Dependabot watches every kind the project pins, and
`make audit` checks the locked ones for known vulnerabilities where it can."""

import re
import socket

import yaml

from harness.project import ROOT
from scripts import audit


def test_dependabot_watches_python_packages_images_and_actions():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(watched) == {"uv", "docker", "docker-compose", "github-actions"}
    assert all(update["directory"] == "/" and update["schedule"] for update in watched.values())
    # Where each finds what it updates (Dependabot reads a literal FROM only).
    assert (ROOT / "uv.lock").exists()
    assert re.search(r"^FROM python:\S+ AS base$", (ROOT / "Dockerfile").read_text(), re.M)
    assert "image: postgres:" in (ROOT / "compose.yaml").read_text()


def test_the_audit_says_in_one_line_when_the_vulnerability_data_does_not_answer(
    tmp_path, monkeypatch, capsys
):
    """Where PyPI's vulnerability data cannot be reached, one line says so and nothing fails.
    (The audit itself runs in CI, `make audit` in .ci/run: a verdict that changes whenever an
    advisory is published has no place in a test run.)"""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(audit, "RELEASE", f"http://127.0.0.1:{port}/pypi/{{name}}/{{version}}/json")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==6.1.3 \\\n    --hash=sha256:00\n")
    assert audit.main(requirements) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("audit: SKIPPED, PyPI's vulnerability data does not answer")
