"""The course's secured cluster (``python -m kafkalab up --secure``): TLS, SASL/SCRAM logins and ACLs.

One KRaft node with its own data (``<home>/data/kraft-secure``) and ports, so it runs beside the plain course
cluster: clients use the SASL_SSL listener on the reserved ``secure`` port (9192, or base + 14), the controller
its own ``secure_controller`` port (9195, or base + 17). Everything secret is made at its first start and kept in
that folder, never in git:

* ``tls/ca.pem`` — the course CA (PEM: every client family reads it), ``tls/ca.p12`` its key;
  ``tls/broker.p12`` — the broker's key and certificate (subject alternative names 127.0.0.1 and localhost),
  made with the JDK's ``keytool``;
* ``secrets.json`` — random passwords of the users (an admin and two learners, :data:`USERS`) and of the keystore;
  the users reach the metadata log when the storage is formatted (``kafka-storage format --add-scram``);
* ``clients/<user>.properties`` — a ready client config per user, what ``KAFKA_CLIENT_CONFIG`` points at.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import subprocess
from pathlib import Path

from ..config import HOST, JVM_DIR, Settings, settings
from ..errors import LabError
from ..io.connection import Connection, jaas_line

#: The secured cluster's users: the admin (a super user, also the broker's own login) and two learners.
ADMIN = "admin"
USERS = (ADMIN, "alice", "bob")
MECHANISM = "SCRAM-SHA-512"
LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
#: Days the CA and the broker certificate stay valid.
CA_DAYS, BROKER_DAYS = 3650, 825
KEYTOOL_TIMEOUT_S = 60


def secure_dir(s: Settings | None = None) -> Path:
    """The secured cluster's folder: its node's data, its TLS material, passwords and client configs."""
    return (s or settings()).data_dir / "kraft-secure"


def tls_dir(s: Settings | None = None) -> Path:
    return secure_dir(s) / "tls"


def ca_pem(s: Settings | None = None) -> Path:
    """The course CA's certificate as PEM: the one file every client trusts."""
    return tls_dir(s) / "ca.pem"


def keystore(s: Settings | None = None) -> Path:
    return tls_dir(s) / "broker.p12"


def _secrets_file(s: Settings | None = None) -> Path:
    return secure_dir(s) / "secrets.json"


def client_config(user: str = ADMIN, s: Settings | None = None) -> Path:
    """The client properties file of one user (``KAFKA_CLIENT_CONFIG`` for that user)."""
    if user not in USERS:
        raise LabError(f"the secured cluster has no user {user!r}; its users are {', '.join(USERS)}")
    return secure_dir(s) / "clients" / f"{user}.properties"


def bootstrap(s: Settings | None = None) -> str:
    """The secured listener's address."""
    return f"{HOST}:{(s or settings()).ports['secure']}"


def user_connection(user: str = ADMIN, s: Settings | None = None) -> Connection:
    """A :class:`~kafkalab.io.connection.Connection` to the secured cluster as ``user`` (its client config)."""
    s = s or settings()
    path = client_config(user, s)
    if not path.exists():
        raise LabError(f"the secured cluster has not been set up in {secure_dir(s)}; run `python -m kafkalab up "
                       f"--secure`")
    return Connection.from_file(bootstrap(s), path)


# ----------------------------------------------------------------------------------------------- secrets
def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _password() -> str:
    """Letters and digits only: safe in JAAS quotes, in ``--add-scram``'s brackets and in SQL strings."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def load_secrets(s: Settings | None = None) -> dict:
    """``{"keystore": password, "users": {name: password}}``, made once and kept (0600) in the cluster's folder."""
    path = _secrets_file(s)
    try:
        data = json.loads(path.read_text())
        if set(data.get("users", {})) >= set(USERS) and data.get("keystore"):
            return data
    except (OSError, ValueError):
        pass
    if (secure_dir(s) / "cluster.json").exists():
        raise LabError(f"{path} is missing or damaged, so the secured cluster's passwords are lost; run "
                       f"`python -m kafkalab down` and delete {secure_dir(s)} to make a new secured cluster")
    data = {"keystore": _password(), "users": {u: _password() for u in USERS}}
    _write_private(path, json.dumps(data, indent=1))
    return data


# ----------------------------------------------------------------------------------------------- certificates
def keytool_path(java: str) -> str:
    """``keytool`` of the JDK that runs the broker (it ships with every Java runtime), else the one on PATH."""
    beside = Path(os.path.realpath(java)).parent / "keytool"
    if beside.exists():
        return str(beside)
    found = shutil.which("keytool")
    if found:
        return found
    raise LabError(f"keytool (part of every Java installation) is not next to {java} nor on PATH; install "
                   f"openjdk-17-jre-headless or set JAVA_HOME to a full JDK")


def _keytool(tool: str, args: list[str], what: str) -> None:
    try:
        res = subprocess.run([tool, *args], capture_output=True, text=True, timeout=KEYTOOL_TIMEOUT_S,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"keytool did not finish {what} within {KEYTOOL_TIMEOUT_S} s; run `python -m kafkalab up "
                       f"--secure` again") from None
    if res.returncode != 0:
        last = [ln for ln in (res.stderr + res.stdout).splitlines() if ln.strip()][-1:] or ["no output"]
        raise LabError(f"keytool failed {what}: {last[0]}")


def make_certificates(java: str, s: Settings | None = None, quiet: bool = True) -> bool:
    """The course CA and the broker's certificate, signed by it (once: False when they exist already).

    The broker certificate names ``127.0.0.1`` (an IP address) and ``localhost`` (a DNS name) as subject alternative
    names: Java, librdkafka and Python's ssl module check the address they dialled against those."""
    s = s or settings()
    folder = tls_dir(s)
    if ca_pem(s).exists() and keystore(s).exists():
        return False
    tool = keytool_path(java)
    password = load_secrets(s)["keystore"]
    work = folder / "new"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.chmod(folder, 0o700)
    ca, broker = work / "ca.p12", work / "broker.p12"
    store = ["-storetype", "PKCS12", "-storepass", password]
    if not quiet:
        print(f"Making the course CA and the broker's certificate in {folder} (keytool) ...", flush=True)
    _keytool(tool, ["-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", str(CA_DAYS),
                    "-dname", "CN=kafkalab course CA", "-ext", "bc:c=ca:true", "-keystore", str(ca), *store],
             "making the CA")
    _keytool(tool, ["-exportcert", "-rfc", "-alias", "ca", "-keystore", str(ca), *store, "-file",
                    str(work / "ca.pem")], "exporting the CA")
    _keytool(tool, ["-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity",
                    str(BROKER_DAYS), "-dname", "CN=localhost", "-keystore", str(broker), *store],
             "making the broker's key")
    _keytool(tool, ["-certreq", "-alias", "broker", "-keystore", str(broker), *store, "-file",
                    str(work / "broker.csr")], "making the certificate request")
    _keytool(tool, ["-gencert", "-alias", "ca", "-keystore", str(ca), *store, "-infile", str(work / "broker.csr"),
                    "-outfile", str(work / "broker.pem"), "-rfc", "-validity", str(BROKER_DAYS),
                    "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "KU=digitalSignature,keyEncipherment",
                    "-ext", "EKU=serverAuth,clientAuth"], "signing the broker's certificate")
    _keytool(tool, ["-importcert", "-noprompt", "-alias", "ca", "-file", str(work / "ca.pem"), "-keystore",
                    str(broker), *store], "adding the CA to the broker's keystore")
    _keytool(tool, ["-importcert", "-noprompt", "-alias", "broker", "-file", str(work / "broker.pem"),
                    "-keystore", str(broker), *store], "adding the signed certificate to the broker's keystore")
    for name in ("ca.p12", "broker.p12", "ca.pem"):
        os.chmod(work / name, 0o600 if name.endswith(".p12") else 0o644)
        os.replace(work / name, folder / name)
    shutil.rmtree(work, ignore_errors=True)
    return True


# ----------------------------------------------------------------------------------------------- users
def scram_args(s: Settings | None = None) -> list[str]:
    """``kafka-storage format`` arguments that put every user's SCRAM credentials into the metadata log."""
    users = load_secrets(s)["users"]
    out: list[str] = []
    for user in USERS:
        out += ["--add-scram", f"{MECHANISM}=[name={user},password={users[user]}]"]
    return out


def write_client_configs(s: Settings | None = None) -> list[Path]:
    """One client properties file per user (0600), next to the data; rewritten at every start."""
    s = s or settings()
    users = load_secrets(s)["users"]
    written = []
    for user in USERS:
        path = client_config(user, s)
        text = (f"# Client config of the course's secured cluster, user {user} (written by python -m kafkalab up "
                f"--secure).\n# Use it with KAFKA_BOOTSTRAP_SERVERS={bootstrap(s)} KAFKA_CLIENT_CONFIG={path}\n"
                f"# or with any Kafka tool: --bootstrap-server {bootstrap(s)} --command-config {path}\n"
                f"security.protocol=SASL_SSL\n"
                f"sasl.mechanism={MECHANISM}\n"
                f"sasl.jaas.config={jaas_line(LOGIN_MODULE, user, users[user])}\n"
                f"ssl.truststore.type=PEM\n"
                f"ssl.truststore.location={ca_pem(s)}\n")
        _write_private(path, text)
        written.append(path)
    return written


def prepare(java: str, s: Settings | None = None, quiet: bool = True) -> None:
    """Everything the secured node needs before its storage is formatted: passwords, certificates, client configs."""
    s = s or settings()
    secure_dir(s).mkdir(parents=True, exist_ok=True)
    load_secrets(s)
    make_certificates(java, s, quiet)
    write_client_configs(s)


# ----------------------------------------------------------------------------------------------- broker config
SECTION_MARK = "#############################"


def render(base: str, broker_port: int, controller_port: int, s: Settings | None = None) -> str:
    """The secured node's server.properties: the plain node's ``base`` text with its listener section (and any key
    set again below) taken out, followed by ``jvm/server-secure.properties.template``."""
    s = s or settings()
    data = load_secrets(s)
    section = string.Template((JVM_DIR / "server-secure.properties.template").read_text()).substitute(
        secure_dir=secure_dir(s), broker_port=broker_port, controller_port=controller_port,
        quorum_bootstrap=f"{HOST}:{controller_port}", admin_user=ADMIN, admin_password=data["users"][ADMIN],
        keystore=keystore(s), keystore_password=data["keystore"], ca_pem=ca_pem(s))
    replaced = {ln.split("=", 1)[0].strip() for ln in section.splitlines() if "=" in ln and not ln.startswith("#")}
    kept, in_listeners = [], False
    for ln in base.splitlines():
        if ln.startswith(SECTION_MARK):
            in_listeners = "Listeners" in ln
        if in_listeners or ("=" in ln and not ln.startswith("#") and ln.split("=", 1)[0].strip() in replaced):
            continue
        kept.append(ln)
    return "\n".join(kept).rstrip("\n") + "\n" + section
