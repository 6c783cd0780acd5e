"""IP and ccTLD country hints."""

from __future__ import annotations

import pytest

from auditor.destinations import geo


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("114.114.114.114", "CN"),
        ("77.88.8.8", "RU"),
        ("2001:4860:4860::8888", "US"),
        ("::ffff:114.114.114.114", "CN"),
        ("[2001:4860:4860::8888]", "US"),
    ],
)
def test_ip_country(ip: str, country: str) -> None:
    assert geo.ip_country(ip) == country


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "::1",
        "169.254.10.10",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "100.64.0.1",
        "240.0.0.1",
        "224.0.0.251",
        "255.255.255.255",
        "192.0.2.1",
        "2001:db8::1",
        "not-an-ip",
        "",
        "999.1.1.1",
        "example.com",
    ],
)
def test_ip_country_none(ip: str) -> None:
    assert geo.ip_country(ip) is None


@pytest.mark.parametrize(
    ("host", "country"),
    [
        ("www.example.cn", "CN"),
        ("api.example.com.cn", "CN"),
        ("yandex.ru", "RU"),
        ("bbc.co.uk", "GB"),
        ("example.de", "DE"),
        ("naver.co.kr", "KR"),
        ("BAIDU.CN.", "CN"),
        ("example.su", "RU"),
        ("example.xn--fiqs8s", "CN"),
    ],
)
def test_tld_country(host: str, country: str) -> None:
    assert geo.tld_country(host) == country


@pytest.mark.parametrize(
    "host",
    ["chat.ai", "x.io", "t.co", "x.me", "twitch.tv", "last.fm", "bit.ly", "play.gg", "example.com",
     "example.org", "example.eu", "localhost", "1.2.3.4", "::1", "", "example.app"],
)
def test_tld_country_none(host: str) -> None:
    assert geo.tld_country(host) is None
