"""Scheduling out of the box: the `run_scheduler` loop, the "overdue schedule" flag on the
admin home and the review page, and schedule times typed and shown in the site's zone."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.forms import ScheduleForm
from articles.models import Revision, RevisionStatus
from articles.scheduling import Scheduler, schedule_overdue
from tests.builders import article_in, fresh, messages_of, review_url, step_url

pytestmark = pytest.mark.django_db

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def scheduled_story(*, minutes_ago: float | None = None):
    """An approved revision scheduled through the workflow; with `minutes_ago`, its time
    then moved into the past, as if no scheduler had run since."""
    s = article_in("approved")
    workflow.schedule(
        revision=s.revision, actor=s.editor, publish_at=timezone.now() + timedelta(days=1)
    )
    if minutes_ago is not None:
        Revision.objects.filter(pk=s.revision.pk).update(
            publish_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
    s.revision = fresh(s.revision)
    return s


# --- The loop ----------------------------------------------------------------------------


def test_the_loop_runs_the_given_number_of_rounds():
    calls = []
    scheduler = Scheduler(interval=0.01, publish=lambda: calls.append(1) or [])
    assert scheduler.run(iterations=3) == 0
    assert len(calls) == 3


def test_the_loop_publishes_what_is_due_and_logs_it(caplog):
    s = scheduled_story(minutes_ago=1)
    caplog.set_level(logging.INFO, logger="articles.scheduling")

    assert Scheduler(interval=0.01).run(iterations=2) == 1

    assert fresh(s.article).live_revision_id == s.revision.pk
    assert fresh(s.revision).status == RevisionStatus.PUBLISHED
    logged = [r.getMessage() for r in caplog.records if r.name == "articles.scheduling"]
    assert f"Published “{s.revision.title}” (revision {s.revision.number}" in "\n".join(logged)
    assert logged[-1] == "Scheduler stopped after 2 round(s); 1 published."


def test_a_stop_ends_the_loop_without_waiting_out_the_interval():
    rounds = []

    def publish():
        rounds.append(1)
        # Only once the first round is under way, however slow the machine: a stop that
        # came before it would end the loop with no round at all.
        threading.Timer(0.3, scheduler.stop).start()
        return []

    scheduler = Scheduler(interval=3600, publish=publish)
    # The first pause would last an hour; a stop (from a signal handler, or here another
    # thread) ends it within a moment.
    started = time.monotonic()
    scheduler.run()
    assert time.monotonic() - started < 5
    assert len(rounds) == 1


def test_a_failing_round_is_logged_and_the_loop_goes_on(caplog):
    outcomes = iter([RuntimeError("database is down"), []])

    def publish():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    caplog.set_level(logging.INFO, logger="articles.scheduling")
    Scheduler(interval=0.01, publish=publish).run(iterations=2)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "Scheduled publishing failed" in failures[0].getMessage()
    assert "database is down" in caplog.text


def test_the_command_runs_bounded_rounds_and_publishes():
    s = scheduled_story(minutes_ago=5)
    call_command("run_scheduler", "--interval", "0.01", "--iterations", "2")
    assert fresh(s.article).live_revision_id == s.revision.pk


@pytest.mark.parametrize("arguments", [["--interval", "0"], ["--iterations", "0"]])
def test_the_command_refuses_nonsense(arguments):
    with pytest.raises(CommandError):
        call_command("run_scheduler", *arguments)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_the_command_cleanly(signum, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="articles.scheduling")
    original = signal.getsignal(signum)
    first_round_done = threading.Event()
    run_once = Scheduler.run_once

    def run_once_and_tell(self):
        try:
            return run_once(self)
        finally:
            first_round_done.set()

    monkeypatch.setattr(Scheduler, "run_once", run_once_and_tell)

    def send_when_handled():
        # Only once the command's handler is in place (the default would end pytest) and
        # its first round is over: a signal before that round would leave it none to log.
        if first_round_done.wait(timeout=60) and signal.getsignal(signum) is not original:
            os.kill(os.getpid(), signum)

    sender = threading.Thread(target=send_when_handled)
    sender.start()
    started = time.monotonic()
    call_command("run_scheduler", "--interval", "3600")  # would run forever unstopped
    sender.join()

    assert time.monotonic() - started < 5
    assert "Scheduler stopped after 1 round(s); 0 published." in caplog.text
    assert signal.getsignal(signum) is original  # put back as it was


# --- "Overdue schedule" ------------------------------------------------------------------


def test_a_schedule_is_overdue_only_past_two_minutes():
    s = scheduled_story()
    due = s.revision.publish_at
    assert not schedule_overdue(s.revision, now=due - timedelta(minutes=5))
    assert not schedule_overdue(s.revision, now=due + timedelta(minutes=1))
    assert schedule_overdue(s.revision, now=due + timedelta(minutes=3))


def test_nothing_unscheduled_or_published_is_overdue():
    s = scheduled_story(minutes_ago=10)
    assert schedule_overdue(s.revision)
    workflow.publish_due()
    assert not schedule_overdue(fresh(s.revision))  # it went live: no schedule left
    assert not schedule_overdue(article_in("approved").revision)


def scheduled_section(html: str) -> str:
    return html.split("<h2>Scheduled</h2>", 1)[1].split("<h2>", 1)[0]


@pytest.mark.parametrize(("minutes_ago", "flagged"), [(1, False), (3, True)])
def test_the_admin_home_flags_a_schedule_more_than_two_minutes_late(client, minutes_ago, flagged):
    s = scheduled_story(minutes_ago=minutes_ago)
    client.force_login(s.editor)
    section = scheduled_section(client.get(reverse("admin:index")).content.decode())
    assert review_url(s.revision) in section
    assert ("Overdue" in section) is flagged
    assert ("run_scheduler" in section) is flagged


# --- The site's time zone ----------------------------------------------------------------


def test_the_schedule_field_names_the_site_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    form = ScheduleForm(auto_id="schedule_%s")
    assert form.fields["publish_at"].label == "Publish at (America/Los_Angeles)"
    assert "America/Los_Angeles" in form.fields["publish_at"].help_text
    settings.TIME_ZONE = "Asia/Tokyo"
    assert ScheduleForm().fields["publish_at"].label == "Publish at (Asia/Tokyo)"


def test_a_naive_time_is_read_in_the_site_zone_whatever_zone_is_current(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    # Even with another zone current (as a per-user zone would make it), the site's counts.
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        form = ScheduleForm({"publish_at": "2030-01-15T09:30"})
        assert form.is_valid(), form.errors
    value = form.cleaned_data["publish_at"]
    assert value == datetime(2030, 1, 15, 9, 30, tzinfo=LOS_ANGELES)
    assert value.astimezone(UTC) == datetime(2030, 1, 15, 17, 30, tzinfo=UTC)


def test_another_site_zone_moves_the_instant(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    form = ScheduleForm({"publish_at": "2030-01-15 09:30"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["publish_at"].astimezone(UTC) == datetime(
        2030, 1, 15, 0, 30, tzinfo=UTC
    )


def test_a_time_with_an_offset_keeps_it(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    form = ScheduleForm({"publish_at": "2030-01-15T09:30+00:00"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["publish_at"] == datetime(2030, 1, 15, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "says"),
    [("2030-03-10T02:30", "does not exist"), ("2030-11-03T01:30", "happens twice")],
)
def test_a_time_the_clock_change_skips_or_repeats_is_refused(settings, typed, says):
    settings.TIME_ZONE = "America/Los_Angeles"
    form = ScheduleForm({"publish_at": typed})
    assert not form.is_valid()
    message = form.errors["publish_at"][0]
    assert says in message
    assert "America/Los_Angeles" in message


def test_a_scheduled_time_is_shown_in_the_site_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    form = ScheduleForm(
        auto_id="schedule_%s", initial={"publish_at": datetime(2030, 1, 15, 17, 30, tzinfo=UTC)}
    )
    assert 'value="2030-01-15T09:30"' in str(form["publish_at"])


def test_scheduling_through_the_admin_uses_the_site_zone(client, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    s = article_in("approved")
    client.force_login(s.editor)
    page = client.get(review_url(s.revision)).content.decode()
    assert "Publish at (America/Los_Angeles)" in page

    response = client.post(
        step_url("schedule", s.revision), {"publish_at": "2999-01-02T08:30"}, follow=True
    )
    assert "Scheduled." in messages_of(response)
    stored = fresh(s.revision).publish_at
    assert stored == datetime(2999, 1, 2, 8, 30, tzinfo=LOS_ANGELES)
    page = client.get(review_url(s.revision)).content.decode()
    assert "scheduled for 2999-01-02 08:30 PST" in page
    home = client.get(reverse("admin:index")).content.decode()
    assert "2999-01-02 08:30 PST" in scheduled_section(home)
