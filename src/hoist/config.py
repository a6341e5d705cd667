"""Configuration: ``hoist.toml`` (optional) overridden by ``HOIST_*`` variables, validated once into a
frozen ``Settings``. With no file Hoist runs on the embedded default: SQLite and a blob folder under
``./hoist-data``, registries ``dev`` and ``prod``, environments ``dev → uat → preprod → prod``.

``load_settings`` reports every bad key at once (``ConfigError.problems``), which ``hoist config
check`` prints.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from hoist.domain.access import DEFAULT_ROLES, AccessPolicy, Role, check_targets, parse_permissions
from hoist.domain.advisories import Severity
from hoist.domain.errors import InvalidInput, InvalidName
from hoist.domain.names import validate_registry_name
from hoist.domain.policy import AttestationRequirement, EnvironmentPolicy, Gates, Policy, RegistryPolicy, TrustedBuilder
from hoist.domain.retention import RetentionRules
from hoist.domain.versions import Channel

GiB = 1024**3


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?")


class ServerSection(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    data_dir: str = "./hoist-data"
    database_url: str | None = None
    storage_dir: str | None = None  # holds blobs/ and uploads/; default: data_dir
    # blobs in S3 instead (s3://bucket/prefix); endpoint, region and keys: these or the standard
    # AWS variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = Field(None, repr=False)
    max_upload_bytes: int = Field(16 * GiB, ge=1)
    workers: int | None = Field(None, ge=1, le=64)  # default: one per core
    fsync: bool = True
    token_secret: str | None = Field(None, min_length=32)
    signing_key: str | None = None  # the server's private key (PEM); default: made once in data_dir
    # hoist serve redirects blob downloads to a sendfile server on this port; default: port + 1; 0: off
    blob_port: int | None = Field(None, ge=0, le=65535)
    blob_url: str | None = None  # the blob server's public base URL (behind a proxy); default: the request's host
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: text at a terminal, JSON lines otherwise
    shutdown_grace: int = Field(30, ge=1, le=3600)  # seconds a stop waits for requests and downloads under way

    @field_validator("storage_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value is not None and not _S3_URL.fullmatch(value):
            raise ValueError(f"must look like s3://bucket/prefix (a bucket name: 3-63 of a-z, 0-9, '.', '-'), not {value!r}")
        return value


def _requirements(value: list[str]) -> list[str]:
    for item in value:
        try:
            AttestationRequirement.parse(item)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
    return value


class GateSection(_Model):
    attestations: list[str] = []

    @field_validator("attestations")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        return _requirements(value)


class RetentionSection(_Model):
    max_age_days: int | None = Field(None, ge=1)
    keep_last: int | None = Field(None, ge=1)
    keep_releases: int | None = Field(None, ge=1)
    snapshot_days: int | None = Field(None, ge=1)
    sealed_min_days: int = Field(0, ge=0)
    trash_days: int = Field(7, ge=0)


class GlobalRetentionSection(_Model):
    rollback_window: int = Field(3, ge=1, le=100)


class MaintenanceSection(_Model):
    every_hours: float = Field(0, ge=0)  # >0: hoist serve runs retention, purge, gc and drills this often


class UploadsSection(_Model):
    expire_hours: float = Field(24, gt=0)  # an upload nothing was written to for this long is discarded


class RegistrySection(_Model):
    direct_push: bool = True
    overwrite_snapshots: bool = False
    seal_on_promotion: bool = True
    movable_tags: bool = False
    allow_delete: bool = False
    trusted_keys: list[str] = []
    require_signature: bool = False
    require_signature_to_pull: bool = False
    require_sbom: bool = False
    trusted_builders: list[str] = []  # key:NAME, robot:NAME, robot:NAME@PROJECT
    anonymous_read: bool = False
    max_severity: Literal["none", "low", "medium", "high", "critical"] | None = None
    promote_from: list[str] = []
    promotion: GateSection = GateSection()
    retention: RetentionSection = RetentionSection()

    @field_validator("trusted_builders")
    @classmethod
    def _builders(cls, value: list[str]) -> list[str]:
        problems = []
        for item in value:
            try:
                TrustedBuilder.parse(item)
            except InvalidInput as exc:
                problems.append(exc.message)
        if problems:
            raise ValueError("; ".join(problems))
        return value


class EnvironmentSection(_Model):
    registry: str
    requires_previous: bool = True
    attestations: list[str] = []
    approvals: int = Field(0, ge=0, le=20)
    robots_may_approve: StrictBool = False  # an approval is a human decision unless this says otherwise

    @field_validator("attestations")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        return _requirements(value)


class RoleSection(_Model):
    description: str = ""
    permissions: list[str]

    @field_validator("permissions")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        try:
            parse_permissions(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value


class CeilingSection(_Model):
    snapshot: str | None = None
    rc: str | None = None
    release: str | None = None


class FileModel(_Model):
    server: ServerSection = ServerSection()
    keys: dict[str, str] = {}
    registries: dict[str, RegistrySection] | None = None
    environments: dict[str, EnvironmentSection] | None = None
    ceilings: CeilingSection = CeilingSection()
    roles: dict[str, RoleSection] = {}
    retention: GlobalRetentionSection = GlobalRetentionSection()
    maintenance: MaintenanceSection = MaintenanceSection()
    uploads: UploadsSection = UploadsSection()


DEFAULT_REGISTRIES: dict[str, RegistrySection] = {
    "dev": RegistrySection(
        direct_push=True,
        overwrite_snapshots=True,
        seal_on_promotion=False,
        movable_tags=True,
        allow_delete=True,
        retention=RetentionSection(snapshot_days=14, max_age_days=90, keep_last=10, trash_days=7),
    ),
    "prod": RegistrySection(
        direct_push=False,
        seal_on_promotion=True,
        promote_from=["dev"],
        promotion=GateSection(attestations=["unit-tests"]),
        retention=RetentionSection(sealed_min_days=365, trash_days=30),
    ),
}
DEFAULT_ENVIRONMENTS: dict[str, EnvironmentSection] = {
    "dev": EnvironmentSection(registry="dev"),
    "uat": EnvironmentSection(registry="dev"),
    "preprod": EnvironmentSection(registry="prod"),
    "prod": EnvironmentSection(registry="prod", attestations=["acceptance"], approvals=1),
}
DEFAULT_CEILINGS = {Channel.SNAPSHOT: "dev", Channel.RC: "uat", Channel.RELEASE: "prod"}


@dataclass(frozen=True, slots=True)
class S3Access:
    """What the config says about reaching S3; None: the standard AWS variables (boto3 reads them)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)  # never shown, never logged


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    database_url: str
    storage_dir: Path
    max_upload_bytes: int
    workers: int
    fsync: bool
    token_secret: str | None
    signing_key: Path | None
    blob_port: int | None  # None: hoist serve picks port + 1 (for_serving); 0: no blob server
    blob_url: str | None
    log_format: str
    shutdown_grace: int
    maintenance_hours: float
    upload_expire_hours: float
    policy: Policy
    access: AccessPolicy
    keys: dict[str, Path]
    source: Path | None = None
    storage_url: str | None = None  # s3://bucket/prefix: blobs in S3 (storage_dir then holds none)
    s3: S3Access | None = None

    def for_serving(self) -> Settings:
        """What ``hoist serve`` runs: the sendfile blob server on the next port unless ``blob_port``
        names one or is 0. Only serve starts that server, so only serve may make blob GETs redirect to it."""
        if self.blob_port is not None:
            return self
        return dataclasses.replace(self, blob_port=self.port + 1 if self.port < 65535 else 0)


# Variables that override the file, and the [server] key each one sets.
ENVIRONMENT_VARIABLES = {
    "HOIST_HOST": "host",
    "HOIST_PORT": "port",
    "HOIST_DATA_DIR": "data_dir",
    "HOIST_DATABASE_URL": "database_url",
    "HOIST_STORAGE_DIR": "storage_dir",
    "HOIST_STORAGE_URL": "storage_url",
    "HOIST_MAX_UPLOAD_BYTES": "max_upload_bytes",
    "HOIST_WORKERS": "workers",
    "HOIST_FSYNC": "fsync",
    "HOIST_TOKEN_SECRET": "token_secret",
    "HOIST_SIGNING_KEY": "signing_key",
    "HOIST_BLOB_PORT": "blob_port",
    "HOIST_BLOB_URL": "blob_url",
    "HOIST_LOG_FORMAT": "log_format",
    "HOIST_SHUTDOWN_GRACE": "shutdown_grace",
}


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the file (if any), then ``HOIST_*`` variables, then explicit overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    if config_file is None and env.get("HOIST_CONFIG"):
        config_file = Path(env["HOIST_CONFIG"])
    raw: dict[str, Any] = {}
    if config_file is not None:
        try:
            raw = tomllib.loads(config_file.read_text())
        except FileNotFoundError:
            raise ConfigError([f"{config_file}: no such file"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{config_file}: not valid TOML: {exc}"]) from None
    server_raw = raw.get("server", {})
    if isinstance(server_raw, dict):
        server = dict(server_raw)
        for var, key in ENVIRONMENT_VARIABLES.items():
            if env.get(var):
                server[key] = env[var]
        for key, value in (overrides or {}).items():
            if value is not None:
                server[key] = value
        raw = {**raw, "server": server}
    # Every problem at once: the schema's, and the references between sections (checked on the raw
    # data, so that a section with a typo still has its references checked).
    problems = _references(raw)
    try:
        model = FileModel.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors()] + problems
    if problems:
        raise ConfigError(problems)
    return _settings(model, config_file)


def _references(raw: Mapping[str, Any]) -> list[str]:
    """Names are valid, and every registry, environment and ceiling named somewhere exists."""
    registries = _table(raw, "registries", {n: r.model_dump() for n, r in DEFAULT_REGISTRIES.items()})
    keys = _table(raw, "keys", {})
    environments = _table(raw, "environments", {n: e.model_dump() for n, e in DEFAULT_ENVIRONMENTS.items()})
    ceilings = _table(raw, "ceilings", {})
    problems: list[str] = []
    for name, reg in registries.items():
        _check_name(name, f"registries.{name}", "registry", problems)
        sources = reg.get("promote_from") if isinstance(reg, dict) else None
        problems += [
            f"registries.{name}.promote_from: unknown registry {src!r}{_replaced(raw, src)}"
            for src in (sources if isinstance(sources, list) else [])
            if src not in registries
        ]
        trusted = reg.get("trusted_keys") if isinstance(reg, dict) else None
        problems += [
            f"registries.{name}.trusted_keys: unknown key {key!r} (define it under [keys])"
            for key in (trusted if isinstance(trusted, list) else [])
            if key not in keys
        ]
        problems += _builder_keys(name, reg.get("trusted_builders") if isinstance(reg, dict) else None, keys)
        requires = isinstance(reg, dict) and (reg.get("require_signature") or reg.get("require_signature_to_pull"))
        if requires and not trusted:
            problems.append(f"registries.{name}: requiring signatures needs trusted_keys")
    for name, path in keys.items():
        _check_name(name, f"keys.{name}", "key", problems)
        if isinstance(path, str) and not Path(path).is_file():
            problems.append(f"keys.{name}: no public key file at {path}")
    for name, env in environments.items():
        _check_name(name, f"environments.{name}", "environment", problems)
        target = env.get("registry") if isinstance(env, dict) else None
        if isinstance(target, str) and target not in registries:
            problems.append(f"environments.{name}.registry: unknown registry {target!r}{_replaced(raw, target)}")
    if not environments:
        problems.append("environments: at least one environment is needed")
    problems += _role_references(_table(raw, "roles", {}), registries, environments)
    for channel in Channel:
        chosen = ceilings.get(channel.value)
        if chosen is None and DEFAULT_CEILINGS[channel] not in environments and environments:
            problems.append(
                f"ceilings.{channel.value}: the default {DEFAULT_CEILINGS[channel]!r} is not an environment here; set it"
            )
        elif isinstance(chosen, str) and chosen not in environments:
            problems.append(f"ceilings.{channel.value}: unknown environment {chosen!r}")
    return problems


def _builder_keys(registry: str, builders: object, keys: dict[str, Any]) -> list[str]:
    """``key:NAME`` builders name keys under [keys] (the syntax itself is the schema's check)."""
    return [
        f"registries.{registry}.trusted_builders: unknown key {item[4:]!r} in {item!r} (define it under [keys])"
        for item in (builders if isinstance(builders, list) else [])
        if isinstance(item, str) and item.startswith("key:") and item[4:] and item[4:] not in keys
    ]


def _replaced(raw: Mapping[str, Any], registry: object) -> str:
    """Why a default registry is unknown: a [registries] table replaces the defaults, it does not merge."""
    if "registries" not in raw or registry not in DEFAULT_REGISTRIES:
        return ""
    defaults = ", ".join(DEFAULT_REGISTRIES)
    fix = "define it too" + ("" if "environments" in raw else ", or define [environments] reading your registries")
    return f" (defining [registries] replaces the default registries ({defaults}): {fix})"


def _role_references(roles: dict[str, Any], registries: dict[str, Any], environments: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, role in roles.items():
        _check_name(name, f"roles.{name}", "role", problems)
        permissions = role.get("permissions") if isinstance(role, dict) else None
        try:
            parsed = parse_permissions(
                p for p in (permissions if isinstance(permissions, list) else []) if isinstance(p, str)
            )
        except InvalidInput:
            continue  # reported by the schema check
        try:
            check_targets(parsed, registries, environments)
        except InvalidInput as exc:
            problems.append(f"roles.{name}.permissions: {exc.message}")
    return problems


def _table(raw: Mapping[str, Any], key: str, default: dict[str, Any]) -> dict[str, Any]:
    value = raw.get(key, default)
    return value if isinstance(value, dict) else {}


def _describe(err: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in err["loc"])
    message = str(err["msg"])
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{key}: {message}"


def _settings(model: FileModel, source: Path | None) -> Settings:
    registries = model.registries if model.registries is not None else DEFAULT_REGISTRIES
    environments = model.environments if model.environments is not None else DEFAULT_ENVIRONMENTS
    ceilings = {c: getattr(model.ceilings, c.value) or DEFAULT_CEILINGS[c] for c in Channel}
    server = model.server
    data_dir = Path(server.data_dir)
    try:
        policy = Policy(
            registries={n: _registry_policy(n, r) for n, r in registries.items()},
            environments=tuple(_environment_policy(n, e) for n, e in environments.items()),
            ceilings=ceilings,
            rollback_window=model.retention.rollback_window,
        )
    except InvalidInput as exc:  # cross-checks the domain makes on top of the above
        raise ConfigError([exc.message]) from None
    return Settings(
        host=server.host,
        port=server.port,
        data_dir=data_dir,
        database_url=server.database_url or f"sqlite:///{(data_dir / 'hoist.db').resolve()}",
        storage_dir=Path(server.storage_dir) if server.storage_dir else data_dir,
        max_upload_bytes=server.max_upload_bytes,
        workers=server.workers or min(os.cpu_count() or 1, 64),
        fsync=server.fsync,
        token_secret=server.token_secret,
        signing_key=Path(server.signing_key) if server.signing_key else None,
        blob_port=server.blob_port,
        blob_url=server.blob_url,
        log_format=server.log_format,
        shutdown_grace=server.shutdown_grace,
        maintenance_hours=model.maintenance.every_hours,
        upload_expire_hours=model.uploads.expire_hours,
        policy=policy,
        access=AccessPolicy(
            roles={
                **DEFAULT_ROLES,
                **{n: Role(n, parse_permissions(r.permissions), r.description) for n, r in model.roles.items()},
            },
            anonymous_read=frozenset(n for n, r in registries.items() if r.anonymous_read),
        ),
        keys={name: Path(path) for name, path in model.keys.items()},
        source=source,
        storage_url=server.storage_url,
        s3=S3Access(server.s3_endpoint_url, server.s3_region, server.s3_access_key_id, server.s3_secret_access_key)
        if server.storage_url
        else None,
    )


def _check_name(name: str, key: str, what: str, problems: list[str]) -> None:
    try:
        validate_registry_name(name, what)
    except InvalidName as exc:
        problems.append(f"{key}: {exc.message}")


def _registry_policy(name: str, section: RegistrySection) -> RegistryPolicy:
    return RegistryPolicy(
        name=name,
        direct_push=section.direct_push,
        overwrite_snapshots=section.overwrite_snapshots,
        seal_on_promotion=section.seal_on_promotion,
        movable_tags=section.movable_tags,
        allow_delete=section.allow_delete,
        trusted_keys=tuple(section.trusted_keys),
        require_signature=section.require_signature,
        require_signature_to_pull=section.require_signature_to_pull,
        require_sbom=section.require_sbom,
        trusted_builders=tuple(TrustedBuilder.parse(b) for b in section.trusted_builders),
        max_severity=Severity.parse(section.max_severity) if section.max_severity else None,
        promote_from=tuple(section.promote_from),
        promotion_gates=Gates(tuple(AttestationRequirement.parse(a) for a in section.promotion.attestations)),
        retention=RetentionRules(**section.retention.model_dump()),
    )


def _environment_policy(name: str, section: EnvironmentSection) -> EnvironmentPolicy:
    return EnvironmentPolicy(
        name=name,
        registry=section.registry,
        requires_previous=section.requires_previous,
        gates=Gates(tuple(AttestationRequirement.parse(a) for a in section.attestations), section.approvals),
        robots_may_approve=section.robots_may_approve,
    )
