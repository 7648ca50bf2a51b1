"""Read HTML pages in tests with a parser, not with regexes.

A regex such as ``name="csrf_token" type="hidden" value="..."`` breaks when a
template or WTForms changes the order of attributes, and can match text inside
a comment or a script. These helpers parse the page with ``lxml.html`` and
select elements with CSS selectors (``cssselect``), so a test says what it
means: the hidden field's value, the checked radio, the text of an element.
"""

from __future__ import annotations

from lxml import html as lxml_html

__all__ = [
    "attributes", "checked", "document", "elements", "first", "fits_the_width", "form_fields", "hidden", "links",
    "script_errors", "sign_in", "text_of", "texts",
]


def document(page: str | bytes):
    """The parsed page (an ``lxml.html`` element); ``page`` may be text or bytes."""
    if isinstance(page, bytes):
        page = page.decode("utf-8")
    return lxml_html.fromstring(page)


def _root(page):
    return page if hasattr(page, "cssselect") else document(page)


def elements(page, selector: str) -> list:
    """Every element matching the CSS ``selector``, in document order."""
    return _root(page).cssselect(selector)


def first(page, selector: str):
    """The first element matching ``selector``; fails the test (``AssertionError``) when there is none."""
    found = elements(page, selector)
    assert found, f"nothing on the page matches {selector!r}"
    return found[0]


def attributes(page, selector: str) -> dict[str, str]:
    """The attributes of the first element matching ``selector``."""
    return dict(first(page, selector).attrib)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def text_of(page, selector: str) -> str:
    """The text of the first element matching ``selector``, white space collapsed to single spaces."""
    return _normalise(first(page, selector).text_content())


def texts(page, selector: str) -> list[str]:
    """The text of every element matching ``selector``, white space collapsed."""
    return [_normalise(element.text_content()) for element in elements(page, selector)]


def hidden(page, name: str) -> str:
    """The value of the hidden input ``name``; fails the test when the page has none."""
    return first(page, f'input[type="hidden"][name="{name}"]').get("value", "")


def checked(page, name: str) -> list[str]:
    """The values of the checked checkboxes or radios called ``name``."""
    return [element.get("value", "on") for element in elements(page, f'input[name="{name}"]')
            if element.get("checked") is not None]


def form_fields(page, selector: str = "form") -> dict[str, str | list[str]]:
    """The fields the first form matching ``selector`` would submit, as a browser fills them.

    Unchecked checkboxes and radios are left out; a name with several values
    (checked boxes, a multiple select) maps to a list.
    """
    form = first(page, selector)
    fields: dict[str, list[str]] = {}
    for element in form.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        if element.tag == "input":
            kind = (element.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio") and element.get("checked") is None:
                continue
            values = [element.get("value", "on" if kind in ("checkbox", "radio") else "")]
        elif element.tag == "select":
            options = element.findall(".//option")
            chosen = [option for option in options if option.get("selected") is not None]
            if not chosen and options and element.get("multiple") is None:
                chosen = options[:1]
            values = [option.get("value", option.text_content()) for option in chosen]
        else:
            values = [element.text_content()]
        fields.setdefault(name, []).extend(values)
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}


def links(page, attributes: tuple[str, ...] = ("href", "src", "action")) -> list[str]:
    """Every value of ``attributes`` on any element, in document order."""
    root = _root(page)
    return [element.get(name) for element in root.iter() for name in attributes
            if isinstance(element.tag, str) and element.get(name) is not None]


# In a real browser (a Playwright page through the real server).


def sign_in(page, base: str, username: str, password: str | None = None) -> None:
    """Sign ``username`` in through the login form (the demo password unless given);
    an anonymous visit to ``base`` must first be sent to the login page."""
    from inspect_kit.demo import DEMO_PASSWORD

    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", password or DEMO_PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(base + "/")


def fits_the_width(page) -> bool:
    """No text or box on the page is wider than the window (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def script_errors(page) -> list[str]:
    """A list that gathers every uncaught script error of ``page`` from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
