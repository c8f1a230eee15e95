"""The review page flags a schedule more than two minutes overdue in its publishing
section (the rule is articles.scheduling.schedule_overdue, as on the admin home)."""

from __future__ import annotations

import pytest

from tests.articles.test_run_scheduler import scheduled_story
from tests.builders import review_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("minutes_ago", "flagged"), [(1, False), (3, True)])
def test_the_review_page_flags_a_late_schedule_in_publishing(client, minutes_ago, flagged):
    s = scheduled_story(minutes_ago=minutes_ago)
    client.force_login(s.editor)
    html = client.get(review_url(s.revision)).content.decode()
    publishing = html.split('id="publish-heading"', 1)[1].split("</section>", 1)[0]
    assert ("This schedule is overdue" in publishing) is flagged
    assert ("run_scheduler" in publishing) is flagged
