"""Deploy: manifests, reconciling an environment to its manifest, targets, canary.

`deploy/<env>.yaml` is the source of truth for what serves where; a target
(`targets/local.py` on this machine, `targets/kubernetes.py` at scale) makes it so.
"""


class DeployError(RuntimeError):
    """The deploy stopped before moving traffic: nothing changed."""
