"""Logs on stdout: plain lines by default, one JSON object per line on request."""

import json

from harness.project import clean_environ, run_django_script


def log(**environ: str):
    return run_django_script(
        "log_two_records", env=clean_environ(DJANGO_SECRET_KEY="k" * 50, **environ)
    )


def test_json_log_format_gives_one_json_object_per_line():
    result = log(DJANGO_LOG_FORMAT="json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("WARNING", "app", "two\nlines"),
        ("ERROR", "django.request", "Internal Server Error: /x"),
    ]


def test_plain_log_format_goes_to_stdout_by_default():
    result = log()
    assert result.stdout.splitlines()[0].endswith("WARNING app two")
    assert result.stderr == ""
