"""Why a connection to Kafka fails — TLS, SASL login or a missing ACL — in one line with the fix.

kafka-python reports every refused TLS handshake or login the same way: no broker answered within the bootstrap
timeout. :func:`probe` asks the listener itself, step by step, with nothing but a socket, Python's ``ssl`` and
three requests of Kafka's protocol (``SaslHandshake``, ``SaslAuthenticate`` with a SCRAM or PLAIN exchange):

1. does the listener speak TLS? (a handshake that trusts anything) — against what the config says;
2. does the broker's certificate pass this config's checks? (the CA, then the host name);
3. does the listener ask for a SASL login, with which mechanisms? (``SaslHandshake``'s answer);
4. are the user name and password right? (the login itself; the broker's refusal is quoted).

:func:`preflight` runs it once per connection before the course's clients connect (a failure then takes
milliseconds instead of the client's timeout); :func:`explain` turns a client's error (an authorization error
names the missing ACL) into a :class:`~kafkalab.errors.LabError`. ``doctor`` prints the same findings.
"""
from __future__ import annotations

import socket
import ssl
import struct
from dataclasses import dataclass

from ..errors import LabError
from .connection import Connection

#: Kafka's protocol: request keys and error codes the probe reads.
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58
#: OpenSSL's verify codes for a certificate that names another host or address, and for an expired one.
HOSTNAME_MISMATCH, IP_MISMATCH, CERT_EXPIRED = 62, 64, 10
CA_FIX = "trust the cluster's CA: ssl.truststore.type=PEM and ssl.truststore.location=<the CA's PEM file>"


@dataclass(frozen=True)
class Finding:
    """What the probe found: ``kind`` ("ok" when everything worked) and one line that says what and how to fix."""

    kind: str
    message: str

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def error(self) -> LabError:
        return SecurityProblem(self.message, self.kind)


class SecurityProblem(LabError):
    """A connection refused for a reason of security; ``kind`` names it (see :func:`probe`)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# ----------------------------------------------------------------------------------------------- wire protocol
TLS_ALERT = 0x15  # the first byte of a TLS alert record, what a TLS listener answers to a plaintext request


class TlsAnswer(ConnectionError):
    """The listener answered a plaintext request with a TLS record."""


class _Wire:
    """Kafka's framing on one socket: size-prefixed requests with header v1, responses with header v0."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.correlation = sock, 0

    def call(self, api_key: int, version: int, body: bytes) -> bytes:
        self.correlation += 1
        client = b"kafkalab-probe"
        header = struct.pack(">hhih", api_key, version, self.correlation, len(client)) + client
        self.sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        first = self._read(4)
        if first[0] == TLS_ALERT and first[1] == 3:  # a TLS record (an alert): the listener speaks TLS
            raise TlsAnswer()
        size = struct.unpack(">i", first)[0]
        if not 4 <= size <= 1 << 20:
            raise ConnectionError(f"an answer of {size} bytes is no Kafka response")
        data = self._read(size)
        return data[4:]  # past the correlation id

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            out += chunk
        return out


def _string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack(">h", len(raw)) + raw


def _sasl_handshake(wire: _Wire, mechanism: str) -> tuple[int, list[str]]:
    """(error code, mechanisms the listener enables) from SaslHandshake v1."""
    data = wire.call(SASL_HANDSHAKE, 1, _string(mechanism))
    code, count = struct.unpack(">hi", data[:6])
    mechanisms, pos = [], 6
    for _ in range(max(count, 0)):
        (n,) = struct.unpack(">h", data[pos:pos + 2])
        mechanisms.append(data[pos + 2:pos + 2 + n].decode())
        pos += 2 + n
    return code, mechanisms


def _sasl_authenticate(wire: _Wire, token: bytes) -> tuple[int, str | None, bytes]:
    """(error code, error message, server bytes) from SaslAuthenticate v1."""
    data = wire.call(SASL_AUTHENTICATE, 1, struct.pack(">i", len(token)) + token)
    code, n = struct.unpack(">hh", data[:4])
    pos = 4
    message = None
    if n >= 0:
        message, pos = data[4:4 + n].decode(errors="replace"), 4 + n
    (m,) = struct.unpack(">i", data[pos:pos + 4])
    return code, message, data[pos + 4:pos + 4 + max(m, 0)]


def _login(wire: _Wire, conn: Connection) -> str | None:
    """Log in with the connection's user name and password; None if the broker accepts, else its message."""
    user, password = conn.username or "", conn.password or ""
    if conn.mechanism == "PLAIN":
        code, message, _ = _sasl_authenticate(wire, b"\0" + user.encode() + b"\0" + password.encode())
        return None if code == 0 else (message or f"error {code}")
    from kafka.net.sasl.scram import ScramClient  # RFC 5802, as kafka-python itself speaks it

    scram = ScramClient(user, password, conn.mechanism)
    code, message, server_first = _sasl_authenticate(wire, scram.first_message())
    if code != 0:
        return message or f"error {code}"
    scram.process_server_first_message(server_first)
    code, message, server_final = _sasl_authenticate(wire, scram.final_message())
    if code != 0:
        return message or f"error {code}"
    scram.process_server_final_message(server_final)  # proves the broker knew the password too
    return None


# ----------------------------------------------------------------------------------------------- the probe
def _reachable(conn: Connection, timeout_s: float) -> tuple[str, int] | Finding:
    last = None
    for hostport in conn.bootstrap.split(","):
        host, _, port = hostport.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                return host or "127.0.0.1", int(port)
        except (OSError, ValueError) as e:
            last = e
    return Finding("unreachable", f"no Kafka answers at {conn.bootstrap} ({type(last).__name__}: {last}); start the "
                                  f"cluster, or check KAFKA_BOOTSTRAP_SERVERS")


def _speaks_tls(host: str, port: int, timeout_s: float) -> bool:
    """True if a TLS handshake that trusts any certificate completes (the listener is SSL or SASL_SSL)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            with ctx.wrap_socket(raw, server_hostname=host):
                return True
    except (OSError, ssl.SSLError):
        return False


def _client_context(conn: Connection) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = conn.check_hostname
    ca = conn.ca_file()
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.load_default_certs()
    return ctx


def probe(conn: Connection, timeout_s: float = 3.0) -> Finding:
    """Connect as ``conn`` would, one step at a time, and report the first step that fails (or "ok")."""
    where = _reachable(conn, timeout_s)
    if isinstance(where, Finding):
        return where
    host, port = where
    tls_expected = Finding("tls-expected", f"the listener at {host}:{port} speaks TLS, and this client connects "
                                           f"without it ({conn.protocol}): set security.protocol=SASL_SSL (or SSL) "
                                           f"and {CA_FIX}")
    if conn.uses_tls and not _speaks_tls(host, port, timeout_s):
        return Finding("tls-unexpected", f"the listener at {host}:{port} does not speak TLS, and this client expects "
                                         f"it ({conn.protocol}): set security.protocol="
                                         f"{'SASL_PLAINTEXT' if conn.uses_sasl else 'PLAINTEXT'}, or use the "
                                         f"cluster's TLS listener")
    try:
        ctx = _client_context(conn) if conn.uses_tls else None
    except (OSError, ssl.SSLError, LabError) as e:
        return Finding("ca-file", f"the CA file of this config cannot be read ({e}): point ssl.truststore.location "
                                  f"at the cluster's CA in PEM form")
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            try:
                sock = ctx.wrap_socket(raw, server_hostname=host) if ctx else raw
            except ssl.SSLCertVerificationError as e:
                return _certificate_finding(e, host, port, conn)
            with sock:
                return _sasl_steps(_Wire(sock), conn, host, port)
    except TlsAnswer:
        return tls_expected
    except (OSError, ssl.SSLError, struct.error) as e:
        if not conn.uses_tls and _speaks_tls(host, port, timeout_s):  # it hung up on a plaintext request
            return tls_expected
        return Finding("broken", f"the broker at {host}:{port} dropped the connection ({type(e).__name__}: {e}); "
                                 f"compare security.protocol with the listener's (python -m kafkalab doctor)")


def _certificate_finding(e: ssl.SSLCertVerificationError, host: str, port: int, conn: Connection) -> Finding:
    code, why = getattr(e, "verify_code", None), getattr(e, "verify_message", "") or str(e)
    if code in (HOSTNAME_MISMATCH, IP_MISMATCH):
        return Finding("hostname", f"the broker's certificate at {host}:{port} does not name {host} ({why}): connect "
                                   f"with a host name its certificate lists (the course's: 127.0.0.1 or localhost)")
    if code == CERT_EXPIRED:
        return Finding("expired", f"the broker's certificate at {host}:{port} has expired ({why}); the cluster's "
                                  f"operator must renew it")
    trusted = f"the CA in {conn.ca_file()}" if conn.ca_file() else "the system's CAs"
    return Finding("untrusted-certificate", f"this client does not trust the broker's certificate at {host}:{port} "
                                            f"({why}; it trusts {trusted}): {CA_FIX}")


def _sasl_steps(wire: _Wire, conn: Connection, host: str, port: int) -> Finding:
    code, enabled = _sasl_handshake(wire, conn.mechanism or "PLAIN")
    listener_sasl = code != ILLEGAL_SASL_STATE
    if listener_sasl and not conn.uses_sasl:
        return Finding("sasl-expected", f"the listener at {host}:{port} asks for a SASL login ({', '.join(enabled) or '?'}), "
                                        f"and this client sends none: set security.protocol=SASL_SSL, "
                                        f"sasl.mechanism and sasl.jaas.config with your user name and password")
    if conn.uses_sasl and not listener_sasl:
        return Finding("sasl-unexpected", f"the listener at {host}:{port} takes no SASL login: set "
                                          f"security.protocol={'SSL' if conn.uses_tls else 'PLAINTEXT'}")
    if not listener_sasl:
        return Finding("ok", f"{host}:{port} accepts this client ({conn.protocol})")
    if code == UNSUPPORTED_SASL_MECHANISM:
        return Finding("mechanism", f"the listener at {host}:{port} enables the SASL mechanism(s) "
                                    f"{', '.join(enabled)}, not {conn.mechanism}: set sasl.mechanism={enabled[0]} "
                                    f"(and the login module that goes with it)")
    if code != 0:
        return Finding("broken", f"the listener at {host}:{port} refused the SASL handshake (error {code})")
    refused = _login(wire, conn)
    if refused:
        return Finding("credentials", f"the cluster refused the login of user {conn.username!r} with "
                                      f"{conn.mechanism} ({refused.rstrip('.')}): check the user name and password in "
                                      f"sasl.jaas.config")
    return Finding("ok", f"{host}:{port} accepts user {conn.username!r} ({conn.protocol}, {conn.mechanism})")


# ----------------------------------------------------------------------------------------------- for clients
_CHECKED: set[tuple] = set()


def _key(conn: Connection) -> tuple:
    return conn.bootstrap, tuple(sorted(conn.properties.items()))


def preflight(conn: Connection, always: bool = False) -> None:
    """Raise the probe's finding as a :class:`SecurityProblem` unless ``conn`` has worked before in this process.

    The course's own PLAINTEXT connection is left to the client unless ``always`` (a connection a chapter names
    itself); a connection that passed once is not probed again."""
    if not (conn.secured or always) or _key(conn) in _CHECKED:
        return
    finding = probe(conn)
    if finding.kind == "unreachable":
        return  # the client's own check says it, with the course's fix
    if not finding.ok:
        raise finding.error()
    _CHECKED.add(_key(conn))


#: kafka-python's authorization errors: (resource type for kafka-acls, what the client tried).
_AUTHORIZATION = {
    "TopicAuthorizationFailedError": ("topic", "use topic"),
    "GroupAuthorizationFailedError": ("group", "use consumer group"),
    "ClusterAuthorizationFailedError": ("cluster", "act on the cluster"),
    "TransactionalIdAuthorizationFailedError": ("transactional-id", "use transactional id"),
}


def _resource_name(err: Exception) -> str | None:
    arg = err.args[0] if err.args else None
    if isinstance(arg, str) and arg and " " not in arg:
        return arg
    if isinstance(arg, (set, list, tuple)) and arg:
        return ",".join(sorted(map(str, arg)))
    return None


def authorization_message(err: Exception, conn: Connection) -> str | None:
    """One line for an authorization error of kafka-python (None for any other error). kafka-python sometimes wraps
    one in a plain KafkaError whose message names it (a producer's InitProducerId): that counts too."""
    name = type(err).__name__
    if name not in _AUTHORIZATION:
        name = next((n for n in _AUTHORIZATION if n in str(err)), name)
    kind = _AUTHORIZATION.get(name)
    if kind is None:
        return None
    resource, what = kind
    name = _resource_name(err) if type(err).__name__ in _AUTHORIZATION else None
    who = f"user {conn.username!r}" if conn.username else "this client"
    target = f"{what} {name!r}" if name and resource != "cluster" else what
    flag = "--cluster" if resource == "cluster" else f"--{resource} {name or '<name>'}"
    return (f"not authorized: {who} may not {target} (no ACL allows it); an admin grants it with kafka-acls "
            f"--add --allow-principal User:{conn.username or '<user>'} --operation <Read|Write|Describe|...> {flag}")


def explain(err: Exception, conn: Connection) -> LabError:
    """A client's error on ``conn`` as one line: a missing ACL, or what :func:`probe` finds wrong with TLS or SASL."""
    line = authorization_message(err, conn)
    if line:
        return SecurityProblem(line, "authorization")
    finding = probe(conn)
    if not finding.ok:
        return finding.error()
    return LabError(f"{conn.describe()}: {type(err).__name__}: {err}"[:400])
