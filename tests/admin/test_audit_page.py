"""The audit page: newest first, filters, pages, admins only; account actions land in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.audit.service import record_audit
from app.auth.models import Role
from tests.auth.test_router import post_login
from tests.factories import create_user


def actions_on(page: str) -> list[str]:
    return re.findall(r"<td><code>([^<]+)</code></td>", page)


@pytest.fixture
def log(db, admin):
    """A few entries on known days, by two actors."""
    _, admin_user = admin
    other = create_user(db, role=Role.organizer, display_name="Olga Organizer")
    rows = [
        ("user.role_change", admin_user.id, "user:7", datetime(2026, 11, 2, 9, tzinfo=UTC)),
        ("export.download", other.id, "observation_set:4", datetime(2026, 11, 3, 9, tzinfo=UTC)),
        ("session.end", admin_user.id, "user:7", datetime(2026, 11, 4, 23, 59, tzinfo=UTC)),
        ("export.download", other.id, "observation_set:5", datetime(2026, 11, 5, 9, tzinfo=UTC)),
    ]
    for action, actor, target, when in rows:
        entry = record_audit(db, action=action, actor_id=actor, target=target, detail={"n": 1})
        entry.created_at = when
        db.add(entry)
    db.commit()
    return other


def test_audit_page_lists_entries_newest_first(admin, log):
    client, _ = admin
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert actions_on(page.text) == [
        "export.download",
        "session.end",
        "export.download",
        "user.role_change",
    ]
    assert "Olga Organizer" in page.text and "observation_set:5" in page.text
    assert '/admin/audit"' in client.get("/").text  # in the admin navigation


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "export.download"}, ["export.download", "export.download"]),
        ({"action": "export"}, ["export.download", "export.download"]),  # a prefix
        ({"target": "user:7"}, ["session.end", "user.role_change"]),
        ({"date_from": "2026-11-03", "date_to": "2026-11-04"}, ["session.end", "export.download"]),
        ({"date_to": "2026-11-02"}, ["user.role_change"]),
        ({"action": "session.end", "target": "user:8"}, []),
    ],
)
def test_audit_page_filters(admin, log, params, expected):
    client, _ = admin
    page = client.get("/admin/audit", params=params)
    assert page.status_code == 200
    assert actions_on(page.text) == expected


def test_audit_page_filters_by_actor(admin, log):
    client, admin_user = admin
    page = client.get("/admin/audit", params={"actor_id": str(log.id)})
    assert actions_on(page.text) == ["export.download", "export.download"]
    mine = client.get("/admin/audit", params={"actor_id": str(admin_user.id)})
    assert actions_on(mine.text) == ["session.end", "user.role_change"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "yesterday"}, "date_from", "Enter a date like 2026-12-01."),
        ({"date_from": "2026-11-05", "date_to": "2026-11-01"}, "date_to", "before the start"),
        ({"actor_id": "99999999999999999999"}, "actor_id", "Choose someone from the list."),
        ({"actor_id": "ann"}, "actor_id", "Choose someone from the list."),
        ({"page": "0"}, "page", "Pages are numbered from 1."),
        ({"target": "t" * 500}, "target", "at most 120"),
    ],
)
def test_bad_filters_get_a_field_error_not_a_500(admin, log, params, field, message):
    client, _ = admin
    page = client.get("/admin/audit", params=params)
    assert page.status_code == 422
    assert message in page.text
    if field != "page":
        assert f'id="e-{field}"' in page.text
    assert len(actions_on(page.text)) >= 1  # the other filters still apply


def test_audit_page_is_paginated(admin, db):
    client, admin_user = admin
    start = datetime.now(UTC) - timedelta(days=1)
    for i in range(60):
        entry = record_audit(db, action="session.end", actor_id=admin_user.id, target=f"user:{i}")
        entry.created_at = start + timedelta(minutes=i)
        db.add(entry)
    db.commit()
    first = client.get("/admin/audit", params={"action": "session.end"})
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    assert len(actions_on(first.text)) == 50 and "<td>user:59</td>" in first.text
    second = client.get("/admin/audit", params={"action": "session.end", "page": "2"})
    assert len(actions_on(second.text)) == 10 and "<td>user:0</td>" in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "action=session.end" in re.search(r'href="([^"]+)" rel="prev"', second.text).group(1)


@pytest.mark.parametrize("role", [Role.volunteer, Role.trainer, Role.organizer])
def test_audit_page_is_for_admins_only(client_for, role):
    c, _ = client_for(role)
    assert c.get("/admin/audit").status_code == 403
    assert "/admin/audit" not in c.get("/").text


def test_audit_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/admin/audit")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_account_creation_is_audited(admin, db):
    client, admin_user = admin
    client.post(
        "/admin/users/new",
        data={
            "email": "new@example.org",
            "display_name": "New Person",
            "role": "trainer",
            "password": "marble otter lantern quietly",
        },
    )
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.actor_id == admin_user.id and entry.detail == {"role": "trainer", "via": "admin"}
    assert "marble" not in str(entry.detail)
    page = client.get("/admin/audit", params={"action": "user.create"})
    assert entry.target in page.text


def test_reactivation_is_audited_and_a_burst_of_failed_sign_ins_once(admin, db, client):
    admin_client, _ = admin
    user = create_user(db, email="guessed@example.org", is_active=False)
    form = {"email": user.email, "display_name": user.display_name, "role": "volunteer"}
    assert (
        admin_client.post(f"/admin/users/{user.id}", data={**form, "is_active": "on"}).status_code
        == 303
    )
    for _ in range(7):  # 5 failures throttle the account; the later ones are refused unrecorded
        post_login(client, "guessed@example.org", "guess")
    db.expire_all()
    actions = db.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.reactivate", "auth.sign_in_throttled"]
    burst = db.exec(select(AuditEntry).where(AuditEntry.action == "auth.sign_in_throttled")).one()
    assert burst.actor_id is None and burst.target == f"user:{user.id}"
    assert burst.detail["throttled"] == "account" and burst.detail["failures"] == 5
