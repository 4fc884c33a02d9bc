"""The start banner tells a tester who to be, which clients exist, how to review and how to try the face flow."""

from __future__ import annotations

from pathlib import Path

from haoban.sandbox.demo import DEMO_ACCOUNTS, DEMO_STAFF_PASSWORD, DEMO_STAFF_USERNAME
from haoban.serve import _banner
from haoban.settings import load_settings


def test_the_demo_banner_lists_citizens_clients_reviewer_and_script(tmp_path: Path) -> None:
    settings = load_settings({"HAOBAN_DATA_DIR": str(tmp_path)}, demo=True)
    banner = _banner(settings, list(DEMO_ACCOUNTS))
    for account in DEMO_ACCOUNTS:
        assert account.id_number in banner
        assert str(account.citizen_id) in banner
    for needed in ("demo-miniprogram", "demo-department", "demo-department-secret", "scripts/demo_face.py"):
        assert needed in banner
    assert f"{DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}" in banner
    assert '"acr": "face"' in banner
    assert "face level" in banner
