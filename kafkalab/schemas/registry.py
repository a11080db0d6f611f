"""The schema registry through confluent-kafka's ``SchemaRegistryClient`` (Chapter 4).

The course's registry is Apicurio, which serves Confluent's REST API under ``/apis/ccompat/v7``; any client of that
API works once it has the URL. The REST calls themselves are confluent-kafka's; these functions add what the
chapter needs on top: one-line errors that quote the registry (:class:`RegistryError`, :class:`IncompatibleSchema`),
a refusal as a value for the compatibility tables (:func:`try_register`), a delete that removes a subject for good
(:func:`delete_subject`), and a subject's effective mode (:func:`compatibility`).
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from ..errors import LabError
from ..io import connection, http
from ..io.clients import quiet_imports
from .compatibility import MODES

class RegistryError(LabError):
    """An answer from the registry that is not what we asked for (``status``: its HTTP status), or no answer at all
    (``status`` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class IncompatibleSchema(RegistryError):
    """The registry refused a schema (HTTP 409): it breaks the subject's compatibility mode."""


def registry_url() -> str:
    """The Confluent-compatible API of the course's schema registry (Apicurio: ``/apis/ccompat/v7``), or the one
    ``SCHEMA_REGISTRY_URL`` names (kafkalab.io.connection)."""
    from ..cluster.services import Registry, service

    return connection.registry_url(service("registry").url + Registry.CCOMPAT)


def confluent_classes():
    """confluent-kafka's ``(SchemaRegistryClient, AvroSerializer, AvroDeserializer)``, imported without the
    deprecation warning its authlib dependency prints at import."""
    with quiet_imports():
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    return SchemaRegistryClient, AvroSerializer, AvroDeserializer


def registry_client(url: str | None = None):
    """A ``SchemaRegistryClient`` for the course's registry (or any Confluent-API registry at ``url``)."""
    SchemaRegistryClient, _, _ = confluent_classes()
    return SchemaRegistryClient(connection.registry_client_config(url or registry_url()))


def _url(registry) -> str:
    return registry.config()["url"].rstrip("/")


@contextlib.contextmanager
def _answers(registry, what: str) -> Iterator[None]:
    """Turn the client's errors into one line: the registry's own message, or that nothing answers."""
    import httpx
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    try:
        yield
    except SchemaRegistryError as e:
        kind = IncompatibleSchema if e.http_status_code == 409 else RegistryError
        raise kind(f"{what} failed: HTTP {e.http_status_code}: {e.error_message}", e.http_status_code) from None
    except httpx.TransportError as e:
        raise RegistryError(f"no schema registry answers at {_url(registry)} ({type(e).__name__}); the chapter's "
                            f"first cell starts it (`notebook.start(services=('registry',))`), or run "
                            f"`python -m kafkalab up --with registry`") from None


def _avro(schema: dict):
    from confluent_kafka.schema_registry import Schema

    return Schema(json.dumps(schema), "AVRO")


def register(registry, subject: str, schema: dict) -> int:
    """Register ``schema`` under ``subject`` and return its id (the same id if it is already registered)."""
    with _answers(registry, f"registering a schema under {subject}"):
        return registry.register_schema(subject, _avro(schema))


def try_register(registry, subject: str, schema: dict) -> tuple[bool, int | str]:
    """Register ``schema`` under ``subject``: ``(True, schema id)``, or ``(False, the registry's message)`` when it
    refuses the schema as incompatible (409). Other errors raise :class:`RegistryError`."""
    try:
        return True, register(registry, subject, schema)
    except IncompatibleSchema as e:
        return False, str(e).split(": ", 2)[-1]


def is_compatible(registry, subject: str, schema: dict) -> bool:
    """Would ``schema`` be accepted as the next version of ``subject``? (Asks the registry; registers nothing.)"""
    try:
        with _answers(registry, f"the compatibility check for {subject}"):
            return registry.test_compatibility(subject, _avro(schema))
    except RegistryError as e:
        if e.status == 404:  # no version yet: the first schema of a subject is always accepted
            return True
        raise


def writer_schema(registry, schema_id: int) -> dict:
    """The schema registered under ``schema_id`` (the client caches it: one request per id)."""
    with _answers(registry, f"looking up schema id {schema_id} (was the record written against another registry?)"):
        return json.loads(registry.get_schema(schema_id).schema_str)


def latest_schema(registry, subject: str) -> dict:
    """The newest schema registered under ``subject``."""
    with _answers(registry, f"reading the latest version of {subject}"):
        return json.loads(registry.get_latest_version(subject).schema.schema_str)


def subjects(registry, prefix: str = "") -> list[str]:
    """The registry's subjects that start with ``prefix``, sorted."""
    with _answers(registry, "listing subjects"):
        return sorted(s for s in registry.get_subjects() if s.startswith(prefix))


def versions(registry, subject: str) -> list[int]:
    """The subject's version numbers (empty if the subject does not exist)."""
    try:
        with _answers(registry, f"listing the versions of {subject}"):
            return list(registry.get_versions(subject))
    except RegistryError as e:
        if e.status == 404:
            return []
        raise


def compatibility(registry, subject: str | None = None) -> str:
    """The compatibility mode that applies to ``subject`` or, without one, the registry's global mode.

    Asked over plain HTTP with ``defaultToGlobal=true``: without it Apicurio answers NONE for a subject that has
    no setting of its own (Confluent answers 404), although the global mode is what it enforces.
    """
    if subject is None:
        with _answers(registry, "reading the registry's compatibility"):
            return registry.get_compatibility()
    body = http.call("GET", f"{_url(registry)}/config/{subject}?defaultToGlobal=true", service="the schema registry",
                     fix="start it with `python -m kafkalab up --with registry`")
    return body.get("compatibilityLevel") or body.get("compatibility")


def set_compatibility(registry, subject: str, mode: str) -> None:
    """Set ``subject``'s compatibility mode (the registry's global mode stays as it is)."""
    mode = mode.upper()
    if mode.removesuffix("_TRANSITIVE") not in MODES:
        raise LabError(f"unknown compatibility mode {mode!r}; choose one of {', '.join(MODES)}")
    with _answers(registry, f"setting {subject} to {mode}"):
        registry.set_compatibility(subject, mode)


def delete_subject(registry, subject: str) -> bool:
    """Delete ``subject`` for good (a soft delete, then a permanent one); True if it existed.

    A soft delete alone keeps the versions; the permanent one removes them and the subject's compatibility
    setting, so a re-run starts from scratch.
    """
    existed = False
    for permanent in (False, True):
        try:
            with _answers(registry, f"deleting {subject}"):
                registry.delete_subject(subject, permanent=permanent)
            existed = True
        except RegistryError as e:
            if e.status != 404:
                raise
    return existed


def try_change(registry, subject: str, mode: str, old: dict, new: dict) -> tuple[bool, str]:
    """Live: on a fresh ``subject`` in ``mode``, register ``old`` then ``new``. (accepted?, registry's message)."""
    delete_subject(registry, subject)
    set_compatibility(registry, subject, mode)
    try:
        register(registry, subject, old)
        ok, result = try_register(registry, subject, new)
    finally:
        delete_subject(registry, subject)
    return ok, "" if ok else str(result)
