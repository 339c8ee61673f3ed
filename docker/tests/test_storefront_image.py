"""The storefront image's build stage, run here step by step (image_build.py), and its result
served by the image's nginx configuration.

`npm ci` and the Vite build run in a folder that holds only what the Dockerfile copies
(through its .dockerignore): so the storefront builds from the workspaces' manifests, the
contracts' TypeScript and the services' images alone. Then the real build is served as
the image serves it: the SPA, its hashed assets cached for a year, the product images and
channel logos the services own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from deploy_tools import DeployTools
from image_build import BuiltStage, run_build_stage
from paths import DOCKER, REPO
from storefront_server import StorefrontServer

IMAGE_FOLDERS = {
    "products": REPO / "svc-product" / "src" / "pasar_product" / "demo" / "images",
    "channels": REPO / "svc-payment" / "src" / "pasar_payment" / "channel_images",
}


@pytest.fixture(scope="module")
def storefront_build(tmp_path_factory: pytest.TempPathFactory) -> BuiltStage:
    return run_build_stage(
        DOCKER / "storefront" / "Dockerfile",
        "build",
        build_args={},
        context_root=REPO,
        root=tmp_path_factory.mktemp("storefront-image"),
        # The machine's npm cache, which `npm ci` at the repository root has filled.
        caches={"npm_config_cache": str(Path.home() / ".npm")},
    )


@pytest.fixture(scope="module")
def dist(storefront_build: BuiltStage) -> Path:
    """What the final stage copies to /usr/share/nginx/html."""
    return storefront_build.path("/src/storefront-vue/dist")


@pytest.fixture(scope="module")
def served(
    tools: DeployTools, dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StorefrontServer]:
    # No gateway answers at this address: the API is not what these tests look at.
    server = StorefrontServer(tools, tmp_path_factory.mktemp("nginx"), dist, "127.0.0.1:9")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_build_context_is_enough_to_build_the_spa(dist: Path) -> None:
    index = (dist / "index.html").read_text()
    assert re.search(r'src="/assets/[^"]+\.js"', index)


@pytest.mark.parametrize("kind", IMAGE_FOLDERS)
def test_the_images_of_the_services_are_in_the_build(dist: Path, kind: str) -> None:
    owned = {path.name for path in IMAGE_FOLDERS[kind].iterdir() if path.suffix == ".svg"}
    assert owned
    assert owned <= {path.name for path in (dist / "images" / kind).iterdir()}


def test_the_image_serves_the_real_build_with_its_caching(served: StorefrontServer, dist: Path) -> None:
    index = requests.get(served.url + "/", timeout=5)
    assert index.status_code == 200
    assert index.headers["Cache-Control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
    assert assets
    for asset in assets:
        response = requests.get(served.url + asset, timeout=5)
        assert response.status_code == 200, asset
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    logo = next((dist / "images" / "channels").iterdir()).name
    response = requests.get(f"{served.url}/images/channels/{logo}", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    deep_link = requests.get(served.url + "/order/ord_0123?token=abc", timeout=5)
    assert deep_link.text == index.text
