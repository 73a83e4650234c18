"""Dependencies kept current and checked: Dependabot watches every kind the project pins, and
`make audit` checks the locked ones for known vulnerabilities where it can."""

import re
import subprocess

import yaml

from harness.project import ROOT, clean_environ


def test_dependabot_watches_python_packages_images_and_actions():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(watched) == {"uv", "docker", "docker-compose", "github-actions"}
    assert all(update["directory"] == "/" and update["schedule"] for update in watched.values())
    # Where each finds what it updates (Dependabot reads a literal FROM only).
    assert (ROOT / "uv.lock").exists()
    assert re.search(r"^FROM python:\S+ AS base$", (ROOT / "Dockerfile").read_text(), re.M)
    assert "image: postgres:" in (ROOT / "compose.yaml").read_text()
    assert list((ROOT / ".github" / "workflows").glob("*.yml"))


def test_make_audit_audits_or_says_in_one_line_why_it_cannot():
    """Here or on CI's machines: either pip-audit's verdict on every locked package, or one
    line saying that its database does not answer; a vulnerability fails it."""
    environ = clean_environ()
    environ.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["make", "--no-print-directory", "audit"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout.strip().splitlines()
    print("\n".join(output[-3:]))
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in output if line.startswith("audit: SKIPPED")]
    if skipped:
        assert len(skipped) == 1
        assert "PyPI's vulnerability data does not answer from here" in skipped[0]
    else:
        assert "No known vulnerabilities found" in result.stdout + result.stderr
