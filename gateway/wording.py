"""How the gateway's limits read in pages and messages: "5 calls", "6 d 23 h"."""

from __future__ import annotations


def calls_in_words(count: int) -> str:
    return f"{count:,} call{'s' if count != 1 else ''}"


def format_duration(seconds: int) -> str:
    """ "6 d 23 h", "5 h 3 min", "4 min 10 s", "42 s": the two largest units."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
