"""Each existing account gets its address in allauth's table, as its primary one.

Confirmed: accounts that are active, and those an administrator disabled after they
had signed in (they confirmed before). An account that was still waiting for its
confirmation (inactive, never signed in) becomes active with an unconfirmed address:
allauth then refuses its sign-in until the address is confirmed, and mails a link.
An address two accounts share, ignoring case, is confirmed for the oldest only.
"""

from django.db import migrations


def add_email_addresses(apps, schema_editor) -> None:
    User = apps.get_model("auth", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    confirmed: set[str] = set()
    for user in User.objects.exclude(email="").order_by("date_joined", "pk"):
        email = user.email.strip().lower()
        waiting = not user.is_active and user.last_login is None
        if waiting:
            user.is_active = True
        if user.email != email or waiting:
            user.email = email
            user.save(update_fields=["email", "is_active"])
        verified = not waiting and email not in confirmed
        if verified:
            confirmed.add(email)
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"primary": True, "verified": verified}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(add_email_addresses, migrations.RunPython.noop)]
