"""Every path the project reads or writes, and the params, in one place."""

import os
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

PACKAGE = "{{ cookiecutter.package }}"
PROJECT = "{{ cookiecutter.project }}"
# The BentoML service, and so the bento, carry the project's name.
SERVICE_NAME = PROJECT
PACKAGE_DIR = Path(__file__).resolve().parent
# The deployment environments and the risk tiers: every other module reads them here.
Environment = Literal["staging", "production"]
RiskTier = Literal["low", "high"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
RISK_TIERS: tuple[str, ...] = get_args(RiskTier)
MANIFEST_DIR = "deploy"


def manifest_relative(environment: str) -> str:
    """`deploy/<env>.yaml`, relative to the repository root: the one place it is spelled."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {environment!r}; one of {', '.join(ENVIRONMENTS)}")
    return f"{MANIFEST_DIR}/{environment}.yaml"


def deployed_lineage_relative(environment: str) -> str:
    """`deploy/lineage/<env>.json`: the lineage of what the manifest serves, committed with it."""
    manifest_relative(environment)  # the same check of the name
    return f"{MANIFEST_DIR}/lineage/{environment}.json"


def rendered_relative(environment: str) -> str:
    """`deploy/k8s/<env>`: the Kubernetes objects rendered from the manifest, committed with it."""
    manifest_relative(environment)  # the same check of the name
    return f"{MANIFEST_DIR}/k8s/{environment}"


def raw_data_relative(params: dict[str, Any]) -> str:
    """params.yaml `data.raw`: the one setting that names the data (dvc.yaml reads it too)."""
    data = params.get("data")
    raw = data.get("raw") if isinstance(data, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(
            "params.yaml data.raw must name the raw data file, e.g. data/raw/breast_cancer.csv"
        )
    if Path(raw).is_absolute() or ".." in Path(raw).parts:
        raise ValueError(f"params.yaml data.raw must be a path inside the repository, not {raw!r}")
    return raw


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder upwards holding dvc.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists():
            return folder
    raise FileNotFoundError(
        f"no dvc.yaml in {here} or above; run this command inside the {PROJECT} repository"
    )


class Paths:
    """Repository-relative locations, resolved against one root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.params = root / "params.yaml"
        self.dvc_lock = root / "dvc.lock"
        self.requirements_lock = root / "requirements.lock"
        self.features_dir = root / "data" / "features"
        self.train_features = self.features_dir / "train.parquet"
        self.eval_features = self.features_dir / "eval.parquet"
        self.eval_raw = self.features_dir / "eval_raw.parquet"
        self.predictions = root / "data" / "predictions" / "eval.parquet"
        self.model = root / "models" / "model.joblib"
        self.lineage = root / "models" / "lineage.json"
        self.reference = root / "models" / "reference.json"
        self.monitor_reports = root / "reports" / "monitor"
        self.labels_dir = root / "monitoring" / "labels"
        self.metrics = root / "metrics" / "metrics.json"
        self.validation_report = root / "reports" / "validate.json"
        self.reports_dir = root / "reports"
        self.deploy_dir = root / MANIFEST_DIR

    @property
    def raw_data(self) -> Path:
        """The raw table named by params.yaml `data.raw` (read when asked, not at start)."""
        return self.root / raw_data_relative(load_params(self.params))

    def manifest(self, environment: str) -> Path:
        return self.root / manifest_relative(environment)

    def deployed_lineage(self, environment: str) -> Path:
        return self.root / deployed_lineage_relative(environment)


@cache
def paths() -> Paths:
    return Paths(find_root())


class ProjectFileError(ValueError):
    """A file of the project is broken (not YAML or JSON, or not the shape it must have).

    The message names the file and what to do; the command line prints it as
    one line, never a traceback (cli.main).
    """


def yaml_problem(error: Exception) -> str:
    """A YAML parser's error on one line: what is wrong, and where."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def load_params(path: Path | None = None) -> dict[str, Any]:
    import yaml  # here, not at the top: the CLI starts without it

    params_file = path or paths().params
    try:
        params = yaml.safe_load(params_file.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{params_file} is missing; restore it from git") from None
    except yaml.YAMLError as error:
        raise ProjectFileError(
            f"{params_file} is not valid YAML: {yaml_problem(error)}; fix it, or restore it "
            "from git"
        ) from None
    if not isinstance(params, dict):
        raise ProjectFileError(f"{params_file} must hold a mapping of stage names to settings")
    return params


def use_project_model_store(root: Path) -> None:
    """Keep BentoML's model and bento store inside the repository (git-ignored).

    Each checkout then has its own store, so two projects (or two test runs)
    never see each other's models. An explicit BENTOML_HOME still wins; an
    empty one (how a workflow passes an unset variable) does not.
    """
    if not os.environ.get("BENTOML_HOME"):
        os.environ["BENTOML_HOME"] = str(root / ".bentoml")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
