"""The packaging integrity gate: the bento holds exactly the model the lineage names."""

from pathlib import Path

from {{ cookiecutter.package }}.files import file_digest
from {{ cookiecutter.package }}.gates.base import (
    GateInputs,
    GateResult,
    fail_closed,
    read_output,
)
from {{ cookiecutter.package }}.serving.smoke import smoke_problem


def trained_model_digest(model: Path) -> str:
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing; run `dvc pull` or `dvc repro`")
    return "sha256:" + file_digest(model)


@fail_closed("packaging integrity")
def packaging(inputs: GateInputs) -> GateResult:
    """The bento serves exactly the model the lineage names, and answers a smoke request."""
    if not inputs.bento_tag:
        raise RuntimeError("no bento was built (see the 'bento build' row)")
    from {{ cookiecutter.package }}.serving.bento import bento_model_digest

    lineage = read_output(inputs.paths.lineage)
    expected = lineage["model"]["digest"]
    packed = bento_model_digest(inputs.bento_tag, lineage["model"]["tag"])
    trained = trained_model_digest(inputs.paths.model)
    smoke = (smoke_problem(inputs.server_url) or "ok") if inputs.server_url else "not served"
    problems = []
    if packed != expected:
        problems.append(f"model in bento {packed} != lineage {expected}")
    if trained != expected:
        problems.append(f"{inputs.paths.model.name} {trained} != lineage {expected}")
    if smoke != "ok":
        problems.append(f"smoke request: {smoke}")
    message = "; ".join(problems) or "the bento holds the lineage's model and answers"
    evidence = {"bento_tag": inputs.bento_tag, "bento_model_digest": packed}
    evidence |= {"lineage_model_digest": expected, "trained_model_digest": trained}
    evidence["smoke"] = smoke
    return GateResult("packaging integrity", not problems, message, evidence)
