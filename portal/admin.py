"""Admins manage accounts in Django's admin: the stock UserAdmin, with the address and
the active flag in the list (an account awaiting confirmation is inactive)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()


class PortalUserAdmin(UserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "last_login",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    ordering = ("-date_joined",)


admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
