"""The README's first session, run against a real server: each command prints what the
README shows, with ids and the token shortened as the README says (the same id where it
showed the same id), and times and hints left out of the comparison."""
from __future__ import annotations

import re
import subprocess

import pytest

from .servers import ROOT, TOKENAUTH, clean_env, free_port, run_tokenauth, stop, wait_for_http

pytestmark = pytest.mark.e2e


def readme_session() -> list[tuple[str, str]]:
    """(command, expected output) for each ``$`` line of the README's first session."""
    text = (ROOT / "README.md").read_text().split("### A first session", 1)[1]
    block = text.split("```console\n", 1)[1].split("\n```", 1)[0]
    steps = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append([line[2:], []])
        else:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def shorten(text: str) -> str:
    """The README's rule: ids and the token shortened to their first 4 characters and …"""
    text = re.sub(r"\b[0-9a-f]{32}\b", lambda match: match.group()[:4] + "…", text)
    return re.sub(r"\btka_([0-9A-Za-z]{4})[0-9A-Za-z]{42}\b", r"tka_\1…", text)


def placeholders(outputs: list[str]) -> list[str]:
    """Shortened ids numbered by first appearance; the token, hints and times as one each."""
    numbers = {}

    def number(match):
        return numbers.setdefault(match.group(), f"<id{len(numbers) + 1}>")

    result = []
    for text in outputs:
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)
        text = re.sub(r"tka_\.\.\.[0-9A-Za-z]{4}", "<hint>", text)
        text = re.sub(r"tka_[0-9A-Za-z]{4}…", "<token>", text)
        result.append(re.sub(r"\b[0-9a-f]{4}…", number, text))
    return result


def test_the_readme_first_session_prints_what_the_readme_shows(tmp_path):
    steps = readme_session()
    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    assert run_tokenauth("db", "upgrade", env=env, cwd=ROOT).returncode == 0
    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        server = subprocess.Popen([str(TOKENAUTH), "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "1"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        script = "".join(
            f"printf '\\n@@@\\n'\n" + command.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            .replace(".venv/bin/tokenauth", str(TOKENAUTH)) + "\n" for command, _ in steps)
        session = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, text=True,
                                 capture_output=True, timeout=120)
    finally:
        stop(server)
    assert session.stderr == ""
    outputs = [shorten(chunk.replace("\r", "").strip("\n"))
               for chunk in session.stdout.split("\n@@@\n")[1:]]
    expected = [output for _, output in steps]
    assert placeholders(outputs) == placeholders(expected)
