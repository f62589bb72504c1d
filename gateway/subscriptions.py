"""What happens to a subscription: subscribing, its keys, and the admins' decisions.

Every change of state goes through one function here, which checks the transition
against the row as it is in the database (locked for the change, so two admins
pressing buttons at once cannot both win), records when and why it happened, and
makes the gateway forget the key lookups it cached for the subscription.

    subscribe ──▶ active (no approval needed)
              └─▶ submitted ──approve──▶ active ──suspend──▶ suspended
                            └─reject───▶ rejected   ◀──reactivate──┘
    submitted, active, suspended ──cancel──▶ cancelled
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from gateway.access import forget_subscription
from gateway.models import (
    SUBSCRIPTION_NAME_MAX_LENGTH,
    KeySlot,
    Product,
    Subscription,
    SubscriptionState,
)

State = SubscriptionState

# Which states each change starts from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({State.SUBMITTED}), State.ACTIVE),
    "reject": (frozenset({State.SUBMITTED}), State.REJECTED),
    "suspend": (frozenset({State.ACTIVE}), State.SUSPENDED),
    "reactivate": (frozenset({State.SUSPENDED}), State.ACTIVE),
    "cancel": (frozenset({State.SUBMITTED, State.ACTIVE, State.SUSPENDED}), State.CANCELLED),
}
# What a change is called in the sentence that refuses it.
VERBS = {
    "approve": "approve",
    "reject": "reject",
    "suspend": "suspend",
    "reactivate": "reactivate",
    "cancel": "cancel",
    "regenerate": "regenerate a key of",
}
# The state_comment left when whoever changes the state gives no reason.
DEFAULT_COMMENTS = {
    "approve": "Approved by {by}.",
    "reject": "Rejected by {by}.",
    "suspend": "Suspended by {by}.",
    "reactivate": "Reactivated by {by}.",
    "cancel": "Cancelled by {by}.",
}
NAME_MAX_LENGTH = SUBSCRIPTION_NAME_MAX_LENGTH


class SubscriptionError(Exception):
    """A request about a subscription that cannot be granted; the message says why."""


class TransitionNotAllowed(SubscriptionError):
    def __init__(self, *, action: str, state: str) -> None:
        self.action = action
        self.state = state
        label = State(state).label if state in State.values else state
        super().__init__(f"Cannot {VERBS[action]} a subscription that is {label}.")


def default_subscription_name(*, product: Product, user: User) -> str:
    return f"{product.name} for {user.get_username()}"[:NAME_MAX_LENGTH]


def subscribe(*, user: User, product: Product, name: str, accepted_terms: bool) -> Subscription:
    """A new subscription of the user to the product: active at once, or awaiting approval."""
    name = name.strip()
    if not product.published:
        raise SubscriptionError(f"The product {product.name} is not published.")
    if not product.subscription_required:
        raise SubscriptionError(
            f"The product {product.name} needs no subscription: its APIs answer without a key."
        )
    if product.terms and not accepted_terms:
        raise SubscriptionError("Accept the product's terms of use to subscribe.")
    if not name:
        raise SubscriptionError("Give the subscription a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise SubscriptionError(f"A subscription's name has at most {NAME_MAX_LENGTH} characters.")
    now = timezone.now()
    if product.approval_required:
        state, activated_at, comment = State.SUBMITTED, None, ""
    else:
        state, activated_at, comment = State.ACTIVE, now, "Active at once: no approval needed."
    return Subscription.objects.create(
        user=user,
        product=product,
        name=name,
        state=state,
        state_comment=comment,
        activated_at=activated_at,
        state_changed_at=now,
    )


def regenerate_key(*, subscription: Subscription, slot: KeySlot | str) -> str:
    """A new key in the slot; the old one stops working at once. Returns the new key."""
    slot = KeySlot(slot)
    with transaction.atomic():
        locked = _locked(subscription)
        if locked.state != State.ACTIVE:
            raise TransitionNotAllowed(action="regenerate", state=locked.state)
        key = locked.set_key(slot)
        locked.save(update_fields=[f"{slot}_key_hash", f"{slot}_key_encrypted"])
    # The caller's copy follows, so a page rendered from it shows the new key.
    for field in (f"{slot}_key_hash", f"{slot}_key_encrypted"):
        setattr(subscription, field, getattr(locked, field))
    # The gateway keeps key lookups in the cache: the change must not wait for them to expire.
    forget_subscription(subscription)
    return key


def approve(*, subscription: Subscription, by: User, comment: str = "") -> Subscription:
    return _change_state(subscription=subscription, action="approve", by=by, comment=comment)


def reject(*, subscription: Subscription, by: User, comment: str = "") -> Subscription:
    return _change_state(subscription=subscription, action="reject", by=by, comment=comment)


def suspend(*, subscription: Subscription, by: User, comment: str = "") -> Subscription:
    return _change_state(subscription=subscription, action="suspend", by=by, comment=comment)


def reactivate(*, subscription: Subscription, by: User, comment: str = "") -> Subscription:
    return _change_state(subscription=subscription, action="reactivate", by=by, comment=comment)


def cancel(*, subscription: Subscription, by: User, comment: str = "") -> Subscription:
    """By its owner from the portal, or by an admin; its keys stop working at once."""
    return _change_state(subscription=subscription, action="cancel", by=by, comment=comment)


def can(*, action: str, subscription: Subscription) -> bool:
    """Whether the change applies to the subscription's state (what buttons to offer)."""
    if action == "regenerate":
        return subscription.state == State.ACTIVE
    return subscription.state in TRANSITIONS[action][0]


def _change_state(
    *, subscription: Subscription, action: str, by: User, comment: str
) -> Subscription:
    sources, target = TRANSITIONS[action]
    with transaction.atomic():
        locked = _locked(subscription)
        if locked.state not in sources:
            raise TransitionNotAllowed(action=action, state=locked.state)
        now = timezone.now()
        locked.state = target
        locked.state_changed_at = now
        locked.state_comment = comment.strip() or DEFAULT_COMMENTS[action].format(
            by=_who(by=by, subscription=locked)
        )
        fields = ["state", "state_changed_at", "state_comment"]
        if target == State.ACTIVE and locked.activated_at is None:
            locked.activated_at = now
            fields.append("activated_at")
        locked.save(update_fields=fields)
    for field in ("state", "state_changed_at", "state_comment", "activated_at"):
        setattr(subscription, field, getattr(locked, field))
    # The gateway keeps key lookups in the cache: the change must not wait for them to expire.
    forget_subscription(subscription)
    return subscription


def _locked(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def _who(*, by: User, subscription: Subscription) -> str:
    if by.pk == subscription.user_id:
        return "its owner"
    if by.is_staff:
        return "an administrator"
    return by.get_username()
