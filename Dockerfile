# The application image: gunicorn serving Django, with the static files collected in.
# Build through compose (`docker compose build`), which uses BuildKit for the cache mounts.

# The base image, named once and literally, where Dependabot finds it to update.
FROM python:3.13-slim AS base

# --- Build stage: dependencies from uv.lock into /opt/venv --------------------------------
FROM base AS build

ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --disable-pip-version-check "uv==${UV_VERSION}"

WORKDIR /app
# Only the lock and the project file: this layer is rebuilt when dependencies change, not
# when the code does. --locked fails the build on a stale lock instead of re-locking silently.
# The translations' sources (.po) go: gettext reads only their compiled .mo files, and the
# packages' .po files were 9 MB of the image.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-dev --no-install-project \
 && find /opt/venv -name '*.po' -delete

# --- Runtime stage: no compilers, no uv, a non-root user ----------------------------------
FROM base AS runtime

# The user's ids can match the developer's, so that bind mounts keep their ownership.
# No program in the image may change its user or group when run (setuid, setgid): nothing
# here needs to, and not every orchestrator applies compose's no-new-privileges.
ARG UID=1000
ARG GID=1000
RUN groupadd --gid "${GID}" app \
 && useradd --uid "${UID}" --gid app --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} +

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root: the app user can read it, not change it.
COPY . .

# Byte-compile once here rather than at every start, and collect the static files so that
# the image carries its own manifest of hashed names. The secret key below only lets the
# settings load for collectstatic; it is not used at run time. /srv/static and /srv/media stay
# empty: the static and media volumes are mounted there, and a new volume takes its owner (the
# app user) from the folder it is first mounted on.
RUN python -m compileall -q /app \
 && install -d -o app -g app /app/staticfiles /srv/static /srv/media
USER app
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v 0

EXPOSE 8001

# The same check as compose.yaml's (which says why it is bash's /dev/tcp).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --start-interval=1s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8001 && printf 'GET /health/ HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && read -r -t 4 _ status _ <&3 && [ \"$status\" = 200 ]"]

CMD ["gunicorn", "--config", "python:config.gunicorn", "config.wsgi"]
