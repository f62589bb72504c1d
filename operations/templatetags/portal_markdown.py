import markdown as markdown_library
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Admin-written Markdown, sanitised: admins are trusted, their pasted HTML is not."""
    html = markdown_library.markdown(text or "", extensions=["fenced_code", "tables"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - sanitised by nh3 above
