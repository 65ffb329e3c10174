"""docker-compose.yml, checked by reading it (Docker does not run on our machines): the
services, ports, environment and volumes agree with the nginx config, the Dockerfile and
gunicorn.conf.py, and the docs say how to use it."""
from __future__ import annotations

import ipaddress
import re
import shlex
from urllib.parse import urlsplit

import pytest
import yaml

from ..servers import ROOT
from .nginx_conf import parse

COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx" / "tokenauth.conf"
GUIDE = ROOT / "docs" / "deployment.md"
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")
REPLICAS = ("tokenauth", "tokenauth2")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def nginx_conf():
    return parse(NGINX_CONF.read_text())


def interpolate(value: str, env: dict) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""
    def replace(match):
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "-":
            return rest
        raise KeyError(f"{name} is required: {rest}")
    return VARIABLE.sub(replace, value)


def upstream_servers(nginx_conf, name: str) -> list[tuple[str, int]]:
    servers = []
    for [address] in nginx_conf.one("upstream", name).values("server"):
        host, port = address.rsplit(":", 1)
        servers.append((host, int(port)))
    return servers


def mounts(service: dict) -> dict:
    """Container path -> host path of the service's bind mounts."""
    result = {}
    for volume in service.get("volumes", ()):
        source, target = volume.split(":")[:2]
        result[target] = source
    return result


def test_the_services_exist(services):
    assert {"nginx", *REPLICAS, "postgres", "redis", "echo"} <= set(services)


def test_nginx_runs_the_shipped_config_and_is_the_only_published_service(services, nginx_conf):
    nginx = services["nginx"]
    assert mounts(nginx)["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx/tokenauth.conf"
    [[listen]] = nginx_conf.one("server").values("listen")
    assert [port.split(":")[-1] for port in nginx["ports"]] == [listen]
    assert nginx["image"].startswith("nginx:")
    for name in (*REPLICAS, "postgres", "redis", "echo"):
        assert "ports" not in services[name], f"{name} must be reachable only inside"


def test_nginx_upstreams_are_the_services_on_their_ports(services, nginx_conf):
    replicas = upstream_servers(nginx_conf, "tokenauth")
    assert [host for host, _ in replicas] == list(REPLICAS)  # both replicas, in one upstream
    for host, port in replicas:
        assert services[host]["environment"]["TOKENAUTH_BIND"] == f"0.0.0.0:{port}"
    [(host, port)] = upstream_servers(nginx_conf, "product")
    assert host == "echo" and host in services
    command = services["echo"]["command"]
    assert command[command.index("--port") + 1] == str(port)
    assert command[command.index("--host") + 1] == "0.0.0.0"
    script = command[1]
    assert (ROOT / mounts(services["echo"])[script]).resolve() == ROOT / "deploy/echo_upstream.py"
    assert {*REPLICAS, "echo"} <= set(services["nginx"]["depends_on"])


def test_the_replicas_run_one_configuration_on_one_database_and_one_redis(services):
    first, second = (services[name] for name in REPLICAS)
    assert first["environment"] == second["environment"]  # same secrets, database, Redis
    assert first["build"] == second["build"]
    url = urlsplit(first["environment"]["TOKENAUTH_REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)
    for replica in (first, second):
        assert "redis" in replica["depends_on"]
    # The second starts once the first has migrated the database.
    assert second["depends_on"]["tokenauth"]["condition"] == "service_healthy"
    # Counts are short-lived: Redis keeps nothing on disk.
    command = services["redis"]["command"]
    assert command[0] == "redis-server" and "--appendonly" in command
    assert command[command.index("--save") + 1] == ""


@pytest.mark.parametrize("replica", REPLICAS)
def test_tokenauth_runs_in_production_mode_with_secrets_from_the_environment(services, replica):
    env = services[replica]["environment"]
    assert env["TOKENAUTH_ENV"] == "production"
    for name in ("TOKENAUTH_SECRET_KEY", "TOKENAUTH_TOKEN_PEPPER"):
        # Required from .env, never written here: compose refuses to start without it.
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", env[name]), env[name]
        with pytest.raises(KeyError):
            interpolate(env[name], {})


def test_tokenauth_uses_the_postgres_service(services):
    env = services["tokenauth"]["environment"]
    postgres = services["postgres"]
    url = urlsplit(interpolate(env["TOKENAUTH_DATABASE_URL"], {}))
    pg_env = {key: interpolate(value, {}) for key, value in postgres["environment"].items()}
    assert url.scheme == "postgresql+psycopg"
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert url.path == "/" + pg_env["POSTGRES_DB"]
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"]
    # The same variable sets both sides.
    chosen = {"POSTGRES_PASSWORD": "s3cret"}
    assert urlsplit(interpolate(env["TOKENAUTH_DATABASE_URL"], chosen)).password == \
        interpolate(postgres["environment"]["POSTGRES_PASSWORD"], chosen)
    assert services["tokenauth"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/var/lib/postgresql/data" in mounts(postgres)


@pytest.mark.parametrize("replica", REPLICAS)
def test_tokenauth_trusts_only_nginx(compose, services, replica):
    trusted = services[replica]["environment"]["TOKENAUTH_TRUSTED_PROXIES"]
    address = services["nginx"]["networks"]["default"]["ipv4_address"]
    assert trusted == f"{address}/32"
    [subnet] = [ipaddress.ip_network(config["subnet"])
                for config in compose["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(address) in subnet


def test_tokenauth_health_is_checked_directly_not_through_nginx(services, nginx_conf):
    for host, port in upstream_servers(nginx_conf, "tokenauth"):
        test = services[host]["healthcheck"]["test"]
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(test)
        assert services["nginx"]["depends_on"][host]["condition"] == "service_healthy"


def test_the_dockerfile_builds_what_compose_expects(services):
    build = services["tokenauth"]["build"]
    assert build["context"] == "."
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    for line in lines:
        if line.startswith("COPY "):
            *sources, _target = shlex.split(line)[1:]
            for source in sources:
                if not source.endswith("*"):  # optional files (README.md*)
                    assert (ROOT / source).exists(), f"{source} is copied but missing"
    [cmd] = [line for line in lines if line.startswith("CMD ")]
    assert "tokenauth db upgrade" in cmd and "exec tokenauth serve" in cmd
    assert "EXPOSE 8000" in lines
    assert "TOKENAUTH_BIND=0.0.0.0:8000" in dockerfile


def test_the_guide_explains_compose_and_says_what_was_run():
    assert "docs/deployment.md" in COMPOSE.read_text()
    guide = GUIDE.read_text()
    for phrase in ("docker compose up", ".env", "TOKENAUTH_SECRET_KEY", "make demo",
                   "not run", "nginx 1.22.1"):
        assert phrase in guide, phrase


def test_the_readme_points_to_compose_the_demo_and_the_guide():
    readme = (ROOT / "README.md").read_text()
    for phrase in ("docker compose up", "make demo", "docs/deployment.md",
                   "deploy/nginx/tokenauth.conf"):
        assert phrase in readme, phrase


def test_every_file_compose_mounts_exists(services):
    for service in services.values():
        for target, source in mounts(service).items():
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{source} (mounted at {target}) is missing"
