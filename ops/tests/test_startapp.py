"""`manage.py startapp` makes an app from the project's skeleton: lint-clean as it comes, with
a first test that pytest collects."""

import secrets
import subprocess
import sys

from harness.project import ROOT, clean_environ, manage


def test_a_new_app_passes_lint_and_brings_a_collected_test(tmp_path):
    # A name no app of the project has (startapp refuses one that can be imported).
    name = f"app{secrets.token_hex(4)}"
    target = tmp_path / name
    target.mkdir()
    manage("startapp", name, str(target), env=clean_environ(DJANGO_SECRET_KEY="k" * 50))
    files = sorted(str(path.relative_to(target)) for path in target.rglob("*.py"))
    assert files == [
        "__init__.py",
        "admin.py",
        "apps.py",
        "migrations/__init__.py",
        "models.py",
        "tests/__init__.py",
        "tests/test_app.py",
        "urls.py",
        "views.py",
    ]
    camel_case = name.title().replace("_", "")  # as startapp spells the class
    assert f"class {camel_case}Config(AppConfig):" in (target / "apps.py").read_text()
    # With the project's own ruff settings, as `make lint` runs them.
    for command in (["check"], ["format", "--check"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--config", str(ROOT / "pyproject.toml"), "."],
            cwd=target,
            capture_output=True,
            text=True,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(target),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "tests/test_app.py::test_the_app_is_installed" in collected.stdout, collected.stdout
