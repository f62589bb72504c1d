"""Changes the catalog's cache must not outlive (connected in CatalogConfig.ready).

A change of an API, one of its servers, an operation or a parameter drops every process's snapshot
(catalog/snapshot.py), at once, for this process and the tests, and again when the
transaction commits, so that another process that read the old rows in between does not
keep them.

Parameter and documented response deletions are not watched: a receiver would make
Django fetch every deleted row (an import deletes thousands at once), and every path that
deletes them also saves their operation or API.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from catalog import snapshot
from catalog.models import Api, ApiServer, Operation, Parameter, ResponseDoc


def catalog_changed(**_: object) -> None:
    snapshot.forget_everything()
    transaction.on_commit(snapshot.forget_everything)


for _model in (Api, ApiServer, Operation, Parameter):
    post_save.connect(catalog_changed, sender=_model, dispatch_uid=f"gw-save-{_model}")
    post_delete.connect(catalog_changed, sender=_model, dispatch_uid=f"gw-del-{_model}")
# The operation page keeps its documented responses (catalog/response_docs.py).
post_save.connect(catalog_changed, sender=ResponseDoc, dispatch_uid="gw-save-responsedoc")
