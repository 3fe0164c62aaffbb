"""deploy/ and the README agree: the image installs what the README installs, runs the bot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _readme_command(marker: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->", 1)[1]
    return re.search(r"```sh\n(.+?)\n```", block, re.S).group(1).strip()  # type: ignore[union-attr]


def _pip_install(command: str) -> str:
    """The pip install arguments, without the editable flag and the venv path."""
    match = re.search(r"pip install ([^&]+)", command)
    assert match, command
    return match.group(1).replace("-e ", "").strip()


def test_dockerfile_installs_exactly_what_the_readme_installs() -> None:
    """The image's pip install is the README's first command's (so CI exercises it)."""
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    docker_pip = re.search(r"/opt/venv/bin/pip install ([^\\\n]+)", dockerfile)
    assert docker_pip
    assert docker_pip.group(1).strip() == _pip_install(_readme_command("main-command"))
    assert "torch==2.13.0" in docker_pip.group(1)


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    """Non-root user, healthcheck through `python -m bot health` (the running bot's gateway
    state; `bot check` loaded a second index and called a disconnected bot healthy), bot as
    the command."""
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert re.search(r"HEALTHCHECK .*\n\s+CMD python -m bot health", dockerfile)
    assert "bot check" not in dockerfile.split("HEALTHCHECK", 1)[1]
    assert 'CMD ["python", "-m", "bot"]' in dockerfile


def test_compose_runs_the_bot_with_postgres_and_volumes() -> None:
    """Compose has the bot and a PostgreSQL service, each with a named volume."""
    compose = (REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert "image: postgres" in compose
    assert "postgresql+psycopg://" in compose
    assert "pgdata:/var/lib/postgresql/data" in compose
    assert "dockerfile: deploy/Dockerfile" in compose


def test_compose_needs_a_password_and_has_no_default() -> None:
    """Every ${POSTGRES_PASSWORD} in compose.yaml stops `up` when it is unset (`:?`) instead of
    falling back to a known password, and the file says the password must be URL-safe (it is
    pasted into DATABASE_URL)."""
    compose = (REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    settings = "\n".join(line for line in compose.splitlines()
                         if not line.lstrip().startswith("#"))
    uses = re.findall(r"\$\{POSTGRES_PASSWORD([^}]*)\}", settings)
    assert len(uses) == 2 and all(use.startswith(":?") for use in uses), uses
    assert "change-me" not in compose
    assert "URL-safe" in compose


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="no docker-compose here")
def test_compose_itself_refuses_to_start_without_a_password(tmp_path: Path) -> None:
    """`docker-compose config` (what `up` interpolates first) fails naming POSTGRES_PASSWORD
    when it is unset, and with one puts it into the bot's DATABASE_URL."""
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x\n", encoding="utf-8")
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}

    def config(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker-compose", "-f", "deploy/compose.yaml", "config"],
                              cwd=tmp_path, env={**env, **extra}, capture_output=True,
                              text=True, timeout=60, check=False)

    unset = config()
    assert unset.returncode != 0 and "set POSTGRES_PASSWORD" in unset.stderr
    assert "change-me" not in unset.stdout + unset.stderr
    given = config(POSTGRES_PASSWORD="c0ffee42")
    assert given.returncode == 0, given.stderr
    assert "postgresql+psycopg://summit:c0ffee42@db:5432/summitdesk" in given.stdout


def test_systemd_unit_gives_the_check_time_and_keeps_its_data_dir() -> None:
    """The check before the start may re-embed the library: no 90 s default start timeout.
    DATA_DIR comes from the unit, and .env.example (copied to the unit's EnvironmentFile,
    which overrides Environment=) does not set it."""
    unit = (REPO / "deploy" / "summit-desk.service").read_text(encoding="utf-8")
    timeout = re.search(r"^TimeoutStartSec=(\S+)$", unit, re.M)
    assert timeout and (timeout.group(1) == "infinity" or timeout.group(1).endswith(("h", "min")))
    assert "Environment=DATA_DIR=/var/lib/summit-desk" in unit
    assert "EnvironmentFile=/etc/summit-desk.env" in unit
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert not re.search(r"^DATA_DIR=", example, re.M)
    assert re.search(r"^# DATA_DIR=\./data$", example, re.M)


def test_systemd_unit_runs_the_checked_bot() -> None:
    """The unit checks the set-up before starting `python -m bot`, from the README's venv."""
    unit = (REPO / "deploy" / "summit-desk.service").read_text(encoding="utf-8")
    assert "ExecStartPre=/opt/summit-desk/.venv/bin/python -m bot check" in unit
    assert "ExecStart=/opt/summit-desk/.venv/bin/python -m bot" in unit
    assert ".venv" in _readme_command("main-command")


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run extracts and runs the README's test command, with a live PostgreSQL."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci
    assert "TEST_DATABASE_URL" in ci
    assert "pytest" in _readme_command("test-command")


def _copied_paths(dockerfile: str) -> set[str]:
    """What the Dockerfile's COPY instructions take from the build context."""
    paths: set[str] = set()
    for match in re.finditer(r"^COPY (?!--from)(.+)$", dockerfile, re.M):
        paths.update(part.rstrip("/") for part in match.group(1).split()[:-1])
    return paths


def test_dockerfile_takes_its_base_image_as_a_build_argument() -> None:
    """`ARG BASE_IMAGE` (default python:3.11-slim) feeds FROM, for machines without Docker Hub."""
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim\nFROM \$\{BASE_IMAGE\}$", dockerfile, re.M)


def test_no_package_index_is_left_in_the_image_environment() -> None:
    """The torch index reaches pip through one RUN, never ENV (CI also inspects the image)."""
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    env_blocks = re.findall(r"^ENV (?:.*\\\n)*.*$", dockerfile, re.M)
    assert env_blocks
    for block in env_blocks:
        assert not re.search(r"PIP_\w*(INDEX|FIND_LINKS|CERT|TRUSTED)|TORCH_INDEX|PROXY|"
                             r"127\.0\.0\.1|localhost", block, re.I), block


def test_dockerignore_admits_only_what_the_image_copies() -> None:
    """.dockerignore excludes everything, then re-admits exactly the Dockerfile's COPY sources."""
    lines = [line.strip() for line in
             (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    admitted = {line[1:] for line in lines if line.startswith("!")}
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert admitted == _copied_paths(dockerfile)


def test_ci_compose_override_changes_only_the_images() -> None:
    """CI brings up deploy/compose.yaml itself; its override only names locally built images."""
    override = (REPO / "deploy" / "ci" / "compose.ci.yaml").read_text(encoding="utf-8")
    lines = [line for line in override.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "services:"
    for line in lines[1:]:
        assert re.fullmatch(r"  (db|bot):|    image: \$\{SUMMIT_CI_\w+_IMAGE:\?[^}]*\}", line), line


def test_ci_builds_the_image_from_the_commit_after_the_tests() -> None:
    """.ci/run calls .ci/docker-smoke after the README's tests and mypy; it builds from
    `git archive HEAD` and smoke-tests with no network."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index('bash -euo pipefail -c "$TEST_COMMAND"') < ci.index(".venv/bin/mypy") \
        < ci.index("bash .ci/docker-smoke")
    smoke = (REPO / ".ci" / "docker-smoke").read_text(encoding="utf-8")
    assert "git archive HEAD" in smoke
    assert "--network=none" in smoke
    assert "compose.yaml" in smoke and "down -v" in smoke
