"""The gateway's data plane on nginx: the portal renders its configuration
(render.py), pushes the keys into Redis (keys.py) and drains the calls it records
(records.py). The Lua it runs is in this folder. docs/design.md, "Data plane"."""
