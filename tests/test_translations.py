"""The translation files follow Home Assistant's rules for strings (what hassfest checks),
and the Swedish file says the same things as the English one."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.helpers import config_validation as cv
import pytest
import voluptuous as vol

TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / "ocpp_central" / "translations"
LANGUAGES = ("en", "sv")

# Translation keys: lowercase letters, digits, and single - or _ between them.
KEY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# Exception keys and the platforms under "entity" are slugs.
SLUG = re.compile(r"^[a-z0-9_]+$")
# What hassfest takes for a URL (it wants URLs passed as description placeholders).
URL = re.compile(r"\b(?:(?:https?|ftps?|scp|mqtts?|socket|socks5)://|www\.)[a-z0-9]", re.I)
REFERENCE = re.compile(r"\[%key:[^%]+%\]")

KeyPath = tuple[str, ...]


def load(language: str) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(
        (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    )
    return tree


def strings(tree: dict[str, Any], path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from strings(value, (*path, key))
        else:
            yield (*path, key), value


def placeholders(value: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(value) if field}


def no_placeholders_allowed(path: KeyPath) -> bool:
    """Entity states, state attributes and units are shown as they are: no placeholders."""
    return path[0] == "entity" and any(
        part in ("state", "state_attributes", "unit_of_measurement") for part in path[3:]
    )


def string_problems(path: KeyPath, value: Any) -> list[str]:
    """What hassfest's check of one translated string would reject."""
    if not isinstance(value, str):
        return ["not a string"]
    problems = []
    try:
        cv.string_with_no_html(value)
    except vol.Invalid:
        problems.append("looks like HTML (a <word> in angle brackets)")
    if re.search(r"'\{\w+\}'", value):
        problems.append("a placeholder in single quotes")
    try:
        fields = placeholders(value)
    except ValueError as err:
        problems.append(f"unbalanced braces ({err})")
        fields = set()
    if any(not field.isidentifier() for field in fields):
        problems.append("a placeholder that is no identifier")
    if fields and no_placeholders_allowed(path):
        problems.append("a placeholder where none is allowed")
    if REFERENCE.search(value) and REFERENCE.fullmatch(value) is None:
        problems.append("a reference combined with text")
    if value != value.strip():
        problems.append("leading or trailing spaces")
    if URL.search(value):
        problems.append("a URL (pass it as a placeholder)")
    return problems


def key_paths(tree: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Keys hassfest checks as translation keys (or slugs), with where they are."""
    for platform, entities in tree.get("entity", {}).items():
        yield ("entity",), platform
        for key, entity in entities.items():
            yield ("entity", platform), key
            for section in ("state", "state_attributes"):
                for state in entity.get(section, {}):
                    yield ("entity", platform, key, section), state
    for key in tree.get("device", {}):
        yield ("device",), key
    for key in tree.get("exceptions", {}):
        yield ("exceptions",), key
    for key, selector in tree.get("selector", {}).items():
        yield ("selector",), key
        for option in selector.get("options", {}):
            yield ("selector", key, "options"), option
    for key, service in tree.get("services", {}).items():
        yield ("services",), key
        for field in service.get("fields", {}):
            yield ("services", key, "fields"), field
        for section in service.get("sections", {}):
            yield ("services", key, "sections"), section


def flows(tree: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every data entry flow: config, options, subentries and repair flows."""
    for name in ("config", "options"):
        if name in tree:
            yield name, tree[name]
    for name, flow in tree.get("config_subentries", {}).items():
        yield f"config_subentries.{name}", flow
    for name, issue in tree.get("issues", {}).items():
        if "fix_flow" in issue:
            yield f"issues.{name}.fix_flow", issue["fix_flow"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_strings_follow_home_assistant_rules(language: str) -> None:
    problems = [
        f"{'.'.join(path)}: {problem}"
        for path, value in strings(load(language))
        for problem in string_problems(path, value)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_are_translation_keys(language: str) -> None:
    tree = load(language)
    bad = [
        ".".join((*where, key))
        for where, key in key_paths(tree)
        if not (SLUG if where in (("entity",), ("exceptions",)) else KEY).match(key)
    ]
    assert not bad, bad


@pytest.mark.parametrize("language", LANGUAGES)
def test_flow_steps_describe_only_their_fields(language: str) -> None:
    """Every data_description key is a field of the step (hassfest rejects strays)."""
    stray = [
        f"{flow_name}.step.{step_id}.data_description.{key}"
        for flow_name, flow in flows(load(language))
        for step_id, step in flow.get("step", {}).items()
        for key in step.get("data_description", {})
        if key not in step.get("data", {})
    ]
    assert not stray, stray


@pytest.mark.parametrize("language", LANGUAGES)
def test_subentry_flows_name_their_entry_type(language: str) -> None:
    for name, flow in load(language).get("config_subentries", {}).items():
        assert isinstance(flow.get("entry_type"), str), name
        assert isinstance(flow.get("initiate_flow", {}).get("user"), str), name


def test_languages_say_the_same_things() -> None:
    """Same keys in every language, and each string with the same placeholders."""
    english = dict(strings(load("en")))
    for language in LANGUAGES[1:]:
        other = dict(strings(load(language)))
        assert sorted(english.keys() - other.keys()) == [], f"missing in {language}"
        assert sorted(other.keys() - english.keys()) == [], f"only in {language}"
        differing = [
            ".".join(path)
            for path, value in english.items()
            if placeholders(value) != placeholders(other[path])
        ]
        assert not differing, f"placeholders differ in {language}: {differing}"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("config", "step", "user", "data_description", "port"), "ws://<host>:<port>/", "HTML"),
        (("config", "abort", "x"), "Charger '{charger_id}' is gone", "single quotes"),
        (("config", "abort", "x"), "Charger {charger-id}", "no identifier"),
        (("config", "abort", "x"), "Charger {charger_id", "unbalanced"),
        (("entity", "sensor", "status", "state", "charging"), "Charging {n}", "none is allowed"),
        (("config", "abort", "x"), "See [%key:common::done%] now", "combined"),
        (("config", "abort", "x"), "Done. ", "spaces"),
        (("config", "abort", "x"), "See https://example.org", "URL"),
    ],
)
def test_the_rules_catch_what_hassfest_rejects(path: KeyPath, value: str, expected: str) -> None:
    assert any(expected in problem for problem in string_problems(path, value))
    assert string_problems(path, "Chargers connect to ws://HOST:PORT/CHARGER-ID.") == []
