"""One request record as the service takes it: the contract's fields, as a pydantic model."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from {{ cookiecutter.package }}.contract import Contract, Feature


def record_field(feature: Feature) -> tuple[Any, Any]:
    """A field's type and constraints: a bounded float, a listed value, or any string.

    A nullable field may be null (imputed as in training) but never omitted.
    """
    if feature.numeric:
        kind: Any = float
        constraints = Field(ge=feature.min, le=feature.max)
    else:
        kind = Literal[feature.values] if feature.values else str
        constraints = Field()
    return (kind | None if feature.nullable else kind), constraints


def record_model(contract: Contract) -> type[BaseModel]:
    """The pydantic model of one request record: the same names, ranges and values.

    Extra fields are refused and NaN/inf rejected, so nothing outside the
    contract reaches the model.
    """
    fields: dict[str, Any] = {
        name: record_field(feature) for name, feature in contract.features.items()
    }
    config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    model: type[BaseModel] = create_model("Record", __config__=config, **fields)
    return model
