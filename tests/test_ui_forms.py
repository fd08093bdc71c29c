"""Connector forms from specs (server.ui.spec_form, server.ui.spec_values): every shipped spec
renders and round-trips, and each schema feature has its own case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.domain.secrets import MASK
from server.protocol import ConnectorSpecification
from server.ui.spec_form import Field, build
from server.ui.spec_values import attach, errors_from, parse, problems

SHIPPED = Path(__file__).resolve().parents[1] / "server" / "core" / "shipped_specs"
SPECS = sorted(p for p in SHIPPED.glob("*.json") if p.name != "index.json")


def spec_of(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text())["connectionSpecification"]
    return schema


def flat(fields: list[Field]) -> dict[str, Field]:
    """Every field by name, through objects and every oneOf option."""
    found: dict[str, Field] = {}
    for f in fields:
        found[f.name] = f
        found.update(flat(f.children))
        for choice in f.choices:
            found.update(flat(choice.fields))
    return found


def posted_from(fields: list[Field]) -> dict[str, list[str]]:
    """What a browser posts for the form as rendered (the chosen options' fields only)."""
    sent: dict[str, list[str]] = {}

    def walk(level: list[Field]) -> None:
        for f in level:
            if f.kind == "choice":
                sent[f"{f.name}/@"] = ["" if f.chosen is None else str(f.chosen)]
                if f.chosen is not None:
                    walk(f.choices[f.chosen].fields)
            elif f.kind == "object":
                if f.optional_object and f.checked:
                    sent[f"{f.name}/?"] = ["on"]
                if f.checked:
                    walk(f.children)
            elif f.kind == "checkbox":
                if f.checked:
                    sent[f.name] = ["true"]
            elif f.kind in ("select", "tristate", "multiselect"):
                sent[f.name] = [o.value for o in f.options if o.selected]
            else:
                sent[f.name] = [f.value]

    walk(fields)
    return sent


def round_trip(
    schema: dict[str, Any], values: dict[str, Any] | None, editing: bool = False
) -> dict[str, Any]:
    shown = build(schema, values, editing=editing)
    sent = posted_from(shown)
    again = build(schema, values, posted=sent, editing=editing)
    configuration, unreadable = parse(again, sent, values if editing else None)
    assert unreadable == {}
    return configuration


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_renders_and_its_defaults_round_trip(path: Path) -> None:
    schema = spec_of(path)
    fields = build(schema)
    assert fields, "a form with no fields"
    configuration = round_trip(schema, None)
    # What the new form posts back as it came holds exactly the schema's top-level defaults.
    defaults = {k: v["default"] for k, v in schema["properties"].items() if "default" in v}
    for key, value in defaults.items():
        assert configuration[key] == value, key
    # The same configuration edited and saved unchanged comes back unchanged.
    assert round_trip(schema, configuration, editing=True) == configuration


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_has_labelled_fields(path: Path) -> None:
    for f in flat(build(spec_of(path))).values():
        assert f.label and f.id.startswith("f-")
        assert " " not in f.id


def test_a_filled_configuration_round_trips_for_the_file_source() -> None:
    schema = spec_of(SHIPPED / "source-file.json")
    stored = {
        "dataset_name": "people",
        "format": "jsonl",
        "url": "/local/people.jsonl",
        "provider": {"storage": "local"},
        "state_checkpoint_interval": 50,
        "sample_rows": 10,
    }
    assert round_trip(schema, stored, editing=True) == stored
    spec = ConnectorSpecification(connectionSpecification=schema)
    assert problems(spec, stored, build(schema, stored)) == []


TYPES: dict[str, Any] = {
    "type": "object",
    "required": ["host", "port", "ssl"],
    "properties": {
        "host": {"type": "string", "title": "Host", "examples": ["db.example"], "order": 0},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432, "order": 1},
        "ratio": {"type": "number", "order": 2},
        "ssl": {"type": "boolean", "default": False, "order": 3},
        "verbose": {"type": "boolean", "order": 4},
        "tags": {"type": "array", "items": {"type": "string"}, "order": 5},
        "ids": {"type": "array", "items": {"type": "integer"}, "order": 6},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "b", "order": 7},
        "code": {"type": "string", "pattern": "^[A-Z]+$", "minLength": 2, "order": 8},
        "extra": {"type": "object", "order": 9},
    },
}


def test_each_type_becomes_its_input_and_is_typed_on_the_way_back() -> None:
    fields = flat(build(TYPES))
    kinds = {name.removeprefix("config/"): f.kind for name, f in fields.items()}
    assert kinds == {
        "host": "text",
        "port": "integer",
        "ratio": "number",
        "ssl": "checkbox",
        "verbose": "tristate",
        "tags": "lines",
        "ids": "lines",
        "mode": "select",
        "code": "text",
        "extra": "json",
    }
    assert list(kinds) == [k for k in TYPES["properties"]]  # by `order`
    host, port, code = fields["config/host"], fields["config/port"], fields["config/code"]
    assert host.placeholder == "db.example" and host.required and host.value == ""
    assert port.value == "5432" and (port.minimum, port.maximum) == (1, 65535)
    assert code.pattern == "^[A-Z]+$" and code.min_length == 2
    assert [o.value for o in fields["config/mode"].options if o.selected] == ["b"]
    sent = {
        "config/host": ["db"],
        "config/port": ["6543"],
        "config/ratio": ["0.25"],
        "config/ssl": ["true"],
        "config/verbose": ["false"],
        "config/tags": ["a\n\n b \nc"],
        "config/ids": ["1\n2"],
        "config/mode": ["a"],
        "config/code": [""],
        "config/extra": ['{"k": [1]}'],
    }
    configuration, unreadable = parse(build(TYPES, posted=sent), sent)
    assert unreadable == {}
    assert configuration == {
        "host": "db",
        "port": 6543,
        "ratio": 0.25,
        "ssl": True,
        "verbose": False,
        "tags": ["a", "b", "c"],
        "ids": [1, 2],
        "mode": "a",
        "extra": {"k": [1]},
    }


def test_values_that_cannot_be_typed_are_named_and_shown_again() -> None:
    sent = {"config/port": ["five"], "config/ids": ["1\nx"], "config/extra": ["{"]}
    fields = build(TYPES, posted=sent)
    configuration, unreadable = parse(fields, sent)
    assert set(unreadable) == {"config/port", "config/ids", "config/extra"}
    assert "whole number" in unreadable["config/port"]
    assert "port" not in configuration and "ssl" in configuration  # an unticked box: False
    # The form shown again keeps what was typed, with the message beside it.
    errors_from(fields, unreadable)
    port = flat(fields)["config/port"]
    assert port.value == "five" and port.error == unreadable["config/port"]


def test_required_and_constraint_problems_land_on_their_fields() -> None:
    spec = ConnectorSpecification(connectionSpecification=TYPES)
    sent = {"config/port": ["0"], "config/code": ["abc"]}
    fields = build(TYPES, posted=sent)
    configuration, _ = parse(fields, sent)
    refused = problems(spec, configuration, fields)
    loose = attach(fields, refused)
    assert loose == []
    by_name = flat(fields)
    assert by_name["config/host"].error == "This field is required."
    assert by_name["config/port"].error and "minimum" in by_name["config/port"].error
    assert by_name["config/code"].error and "does not match" in by_name["config/code"].error
    assert by_name["config/ratio"].error is None


ONE_OF: dict[str, Any] = {
    "type": "object",
    "required": ["method"],
    "properties": {
        "method": {
            "type": "object",
            "title": "Method",
            "oneOf": [
                {
                    "title": "None",
                    "required": ["kind"],
                    "properties": {"kind": {"type": "string", "const": "none"}},
                },
                {
                    "title": "Key",
                    "required": ["kind", "key", "port"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["key"], "default": "key"},
                        "key": {"type": "string", "airbyte_secret": True, "title": "Key"},
                        "port": {"type": "integer", "default": 22},
                    },
                },
            ],
        },
        "tunnel": {
            "type": "object",
            "oneOf": [
                {"title": "Off", "properties": {"on": {"const": False}}},
                {"title": "On", "properties": {"on": {"const": True}, "host": {"type": "string"}}},
            ],
        },
    },
}


def test_one_of_is_a_choice_of_sub_forms_with_the_discriminator_filled_in() -> None:
    fields = build(ONE_OF)
    method, tunnel = fields
    assert method.kind == "choice" and [c.label for c in method.choices] == ["None", "Key"]
    assert method.chosen == 0  # required: the first option to start with
    assert tunnel.chosen is None  # optional: unset until chosen
    assert [f.path for f in method.choices[1].fields] == [("method", "key"), ("method", "port")]
    assert method.choices[1].fields[1].value == "22"  # an option's defaults
    sent = {
        "config/method/@": ["1"],
        "config/method/@1/key": ["s3cr3t"],
        "config/method/@1/port": ["2222"],
        "config/method/@0/ignored": ["x"],
        "config/tunnel/@": [""],
    }
    configuration, unreadable = parse(build(ONE_OF, posted=sent), sent)
    assert unreadable == {}
    assert configuration == {"method": {"kind": "key", "key": "s3cr3t", "port": 2222}}


def test_a_stored_option_is_chosen_again_and_its_secret_never_shown() -> None:
    stored = {"method": {"kind": "key", "key": MASK, "port": 2222}, "tunnel": {"on": True}}
    fields = build(ONE_OF, stored, editing=True)
    method, tunnel = fields
    assert method.chosen == 1 and tunnel.chosen == 1
    key = method.choices[1].fields[0]
    assert key.kind == "password" and key.value == "" and key.kept
    # Saved unchanged: the mask goes back for the core to restore.
    assert round_trip(ONE_OF, stored, editing=True) == stored


def test_a_secret_left_blank_on_create_is_left_out_and_required_says_so() -> None:
    spec = ConnectorSpecification(connectionSpecification=ONE_OF)
    sent = {"config/method/@": ["1"], "config/method/@1/key": [""], "config/method/@1/port": ["1"]}
    fields = build(ONE_OF, posted=sent)
    configuration, _ = parse(fields, sent)
    assert configuration == {"method": {"kind": "key", "port": 1}}
    refused = problems(spec, configuration, fields)
    # Not "is not valid under any of the given schemas": the chosen option's own refusal.
    assert [p.property_path for p in refused] == ["connectionConfiguration.method.key"]
    assert attach(fields, refused) == []
    assert flat(fields)["config/method/@1/key"].error == "This field is required."


OPTIONAL_OBJECT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fault": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "mode": {"type": "string", "enum": ["fail", "crash"]},
                "after": {"type": "integer", "default": 0},
            },
        },
        "name/with~slash": {"type": "string"},
    },
}


def test_an_optional_object_is_left_out_unless_switched_on() -> None:
    fields = build(OPTIONAL_OBJECT)
    fault = fields[0]
    assert fault.optional_object and not fault.checked
    assert fields[1].name == "config/name~1with~0slash"
    sent = {"config/fault/mode": [""], "config/fault/after": ["0"]}
    assert parse(build(OPTIONAL_OBJECT, posted=sent), sent)[0] == {}
    sent["config/fault/?"] = ["on"]
    sent["config/fault/mode"] = ["crash"]
    sent["config/name~1with~0slash"] = ["n"]
    configuration, _ = parse(build(OPTIONAL_OBJECT, posted=sent), sent)
    assert configuration == {"fault": {"mode": "crash", "after": 0}, "name/with~slash": "n"}


def test_edit_keeps_keys_the_schema_does_not_name_and_never_fills_a_secret() -> None:
    schema = spec_of(SHIPPED / "destination-postgres.json")
    stored = {
        "host": "h",
        "port": 5432,
        "database": "d",
        "schema": "public",
        "username": "u",
        "password": MASK,
        "ssl": False,
        "unconstrained_number": True,
        "drop_cascade": False,
        "ssl_mode": {"mode": "verify-ca", "ca_certificate": MASK},
        "legacy_option": "kept",
    }
    fields = build(schema, stored, editing=True)
    secrets = [f for f in flat(fields).values() if f.kind == "password"]
    assert secrets and all(f.value == "" for f in secrets)
    assert round_trip(schema, stored, editing=True) == stored


def test_a_new_form_never_marks_a_secret_kept() -> None:
    schema = spec_of(SHIPPED / "destination-postgres.json")
    secrets = [f for f in flat(build(schema)).values() if f.kind == "password"]
    assert secrets and not any(f.kept for f in secrets)


ODD: dict[str, Any] = {
    "type": "object",
    "required": ["version", "keys"],
    "properties": {
        "version": {"const": 2},
        "keys": {"type": "array", "items": {"type": "string"}, "airbyte_secret": True},
        "pin": {"type": "integer", "airbyte_secret": True},
    },
}


def test_a_const_is_filled_in_and_a_secret_of_another_type_is_typed_as_json() -> None:
    fields = flat(build(ODD))
    assert fields["config/version"].kind == "const"
    assert fields["config/keys"].kind == "password" and fields["config/keys"].items == "array"
    sent = {"config/keys": ['["a", "b"]'], "config/pin": ["1234"]}
    configuration, unreadable = parse(build(ODD, posted=sent), sent)
    assert unreadable == {}
    assert configuration == {"version": 2, "keys": ["a", "b"], "pin": 1234}
    # On edit, both left blank send the mask back whole (not a list of masks).
    stored = {"version": 2, "keys": MASK, "pin": MASK}
    assert round_trip(ODD, stored, editing=True) == stored
    sent = {"config/keys": ["[1"]}
    assert "config/keys" in parse(build(ODD, posted=sent), sent)[1]
