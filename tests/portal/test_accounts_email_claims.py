"""An address nobody has confirmed belongs to nobody: another account asking for it
(by changing its address, or by signing up with it) never stops the address's owner
from signing up or changing to it, and the owner's confirmation removes those claims.
An address an account has confirmed stays taken."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
SIGNUP = "/accounts/signup/"
SENT = "/accounts/confirm-email/"
EMAIL = "/accounts/email/"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "a long and unusual passphrase"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/)")
INVALID_PAGE = "This confirmation link is not valid"
VICTIM = "victim@example.com"


@pytest.fixture
def later(monkeypatch):
    """Moves the rate limits' clock on: the squat happened a while before the owner
    came (one confirmation mail per address in 3 minutes)."""
    offset = [0.0]
    clock = SimpleNamespace(
        time=lambda: time.time() + offset[0], monotonic=time.monotonic, sleep=time.sleep
    )
    monkeypatch.setattr(ratelimit, "time", clock)

    def advance(seconds: float = 181) -> None:
        offset[0] += seconds

    return advance


def sign_up(client: Client, *, username: str, email: str):
    return client.post(
        SIGNUP,
        {
            "username": username,
            "email": email,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": username, "password": password})


def start_change(client: Client, *, email: str) -> None:
    """Asks for a new address on the email page, giving the password when asked."""
    asked = client.post(EMAIL, {"action_add": "", "email": email})
    if asked["Location"].startswith("/accounts/reauthenticate/"):
        assert client.post(asked["Location"], {"password": PASSWORD})["Location"] == EMAIL


def link_in(mail) -> str:
    match = CONFIRM_LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


def addresses(user) -> list[tuple[str, bool, bool]]:
    return sorted(
        (row.email, row.primary, row.verified) for row in EmailAddress.objects.filter(user=user)
    )


def signed_in_username(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


@pytest.fixture
def squatter_by_change(mailoutbox, later):
    """Mallory, signed in with her own confirmed address, asks to change to the
    victim's and never confirms (the link goes to the victim's mailbox)."""
    mallory = make_user("mallory", email="mallory@example.com")
    attacker = Client()
    assert sign_in(attacker, "mallory")["Location"] == "/"
    start_change(attacker, email=VICTIM)
    [mail] = mailoutbox
    assert mail.to == [VICTIM]
    assert addresses(mallory) == [
        ("mallory@example.com", True, True),
        (VICTIM, False, False),
    ]
    mailoutbox.clear()
    later()
    return SimpleNamespace(user=mallory, client=attacker, link=link_in(mail))


@pytest.fixture
def squatter_by_sign_up(mailoutbox, later):
    """Mallory signs up with the victim's address and never confirms."""
    attacker = Client()
    assert sign_up(attacker, username="mallory", email=VICTIM)["Location"] == SENT
    mallory = User.objects.get(username="mallory")
    assert addresses(mallory) == [(VICTIM, True, False)]
    [mail] = mailoutbox
    mailoutbox.clear()
    later()
    return SimpleNamespace(user=mallory, client=attacker, link=link_in(mail))


def assert_the_old_link_confirms_nothing(attacker: Client, link: str) -> None:
    page = attacker.get(link)
    assert page.status_code == 200
    assert INVALID_PAGE in page.content.decode()
    assert attacker.post(link).status_code == 404
    assert Client().post(link).status_code == 404


@pytest.mark.parametrize("typed", [VICTIM, "Victim@Example.COM"])
def test_an_unconfirmed_change_does_not_stop_the_owner_signing_up(
    client: Client, mailoutbox, squatter_by_change, typed: str
) -> None:
    response = sign_up(client, username="victim", email=typed)

    assert response["Location"] == SENT
    victim = User.objects.get(username="victim")
    assert addresses(victim) == [(VICTIM, True, False)]
    [mail] = mailoutbox
    assert mail.to == [VICTIM]
    assert mail.subject == "Confirm your API portal account"

    confirmed = client.post(link_in(mail), follow=True)

    assert confirmed.redirect_chain == [("/accounts/profile/", 302)]
    assert signed_in_username(client) == "victim"
    assert addresses(victim) == [(VICTIM, True, True)]
    victim.refresh_from_db()
    assert victim.email == VICTIM
    mallory = squatter_by_change.user
    assert addresses(mallory) == [("mallory@example.com", True, True)]
    mallory.refresh_from_db()
    assert mallory.email == "mallory@example.com"
    assert_the_old_link_confirms_nothing(squatter_by_change.client, squatter_by_change.link)
    assert addresses(victim) == [(VICTIM, True, True)]
    page = squatter_by_change.client.get(EMAIL).content.decode()
    assert VICTIM not in page
    assert [m.to for m in mailoutbox[1:]] == []


def test_an_unconfirmed_sign_up_does_not_stop_the_owner_signing_up(
    client: Client, mailoutbox, squatter_by_sign_up
) -> None:
    response = sign_up(client, username="victim", email=VICTIM)

    assert response["Location"] == SENT
    victim = User.objects.get(username="victim")
    [mail] = mailoutbox
    assert (mail.to, mail.subject) == ([VICTIM], "Confirm your API portal account")
    assert client.post(link_in(mail))["Location"] == "/accounts/profile/"

    assert addresses(victim) == [(VICTIM, True, True)]
    mallory = squatter_by_sign_up.user
    assert addresses(mallory) == []
    mallory.refresh_from_db()
    assert mallory.email == ""
    assert_the_old_link_confirms_nothing(squatter_by_sign_up.client, squatter_by_sign_up.link)
    # The account left without an address cannot sign in, and mails nobody.
    mailoutbox.clear()
    refused = sign_in(squatter_by_sign_up.client, "mallory", NEW_PASSWORD)
    assert refused["Location"] == SENT
    assert signed_in_username(squatter_by_sign_up.client) is None
    assert mailoutbox == []
    assert addresses(victim) == [(VICTIM, True, True)]


def test_an_unconfirmed_claim_does_not_stop_the_owner_changing_to_the_address(
    client: Client, mailoutbox, squatter_by_change
) -> None:
    """The victim already has an account and moves it to the squatted address."""
    victim = make_user("victim", email="old@example.com")
    assert sign_in(client, "victim")["Location"] == "/"
    start_change(client, email=VICTIM)
    [mail] = mailoutbox

    client.post(link_in(mail))

    assert addresses(victim) == [(VICTIM, True, True)]
    victim.refresh_from_db()
    assert victim.email == VICTIM
    assert addresses(squatter_by_change.user) == [("mallory@example.com", True, True)]
    assert_the_old_link_confirms_nothing(squatter_by_change.client, squatter_by_change.link)


def test_two_squatters_lose_their_claims_when_the_owner_confirms(
    client: Client, mailoutbox, squatter_by_sign_up, later
) -> None:
    eve = make_user("eve", email="eve@example.com")
    eve_client = Client()
    sign_in(eve_client, "eve")
    start_change(eve_client, email=VICTIM.upper())
    mailoutbox.clear()
    later()
    sign_up(client, username="victim", email=VICTIM)
    [mail] = mailoutbox

    client.post(link_in(mail))

    assert list(
        EmailAddress.objects.filter(email=VICTIM).values_list("user__username", "verified")
    ) == [("victim", True)]
    assert addresses(eve) == [("eve@example.com", True, True)]
    assert addresses(squatter_by_sign_up.user) == []


def test_a_confirmed_address_still_answers_as_a_new_one_and_mails_its_owner(
    client: Client, mailoutbox, squatter_by_change
) -> None:
    """The owner confirmed first; a later sign-up with the address creates nothing."""
    owner = make_user("owner", email="owner@example.com")
    newcomer = Client()
    new = sign_up(newcomer, username="fresh", email="fresh@example.com")
    mailoutbox.clear()

    taken = sign_up(client, username="second", email="OWNER@example.com")

    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])
    assert client.get(SENT).content.decode().replace("owner@example.com", "X") == newcomer.get(
        SENT
    ).content.decode().replace("fresh@example.com", "X")
    assert not User.objects.filter(username="second").exists()
    [mail] = mailoutbox
    assert mail.to == ["owner@example.com"]
    assert "/accounts/confirm/" not in mail.body
    assert addresses(owner) == [("owner@example.com", True, True)]


def test_an_address_confirmed_by_the_owner_cannot_be_taken_by_a_later_sign_up(
    client: Client, mailoutbox, squatter_by_sign_up, later
) -> None:
    sign_up(client, username="victim", email=VICTIM)
    client.post(link_in(mailoutbox[0]))
    mailoutbox.clear()
    later()

    again = sign_up(Client(), username="mallory2", email=VICTIM)

    assert again["Location"] == SENT
    assert not User.objects.filter(username="mallory2").exists()
    [mail] = mailoutbox
    assert mail.to == [VICTIM]
    assert "/accounts/confirm/" not in mail.body
    assert list(
        EmailAddress.objects.filter(email=VICTIM).values_list("user__username", "verified")
    ) == [("victim", True)]


def test_a_squat_just_before_delays_the_owners_mail_by_the_mail_limit_only(
    client: Client, mailoutbox, later
) -> None:
    """One confirmation mail per address in 3 minutes counts the squatter's mail too:
    the owner's account is made at once, and signing in after the wait mails its link."""
    attacker = Client()
    sign_up(attacker, username="mallory", email=VICTIM)
    mailoutbox.clear()

    assert sign_up(client, username="victim", email=VICTIM)["Location"] == SENT

    victim = User.objects.get(username="victim")
    assert addresses(victim) == [(VICTIM, True, False)]
    assert mailoutbox == []
    later()
    client = Client()
    assert sign_in(client, "victim", NEW_PASSWORD)["Location"] == SENT
    [mail] = mailoutbox
    assert mail.to == [VICTIM]
    assert "Hello victim," in mail.body
    client.post(link_in(mail))
    assert addresses(victim) == [(VICTIM, True, True)]
    assert addresses(User.objects.get(username="mallory")) == []


def test_an_address_typed_in_the_admin_gives_way_to_the_owner_too(
    client: Client, mailoutbox
) -> None:
    """An account staff created with the victim's address has no confirmed address:
    the victim's sign-up works, and confirming clears the address from that account."""
    carol = User.objects.create_user("carol", email=VICTIM, password=PASSWORD)
    sign_up(client, username="victim", email=VICTIM)
    [mail] = mailoutbox

    client.post(link_in(mail))

    assert addresses(User.objects.get(username="victim")) == [(VICTIM, True, True)]
    carol.refresh_from_db()
    assert carol.email == ""
    assert addresses(carol) == []


def test_staff_marking_an_address_confirmed_removes_the_other_claims(
    client: Client, squatter_by_sign_up, mailoutbox
) -> None:
    sign_up(Client(), username="victim", email=VICTIM)
    victim_address = EmailAddress.objects.get(user__username="victim")
    client.force_login(make_user("root", staff=True))

    response = client.post(
        "/admin/account/emailaddress/",
        {"action": "make_verified", "_selected_action": [victim_address.pk]},
    )

    assert response.status_code == 302
    assert list(
        EmailAddress.objects.filter(email=VICTIM).values_list("user__username", "verified")
    ) == [("victim", True)]
    assert addresses(squatter_by_sign_up.user) == []
