"""The HTTP core: building, checking, masking and sending outbound requests
(docs/design.md, "The one path"). A plain package, not a Django app: no models, and no
imports of the apps."""
