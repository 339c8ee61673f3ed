"""docker/storefront/nginx.conf served by a real nginx on a free loopback port.

The configuration is used as the image installs it (as /etc/nginx/conf.d/default.conf,
inside an http block like the image's nginx.conf) with three things changed, each
checked to occur exactly once: the port it listens on, the folder of the built SPA, and
the gateway's address. nginx runs in the foreground as a child of the test and is stopped
by its PID (SIGQUIT, its graceful stop).
"""

from __future__ import annotations

import getpass
import signal
import subprocess
from pathlib import Path

from deploy_tools import DeployTools
from paths import DOCKER

from pasar_testkit.ports import free_port, wait_for_port
from pasar_testkit.processes import stop_processes

CONFIG = DOCKER / "storefront" / "nginx.conf"
# What the image has and the tests change: (text in nginx.conf, replacement template).
LISTEN = "listen 8080;"
ROOT = "root /usr/share/nginx/html;"
GATEWAY = "server gateway:8080;"


def localised_config(static_dir: Path, port: int, gateway_address: str) -> str:
    text = CONFIG.read_text()
    for original in (LISTEN, ROOT, GATEWAY):
        count = text.count(original)
        if count != 1:
            raise AssertionError(f"{CONFIG} should contain {original!r} once, not {count} times")
    return (
        text.replace(LISTEN, f"listen 127.0.0.1:{port};")
        .replace(ROOT, f"root {static_dir};")
        .replace(GATEWAY, f"server {gateway_address};")
    )


def main_config(base: Path, tools: DeployTools) -> str:
    """The http block around conf.d/default.conf, as in the nginx image, with private paths."""
    temp = base / "temp"
    # As root (CI), nginx's workers would become nobody, who cannot read pytest's folders.
    return f"""
user {getpass.getuser()};
daemon off;
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log info;
events {{ worker_connections 128; }}
http {{
    include {tools.nginx_mime_types};
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    access_log {base}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {base}/conf.d/default.conf;
}}
"""


class StorefrontServer:
    """nginx with the storefront's configuration, serving static_dir and proxying to gateway_address."""

    def __init__(self, tools: DeployTools, base: Path, static_dir: Path, gateway_address: str) -> None:
        self.tools = tools
        self.base = base
        self.port = free_port()
        (base / "conf.d").mkdir(parents=True, exist_ok=True)
        (base / "temp").mkdir(exist_ok=True)
        (base / "conf.d" / "default.conf").write_text(
            localised_config(static_dir, self.port, gateway_address)
        )
        self.config = base / "nginx.conf"
        self.config.write_text(main_config(base, tools))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *extra: str) -> list[str]:
        return [
            str(self.tools.nginx),
            "-p",
            str(self.base),
            "-e",
            str(self.base / "error.log"),
            "-c",
            str(self.config),
            *extra,
        ]

    def check(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t``: nginx's own check of the configuration."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, check=False)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, timeout=20)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"nginx did not start:\n{self.error_log()}") from None

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        stop_processes([process], grace=20, stop_signal=signal.SIGQUIT)  # nginx's graceful stop

    def error_log(self) -> str:
        path = self.base / "error.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"
