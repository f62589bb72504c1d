"""Accounts beyond what allauth does: the profile's names, and where the paths of the
portal's earlier account pages lead now."""

from __future__ import annotations

from django.contrib.auth.models import User


def update_profile(*, user: User, first_name: str, last_name: str) -> User:
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    return user
