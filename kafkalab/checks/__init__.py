"""Exercise checkers, one module per chapter. Each ``check_…`` takes the learner's answer as an argument,
raises ``AssertionError`` with a message naming the likely mistake, and prints a short confirmation when right.
"""


def passed(message: str) -> None:
    """Print the confirmation every checker ends with."""
    print(f"Correct: {message}")
