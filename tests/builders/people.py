"""People: one user per role, one password for every test user, reviewer profiles, and
every actor of the workflow permission table."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, Group, User

from reviewers.models import Reviewer

# The one password of every user a test makes (the demo accounts of `load_demo` have
# their own, articles.management.commands.load_demo.DEMO_PASSWORD).
PASSWORD = "correct-horse-battery-staple"

# The role groups made by migration articles/0003_roles.
WRITER, REVIEWER, EDITOR = "Writer", "Physician reviewer", "Editor"

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """`prefix` with a number no other call in this test run gets."""
    return f"{prefix}{next(_serial)}"


def make_user(
    username: str | None = None,
    *groups: str,
    is_active: bool = True,
    is_staff: bool | None = None,
    is_superuser: bool = False,
    reviewer: str | None = None,
    **extra,
) -> User:
    """A user in the given role groups, with PASSWORD. Staff when in a group or a superuser
    unless `is_staff` says otherwise. `reviewer="active"` (or `"inactive"`) also gives them
    a reviewer profile."""
    username = username or unique("user")
    user = User(
        username=username,
        email=f"{username}@clinic.invalid",
        is_active=is_active,
        is_staff=(bool(groups) or is_superuser) if is_staff is None else is_staff,
        is_superuser=is_superuser,
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if reviewer is not None:
        if reviewer not in ("active", "inactive"):
            raise ValueError(f"reviewer={reviewer!r}: 'active', 'inactive' or None")
        make_reviewer_profile(user, active=reviewer == "active")
    return user


def make_reviewer_profile(user: User, *, active: bool = True, **fields) -> Reviewer:
    defaults = {
        "display_name": f"Dr. {user.username.title()}",
        "credentials": "M.D.",
        "title": "Staff Physician",
        "slug": unique(f"dr-{user.username}-").lower().replace("_", "-"),
    }
    defaults.update(fields)
    return Reviewer.objects.create(user=user, active=active, **defaults)


def make_writer(username: str | None = None, **user_fields) -> User:
    return make_user(username or unique("writer"), WRITER, **user_fields)


def make_physician(
    username: str | None = None, *, first_name: str = "", last_name: str = "", **profile
) -> User:
    """A physician reviewer with an active reviewer profile (`profile` overrides its
    fields)."""
    user = make_user(
        username or unique("physician"), REVIEWER, first_name=first_name, last_name=last_name
    )
    make_reviewer_profile(user, **profile)
    return user


def make_editor(username: str | None = None, **user_fields) -> User:
    return make_user(username or unique("editor"), EDITOR, **user_fields)


def make_superuser(username: str | None = None, *, reviewer: str | None = None) -> User:
    """The site's administrator: a superuser, in no group."""
    return make_user(username or unique("admin"), is_superuser=True, reviewer=reviewer)


# The physician of the public pages: a full profile, as a reader sees it.
CHIEF_PHYSICIAN_PROFILE = {
    "display_name": "Mark Hrymoc",
    "credentials": "M.D.",
    "title": "Chief Medical Officer",
    "board_certifications": "General Psychiatry\nAddiction Psychiatry",
    "specialties": "Couples therapy\nAddiction medicine",
    "bio": "Dr. Hrymoc is double-board certified in general and addiction psychiatry.",
    "slug": "mark-hrymoc",
}


def make_chief_physician(username: str = "physician") -> User:
    return make_physician(
        username, first_name="Mark", last_name="Hrymoc", **CHIEF_PHYSICIAN_PROFILE
    )


# --- Every actor of the workflow permission table -----------------------------------------


@dataclass(frozen=True)
class Role:
    """`author=True`: the actor writes the article and every revision of it in the scenario
    (so "nobody reviews what they wrote" applies)."""

    id: str
    description: str
    author: bool = False


ROLES = {
    role.id: role
    for role in (
        Role("anonymous", "AnonymousUser (not logged in)"),
        Role("inactive", "inactive staff user holding every group and a reviewer profile"),
        Role("staff", "active staff user with no group"),
        Role("writer", "Writer who wrote the article", author=True),
        Role("other_writer", "Writer who did not write the article"),
        Role("reviewer", "Physician reviewer with an active profile"),
        Role("reviewer_no_profile", "Physician reviewer group, no reviewer profile"),
        Role("reviewer_author", "Writer + Physician reviewer who wrote the revision", author=True),
        Role("reviewer_inactive", "Physician reviewer whose profile is inactive"),
        Role("editor", "Editor"),
        Role("superuser", "superuser without reviewer profile"),
        Role("superuser_author", "superuser, active reviewer, and the author", author=True),
    )
}


def make_actor(role_id: str):
    name = unique(role_id.replace("_", "-") + "-")
    match role_id:
        case "anonymous":
            return AnonymousUser()
        case "inactive":
            return make_user(name, WRITER, REVIEWER, EDITOR, is_active=False, reviewer="active")
        case "staff":
            return make_user(name, is_staff=True)
        case "writer" | "other_writer":
            return make_user(name, WRITER)
        case "reviewer":
            return make_user(name, REVIEWER, reviewer="active")
        case "reviewer_no_profile":
            return make_user(name, REVIEWER)
        case "reviewer_author":
            return make_user(name, WRITER, REVIEWER, reviewer="active")
        case "reviewer_inactive":
            return make_user(name, REVIEWER, reviewer="inactive")
        case "editor":
            return make_user(name, EDITOR)
        case "superuser":
            return make_user(name, is_superuser=True)
        case "superuser_author":
            return make_user(name, is_superuser=True, reviewer="active")
    raise ValueError(role_id)
