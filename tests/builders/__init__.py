"""The one vocabulary of the tests: every user, password, builder and database snapshot a
test needs, made through the same workflow steps as the site (articles/workflow.py).

Import from here: ``from tests.builders import make_writer, article_in, snapshot``.
`tests/conftest.py` only wraps these as pytest fixtures; no test imports a conftest
(tests/test_one_vocabulary.py checks that, and that PASSWORD is the only test password).

* people.py: PASSWORD, a user per role (`make_writer`, `make_physician` with a reviewer
  profile, `make_editor`, `make_superuser`), `make_user` for any mix of groups, and
  `make_actor` for each role of the workflow permission table.
* content.py: categories, references, articles saved through the workflow, and the steps
  (`edit`, `save`, `submit`, `approve`, `publish_through_workflow`) with test defaults.
* states.py: `article_in(state)` takes a new article to any of STATES.
* snapshot.py: `snapshot(article)`, what a refused step must leave unchanged.
* admin_pages.py: admin URLs, messages, and the POST data a loaded admin page sends.
* pictures.py: image files built in memory, and what the media storage holds.
* timing.py: `fastest_cpu_seconds(work, runs=…)`, for tests that show linear time by growth.
* imports.py: `only_entry(text)`, the one entry an import reads from a text.
"""

# The demo clinic's own (`manage.py load_demo`): its accounts' password and its article.
from articles.management.commands.load_demo import ARTICLE_SLUG as DEMO_ARTICLE_SLUG
from articles.management.commands.load_demo import DEMO_PASSWORD

from .admin_pages import (
    CHANGELIST_URL,
    IMPORT_URL,
    admin_form_data,
    approve_data,
    article_form_data,
    change_url,
    confirm_fields,
    hidden_inputs,
    messages_of,
    review_url,
    step_url,
)
from .content import (
    ARTICLE_DEFAULTS,
    approvals_expired,
    approve,
    edit,
    file_writer,
    fresh,
    make_article,
    make_category,
    make_reference,
    publish_through_workflow,
    save,
    submit,
    submit_new_demo_article,
)
from .imports import only_entry
from .people import (
    CHIEF_PHYSICIAN_PROFILE,
    EDITOR,
    PASSWORD,
    REVIEWER,
    ROLES,
    WRITER,
    Role,
    make_actor,
    make_chief_physician,
    make_editor,
    make_physician,
    make_reviewer_profile,
    make_superuser,
    make_user,
    make_writer,
    unique,
)
from .pictures import (
    GPS,
    SECRET_COMMENT,
    SECRET_XMP,
    encode,
    jpeg_with_secrets,
    noise_png,
    picture,
    png_chunk,
    png_claiming,
    stored_files,
    stored_paths,
    upload,
)
from .snapshot import REVISION_FIELDS, DbState, latest_event, snapshot
from .states import STATES, Story, article_in
from .timing import fastest_cpu_seconds

__all__ = [
    "DEMO_ARTICLE_SLUG",
    "DEMO_PASSWORD",
    "ARTICLE_DEFAULTS",
    "CHANGELIST_URL",
    "CHIEF_PHYSICIAN_PROFILE",
    "EDITOR",
    "GPS",
    "IMPORT_URL",
    "PASSWORD",
    "REVIEWER",
    "REVISION_FIELDS",
    "ROLES",
    "SECRET_COMMENT",
    "SECRET_XMP",
    "STATES",
    "WRITER",
    "DbState",
    "Role",
    "Story",
    "admin_form_data",
    "approvals_expired",
    "approve",
    "approve_data",
    "article_form_data",
    "article_in",
    "change_url",
    "confirm_fields",
    "edit",
    "fastest_cpu_seconds",
    "only_entry",
    "encode",
    "file_writer",
    "fresh",
    "hidden_inputs",
    "jpeg_with_secrets",
    "latest_event",
    "make_actor",
    "make_article",
    "make_category",
    "make_chief_physician",
    "make_editor",
    "make_physician",
    "make_reference",
    "make_reviewer_profile",
    "make_superuser",
    "make_user",
    "make_writer",
    "messages_of",
    "noise_png",
    "picture",
    "png_chunk",
    "png_claiming",
    "publish_through_workflow",
    "review_url",
    "save",
    "snapshot",
    "step_url",
    "stored_files",
    "stored_paths",
    "submit",
    "submit_new_demo_article",
    "unique",
    "upload",
]
