"""Read-side queries for the pages: which APIs and operations a visitor sees."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404

from operations.models import Api, ApiQuerySet, Operation, Parameter

UNTAGGED = "Operations"


@dataclass(frozen=True)
class TagGroup:
    tag: str
    operations: list[Operation]


def visible_apis(*, user: AbstractBaseUser | AnonymousUser) -> ApiQuerySet:
    """Published APIs; staff also see unpublished ones so they can check them before release."""
    if user.is_active and user.is_staff:
        return Api.objects.all()
    return Api.objects.published()


def catalog_apis(*, user: AbstractBaseUser | AnonymousUser, search: str) -> ApiQuerySet:
    return (
        visible_apis(user=user)
        .matching(search)
        .annotate(
            operation_count=Count("operations", filter=Q(operations__removed=False), distinct=True)
        )
        .order_by("name")
    )


def get_api(*, user: AbstractBaseUser | AnonymousUser, api_slug: str) -> Api:
    return get_object_or_404(visible_apis(user=user), slug=api_slug)


def operations_by_tag(*, api: Api) -> list[TagGroup]:
    groups: dict[str, list[Operation]] = {}
    for operation in api.operations.current():
        for tag in operation.tag_list or [UNTAGGED]:
            groups.setdefault(tag, []).append(operation)
    return [TagGroup(tag=tag, operations=operations) for tag, operations in groups.items()]


def get_operation(
    *, user: AbstractBaseUser | AnonymousUser, api_slug: str, operation_slug: str
) -> Operation:
    operations = (
        Operation.objects.current()
        .filter(api__in=visible_apis(user=user))
        .select_related("api")
        .prefetch_related(
            Prefetch("parameters", queryset=Parameter.objects.order_by("order", "id")),
            "responses",
        )
    )
    return get_object_or_404(operations, api__slug=api_slug, slug=operation_slug)
