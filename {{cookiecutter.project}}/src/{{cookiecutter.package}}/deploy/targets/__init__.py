"""Where a deploy runs: one interface, one class per target, chosen by one setting.

`deploy --target` (DEPLOY_TARGET; deploy.yml reads the repository variable)
names one of TARGETS, and every command that acts on a deployed environment
(`deploy`, `status`, `stop`) goes through the class it names. A new target (a
shadow deployment, Argo Rollouts) is one more class with these three methods
and one more line in TARGETS.
"""

from collections.abc import Iterator
from importlib import import_module
from typing import Protocol, runtime_checkable

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.deploy import DeployError


@runtime_checkable
class Target(Protocol):
    """Make an environment what deploy/<env>.yaml says, report it, stop it.

    Each method returns the lines to show; `deploy` yields them as it goes (a
    canary is watched for minutes), and raises DeployError when it stops.
    """

    def deploy(self, environment: str, revert_failed_canary: bool) -> Iterator[str]: ...

    def status(self, environment: str) -> list[str]: ...

    def stop(self, environment: str) -> list[str]: ...


# Imported only when chosen: the local target needs psutil and httpx, the
# Kubernetes one only kubectl.
TARGETS = {
    "local": "{{ cookiecutter.package }}.deploy.targets.local:Local",
    "kubernetes": "{{ cookiecutter.package }}.deploy.targets.kubernetes:Kubernetes",
}


def choose(name: str, p: Paths) -> Target:
    """The target called `name`, for the project at `p`."""
    if name not in TARGETS:
        raise DeployError(f"no deploy target {name!r}: choose one of {', '.join(TARGETS)}")
    module, _, class_name = TARGETS[name].partition(":")
    target: Target = getattr(import_module(module), class_name)(p)
    return target
