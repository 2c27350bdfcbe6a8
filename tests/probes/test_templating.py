from __future__ import annotations

import json

import pytest

from tasks.probes.templating import RenderContext, Template, TemplateError, compile_json


def ctx(**env: str) -> RenderContext:
    return RenderContext(env)


def test_environment_variables_expand_with_and_without_defaults() -> None:
    template = Template.compile("${BASE}/api?lang=${LANG:-en}&v=${V:-}")
    assert template.render(ctx(BASE="http://h")) == "http://h/api?lang=en&v="
    assert template.render(ctx(BASE="http://h", LANG="fr")) == "http://h/api?lang=fr&v="


def test_missing_variable_without_default_names_it() -> None:
    with pytest.raises(TemplateError, match="environment variable API_TOKEN is not set"):
        Template.compile("Bearer ${API_TOKEN}").render(ctx())


def test_step_variables_expand_and_unknown_ones_are_errors() -> None:
    context = ctx()
    context.set_variable("order_id", 42)
    assert (
        Template.compile("/orders/{{ order_id }}/{{order_id}}").render(context) == "/orders/42/42"
    )
    with pytest.raises(TemplateError, match="'token' was not extracted"):
        Template.compile("{{ token }}").render(context)


def test_static_templates_are_returned_as_is() -> None:
    template = Template.compile("https://example.org/$notavar/{single}")
    assert template.is_static
    assert template.render(ctx()) == "https://example.org/$notavar/{single}"


def test_substituted_values_are_never_expanded_again() -> None:
    context = ctx(SECRET="hunter22")
    context.set_variable("name", "${SECRET}")  # e.g. a hostile value echoed by a server
    assert Template.compile("hello {{ name }}").render(context) == "hello ${SECRET}"


def test_json_bodies_render_templates_and_keep_variable_types() -> None:
    body = compile_json({"user": "${USER:-demo}", "qty": "{{ qty }}", "note": "n={{ qty }}"})
    context = ctx()
    context.set_variable("qty", 2)
    assert json.loads(body.render(context)) == {"user": "demo", "qty": 2, "note": "n=2"}


def test_static_json_bodies_are_encoded_once() -> None:
    body = compile_json({"a": [1, 2], "b": "x"})
    assert body.static_bytes == b'{"a":[1,2],"b":"x"}'
    assert body.render(ctx()) is body.static_bytes


def test_scrub_removes_expanded_env_values_and_credential_like_variables() -> None:
    context = ctx(API_KEY="k-1234567890")
    Template.compile("${API_KEY}").render(context)
    context.set_variable("token", "tok_abcdef")
    context.set_variable("order_id", "ord_123456")  # not a credential name: kept
    text = "sent k-1234567890 got tok_abcdef for ord_123456"
    assert context.scrub(text) == "sent [REDACTED] got [REDACTED] for ord_123456"


def test_scrub_also_applies_the_project_redaction_rules() -> None:
    assert "[REDACTED]" in ctx().scrub("Authorization: Bearer abcdefghijklmnop")
    assert "ops@example.com" not in ctx().scrub("mail ops@example.com")


def test_short_values_are_not_treated_as_secrets() -> None:
    context = ctx(FLAG="on")
    Template.compile("${FLAG}").render(context)
    assert context.scrub("on and on") == "on and on"
