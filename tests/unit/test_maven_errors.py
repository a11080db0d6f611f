"""What a learner reads when Maven fails: Maven's own reason, without terminal escape codes or its generic advice."""
from kafkalab.cluster.maven import maven_error, strip_ansi

# Debian's Maven 3.8 in batch mode (-B): ESC[0m escape codes around the output, the reason, then generic advice
FAILED = [
    "\x1b[0m\x1b[0m[INFO] Scanning for projects...",
    "[WARNING] The POM for org.example:missing:jar:1.0 is missing, no dependency information available",
    "[INFO] BUILD FAILURE",
    "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath "
    "(default-cli) on project kafkalab-jvm: Could not resolve dependencies for project "
    "org.kafkalab:kafkalab-jvm:pom:1.0.0: org.eclipse.aether.resolution.DependencyResolutionException: "
    "org.example:missing:jar:1.0 was not found in the central repository -> [Help 1]",
    "[ERROR] ",
    "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
    "[ERROR] Re-run Maven using the -X switch to enable full debug logging.",
    "[ERROR] For more information about the errors and possible solutions, please read the following articles:",
    "[ERROR] [Help 1] http://example.invalid/DependencyResolutionException",
    "\x1b[0m\x1b[0m",
]


def test_the_reason_is_maven_s_own_sentence_without_noise():
    msg = maven_error(FAILED)
    assert msg == ("Could not resolve dependencies for project org.kafkalab:kafkalab-jvm:pom:1.0.0: "
                   "org.example:missing:jar:1.0 was not found in the central repository")
    assert "\x1b" not in msg and "[Help" not in msg


def test_escape_codes_are_stripped():
    assert strip_ansi("\x1b[0m\x1b[1;31mred\x1b[0m") == "red"


def test_output_without_an_error_line_gives_its_last_line():
    assert maven_error(["\x1b[0m[INFO] something", "Killed", "\x1b[0m"]) == "Killed"
    assert maven_error([]) == "no output"
