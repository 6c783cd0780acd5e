"""The report document as types: TypedDicts mirroring ``auditor/schema/audit-v1.schema.json``.

The audit builds one :class:`AuditDocument` (``schema_version`` "1"); the renderers, the gate and
the pytest plugin read it. Each TypedDict here is one object of the schema, with the same keys:
``Required`` where the schema's ``required`` lists the key, ``NotRequired`` otherwise; enums are
``Literal`` types and nullable values ``X | None``. ``tests/audit/test_document.py`` walks the schema
and these types together and fails when they part, and checks real documents against them.

Where the schema leaves a value free, a comment says what it holds. The schema is the contract
for consumers; these types are for the code in this package.
"""

from typing import Literal, NotRequired, Required, TypedDict

SchemaVersion = Literal["1"]

Category = Literal[
    "email",
    "phone",
    "person_name",
    "postal_address",
    "date_of_birth",
    "account_id",
    "device_id",
    "advertising_id",
    "ip_address",
    "credential",
    "precise_location",
    "coarse_location",
    "payment_card",
    "bank_account",
    "government_id",
    "prompt",
    "user_file",
    "conversation_id",
    "device_info",
    "usage_event",
    "keystroke_dynamics",
]
"""A personal-data category (``$defs/category``)."""

Part = Literal[
    "request.url",
    "request.query",
    "request.header",
    "request.cookie",
    "request.body",
    "response.header",
    "response.body",
    "websocket.client",
    "websocket.server",
]
"""Where in an exchange a value was found (``$defs/part``)."""

Adequacy = Literal["eu", "eea", "adequate", "partial", "none"]
"""An adequacy status; the schema also allows null (written ``Adequacy | None``)."""

Service = Literal[
    "ai_provider",
    "analytics",
    "advertising",
    "attribution",
    "crash_reporting",
    "session_replay",
    "customer_support",
    "feature_flags",
    "payments",
    "identity",
    "data_broker",
    "auth",  # identity's name in documents written before 0.2.1
    "captcha_antibot",
    "device_fingerprint",
    "push",
    "cdn",
    "cloud",
    "social",
    "other",
    "platform",
]
"""A destination's service category (``destination.category``, nullable)."""

Party = Literal["first", "third", "unknown", "platform"]
Seen = Literal["proxy", "dns", "sni", "quic", "http", "ip", "decrypted"]
Encoding = Literal["plain", "url", "base64", "hex", "md5", "sha1", "sha256", "prefix"]
CaptureFormat = Literal["mitmproxy", "har", "pcap", "live"]
Behaviour = Literal["keylogging", "session_replay", "fingerprinting", "third_party_cookies", "pixels"]
LabelKind = Literal["undeclared", "mismatched", "review", "consistent", "not_observed"]
ProblemKind = Literal["undeclared", "mismatched", "review", "not_observed"]

Country = str
"""An ISO 3166-1 alpha-2 code (``^[A-Z]{2}$``); nullable where the schema says so."""


# --- captures -------------------------------------------------------------------------------


class NotDecrypted(TypedDict):
    """A TLS or QUIC connection of a pcap that was not decrypted, and why."""

    transport: Required[Literal["tcp", "udp"]]
    client: Required[str]
    server: Required[str]
    sni: NotRequired[str | None]
    bytes: NotRequired[int]
    reason: Required[str]


class Decryption(TypedDict):
    """How much of a pcap's TLS and QUIC traffic its key log could read (added in 0.2.0)."""

    connections: Required[int]
    decrypted_connections: Required[int]
    connection_share: NotRequired[float | None]
    bytes: Required[int]
    decrypted_bytes: Required[int]
    byte_share: NotRequired[float | None]
    not_decrypted: Required[list[NotDecrypted]]
    not_decrypted_listed: NotRequired[int]
    failed_records: NotRequired[int]


class CaptureEntry(TypedDict):
    """One capture file read (``captures[]``)."""

    path: Required[str]
    format: Required[CaptureFormat]
    exchanges: Required[int]
    warnings: Required[list[str]]
    decryption: NotRequired[Decryption]


# --- summary, first party, jurisdictions ------------------------------------------------------


class Summary(TypedDict, total=False):
    """Counts over the whole audit (``summary``; every key optional in the schema)."""

    exchanges: int
    destinations: int
    findings: int
    derived_findings: int
    known_values: int
    categories: dict[str, int]  # personal-data category -> findings
    countries: dict[str, int]  # owner country code, or "unknown" -> destinations
    third_party_destinations: int
    cleartext_destinations: int
    cleartext_personal_data_destinations: int
    bypassed_proxy_destinations: int


class FirstParty(TypedDict):
    """Which destinations are the app's own, and why (``first_party``)."""

    inferred: Required[bool]
    basis: Required[str]
    hosts: Required[list[str]]
    owners: NotRequired[list[str]]
    method: NotRequired[Literal["option", "policy", "browser", "backend", "none"]]
    guessed: NotRequired[bool]
    sites: NotRequired[list[str]]


class GovernmentAccess(TypedDict):
    """A law that gives a country's government access to data held by companies."""

    law: Required[str]
    summary: NotRequired[str]
    source: Required[str]
    as_of: Required[str]


class JurisdictionFacts(TypedDict):
    """Legal facts for one country (a value of ``jurisdictions``, keyed by country code)."""

    name: Required[str]
    adequacy: Required[Adequacy | None]
    adequacy_scope: NotRequired[str]
    adequacy_source: NotRequired[str]
    adequacy_as_of: NotRequired[str]
    government_access: NotRequired[list[GovernmentAccess]]


# --- findings ---------------------------------------------------------------------------------


class FlowRef(TypedDict):
    """The exchange a finding is in: capture number, index in it, and its id."""

    capture: Required[int]
    index: Required[int]
    id: Required[str]


class Location(TypedDict):
    """Where in the exchange: the part and the path in it."""

    part: Required[Part]
    path: Required[str]


class DerivedFromExchange(TypedDict):
    """The value was first seen in an exchange (``derived.from``, first form)."""

    capture: Required[int]
    index: Required[int]
    part: Required[Part]
    path: Required[str]
    category: Required[Category]


class DerivedFromKnown(TypedDict):
    """The value is one the user gave with ``--known`` (``derived.from``, second form)."""

    known: Required[str]
    category: Required[Category]


# ``from`` is a keyword: the functional form is the only way to spell this key.
Derived = TypedDict(
    "Derived",
    {
        "from": Required[DerivedFromExchange | DerivedFromKnown],
        "encoding": Required[Encoding],
    },
)
Derived.__doc__ = "Cross-flow tracing: where the value was first seen and how it is encoded here."


class FindingRequest(TypedDict):
    """The request a finding is in (URL masked unless revealed)."""

    method: Required[str]
    url: Required[str]


class Finding(TypedDict):
    """One personal value found in one place (``$defs/finding``)."""

    flow: Required[FlowRef]
    host: Required[str]
    category: Required[Category]
    location: Required[Location]
    value: Required[str]
    value_sha256: Required[str]
    detector: Required[str]
    confidence: Required[float]
    derived: Required[Derived | None]
    request: NotRequired[FindingRequest]


# --- destinations -----------------------------------------------------------------------------


class IpCountry(TypedDict):
    """A server address with its IP registry country (null for private addresses)."""

    ip: Required[str]
    country: Required[Country | None]


class JurisdictionRef(TypedDict, total=False):
    """The country whose law reaches the receiving company, and how it was established."""

    country: Country | None
    basis: Literal["owner", "parent", "tld"]
    adequacy: Adequacy | None


class Owner(TypedDict):
    """The company that runs a destination (``destination.owner`` when not null)."""

    name: Required[str]
    parent: Required[str | None]
    country: Required[Country | None]
    parent_country: NotRequired[Country | None]
    source: Required[str | None]
    as_of: NotRequired[str | None]
    matched: NotRequired[str | None]
    origin: NotRequired[Literal["curated", "companiesdb", "user"] | None]


class Destination(TypedDict):
    """One host that received traffic (``$defs/destination``)."""

    host: Required[str]
    registrable_domain: Required[str]
    server_ips: Required[list[str]]
    server_countries: NotRequired[list[Country | None]]
    ip_countries: NotRequired[list[IpCountry]]
    jurisdiction: NotRequired[JurisdictionRef | None]
    cleartext_personal_data: NotRequired[bool]
    tld_country: NotRequired[Country | None]
    owner: Required[Owner | None]
    category: Required[Service | None]
    party: Required[Party]
    party_note: NotRequired[str | None]
    exchanges: Required[int]
    cleartext: Required[bool]
    data_categories: Required[list[Category]]
    opaque: NotRequired[bool]
    opaque_reason: NotRequired[str | None]
    tls_failures: NotRequired[int]
    seen: NotRequired[list[Seen]]
    bytes_out: NotRequired[int]
    bytes_in: NotRequired[int]
    bypassed_proxy: NotRequired[bool]
    dns_lookup: NotRequired[Literal["answered", "unanswered"] | None]


# --- page -------------------------------------------------------------------------------------


class PageSummary(TypedDict):
    """Detections of each behaviour (``page.summary``; no other key allowed)."""

    keylogging: Required[int]
    session_replay: Required[int]
    fingerprinting: Required[int]
    third_party_cookies: Required[int]
    pixels: Required[int]


class DetectionRequest(TypedDict, total=False):
    """The request that shows a detection (URL masked unless revealed)."""

    method: str | None
    url: str | None


class DetectionFlow(TypedDict, total=False):
    """The exchange that shows a detection: capture number and index in it."""

    capture: int
    index: int


class PageDetection(TypedDict):
    """One thing the page did, with its evidence (``$defs/page_detection``)."""

    behaviour: Required[Behaviour]
    kind: Required[str]  # free in the schema; its description lists the kinds of each behaviour
    host: Required[str]
    owner: NotRequired[str | None]
    country: NotRequired[Country | None]
    party: Required[str]
    script: NotRequired[str]
    calls: NotRequired[int]
    cookies: NotRequired[list[str]]
    request: NotRequired[DetectionRequest]
    flow: NotRequired[DetectionFlow]
    detail: NotRequired[str]


class Page(TypedDict):
    """What the web page did, from a browse session's page events (added in 0.2.0)."""

    url: NotRequired[str | None]
    site: NotRequired[str | None]
    events: NotRequired[int]
    exchanges: NotRequired[int]
    canary: NotRequired[bool]
    prompts_typed: NotRequired[int]
    summary: Required[PageSummary]
    detections: Required[list[PageDetection]]
    warnings: Required[list[str]]


# --- labels -----------------------------------------------------------------------------------


class LabelsSummary(TypedDict, total=False):
    """Items of each kind (``$defs/labels_summary``)."""

    undeclared: int
    mismatched: int
    review: int
    consistent: int
    not_observed: int


class LabelProblem(TypedDict):
    """One reason an item fails or needs review."""

    kind: Required[ProblemKind]
    text: Required[str]


class EvidenceRequest(TypedDict, total=False):
    """One request that shows a receiver got the data (URL masked unless revealed)."""

    capture: int
    index: int
    method: str | None
    url: str | None


class LabelEvidence(TypedDict):
    """One destination that received an observed type, with the requests that show it."""

    host: Required[str]
    owner: NotRequired[str | None]
    country: NotRequired[Country | None]
    party: Required[str]
    service: NotRequired[str | None]
    requests: Required[list[EvidenceRequest]]
    request_count: Required[int]


class LabelDeclared(TypedDict, total=False):
    """What a declaration says of a type: a free object in the schema; these are the keys
    ``auditor.labels`` writes."""

    collected: bool
    shared: bool
    collection_purposes: list[str]
    sharing_purposes: list[str]  # Play only
    linked: bool | None  # Apple only
    tracking: bool  # Apple only
    line: int  # line of the declaration file, 0 when it has none


class LabelObserved(TypedDict, total=False):
    """What the captures show of a type: a free object in the schema; these are the keys
    ``auditor.labels`` writes."""

    collected: bool
    shared_with: list[str]  # third-party hosts
    linked: bool
    tracking: bool
    inferred_purposes: list[list[str]]  # per receiver, purposes any one of which its service implies


class LabelItem(TypedDict):
    """One store data type's verdict (``$defs/labels_item``)."""

    kind: Required[LabelKind]
    type: Required[str]
    type_label: NotRequired[str]
    alternatives: NotRequired[list[str]]
    categories: Required[list[str]]
    problems: Required[list[LabelProblem]]
    declared: NotRequired[LabelDeclared | None]
    observed: NotRequired[LabelObserved | None]
    evidence: Required[list[LabelEvidence]]


class LabelDeclaration(TypedDict):
    """One store privacy label, judged against the audit."""

    path: Required[str]
    store: Required[Literal["play", "apple"]]
    format: Required[Literal["play_csv", "fastlane_json", "app_store_page", "xcprivacy"]]
    not_collected: NotRequired[bool]
    passed: Required[bool]
    summary: Required[LabelsSummary]
    items: Required[list[LabelItem]]


class Labels(TypedDict):
    """Declared vs observed (``$defs/labels``, added in 0.2.0)."""

    passed: Required[bool]
    summary: Required[LabelsSummary]
    limits: NotRequired[str]
    declarations: Required[list[LabelDeclaration]]


# --- the document -----------------------------------------------------------------------------


class Generator(TypedDict):
    """The program that wrote the report."""

    name: Required[Literal["auditor"]]
    version: Required[str]


class AuditDocument(TypedDict):
    """The report document, schema version "1" (the root of ``audit-v1.schema.json``)."""

    schema_version: Required[SchemaVersion]
    generator: Required[Generator]
    created: NotRequired[str]  # date-time, UTC, "…Z"
    revealed: NotRequired[bool]
    captures: Required[list[CaptureEntry]]
    summary: NotRequired[Summary]
    first_party: NotRequired[FirstParty]
    jurisdictions: NotRequired[dict[str, JurisdictionFacts]]  # keyed by ISO 3166-1 alpha-2 code
    findings: Required[list[Finding]]
    destinations: Required[list[Destination]]
    page: NotRequired[Page]
    labels: NotRequired[Labels]
