"""How the course reaches Kafka: the ONE place that reads the connection, and its translation for every client.

A connection is a bootstrap address plus, optionally, a Java-style client properties file: what Kafka's own tools
take with ``--command-config`` and what managed services hand out. The environment names both:

* ``KAFKA_BOOTSTRAP_SERVERS`` — the cluster (unset: the course's embedded cluster, no security);
* ``KAFKA_CLIENT_CONFIG`` — the path of the properties file, e.g. the one ``python -m kafkalab up --secure``
  writes for each of its users::

      security.protocol=SASL_SSL
      sasl.mechanism=SCRAM-SHA-512
      sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="...";
      ssl.truststore.type=PEM
      ssl.truststore.location=/path/to/ca.pem

Each client family spells the same settings differently; :class:`Connection` translates:

==================  ==========================================================================================
kafka-python        :meth:`Connection.kafka_python`: ``security_protocol``, ``sasl_mechanism``,
                    ``sasl_plain_username``/``sasl_plain_password`` (for SCRAM too), ``ssl_cafile`` (PEM)
confluent-kafka     :meth:`Connection.librdkafka`: ``sasl.username``/``sasl.password``, ``ssl.ca.location``
Quix Streams        :meth:`Connection.quix`: a ``ConnectionConfig`` built from the librdkafka settings
Flink SQL           :meth:`Connection.flink`: ``properties.*`` options; Flink shades the Kafka client, so the
                    login module is ``org.apache.flink.kafka.shaded.org.apache.kafka...ScramLoginModule``
Kafka Connect       :meth:`Connection.connect_worker`: the worker's keys plus ``producer.``, ``consumer.`` and
                    ``admin.`` copies for the clients its connectors use
Kafka's tools,      :meth:`Connection.command_config`: a properties file (``--command-config``, the same option in
Java apps           every tool since Kafka 4.2); :meth:`Connection.java` the same keys as a dict
==================  ==========================================================================================

Only the connection's own keys (security protocol, SASL, TLS trust) reach the Python clients; other keys of the
file (``acks``, ``session.timeout.ms`` ...) go to the Java clients only. The schema registry is read here too:
``SCHEMA_REGISTRY_URL`` and ``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`` (``user:password``).
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import bootstrap_servers, settings
from ..errors import LabError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
#: SASL mechanisms the Python clients can speak with a user name and password, and their JAAS login modules.
LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}
#: Flink's Kafka connector relocates the Kafka client's classes under this package.
FLINK_SHADED_PREFIX = "org.apache.flink.kafka.shaded."
#: Keys of a client config file that paths name (resolved against the file's folder when relative).
PATH_KEYS = ("ssl.truststore.location", "ssl.keystore.location")
#: What each family of clients gets from the file besides the translated keys: nothing for Python clients.
CONNECTION_KEYS = ("security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.type",
                   "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
                   "ssl.endpoint.identification.algorithm")


# ----------------------------------------------------------------------------------------------- parsing
def parse_properties(text: str) -> dict[str, str]:
    """A Java ``.properties`` text as a dict: ``key=value`` or ``key: value`` lines, ``#``/``!`` comments, and
    lines continued with a trailing backslash (the forms client config files use)."""
    out: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.strip()
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = ""
        if not line or line[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
        else:
            out[line] = ""
    return out


def parse_jaas(text: str) -> tuple[str, dict[str, str]]:
    """``sasl.jaas.config`` as (login module class, options): ``Module required key="value" key2='v';``."""
    m = re.match(r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b(.*?);?\s*$", text, re.S)
    if not m:
        raise LabError(f"sasl.jaas.config is not a JAAS line (`<LoginModule class> required username=\"...\" "
                       f"password=\"...\";`): {_mask(text)}")
    options = {}
    for om in re.finditer(r"([\w.-]+)\s*=\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([^\s;]+))", m.group(3)):
        value = om.group(2) if om.group(2) is not None else om.group(3) if om.group(3) is not None else om.group(4)
        options[om.group(1)] = re.sub(r"\\(.)", r"\1", value) if om.group(2) is not None else value
    return m.group(1), options


def jaas_line(module: str, username: str, password: str) -> str:
    """The ``sasl.jaas.config`` value for a user name and password (quotes in them escaped)."""
    def q(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"{module} required username={q(username)} password={q(password)};"


def _mask(text: str) -> str:
    return re.sub(r"(password\s*=\s*)(\"[^\"]*\"|'[^']*'|\S+)", r"\1***", text)[:200]


def _same_servers(a: str, b: str) -> bool:
    norm = lambda s: {x.strip().replace("localhost:", "127.0.0.1:") for x in s.split(",") if x.strip()}  # noqa: E731
    return norm(a) == norm(b)


# ----------------------------------------------------------------------------------------------- the connection
@dataclass(frozen=True)
class Connection:
    """A bootstrap address and the client properties that go with it (empty: PLAINTEXT, no login)."""

    bootstrap: str
    properties: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None  # the file the properties came from

    @classmethod
    def from_file(cls, bootstrap: str, path: str | Path) -> Connection:
        """Read a client properties file; relative paths in it are taken from the file's folder."""
        path = Path(path).expanduser()
        try:
            text = path.read_text()
        except OSError as e:
            raise LabError(f"cannot read the client config {path} ({e.strerror or e}); check KAFKA_CLIENT_CONFIG "
                           f"(python -m kafkalab up --secure prints the course's)") from None
        props = parse_properties(text)
        props.pop("bootstrap.servers", None)  # the address comes from KAFKA_BOOTSTRAP_SERVERS (or the caller)
        for key in PATH_KEYS:
            if props.get(key) and not Path(props[key]).expanduser().is_absolute():
                props[key] = str((path.parent / props[key]).resolve())
        conn = cls(bootstrap, props, path.resolve())
        conn.check()
        return conn

    # -- what the properties say
    @property
    def protocol(self) -> str:
        return self.properties.get("security.protocol", "PLAINTEXT").strip().upper()

    @property
    def secured(self) -> bool:
        return self.protocol != "PLAINTEXT"

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def mechanism(self) -> str | None:
        return self.properties.get("sasl.mechanism", "GSSAPI").strip().upper() if self.uses_sasl else None

    @property
    def login(self) -> tuple[str, dict[str, str]] | None:
        jaas = self.properties.get("sasl.jaas.config")
        return parse_jaas(jaas) if jaas else None

    @property
    def username(self) -> str | None:
        return self.login[1].get("username") if self.uses_sasl and self.login else None

    @property
    def password(self) -> str | None:
        return self.login[1].get("password") if self.uses_sasl and self.login else None

    @property
    def check_hostname(self) -> bool:
        """Java's ``ssl.endpoint.identification.algorithm`` (default https); an empty value turns it off."""
        return self.properties.get("ssl.endpoint.identification.algorithm", "https").strip().lower() == "https"

    def describe(self) -> str:
        """One line for messages: where and how, never the password."""
        if not self.secured:
            return f"{self.bootstrap} (PLAINTEXT)"
        who = f", user {self.username}" if self.username else ""
        how = f"{self.protocol}" + (f" {self.mechanism}" if self.uses_sasl else "")
        return f"{self.bootstrap} ({how}{who})"

    def check(self) -> None:
        """Refuse settings no client of the course could use, with the fix (the file is read once per client)."""
        where = f" in {self.source}" if self.source else ""
        if self.protocol not in PROTOCOLS:
            raise LabError(f"security.protocol={self.protocol}{where} is not one of {', '.join(PROTOCOLS)}")
        if self.uses_sasl:
            if self.mechanism not in LOGIN_MODULES:
                raise LabError(f"sasl.mechanism={self.mechanism}{where}: the course's clients log in with a user name "
                               f"and password ({', '.join(LOGIN_MODULES)}); set sasl.mechanism to the one your "
                               f"cluster enables")
            if not self.login:
                raise LabError(f"security.protocol={self.protocol}{where} needs sasl.jaas.config with the user name "
                               f"and password: {jaas_line(LOGIN_MODULES[self.mechanism], 'NAME', 'PASSWORD')}")
            module, options = self.login
            expected = LOGIN_MODULES[self.mechanism]
            if module.removeprefix(FLINK_SHADED_PREFIX) != expected:
                raise LabError(f"sasl.jaas.config{where} uses {module} but sasl.mechanism={self.mechanism} needs "
                               f"{expected}")
            if not options.get("username") or "password" not in options:
                raise LabError(f"sasl.jaas.config{where} names no username or password")
        store = self.properties.get("ssl.truststore.type", "JKS").strip().upper()
        if self.uses_tls and self.properties.get("ssl.truststore.location") and store != "PEM":
            if not Path(self.properties["ssl.truststore.location"]).exists():
                raise LabError(f"the truststore {self.properties['ssl.truststore.location']}{where} does not exist")
        if self.uses_tls and store == "PEM" and self.properties.get("ssl.truststore.location"):
            if not Path(self.properties["ssl.truststore.location"]).exists():
                raise LabError(f"the CA file {self.properties['ssl.truststore.location']}{where} does not exist")

    # -- the CA, for clients that read PEM
    def ca_file(self) -> str | None:
        """A PEM file of the certificates to trust, or None for the system's default ones."""
        if not self.uses_tls:
            return None
        store = self.properties.get("ssl.truststore.type", "JKS").strip().upper()
        location = self.properties.get("ssl.truststore.location")
        inline = self.properties.get("ssl.truststore.certificates")
        if store == "PEM" and location:
            return location
        if store == "PEM" and inline:
            return str(_private_copy("ca", inline.replace("\\n", "\n"), ".pem"))
        if location:
            raise LabError(f"the Python clients read a CA only as PEM, not the {store} truststore {location}: export "
                           f"it (keytool -exportcert -rfc -keystore {location} -alias <alias> -file ca.pem) and set "
                           f"ssl.truststore.type=PEM, ssl.truststore.location=ca.pem")
        return None

    def _no_keystore(self, family: str) -> None:
        if self.properties.get("ssl.keystore.location") or self.properties.get("ssl.keystore.key"):
            raise LabError(f"client certificates (ssl.keystore.*, mutual TLS) are not translated for {family}; "
                           f"use a SASL login (security.protocol=SASL_SSL) for the course's Python clients")

    # -- translations
    def kafka_python(self) -> dict:
        """Keyword arguments for kafka-python's clients (empty for PLAINTEXT)."""
        if not self.secured:
            return {}
        self._no_keystore("kafka-python")
        out: dict = {"security_protocol": self.protocol}
        if self.uses_sasl:
            out.update(sasl_mechanism=self.mechanism, sasl_plain_username=self.username,
                       sasl_plain_password=self.password)
        if self.uses_tls:
            out["ssl_check_hostname"] = self.check_hostname
            ca = self.ca_file()
            if ca:
                out["ssl_cafile"] = ca
        return out

    def librdkafka(self) -> dict:
        """Settings for confluent-kafka's clients (librdkafka's names), bootstrap included."""
        out = {"bootstrap.servers": self.bootstrap}
        if not self.secured:
            return out
        self._no_keystore("confluent-kafka")
        out["security.protocol"] = self.protocol
        if self.uses_sasl:
            out.update({"sasl.mechanism": self.mechanism, "sasl.username": self.username,
                        "sasl.password": self.password})
        if self.uses_tls:
            out["ssl.endpoint.identification.algorithm"] = "https" if self.check_hostname else "none"
            ca = self.ca_file()
            if ca:
                out["ssl.ca.location"] = ca
        return out

    def quix(self):
        """Quix Streams' ``broker_address``: the bootstrap string, or a ``ConnectionConfig`` when secured."""
        if not self.secured:
            return self.bootstrap
        from quixstreams.kafka.configuration import ConnectionConfig

        return ConnectionConfig.from_librdkafka_dict(self.librdkafka())

    def java(self) -> dict[str, str]:
        """Every key of the client config (paths absolute) for a Java client, bootstrap included."""
        return {"bootstrap.servers": self.bootstrap, **self.properties}

    def java_by_reference(self) -> dict[str, str]:
        """The client config's keys for a Java app's command line, secrets (passwords, the JAAS line) not spelled
        out but read from :meth:`command_config` by Kafka's ``FileConfigProvider`` (``${file:<path>:<key>}``).
        Empty for PLAINTEXT."""
        if not self.properties:
            return {}
        path = self.command_config()
        out = {"config.providers": "file",
               "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider"}
        for key, value in self.properties.items():
            secret = key == "sasl.jaas.config" or "password" in key or key.endswith(".key")
            out[key] = f"${{file:{path}:{key}}}" if secret else value
        return out

    def flink(self) -> dict[str, str]:
        """``properties.*`` options of Flink's Kafka connector; the login module renamed to Flink's shaded class."""
        out = {"properties.bootstrap.servers": self.bootstrap}
        for key, value in self.properties.items():
            if key == "sasl.jaas.config":
                value = re.sub(r"^\s*org\.apache\.kafka\.", FLINK_SHADED_PREFIX + "org.apache.kafka.", value)
            out[f"properties.{key}"] = value
        return out

    def connect_worker(self) -> dict[str, str]:
        """A Connect worker's client settings: its own (for its internal topics) and copies prefixed ``producer.``,
        ``consumer.`` and ``admin.`` for the clients its connectors use (source, sink, topic creation and DLQ)."""
        out = {"bootstrap.servers": self.bootstrap}
        for key, value in self.properties.items():
            for prefix in ("", "producer.", "consumer.", "admin."):
                out[prefix + key] = value
        return out

    def command_config(self) -> Path | None:
        """A properties file for ``--command-config`` (Kafka's tools) and Java apps; None when PLAINTEXT.

        The learner's own file when its paths are absolute; else a private copy with the paths resolved."""
        if not self.properties:
            return None
        if self.source is not None:
            original = parse_properties(self.source.read_text())
            if all(original.get(k) == self.properties.get(k) for k in PATH_KEYS):
                return self.source
        body = "".join(f"{k}={v}\n" for k, v in self.properties.items())
        return _private_copy("client", body, ".properties")

    def for_bootstrap(self, bootstrap: str | None) -> Connection:
        """This connection for a client that names ``bootstrap`` itself: the same settings if it is the same
        cluster, else a PLAINTEXT connection to that address (another cluster needs its own config)."""
        if not bootstrap or _same_servers(bootstrap, self.bootstrap):
            return self
        return Connection(bootstrap)


def _private_copy(kind: str, body: str, suffix: str) -> Path:
    """A file only this user can read, under the course's run folder, named after its content."""
    folder = settings().run_dir / "client-configs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{hashlib.sha256(body.encode()).hexdigest()[:12]}{suffix}"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(body)
        os.replace(tmp, path)
    return path


def connection() -> Connection:
    """The course's connection, read from the environment now (``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_CLIENT_CONFIG``)."""
    config = (os.environ.get("KAFKA_CLIENT_CONFIG") or "").strip()
    bootstrap = bootstrap_servers()
    if not config:
        return Connection(bootstrap)
    if settings().embedded:
        raise LabError("KAFKA_CLIENT_CONFIG is set but KAFKA_BOOTSTRAP_SERVERS is not: set both to use your cluster "
                       "(`python -m kafkalab up --secure` prints them for the course's secured one), or unset "
                       "KAFKA_CLIENT_CONFIG for the embedded cluster")
    return Connection.from_file(bootstrap, config)


def connection_for(bootstrap: str | None = None) -> Connection:
    """The course's connection, or a PLAINTEXT one when ``bootstrap`` names another cluster."""
    return connection().for_bootstrap(bootstrap)


# ----------------------------------------------------------------------------------------------- the registry
def registry_url(default: str) -> str:
    """``SCHEMA_REGISTRY_URL`` if set, else ``default`` (the course's own registry)."""
    return (os.environ.get("SCHEMA_REGISTRY_URL") or "").strip().rstrip("/") or default


def registry_auth(url: str) -> tuple[str, str] | None:
    """Basic-auth ``(user, password)`` for ``url`` when it is the configured ``SCHEMA_REGISTRY_URL`` and
    ``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`` (``user:password``) is set."""
    info = (os.environ.get("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO") or "").strip()
    configured = (os.environ.get("SCHEMA_REGISTRY_URL") or "").strip().rstrip("/")
    if not info or not configured or not url.startswith(configured):
        return None
    user, sep, password = info.partition(":")
    if not sep:
        raise LabError("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO must be `user:password`")
    return user, password


def registry_client_config(url: str) -> dict:
    """confluent-kafka ``SchemaRegistryClient`` settings for ``url`` (basic auth when configured for it)."""
    out = {"url": url}
    auth = registry_auth(url)
    if auth:
        out["basic.auth.user.info"] = f"{auth[0]}:{auth[1]}"
    return out
