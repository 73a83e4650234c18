"""The repository as a copier template: the default answers render the repository itself,
every "no" leaves no trace, a project with every part answered "no" passes its own `make test`,
and `make update-template` brings a later template version into a project its user changed.

The template is a throwaway git repository made from the working tree on the spot (copier
copies from git); nothing here touches the repository itself. These tests are the template's
own: copier leaves them out of the projects it makes.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.project import ROOT, clean_environ, copy_working_tree, working_tree_files

COPIER = [sys.executable, "-m", "copier"]
# The template's own lines, which copier consumes, and what only the template itself shows.
DIRECTIVE = re.compile(r"^\s*(# %|<!--%.*%-->\s*$)")
TEMPLATE_ONLY = re.compile(
    r"^\s*(# % if false|<!--% if false %-->)\n.*?^\s*(# % endif|<!--% endif %-->)\n",
    re.MULTILINE | re.DOTALL,
)
LEFT_OUT = {"copier.yml", ".copier-answers.yml", ".ci", "docs", "tests/template"}
NO_PARTS = {
    "project_slug": "acme-notes",
    "project_name": "Acme Notes",
    "domain": "notes.acme.test",
    "admin_email": "ops@acme.test",
    "with_example_app": "false",
    "with_swarm": "false",
    "with_bench": "false",
}
# What a part answered "no" would leave: its folder's name, in any file.
TRACES = {
    "with_example_app": re.compile(r"todo|to-do", re.IGNORECASE),
    "with_swarm": re.compile(r"swarm", re.IGNORECASE),
    "with_bench": re.compile(r"\bbench\b", re.IGNORECASE),
}
DEFAULT_NAMES = re.compile(r"django-starter|django_starter|Django Starter")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def template_repository(destination: Path) -> Path:
    """The working tree as a git repository of its own, tagged v1.0.0."""
    copy_working_tree(destination)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    git("add", "--all", cwd=destination)
    git("commit", "--quiet", "--message", "Template v1", cwd=destination)
    git("tag", "v1.0.0", cwd=destination)
    return destination


def copier_copy(template: Path, destination: Path, answers: dict[str, str]) -> Path:
    data = [arg for name, value in answers.items() for arg in ("--data", f"{name}={value}")]
    subprocess.run(
        [*COPIER, "copy", "--trust", "--defaults", *data, str(template), str(destination)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_environ(),
    )
    return destination


def make(project: Path, *targets: str, timeout: float = 1200, **environ: str):
    """The project's make targets, as its user runs them: their own shell, no virtualenv
    active, nothing on stdin; a failure shows the end of the output."""
    env = clean_environ(dotenv=True, **environ)
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["make", *targets],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result


def project_files(project: Path) -> list[str]:
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_repository(tmp_path_factory.mktemp("template"))


def test_the_default_answers_render_the_repository_itself(template, tmp_path):
    """The repository is the project of the default answers, less the template's own lines
    and files."""
    project = copier_copy(template, tmp_path / "project", {})
    expected = [
        name
        for name in working_tree_files()
        if not any(name == part or name.startswith(f"{part}/") for part in LEFT_OUT)
    ]
    assert project_files(project) == sorted([*expected, ".copier-answers.yml"])
    for name in expected:
        text = TEMPLATE_ONLY.sub("", (ROOT / name).read_text())
        lines = [line for line in text.splitlines(keepends=True) if not DIRECTIVE.match(line)]
        kept = re.sub(r"<!--%.*?%-->", "", "".join(lines))
        assert (project / name).read_text() == kept, name


@pytest.mark.parametrize(
    "answers",
    [NO_PARTS, {**NO_PARTS, "with_example_app": "true"}],
    ids=["every-part-no", "the-example-app-alone"],
)
def test_a_part_answered_no_leaves_no_trace(template, tmp_path, answers):
    """No folder, target, setting, test, README section or mention of a part left out, and
    the project's own names everywhere instead of the template's."""
    project = copier_copy(template, tmp_path / "project", answers)
    left_out = {part: trace for part, trace in TRACES.items() if answers[part] == "false"}
    for name in project_files(project):
        if name == ".copier-answers.yml":
            continue
        text = (project / name).read_text()
        for part, trace in left_out.items():
            assert not trace.search(text), f"{part}: {name} mentions {trace.search(text)[0]!r}"
        assert not DEFAULT_NAMES.search(text), f"{name}: {DEFAULT_NAMES.search(text)[0]!r}"
    assert "name: acme-notes" in (project / "compose.yaml").read_text()
    assert 'PROJECT_NAME = "Acme Notes"' in (project / "config" / "settings.py").read_text()
    example = (project / ".env.example").read_text()
    assert "DJANGO_ALLOWED_HOSTS=notes.acme.test,localhost" in example
    assert "# DJANGO_CSRF_TRUSTED_ORIGINS=https://notes.acme.test" in example
    assert "DJANGO_SUPERUSER_EMAIL=ops@acme.test" in example
    assert "PGADMIN_DEFAULT_EMAIL=ops@acme.test" in example
    assert "POSTGRES_DB=acme_notes" in example


@pytest.mark.docker
def test_a_project_with_every_part_answered_no_passes_make_test(template, tmp_path):
    """Its own `make test`, every layer (its `make run` test among them), as a user runs it
    after `git init`."""
    project = copier_copy(template, tmp_path / "acme-notes", NO_PARTS)
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--message", "Project made from the template", cwd=project)
    result = make(project, "test", timeout=2400, FAULTS_SOAK_SECONDS="10")
    summary = [line for line in result.stdout.splitlines() if re.search(r" (passed|failed)", line)]
    print("\n".join(summary))
    assert "Docker suite SKIPPED" not in result.stdout


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path} does not hold {old!r} once"
    path.write_text(text.replace(old, new))


@pytest.mark.stack
def test_update_template_brings_a_later_version_in_and_keeps_the_users_changes(template, tmp_path):
    """v1 with other answers; the user adds an app, edits a setting, deletes a file; the
    template's v2 changes a Makefile target, a setting and a compose key; `make
    update-template` merges both, with no conflict, and the project's tests pass."""
    answers = {**NO_PARTS, "with_example_app": "true"}
    project = copier_copy(template, tmp_path / "acme-notes", answers)
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--message", "Project made from the template", cwd=project)

    # The user's year with the project.
    environ = clean_environ(DJANGO_SECRET_KEY="k" * 50)
    subprocess.run(
        [sys.executable, "manage.py", "startapp", "notes"], cwd=project, env=environ, check=True
    )
    settings = project / "config" / "settings.py"
    replace_in(settings, '    "todo",', '    "notes",\n    "todo",')
    replace_in(
        settings,
        'config("DJANGO_TIME_ZONE", default="UTC")',
        'config("DJANGO_TIME_ZONE", default="Europe/Paris")',
    )
    (project / ".github" / "workflows" / "ci.yml").unlink()
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--message", "Notes, our time zone, our own CI", cwd=project)
    touched = set(git("diff", "--name-only", "HEAD~1", cwd=project).split())

    # The template's next version.
    replace_in(
        template / "Makefile", "$(COMPOSE) logs --follow", "$(COMPOSE) logs --follow --tail 200"
    )
    replace_in(
        template / "config" / "settings.py",
        'X_FRAME_OPTIONS = "DENY"',
        'X_FRAME_OPTIONS = "DENY"\nSECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"',
    )
    replace_in(
        template / "compose.yaml", "    stop_grace_period: 30s", "    stop_grace_period: 40s"
    )
    git("commit", "--quiet", "--all", "--message", "Template v2", cwd=template)
    git("tag", "v2.0.0", cwd=template)

    make(project, "update-template")

    # The template's changes arrived...
    assert "logs --follow --tail 200" in (project / "Makefile").read_text()
    assert 'SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"' in settings.read_text()
    assert "stop_grace_period: 40s" in (project / "compose.yaml").read_text()
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    # ...the user's survived...
    assert '    "notes",\n    "todo",' in settings.read_text()
    assert 'default="Europe/Paris"' in settings.read_text()
    assert (project / "notes" / "tests" / "test_app.py").exists()
    assert not (project / ".github" / "workflows" / "ci.yml").exists()
    assert "name: acme-notes" in (project / "compose.yaml").read_text()
    # ...and no file holds a conflict (the user's own ones included).
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=project)
    conflicted = [
        name
        for name in filter(None, listed.split("\0"))
        if name.endswith(".rej") or "<<<<<<<" in (project / name).read_text(errors="replace")
    ]
    assert conflicted == [], f"conflicts (the user touched {sorted(touched)})"

    # What the merge touched: the user's app and the settings (the all-no project's own
    # `make test` above runs a generated project's every test).
    tested = make(project, "lint", "test-sqlite", "ARGS=notes tests/test_settings.py")
    assert "notes/tests/test_app.py ." in tested.stdout


@pytest.mark.stack
def test_deleting_an_optional_folder_and_its_include_line_leaves_a_working_project(tmp_path):
    """In a clone of the template, the Swarm deployment and the bench are each one folder
    and one Makefile line: delete both and the project lints, lists its targets and passes
    collects its tests (nothing else imports them; without them the project's tests run in
    the all-no project's `make test`)."""
    project = copy_working_tree(tmp_path / "project")
    # The template's own tests read the template's git repository, which a copy has not; they
    # are copier's business (LEFT_OUT), not what this test is about.
    shutil.rmtree(project / "tests" / "template")
    for part in ("swarm", "bench"):
        shutil.rmtree(project / part)
        replace_in(project / "Makefile", f"include {part}/{part}.mk\n", "")
    # A clone, as users have it (the template's own tests read what git tracks).
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--message", "Without Swarm and the bench", cwd=project)
    targets = make(project, "help").stdout
    assert "make up" in targets
    assert "swarm" not in targets
    assert "bench" not in targets
    make(project, "lint")
    # Collection imports every test module, and through them the whole project.
    collected = make(project, "test-sqlite", "ARGS=--collect-only -q -m ''")
    assert re.search(r"^\d+ tests collected", collected.stdout, re.MULTILINE), collected.stdout
