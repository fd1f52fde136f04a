"""The language switcher follows the user from one browser to another."""
import pytest
from django.test import Client

from inspection.models import UserPreference

pytestmark = pytest.mark.django_db


def login(username):
    browser = Client()
    assert browser.login(username=username, password="secret-pass-1")
    return browser


def test_switch_is_stored_on_the_user(django_user_model):
    django_user_model.objects.create_user("mina", password="secret-pass-1")
    laptop = login("mina")

    response = laptop.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert UserPreference.objects.get(user__username="mina").language == "en"


def test_new_browser_shows_the_users_language(django_user_model):
    django_user_model.objects.create_user("mina", password="secret-pass-1")
    login("mina").post("/i18n/setlang/", {"language": "en", "next": "/"})

    tablet = login("mina")
    page = tablet.get("/home/", follow=True)

    assert page.headers["Content-Language"] == "en"
    assert "Log out" in page.content.decode()


def test_user_without_preference_gets_korean(django_user_model):
    django_user_model.objects.create_user("joon", password="secret-pass-1")

    page = login("joon").get("/home/", follow=True)

    assert page.headers["Content-Language"] == "ko"


def test_anonymous_switch_stores_nothing():
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert UserPreference.objects.count() == 0
