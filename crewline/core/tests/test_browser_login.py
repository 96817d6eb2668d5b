import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_through_the_form_and_shows_the_organization(login, owner):
    page = login(owner)
    assert "/login/" not in page.url
    assert page.locator("nav .navbar-brand").inner_text().strip() == owner.organization.name


def test_it_refuses_a_wrong_password_with_a_message(browser_page, owner):
    page = browser_page
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", owner.user.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "/login/" in page.url
    assert page.get_by_text("correct email address and password").is_visible()
