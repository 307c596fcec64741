"""docker-compose.yml, Dockerfile, .env.example and README.md stay true to the settings."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_env_vars() -> set[str]:
    """Every variable voipxs/settings.py reads through django-environ."""
    text = (ROOT / "voipxs" / "settings.py").read_text()
    return set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', text))


class DockerComposeTests:
    def test_it_runs_web_worker_beat_postgres_and_redis(self):
        services = compose()["services"]
        assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
        assert "gunicorn --config gunicorn.conf.py" in services["web"]["command"]
        assert services["worker"]["command"].startswith("celery -A voipxs worker")
        assert services["beat"]["command"].startswith("celery -A voipxs beat")
        assert services["postgres"]["image"] == "postgres:15"
        assert services["redis"]["image"] == "redis:7"

    def test_the_files_kept_outside_the_database_are_on_volumes(self):
        """The month-key backup (with the erasures) and the audit head witness outlive a recreated container: the
        folders settings.py puts them in by default (under VAR_DIR, /app/var in the image) are named volumes."""
        text = (ROOT / "voipxs" / "settings.py").read_text()
        services, named = compose()["services"], set(compose()["volumes"])
        for variable in ("BACKUP_KEYS_FILE", "AUDIT_HEAD_FILE"):
            folder = re.search(variable + r' = Path\(env\("' + variable + r'", default=str\(VAR_DIR / "([^"]+)"', text)
            assert folder, variable
            for name in APP_SERVICES:
                mounts = {target: source for source, target in (v.split(":", 1) for v in services[name]["volumes"])}
                assert mounts.get(f"/app/var/{folder.group(1)}") in named, (name, variable)

    def test_it_builds_one_image_with_one_environment_for_the_app(self):
        services = compose()["services"]
        images = {services[name]["image"] for name in APP_SERVICES}
        envs = [services[name]["environment"] for name in APP_SERVICES]
        assert len(images) == 1
        assert all(env == envs[0] for env in envs)
        assert envs[0]["DATABASE_URL"].startswith("postgres://") and envs[0]["REDIS_URL"].startswith("redis://")
        assert all(services[name]["build"] == "." for name in APP_SERVICES)

    def test_it_checks_the_health_of_every_service(self):
        for name, service in compose()["services"].items():
            assert service["healthcheck"]["test"], name
        assert any("/healthz" in part for part in compose()["services"]["web"]["healthcheck"]["test"])

    def test_it_starts_the_app_only_when_postgres_and_redis_are_healthy(self):
        for name in APP_SERVICES:
            depends = compose()["services"][name]["depends_on"]
            assert depends == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}

    def test_it_builds_from_python_311_slim(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
        assert "pip install --require-hashes -r requirements.lock" in dockerfile and "gunicorn" in dockerfile
        assert ".env" in (ROOT / ".dockerignore").read_text().split()


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (requirement files and pip-compile locks)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


class LockFileTests:
    """Installs take only the .lock files (every package pinned with its hashes, --require-hashes);
    a pin changed in a requirements file without `make lock` would silently not be installed."""

    @pytest.mark.parametrize("wanted, lock", [("requirements.txt", "requirements.lock"),
                                              ("requirements-dev.txt", "requirements-dev.lock")])
    def test_every_pinned_requirement_is_in_its_lock_at_the_same_version(self, wanted, lock):
        pins, locked = _pins(ROOT / wanted), _pins(ROOT / lock)
        assert pins and {name: version for name, version in pins.items() if locked.get(name) != version} == {}

    @pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
    def test_every_locked_package_has_a_hash(self, lock):
        text = (ROOT / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
        assert [b.split()[0] for b in blocks if "==" in b and "--hash=sha256:" not in b] == []

    def test_make_installs_only_with_hashes(self):
        makefile = (ROOT / "Makefile").read_text()
        installs = [line for line in makefile.splitlines() if "pip install" in line and "-r " in line]
        assert installs and all("--require-hashes" in line for line in installs)


class EnvironmentDocumentationTests:
    def test_it_finds_the_variables_of_the_settings(self):
        assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS"} <= settings_env_vars()

    def test_it_documents_every_variable_in_the_readme(self):
        readme = (ROOT / "README.md").read_text()
        missing = sorted(name for name in settings_env_vars() | {"PORT"} if f"`{name}`" not in readme)
        assert missing == [], "add these to README.md, section 'Environment variables'"

    def test_it_lists_every_variable_in_env_example(self):
        example = (ROOT / ".env.example").read_text()
        names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
        assert sorted(settings_env_vars() - names) == []


class MakefileTests:
    def _dry_run(self, target: str) -> str:
        import shutil
        import subprocess

        if shutil.which("make") is None:
            import pytest

            pytest.skip("make is not installed")
        result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def test_it_runs_each_benchmark_module(self):
        for name in ("ingest", "portal", "purge", "export", "disclosure"):
            assert f"-m bench.{name}" in self._dry_run(f"bench-{name}")

    def test_it_runs_the_whole_suite_and_the_server(self):
        assert "-m pytest" in self._dry_run("test")
        run = self._dry_run("run")
        assert "manage.py migrate" in run and "manage.py seed_demo" in run and "runserver 127.0.0.1:" in run

    def test_it_starts_celery_worker_and_beat(self):
        assert "celery -A voipxs worker" in self._dry_run("worker")
        assert "celery -A voipxs beat" in self._dry_run("beat")
