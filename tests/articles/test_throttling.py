"""Passwords cannot be guessed freely: the admin login and the physician's approval
password lock out after repeated failures, per account and per address (django-axes),
and every refused approval attempt is an audit event."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import AuditAction, AuditEvent, Review, RevisionStatus
from tests.builders import (
    PASSWORD,
    approve_data,
    article_in,
    fresh,
    make_editor,
    make_writer,
    step_url,
)

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def log_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_the_right_password_works_before_the_limit(client):
    user = make_editor()
    for _ in range(4):
        assert log_in(client, user.username, "wrong").status_code == 200
    response = log_in(client, user.username, PASSWORD)
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_an_account_locks_after_five_wrong_passwords_even_from_new_addresses(client):
    user = make_editor()
    for n in range(5):
        log_in(client, user.username, "wrong", address=f"10.0.0.{n + 1}")
    response = log_in(client, user.username, PASSWORD, address="10.0.9.9")
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_address_locks_after_five_wrong_passwords_over_many_accounts(client):
    users = [make_writer() for _ in range(6)]
    for user in users[:5]:
        log_in(client, user.username, "wrong", address="10.0.0.7")
    response = log_in(client, users[5].username, PASSWORD, address="10.0.0.7")
    assert response.status_code == 429
    # Another address is not affected (a browser there has no cookies from this one).
    assert log_in(Client(), users[5].username, PASSWORD, address="10.0.0.8").status_code == 302


def test_the_approval_password_locks_out_and_every_attempt_is_recorded(client):
    s = article_in("pending")
    client.force_login(s.physician)
    url = step_url("approve", s.revision)
    codes = [
        client.post(url, approve_data(s.revision, password="wrong")).status_code for _ in range(5)
    ]
    assert codes == [400, 400, 400, 400, 429]  # the fifth failure is answered with the pause
    refused = AuditEvent.objects.filter(action=AuditAction.APPROVAL_REFUSED)
    assert refused.count() == 5
    assert all(e.actor_username == s.physician.username for e in refused)
    assert all("password was not correct" in e.comment for e in refused)

    response = client.post(url, approve_data(s.revision))  # the right password, too late
    assert response.status_code == 429
    assert fresh(s.revision).status == RevisionStatus.PENDING
    assert not Review.objects.filter(revision=s.revision).exists()
    refused = AuditEvent.objects.filter(action=AuditAction.APPROVAL_REFUSED)  # a fresh query
    assert refused.count() == 6 and "paused" in refused.order_by("-pk").first().comment


def test_other_refused_approvals_are_recorded_too(client):
    s = article_in("pending")
    client.force_login(s.author)  # the writer is no physician
    response = client.post(step_url("approve", s.revision), approve_data(s.revision))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditAction.APPROVAL_REFUSED)
    assert event.actor_username == s.author.username and event.revision_id == s.revision.pk


def test_the_lockout_page_is_in_the_sites_design(client):
    user = make_editor()
    for _ in range(5):
        log_in(client, user.username, "wrong")
    html = log_in(client, user.username, PASSWORD).content.decode()
    assert 'class="site-header"' in html and reverse("articles:home") in html
