"""Runs the build stage of docker/python/Dockerfile on this machine, without Docker.

No Docker engine runs here, so the steps of the image's build stage are run as they are
written: the instructions are read from the Dockerfile (ARG, ENV, WORKDIR, SHELL, COPY,
RUN), COPY sees only what the Dockerfile.dockerignore lets into the build context, and
RUN commands run in the Dockerfile's own shell with the stage's environment. The one
change: the absolute folders the stage works in (/src, /opt, /wheels) are moved under a
scratch folder, and pip and npm keep download caches across runs (.tools/deploy/pip-cache,
npm's own cache) instead of none. The result is the virtual environment the final image copies.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockerfiles import BuildContext, Dockerfile, Instruction, expand, parse

STAGE_FOLDERS = re.compile(r"(?<![\w.-])/(opt|src|wheels)(?=/|\s|\"|'|$)")


@dataclass(frozen=True)
class BuiltStage:
    """What a build stage left behind, in its scratch root, and the final stage's environment."""

    root: Path
    log: str
    image_env: Mapping[str, str] = field(default_factory=dict)

    def path(self, absolute: str) -> Path:
        """Where the stage's absolute path (such as /opt/pasar) is on this machine."""
        return self.root / absolute.lstrip("/")


class StageFailed(Exception):
    """A build step failed; the message shows the step and its output."""


def _remap(text: str, root: Path) -> str:
    return STAGE_FOLDERS.sub(lambda match: f"{root}/{match.group(1)}", text)


def _python_shim(root: Path) -> Path:
    """A folder with `python` and `python3` as the base image has them: the plain interpreter."""
    shim = root / ".shim"
    shim.mkdir(parents=True, exist_ok=True)
    interpreter = getattr(sys, "_base_executable", sys.executable)
    for name in ("python", "python3"):
        link = shim / name
        if not link.exists():
            link.symlink_to(interpreter)
    return shim


def run_build_stage(
    dockerfile_path: Path,
    stage_name: str,
    *,
    build_args: Mapping[str, str],
    context_root: Path,
    root: Path,
    caches: Mapping[str, str],
) -> BuiltStage:
    """Runs the stage's steps under root; caches: environment variables that point the
    package clients at download caches kept across runs (PIP_CACHE_DIR, npm_config_cache)."""
    dockerfile: Dockerfile = parse(dockerfile_path)
    context = BuildContext.for_dockerfile(dockerfile_path, context_root)
    stage = dockerfile.stage(stage_name)
    values: dict[str, str] = {
        name: build_args.get(name, default or "") for name, default in dockerfile.global_args.items()
    }
    env: dict[str, str] = {}
    shell = ["/bin/sh", "-c"]
    workdir = root
    log: list[str] = []
    for instruction in stage.instructions:
        keyword = instruction.keyword
        if keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            values[name] = build_args.get(name, values.get(name) or default)
        elif keyword == "ENV":
            for assignment in shlex.split(instruction.arguments):
                name, _, value = assignment.partition("=")
                env[name] = values[name] = expand(value, values)
        elif keyword == "WORKDIR":
            workdir = Path(_remap(expand(instruction.arguments, values), root))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "SHELL":
            shell = instruction.exec_form or shell
        elif keyword == "COPY":
            _copy(instruction, values, context, workdir, root)
        elif keyword == "RUN":
            command = _remap(instruction.arguments, root)
            run_env = {
                "PATH": f"{_python_shim(root)}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(root / ".home"),
                **values,
                **env,
                **caches,
            }
            run_env.pop("PIP_NO_CACHE_DIR", None)
            result = subprocess.run(
                [*shell, command], cwd=workdir, env=run_env, capture_output=True, text=True, check=False
            )
            log.append(
                f"RUN (line {instruction.line}) -> {result.returncode}\n{result.stdout}{result.stderr}"
            )
            if result.returncode != 0:
                raise StageFailed(
                    f"{dockerfile_path}:{instruction.line}: RUN failed ({result.returncode})\n"
                    f"{command}\n{result.stdout}{result.stderr}"
                )
    return BuiltStage(root, "\n".join(log))


def _copy(
    instruction: Instruction, values: Mapping[str, str], context: BuildContext, workdir: Path, root: Path
) -> None:
    flags, words = instruction.flags_and_words()
    if "from" in flags:
        raise StageFailed(f"line {instruction.line}: COPY --from is not part of a build stage's own steps")
    *sources, destination_text = [expand(word, values) for word in words]
    destination = Path(_remap(destination_text, root))
    if not destination.is_absolute():
        destination = workdir / destination
    into_folder = destination_text.endswith("/") or len(sources) > 1
    for written in sources:
        source = written.strip("/") or "."
        files = context.files_under(source)
        if not files:
            raise StageFailed(
                f"line {instruction.line}: COPY {source}: nothing in the build context (missing, or "
                "excluded by the .dockerignore)"
            )
        source_path = context.root / source
        for file in files:
            if source_path.is_dir():
                target = destination / file.relative_to(source_path)
            elif into_folder:
                target = destination / file.name
            else:
                target = destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
            if "chmod" in flags:
                os.chmod(target, int(flags["chmod"], 8))


class ImageEnvironments:
    """The Python image's environment for each component, built on first use, once per session."""

    def __init__(self, scratch: Path, context_root: Path, pip_cache: Path) -> None:
        self.scratch = scratch
        self.context_root = context_root
        self.pip_cache = pip_cache
        self.built: dict[str, BuiltStage] = {}

    def build(self, component: str, folder: str, port: int) -> BuiltStage:
        """The build stage's result, with what the final stage adds from the build context
        (its COPY instructions without --from) and the final stage's ENV."""
        if component not in self.built:
            dockerfile_path = self.context_root / "docker" / "python" / "Dockerfile"
            build_args = {"COMPONENT": component, "COMPONENT_DIR": folder, "PORT": str(port)}
            root = self.scratch / component
            built = run_build_stage(
                dockerfile_path,
                "build",
                build_args=build_args,
                context_root=self.context_root,
                root=root,
                caches={"PIP_CACHE_DIR": str(self.pip_cache)},
            )
            dockerfile = parse(dockerfile_path)
            context = BuildContext.for_dockerfile(dockerfile_path, self.context_root)
            values = {
                name: build_args.get(name, default or "") for name, default in dockerfile.global_args.items()
            }
            values.update(build_args)
            image_env: dict[str, str] = {}
            for instruction in dockerfile.final.instructions:
                if instruction.keyword == "COPY" and "from" not in instruction.flags_and_words()[0]:
                    _copy(instruction, values, context, root, root)
                elif instruction.keyword == "ENV":
                    for assignment in shlex.split(instruction.arguments):
                        name, _, value = assignment.partition("=")
                        image_env[name] = _remap(
                            expand(value, {**values, "PATH": "/usr/local/bin:/usr/bin:/bin"}), root
                        )
            self.built[component] = replace(built, image_env=image_env)
        return self.built[component]
