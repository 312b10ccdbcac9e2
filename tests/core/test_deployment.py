"""Serving to a school network (README): Streamlit listens on this machine only unless told
otherwise, and the Docker image runs as a non-root account over a private data folder, published
on the host's loopback for a TLS proxy in front."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_listens_on_this_machine_only_by_default() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True


def test_docker_image_runs_unprivileged_over_a_private_folder() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    steps = [line for line in text.splitlines() if line and not line.startswith("#")]
    user = next(i for i, line in enumerate(steps) if line.startswith("USER "))
    cmd = next(i for i, line in enumerate(steps) if line.startswith("CMD "))
    assert steps[user] == "USER yardstick" and user < cmd
    assert "chmod 0700 /app/data" in text
    assert '"--server.address=0.0.0.0"' in steps[cmd]  # the container's own interface
    documented = re.findall(r"-p (\S+):8501:8501", text)
    assert set(documented) == {"127.0.0.1"}  # published on the host's loopback, for the proxy


def test_readme_says_how_to_serve_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Serving it to a school network", 1)[1].split("\n## ", 1)[0]
    needed = ["reverse_proxy 127.0.0.1:8501", "proxy_pass http://127.0.0.1:8501",
              "X-Forwarded-Proto", "YARDSTICK_SECURE_COOKIE=1", "127.0.0.1:8501:8501"]  # fmt: skip
    assert [text for text in needed if text not in section] == []
