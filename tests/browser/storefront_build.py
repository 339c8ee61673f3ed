"""The storefront's build for the browser tests.

A test against an old build would test old code. The browser tests build the storefront
afresh for their session into a folder of their own (``build_storefront``: a few seconds),
which the gateway serves (``PASAR_STATIC_DIR``): ``storefront-vue/dist`` may be rebuilt
under a running session by anyone else working in the same tree (``scripts/run``, another
test session), whose new asset names would then be missing from the pages already loaded.
``ensure_storefront_build`` keeps ``dist/`` current for those who serve it, rebuilding it
whenever any file it is made from (the storefront's sources and configuration, the
contracts' TypeScript, the product images and channel logos it copies) changed after
``dist/index.html`` was written.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STOREFRONT = REPO / "storefront-vue"
DIST = STOREFRONT / "dist"

#: What the build is made from, relative to the repository.
SOURCES = (
    "storefront-vue/src",
    "storefront-vue/public",
    "storefront-vue/vite",
    "storefront-vue/index.html",
    "storefront-vue/vite.config.ts",
    "storefront-vue/package.json",
    "package-lock.json",
    "contracts/ts/src",
    "svc-product/src/pasar_product/demo/images",
    "svc-payment/src/pasar_payment/channel_images",
)


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from (child for child in path.rglob("*") if child.is_file())


def newest_source_time() -> float:
    """The modification time of the most recently changed source file."""
    return max((file.stat().st_mtime for source in SOURCES for file in _files(REPO / source)), default=0.0)


def build_is_current() -> bool:
    index = DIST / "index.html"
    return index.is_file() and index.stat().st_mtime >= newest_source_time()


def build_storefront(out_dir: Path) -> Path:
    """Builds the storefront from the sources as they are into out_dir; returns out_dir."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the storefront (Node.js 20.19+)")
    if not (REPO / "node_modules" / ".bin" / "vite").exists():
        raise RuntimeError("the node modules are missing: run `npm ci` at the repository root")
    out = out_dir.resolve()
    result = subprocess.run(
        [npm, "run", "--workspace", "storefront-vue", "build", "--", "--outDir", str(out), "--emptyOutDir"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not (out / "index.html").is_file():
        raise RuntimeError(f"the storefront build failed:\n{result.stdout}\n{result.stderr}")
    return out


def ensure_storefront_build() -> Path:
    """Builds the storefront into dist/ unless dist/ is newer than every source; returns dist/."""
    if build_is_current():
        return DIST
    return build_storefront(DIST)
