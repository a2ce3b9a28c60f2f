"""Offline schema validation: built-in kinds with kubernetes-validate, KEDA kinds with KEDA's CRD schemas."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import kubernetes_validate

from tests.k8s.manifests import KEDA_SCHEMAS, Obj, ref

# A recent release the kubernetes-validate wheel ships schemas for.
K8S_VERSION = "1.35.0"
KEDA_API = "keda.sh/v1alpha1"


def builtin_problem(obj: Obj) -> str | None:
    """Why a built-in object fails strict validation (unknown fields included), or None."""
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return f"{ref(obj)}: {path}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return f"{ref(obj)}: {exc.message}"
    return None


def keda_problem(obj: Obj) -> str | None:
    """Why a KEDA object fails its CRD schema, closed to unknown fields, or None."""
    error = jsonschema.exceptions.best_match(_keda_validator(obj["kind"]).iter_errors(obj))
    if error is None:
        return None
    return f"{ref(obj)}: {'.'.join(str(p) for p in error.absolute_path)}: {error.message}"


@functools.cache
def _keda_validator(kind: str) -> jsonschema.protocols.Validator:
    path = KEDA_SCHEMAS / f"{kind.lower()}-keda.sh-v1alpha1.json"
    schema = close(json.loads(path.read_text(encoding="utf-8")))
    return jsonschema.validators.validator_for(schema)(schema)


def close(schema: Any) -> Any:
    """The schema with unknown properties refused wherever it lists properties.

    The API server prunes a custom resource's unknown fields silently, so a misspelt field would
    simply vanish; refusing it here makes the typo visible.
    """
    if not isinstance(schema, dict):
        return schema
    closed = dict(schema)
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        closed["properties"] = {name: close(sub) for name, sub in schema["properties"].items()}
        closed.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            closed[key] = close(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            closed[key] = [close(sub) for sub in schema[key]]
    return closed
