from __future__ import annotations

from auditor.classifiers import classify
from auditor.models import Exchange, Field, Finding


def _ex() -> Exchange:
    return Exchange(capture=0, index=0, id="x", method="POST", scheme="https", host="h.example.com", port=443, path="/")


def _run(*fields: Field) -> list[tuple[str, str, str, str]]:
    return [(f.category, f.path, f.value, f.detector) for f in classify(_ex(), list(fields))]


B = "request.body"


def test_email_in_a_field_and_inside_text() -> None:
    assert _run(
        Field(B, "user.email", "jane.doe@example.org"),
        Field(B, "note", "write to jane.doe@example.org or bob@mail.example.co.uk."),
        Field(B, "logo", "logo@2x.png"),
    ) == [
        ("email", "user.email", "jane.doe@example.org", "email.regex"),
        ("email", "note", "jane.doe@example.org", "email.regex"),
        ("email", "note", "bob@mail.example.co.uk", "email.regex"),
    ]


def test_responses_are_not_classified() -> None:
    assert _run(Field("response.body", "email", "jane.doe@example.org")) == []


def test_phone_by_key_name_national_and_international() -> None:
    assert _run(
        Field(B, "mobile", "13812345678"),  # CN mobile, national form
        Field(B, "phone", "12345"),  # too short
        Field(B, "msg", "call me on +33 6 12 34 56 78 tomorrow"),
        Field(B, "ts", "+1700000000"),  # a number, not a phone
    ) == [
        ("phone", "mobile", "13812345678", "phone.key"),
        ("phone", "msg", "+33 6 12 34 56 78", "phone.international"),
    ]


def test_credentials() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJl"
    got = _run(
        Field("request.header", "authorization", f"Bearer {jwt}"),
        Field("request.header", "authorization.bearer", jwt),
        Field(B, "password", "hunter2!"),
        Field(B, "config", "key=sk-proj-abcdefghijklmnopqrstuvwxyz012345"),
        Field("request.cookie", "sessionid", "s3cr3tsessionvalue"),
        Field("request.cookie", "theme", "dark-mode-enabled"),
        Field(B, "password", "true"),
    )
    assert got == [
        ("credential", "authorization.bearer", jwt, "credential.authorization"),
        ("credential", "password", "hunter2!", "credential.key_name"),
        ("credential", "config", "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "credential.api_key.openai"),
        ("credential", "sessionid", "s3cr3tsessionvalue", "credential.session_cookie"),
    ]


def test_unsplit_authorization_header_is_the_credential() -> None:
    assert _run(Field("request.header", "authorization", "Token abcdef123456")) == [
        ("credential", "authorization", "Token abcdef123456", "credential.authorization")
    ]


def test_openai_chat_prompt_only_for_user_role() -> None:
    got = _run(
        Field(B, "model", "gpt-4o"),
        Field(B, "messages[0].role", "system"),
        Field(B, "messages[0].content", "You are a helpful assistant."),
        Field(B, "messages[1].role", "user"),
        Field(B, "messages[1].content", "My landlord is evicting me, what can I do?"),
        Field(B, "messages[2].role", "assistant"),
        Field(B, "messages[2].content", "Here is what you can do."),
    )
    assert got == [("prompt", "messages[1].content", "My landlord is evicting me, what can I do?", "prompt.format.openai.chat")]


def test_prompt_formats_of_other_apps() -> None:
    got = _run(
        Field(B, "contents[0].role", "user"),
        Field(B, "contents[0].parts[0].text", "Summarise my medical report"),
        Field(B, "prompt", "How do I renew my passport?"),
        Field(B, "query_str", "best lawyer near me"),
        Field(B, "chat_session_id", "5f1b2c3d-aaaa-bbbb-cccc-000000000000"),
        Field("websocket.client", "[0].event", "send"),
        Field("websocket.client", "[0].content[0].text", "Hello Copilot"),
        Field(B, "event_v3[0].params.prompt_text", "How do I renew my passport?"),
    )
    assert got == [
        ("prompt", "contents[0].parts[0].text", "Summarise my medical report", "prompt.format.gemini.contents"),
        ("prompt", "prompt", "How do I renew my passport?", "prompt.format.deepseek.web"),
        ("prompt", "query_str", "best lawyer near me", "prompt.format.perplexity.web"),
        ("prompt", "[0].content[0].text", "Hello Copilot", "prompt.format.copilot.websocket"),
        ("prompt", "event_v3[0].params.prompt_text", "How do I renew my passport?", "prompt.key_name"),
    ]


def test_prompt_key_ignores_ids_and_numbers() -> None:
    assert _run(Field(B, "prompt", "a1b2c3d4e5f6a7b8"), Field(B, "question", "42")) == []


def test_findings_are_not_duplicated() -> None:
    f = Field(B, "email", "a.b@example.org")
    assert len(classify(_ex(), [f, f])) == 1
    assert classify(_ex(), [f])[0] == Finding("email", B, "email", "a.b@example.org", "email.regex", 0.95)
