"""Settings: strict parsers, production refuses unsafe config, check --deploy is clean (E6)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.env import ConfigError, env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[3]


def key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@pytest.mark.parametrize("value", ["yes", "TRUE ", "on", "2"])
def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("VIGIL_SOMETHING", value)
    with pytest.raises(ConfigError, match="VIGIL_SOMETHING"):
        env_bool("VIGIL_SOMETHING", False)


def test_booleans_accept_only_true_and_false(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in [("True", True), ("true", True), ("1", True), ("False", False), ("0", False), ("", True)]:
        monkeypatch.setenv("VIGIL_FLAG", text)
        assert env_bool("VIGIL_FLAG", True) is expected


def test_a_bad_or_out_of_range_integer_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_COUNT", "ten")
    with pytest.raises(ConfigError, match="VIGIL_COUNT must be a whole number"):
        env_int("VIGIL_COUNT", 1)
    monkeypatch.setenv("VIGIL_COUNT", "3")
    with pytest.raises(ConfigError, match="VIGIL_COUNT must be at least 5"):
        env_int("VIGIL_COUNT", 10, minimum=5)
    with pytest.raises(ConfigError, match="VIGIL_COUNT must be at most 2"):
        env_int("VIGIL_COUNT", 1, maximum=2)
    assert env_int("VIGIL_COUNT", 1, minimum=1, maximum=5) == 3


def test_a_choice_outside_the_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_LEVEL", "LOUD")
    with pytest.raises(ConfigError, match="VIGIL_LEVEL"):
        env_choice("VIGIL_LEVEL", "INFO", ("INFO", "DEBUG"))


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("  s3cret-from-a-file\n")
    monkeypatch.setenv("VIGIL_TOKEN", "from the environment")
    monkeypatch.setenv("VIGIL_TOKEN_FILE", str(secret))
    assert env_str("VIGIL_TOKEN") == "s3cret-from-a-file"
    monkeypatch.setenv("VIGIL_HOSTS_FILE", str(secret))
    assert env_list("VIGIL_HOSTS", []) == ["s3cret-from-a-file"]


def test_an_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIGIL_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="VIGIL_TOKEN_FILE"):
        env_str("VIGIL_TOKEN")


def production_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "vigil.settings",
        "VIGIL_VAR_DIR": str(tmp_path / "var"),
        "VIGIL_SECRET_KEY": secrets.token_urlsafe(50),
        "VIGIL_DATA_KEYS": f"k1:{key()}",
        "VIGIL_BLIND_INDEX_KEY": key(),
        "VIGIL_RATE_LIMIT_KEY": key(),
        "VIGIL_ALLOWED_HOSTS": "vigil.example.org",
        "VIGIL_PUBLIC_URL": "https://vigil.example.org",
    }
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import vigil.settings as s; print('PRODUCTION', s.PRODUCTION)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_complete_production_environment_starts(tmp_path: Path) -> None:
    result = load_settings(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "PRODUCTION True" in result.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"VIGIL_SECRET_KEY": ""}, "VIGIL_SECRET_KEY must be set"),
        ({"VIGIL_SECRET_KEY": "short"}, "VIGIL_SECRET_KEY must be set"),
        ({"VIGIL_DATA_KEYS": ""}, "VIGIL_DATA_KEYS, VIGIL_BLIND_INDEX_KEY and VIGIL_RATE_LIMIT_KEY must be set"),
        ({"VIGIL_BLIND_INDEX_KEY": ""}, "VIGIL_BLIND_INDEX_KEY"),
        ({"VIGIL_ALLOWED_HOSTS": "*"}, "VIGIL_ALLOWED_HOSTS must list host names"),
        ({"VIGIL_ALLOWED_HOSTS": ".example.org"}, "VIGIL_ALLOWED_HOSTS must list host names"),
        ({"VIGIL_PUBLIC_URL": "http://vigil.example.org"}, "VIGIL_PUBLIC_URL must be an https:// URL"),
        ({"VIGIL_DEBUG": "yes"}, "VIGIL_DEBUG must be True or False"),
        ({"VIGIL_SESSION_IDLE_MINUTES": "1"}, "VIGIL_SESSION_IDLE_MINUTES must be at least 5"),
    ],
)
def test_production_refuses_to_start_with_unsafe_config(tmp_path: Path, change: dict[str, str], complaint: str) -> None:
    env = production_env(tmp_path)
    for name, value in change.items():
        if value:
            env[name] = value
        else:
            env.pop(name)
    result = load_settings(env)
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and complaint in result.stderr


def test_the_default_secret_is_refused_in_production(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    env.pop("VIGIL_SECRET_KEY")
    result = load_settings(env)
    assert result.returncode != 0 and "VIGIL_SECRET_KEY" in result.stderr


def test_check_deploy_with_a_full_production_environment_has_no_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
