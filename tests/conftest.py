"""Shared pytest configuration of the test suite."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "student_edition: executes the student edition of one lesson (as slow as the lesson itself); "
        "select with -m student_edition, skip with -m 'not student_edition'",
    )
    config.addinivalue_line(
        "markers",
        "slow: takes more than 30 s (for instance a real pip install); runs by default, skip with -m 'not slow'",
    )
