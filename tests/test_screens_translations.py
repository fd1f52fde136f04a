"""The Korean catalogue covers every template string, and every entry in it has a Korean text."""
import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils.translation import templatize

PROJECT_ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIR = PROJECT_ROOT / "templates"

STRING = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
CALL = re.compile(rf"\b(gettext|ngettext|pgettext|npgettext)\(\s*({STRING})(?:\s*,\s*({STRING}))?", re.DOTALL)


def catalogues():
    paths = sorted((PROJECT_ROOT / "locale").glob("ko/LC_MESSAGES/django.po"))
    paths += sorted(PROJECT_ROOT.glob("*/locale/ko/LC_MESSAGES/django.po"))
    return [polib.pofile(str(path)) for path in paths]


def template_msgids():
    """Yield (template, msgid) of every translatable string, extracted as makemessages does."""
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for function, first, second in CALL.findall(source):
            # pgettext's first argument is the context; the message is the second.
            msgid = ast.literal_eval(second if function.startswith(("pgettext", "npgettext")) else first)
            yield path.relative_to(PROJECT_ROOT), msgid


def test_every_catalogue_entry_has_korean():
    untranslated = []
    for catalogue in catalogues():
        for entry in catalogue:
            texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags or not texts or not all(text.strip() for text in texts):
                untranslated.append(f"{catalogue.fpath}: {entry.msgid!r}")

    assert catalogues(), "no Korean catalogue found"
    assert untranslated == []


def test_every_template_string_is_in_catalogue():
    known = {entry.msgid for catalogue in catalogues() for entry in catalogue if not entry.obsolete}
    found = list(template_msgids())

    missing = sorted({f"{template}: {msgid!r}" for template, msgid in found if msgid not in known})

    assert len(found) > 100, "the template scan found almost nothing; is templatize's output still parsed?"
    assert missing == [], "run `python manage.py makemessages -l ko` and translate the new entries"


@pytest.mark.django_db
def test_login_page_is_korean_by_default():
    response = Client().get("/accounts/login/")

    assert "로그인" in response.content.decode()


@pytest.mark.django_db
def test_language_switch_turns_page_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})

    response = client.get("/accounts/login/")

    assert "Log in" in response.content.decode()
    assert "로그인" not in response.content.decode()
