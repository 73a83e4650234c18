"""What `make bench` loads: the ceilings (nginx serving a file, a hello view under the same
gunicorn and nginx) and the product's pages, each with the check that its answer is the
right one."""

import re
from dataclasses import dataclass, field

import requests

from bench.product import EMPTY_PATH
from bench.report import Target
from harness.accounts import Account, create_account, sign_in

STATIC_BARE, HELLO_DIRECT, HELLO = "nginx-static-bare", "hello-direct", "hello"
SIGNED_IN_EMPTY = "signed-in-empty"


@dataclass(frozen=True)
class Expect:
    """The right answer of a scenario: its status (the only one that counts as a success under
    load), and, checked once before the load, a text it contains or its exact length (a
    redirect to the sign-in page, say, would be fast and wrong)."""

    status: int = 200
    contains: str = ""
    length: int | None = None

    def __call__(self, response: requests.Response) -> str | None:
        """What is wrong with `response`, if anything."""
        if response.status_code != self.status:
            return f"status {response.status_code}, expected {self.status}"
        if self.contains and self.contains not in response.text:
            return f"no {self.contains!r} in the response"
        if self.length is not None and len(response.content) != self.length:
            return f"{len(response.content)} bytes, expected {self.length}"
        return None


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    ceiling: str | None  # the scenario whose rps this one is divided by
    target: Target | None
    check: Expect
    headers: dict[str, str] = field(default_factory=dict)
    app: int | None = None  # the pid of the gunicorn master that serves it (None: nginx alone)
    # Run again at half its best rate, open loop (bench/steady.py), with this goal if any.
    fixed_rate: bool = False
    fixed_rate_target: Target | None = None


def scenarios(stack, hello, bare: str) -> list[Scenario]:
    login = requests.get(f"{stack.url}/admin/login/", timeout=10).text
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login)
    if not css:
        raise RuntimeError("the admin login page links no hashed base.css")
    asset = css[1]
    found = [
        Scenario(STATIC_BARE, f"{bare}{asset}", None, None, Expect()),
        Scenario(
            HELLO_DIRECT,
            f"{hello.direct_url}/",
            None,
            None,
            Expect(contains="Hello"),
            app=hello.gunicorn_pid,
        ),
        Scenario(
            HELLO,
            f"{hello.url}/",
            HELLO_DIRECT,
            # What nginx's hop may cost at most.
            Target(min_ratio=0.90),
            Expect(contains="Hello"),
            app=hello.gunicorn_pid,
            fixed_rate=True,
        ),
        Scenario("static", f"{stack.url}{asset}", STATIC_BARE, Target(min_ratio=0.9), Expect()),
        Scenario(
            "health",
            f"{stack.url}/health/",
            HELLO,
            Target(min_ratio=0.6),
            Expect(contains='"database": "ok"'),
            app=stack.gunicorn_pid,
            fixed_rate=True,
        ),
        Scenario(
            "admin-login",
            f"{stack.url}/admin/login/",
            HELLO,
            None,
            Expect(contains="Django administration"),
            app=stack.gunicorn_pid,
            fixed_rate=True,
        ),
        signed_in_empty(stack),
    ]
    # % if with_example_app
    from bench.todo_scenarios import todo_scenarios

    found += todo_scenarios(stack, bare)
    # % endif
    return found


def signed_in_empty(stack) -> Scenario:
    """A signed-in page that renders nothing (bench/product/urls.py), divided by the hello
    view: what sessions, authentication and the middleware cost on every page."""
    account = create_account(stack.env, "bench-empty")
    return Scenario(
        SIGNED_IN_EMPTY,
        f"{stack.url}/{EMPTY_PATH}",
        HELLO,
        None,
        Expect(contains="ok"),
        signed_in_cookie(stack.url, account),
        app=stack.gunicorn_pid,
        fixed_rate=True,
    )


def signed_in_cookie(url: str, account: Account) -> dict[str, str]:
    """The Cookie header of a browser signed in as `account` at `url`, for wrk's requests."""
    session, _ = sign_in(url, account)
    cookies = session.cookies.get_dict()
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def selected(found: list[Scenario], only: str) -> list[Scenario]:
    """The scenarios named in `only` (all when empty) and the ceilings they are divided by."""
    if not only:
        return found
    wanted = set(only.split(","))
    by_name = {scenario.name: scenario for scenario in found}
    unknown = wanted - by_name.keys()
    if unknown:
        raise SystemExit(
            f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(by_name)}"
        )
    changed = True
    while changed:
        ceilings = {by_name[name].ceiling for name in wanted} - {None}
        changed = not ceilings <= wanted
        wanted |= ceilings
    return [scenario for scenario in found if scenario.name in wanted]
