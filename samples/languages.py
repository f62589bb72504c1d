"""The languages of the samples panel, in its order: tab label, note and Pygments lexer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from samples.request import SampleRequest
from samples.writers.csharp import write_csharp
from samples.writers.curl import write_curl
from samples.writers.go import write_go
from samples.writers.http import write_http
from samples.writers.java import write_java
from samples.writers.javascript import write_javascript
from samples.writers.php import write_php
from samples.writers.python import write_python
from samples.writers.ruby import write_ruby


@dataclass(frozen=True)
class Language:
    key: str
    label: str
    note: str
    lexer: str
    write: Callable[[SampleRequest], str]


LANGUAGES: tuple[Language, ...] = (
    Language("curl", "curl", "POSIX shell, curl 7.43 or later", "bash", write_curl),
    Language("python", "Python", "Python 3 with requests", "python", write_python),
    Language(
        "javascript", "JavaScript", "Node.js 18 or later (fetch)", "javascript", write_javascript
    ),
    Language("csharp", "C#", ".NET 6 or later, HttpClient", "csharp", write_csharp),
    Language("java", "Java", "Java 11 or later, java.net.http (Sample.java)", "java", write_java),
    Language("go", "Go", "Go, net/http", "go", write_go),
    Language("php", "PHP", "PHP with the curl extension", "php", write_php),
    Language("ruby", "Ruby", "Ruby, net/http", "ruby", write_ruby),
    Language(
        "http",
        "HTTP",
        "The request as Try it sends it, without its default headers",
        "http",
        write_http,
    ),
)
LANGUAGE_KEYS = tuple(language.key for language in LANGUAGES)
