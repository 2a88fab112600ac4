"""Storage locations: shape, templates, the SAS pre-check and Blob pre-flight/delivery.

``from console.storage import redact, has_signature, validate_storage_location`` keeps working:
redaction itself lives in :mod:`console.redact`, the one redaction function of the project.
Pre-flight and delivery (network, httpx) are in :mod:`console.storage.blob`.
"""

from __future__ import annotations

from console.redact import REDACTED, has_signature, redact
from console.storage.blob import Delivery, Preflight, inspect_delivery, preflight
from console.storage.location import is_blob_endpoint, is_loopback, validate_storage_location
from console.storage.sas import (
    GRAPH_ALREADY_USED_MESSAGE,
    STORAGE_LOCATION_ALREADY_USED,
    SasFinding,
    check_location,
    explain_storage_error,
    parse_query,
)
from console.storage.templates import (
    PLACEHOLDERS,
    TemplateError,
    container_safe,
    is_template,
    preview_locations,
    resolve_location,
    resolve_locations,
    valid_container_name,
)

__all__ = [
    "GRAPH_ALREADY_USED_MESSAGE",
    "Delivery",
    "Preflight",
    "PLACEHOLDERS",
    "REDACTED",
    "STORAGE_LOCATION_ALREADY_USED",
    "SasFinding",
    "TemplateError",
    "check_location",
    "container_safe",
    "explain_storage_error",
    "has_signature",
    "inspect_delivery",
    "is_blob_endpoint",
    "is_loopback",
    "is_template",
    "parse_query",
    "preflight",
    "preview_locations",
    "redact",
    "resolve_location",
    "resolve_locations",
    "valid_container_name",
    "validate_storage_location",
]
