"""The example app driven from outside, as a browser drives it through nginx: a list and an
item made with the site's own forms, files attached and fetched. For the tests on the
production-like stack and the Docker suite."""

import re

import requests

from harness.accounts import csrf_token


def _form(session: requests.Session, url: str, path: str, **fields) -> requests.Response:
    token = csrf_token(session.get(f"{url}{path}", timeout=10).text)
    return session.post(
        f"{url}{path}",
        data={"csrfmiddlewaretoken": token, **fields},
        headers={"Origin": url},
        allow_redirects=False,
        timeout=10,
    )


def new_item(session: requests.Session, url: str, title: str = "With a file") -> int:
    """A new list of the signed-in user with one item; the item's id."""
    made = _form(session, url, "/todo/", name="Files")
    assert made.status_code == 302, made.status_code
    list_path = made.headers["Location"]
    assert _form(session, url, list_path, title=title).status_code == 302
    found = re.search(r"/todo/items/(\d+)/edit/", session.get(f"{url}{list_path}", timeout=10).text)
    assert found, "the list shows no item"
    return int(found[1])


def upload(
    session: requests.Session, url: str, item: int, name: str, content: bytes
) -> requests.Response:
    """The item page's attachment form, posted with `content` as the file `name`."""
    page = session.get(f"{url}/todo/items/{item}/edit/", timeout=10)
    return session.post(
        f"{url}/todo/items/{item}/attachments/",
        data={"csrfmiddlewaretoken": csrf_token(page.text)},
        files={"file": (name, content, "application/octet-stream")},
        headers={"Origin": url},
        allow_redirects=False,
        timeout=120,
    )


def attachments(session: requests.Session, url: str, item: int) -> dict[str, str]:
    """The item's attachments as its page links them: {name: download path}."""
    page = session.get(f"{url}/todo/items/{item}/edit/", timeout=10).text
    return {
        name: path
        for path, name in re.findall(
            r'<a class="row-title" href="(/todo/attachments/\d+/)">([^<]*)</a>', page
        )
    }
