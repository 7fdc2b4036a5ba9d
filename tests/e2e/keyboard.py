"""Moving through a page the way a keyboard user does: Tab and Shift+Tab to reach a control,
Space to tick, Enter to follow or send, and typing. No clicks, no filling by selector: a
selector only says which control the user is looking for, never puts the focus there."""

from __future__ import annotations

from playwright.sync_api import Page

# More than any page here needs: header links, the form's ~30 controls, the footer.
MAX_TABS = 120


def tab_to(page: Page, selector: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches the selector."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{selector} is not reachable with {key} on {page.url}; at {focused}")


def type_into(page: Page, selector: str, text: str) -> None:
    """Tab to a text field, select what is there and type over it."""
    tab_to(page, selector)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def choose(page: Page, selector: str, option_text: str) -> None:
    """Tab to a <select> and type the start of the option's text (the browser's type-ahead)."""
    tab_to(page, selector)
    for character in option_text:
        press_character(page, character)
    chosen = page.evaluate(
        "s => { const e = document.querySelector(s); return e.options[e.selectedIndex].text; }",
        selector,
    )
    assert chosen.startswith(option_text), (selector, chosen)


def press_character(page: Page, character: str) -> None:
    """One key press that types the character, as a keyboard or input method sends it.
    Playwright's press() knows only the US layout's keys; a Chinese character goes through the
    browser's own input layer (the DevTools protocol), still as a key event a <select> reads."""
    if character.isascii():
        page.keyboard.press(character)
        return
    session = page.context.new_cdp_session(page)
    try:
        for event in ("keyDown", "keyUp"):
            session.send(
                "Input.dispatchKeyEvent",
                {"type": event, "key": character, "text": character, "unmodifiedText": character},
            )
    finally:
        session.detach()


def tick(page: Page, selector: str) -> None:
    """Tab to a checkbox or the first radio of a group and press Space."""
    tab_to(page, selector)
    page.keyboard.press("Space")
    assert page.evaluate("s => document.querySelector(s).checked", selector), selector


def activate(page: Page, selector: str) -> None:
    """Tab to a link or button and press Enter."""
    tab_to(page, selector)
    page.keyboard.press("Enter")
