"""The CI skip policy: with CI=true, a skipped test fails the run; without it, a skip is a skip."""

from __future__ import annotations

import pytest

from tests.support import SkipPolicy, ci_enabled

pytest_plugins = ["pytester"]

SKIPPING_TESTS = """
import pytest

def test_runs():
    assert True

def test_skipped_in_body():
    pytest.skip("no service here")

@pytest.mark.skip(reason="marked")
def test_skipped_by_marker():
    assert False

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False
"""

MODULE_SKIP = """
import pytest

pytest.importorskip("a_module_that_does_not_exist_anywhere")

def test_never_collected():
    assert True
"""

PASSING_TESTS = """
def test_runs():
    assert True
"""


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(source)
    # The inner run has no pyproject.toml: give it the one setting whose absence warns.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    # No cache and no Hypothesis plugin: the inner run writes nothing and starts fast.
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-rs", plugins=[SkipPolicy()]
    )


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ci_enabled_values(value: str) -> None:
    assert ci_enabled({"CI": value})


@pytest.mark.parametrize("environ", [{}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}])
def test_ci_disabled_values(environ: dict[str, str]) -> None:
    assert not ci_enabled(environ)


def test_skip_fails_the_run_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(pytester, SKIPPING_TESTS)
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*CI=true: 2 skipped test(s) fail this run:*",
            "*SKIPPED *::test_skipped_in_body: no service here*",
            "*SKIPPED *::test_skipped_by_marker: marked*",
        ]
    )


def test_skip_passes_without_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = run(pytester, SKIPPING_TESTS)
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*fail this run*")


def test_module_level_skip_fails_the_run_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(pytester, MODULE_SKIP)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*CI=true: 1 skipped test(s) fail this run:*"])


def test_no_skip_passes_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(pytester, PASSING_TESTS)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


def test_failures_keep_their_exit_code_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(pytester, SKIPPING_TESTS + "\ndef test_fails():\n    assert False\n")
    result.assert_outcomes(passed=1, failed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_suite_registers_the_policy(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("lupex-skip-policy")
    assert isinstance(plugin, SkipPolicy)
    assert plugin.enforce == ci_enabled()
