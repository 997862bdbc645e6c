"""E-mail templates: every message of a .txt body is also in an .html one.

``babel.cfg`` extracts messages from ``templates/**.html``; a string that only a .txt
template used would never reach the English catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path

EMAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "notifications" / "email"
MESSAGE = re.compile(r'_\("((?:[^"\\]|\\.)*)"')


def test_text_bodies_use_only_messages_the_html_bodies_have():
    html = set()
    for path in EMAIL_TEMPLATES.glob("*.html"):
        html |= set(MESSAGE.findall(path.read_text()))
    texts = list(EMAIL_TEMPLATES.glob("*.txt"))
    assert len(texts) >= 8
    for path in texts:
        missing = set(MESSAGE.findall(path.read_text())) - html
        assert not missing, f"{path.name}: {missing}"
