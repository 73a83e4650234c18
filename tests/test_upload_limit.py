"""One setting, DJANGO_MAX_UPLOAD_MB, sets both limits on uploads: Django's form refuses a
larger file, and nginx (docker/nginx/upload-limit.sh) a request body larger than that plus
1 MB for the rest of the form, with the same default."""

import re
import subprocess

import pytest

from harness.project import clean_environ
from harness.stack import UPLOAD_LIMIT_SCRIPT, write_runtime_files
from tests.test_settings import KEY, settings_of


def nginx_limit_mb(tmp_path, value: str | None) -> int:
    conf = write_runtime_files(tmp_path, max_upload_mb=value) / "upload-limit.conf"
    found = re.search(r"^client_max_body_size (\d+)m;$", conf.read_text(), re.MULTILINE)
    assert found, conf.read_text()
    return int(found[1])


@pytest.mark.parametrize("value", [None, "1", "25", "500"])
def test_nginx_takes_a_body_one_mb_larger_than_django_takes_a_file(tmp_path, value):
    environ = {"DJANGO_MAX_UPLOAD_MB": value} if value else {}
    django = settings_of("MAX_UPLOAD_MB", **KEY, **environ)["MAX_UPLOAD_MB"]
    assert nginx_limit_mb(tmp_path, value) == django + 1


@pytest.mark.parametrize("value", ["0", "ten", "-5", "1.5"])
def test_nginx_refuses_to_start_on_a_value_django_would_not_take_either(tmp_path, value):
    result = subprocess.run(
        ["sh", str(UPLOAD_LIMIT_SCRIPT)],
        env=clean_environ(NGINX_RUNTIME_DIR=str(tmp_path), DJANGO_MAX_UPLOAD_MB=value),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_MAX_UPLOAD_MB" in result.stderr
    assert not (tmp_path / "upload-limit.conf").exists()
