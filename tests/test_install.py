"""``pip install tokenauth`` works on its own: the wheel carries every file of the package
(templates, static files, migrations, the Swagger UI, the gunicorn settings and the WSGI
entry), and its console script migrates, creates users and serves from any folder, with its
instance folder beside the installation (Flask's rule), not in the working directory.

The wheel is built from the package files alone and installed without dependencies into a
fresh venv that sees this venv's packages (the pinned versions), so no package index is
needed. Installing it with its dependencies from the index was checked by hand (README).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tokenauth import __version__

from .helpers import basic
from .servers import ROOT, clean_env, free_port, run_tokenauth, stop, wait_for_http

pytestmark = pytest.mark.e2e
PASSWORD = "a-long-password"


def package_files(folder: Path) -> set:
    return {str(path.relative_to(folder)) for path in (folder / "tokenauth").rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv with the tokenauth wheel installed; returns its bin folder."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tokenauth", source / "tokenauth",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
                   check=True, capture_output=True, timeout=120)
    [wheel] = dist.glob("tokenauth-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert {name for name in archive.namelist()
                if name.startswith("tokenauth/")} == package_files(source)
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    site = Path(sysconfig.get_paths(vars={"base": str(venv)})["purelib"])
    (site / "pinned-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=120)
    return venv / "bin"


def test_the_installed_package_migrates_and_serves_from_any_folder(venv, tmp_path):
    script = venv / "tokenauth"
    folders = [tmp_path / name for name in ("a", "b", "c")]
    for folder in folders:
        folder.mkdir()
    env = clean_env()
    instance = venv.parent / "var" / "tokenauth-instance"

    located = subprocess.run([str(venv / "python"), "-c",
                              "import tokenauth; print(tokenauth.__file__)"],
                             env=env, cwd=folders[0], capture_output=True, text=True, timeout=60)
    assert located.stdout.startswith(str(venv.parent))  # the wheel, not this checkout
    assert run_tokenauth("--version", env=env, cwd=folders[0], script=script).stdout == \
        f"tokenauth {__version__}\n"
    upgraded = run_tokenauth("db", "upgrade", env=env, cwd=folders[0], script=script)
    assert upgraded.stdout == (f"database sqlite:///{instance / 'tokenauth.db'} is at schema "
                               f"revision {expected_head()} (current)\n"), upgraded.stderr
    created = run_tokenauth("users", "create", "admin", "--admin", "--password-stdin",
                            env=env, cwd=folders[1], script=script, input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr

    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "w") as output:
        process = subprocess.Popen([str(script), "serve", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "1"], cwd=folders[2], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/healthz", process)
        for path in ("/login", "/static/css/tokenauth.css", "/api/v1/docs",
                     "/api/v1/docs/swagger-ui/swagger-ui-bundle.js"):
            with urllib.request.urlopen(base + path, timeout=10) as answer:
                assert answer.status == 200, path
        me = urllib.request.Request(base + "/api/v1/me", headers=basic("admin", PASSWORD))
        with urllib.request.urlopen(me, timeout=10) as answer:
            assert b'"username":"admin"' in answer.read()  # the user made from folder b
    finally:
        assert stop(process) == 0
    assert "Traceback" not in log.read_text()
    assert all(list(folder.iterdir()) == [] for folder in folders)


def expected_head() -> str:
    from tokenauth.database import expected_revisions
    (head,) = expected_revisions()
    return head
