"""Live commands: ``auditor capture`` (a proxy for devices and browsers) and ``auditor run``
(run a command through the proxy and audit what it sent)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import (
    BlockUnmappedOption,
    FirstPartyOption,
    MapOption,
    RevealOption,
    UpstreamInsecureOption,
    UsageFailure,
    _err,
    app,
)

DEFAULT_CONFDIR = "~/.mitmproxy"


def _summary_line(s: dict[str, Any]) -> str:
    from auditor.live import destination_line

    return destination_line(s)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_listen(listen: str) -> tuple[str, int]:
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageFailure(f"invalid --listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def _proxy_options(
    out: Path, formats: str, reveal: bool, first_party: list[str], maps: list[str], block_unmapped: bool = False
) -> dict[str, Any]:
    from auditor.live import parse_map
    from auditor.renderers.output import parse_formats

    try:
        parse_map(maps)
        parse_formats(formats)
    except ValueError as e:
        raise UsageFailure(str(e)) from None
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise UsageFailure(f"cannot write under {parent}: it is a file, not a folder (-o {out})")
    return {
        "audit_dir": str(out),
        "audit_formats": formats,
        "audit_reveal": reveal,
        "audit_first_party": list(first_party),
        "audit_map": list(maps),
        "audit_block_unmapped": block_unmapped,
    }


def _print_outputs(addon: Any, doc: dict[str, Any]) -> None:
    """The summary line with the files actually written, then what was lost, if anything."""
    s = doc["summary"]
    files = [str(p) for p in (addon.capture_path, *addon.report_paths) if p is not None]
    _err(
        f"{s['exchanges']} requests, {s['destinations']} destinations "
        f"({s['third_party_destinations']} third-party), {s['findings']} findings -> {', '.join(files)}"
    )
    for capture in doc["captures"]:
        for warning in capture["warnings"]:
            _err(f"warning: {warning}")
    for error in addon.report_errors:
        _err(f"error: report not written: {error}")
    if addon.upstream_failures:
        from auditor.live import upstream_hint

        _err(f"warning: {upstream_hint(addon.upstream_failures, '--upstream-insecure')}")


@app.command()
def capture(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for capture.flows and the reports.")] = Path(
        "capture"
    ),
    listen: Annotated[
        str, typer.Option("--listen", help="Address the proxy listens on (HOST:PORT).")
    ] = "127.0.0.1:8080",
    mode: Annotated[
        list[str] | None,
        typer.Option(
            "--mode",
            help="Proxy mode (repeatable): regular (default), upstream:http://HOST:PORT, wireguard (for phones), "
                 "local (where the platform allows), reverse:https://HOST:PORT@LISTEN or "
                 "reverse:http3://HOST:PORT@LISTEN (the proxy stands in for the server; HTTP/3 clients).",
        ),
    ] = None,
    confdir: Annotated[str, typer.Option("--confdir", help="Where mitmproxy keeps its CA.")] = DEFAULT_CONFDIR,
    format: Annotated[str, typer.Option("-f", "--format", help="Report formats: html, json, md.")] = "html,json",
    reveal: RevealOption = False,
    first_party: FirstPartyOption = None,
    map_: MapOption = None,
    upstream_insecure: UpstreamInsecureOption = False,
) -> None:
    """Run the auditing proxy until Ctrl-C, then write capture.flows, report.html and report.json.

    Point a device or browser at the proxy and trust its CA (shown at start). Example:
    auditor capture -o session1    (then: curl -x http://127.0.0.1:8080 --cacert ~/.mitmproxy/mitmproxy-ca-cert.pem https://...)
    """
    from auditor.live import LiveAuditor
    from auditor.live.proxy import EmbeddedProxy, ProxyConfig, ProxyError

    host, port = _parse_listen(listen)
    modes = list(mode or ["regular"])
    options = _proxy_options(output, format, reveal, list(first_party or ()), list(map_ or ()))
    if not _is_loopback(host):
        _err(
            f"WARNING: listening on {host or 'all interfaces'}:{port}, not loopback: anyone who can reach "
            "this machine can use the proxy and read what passes through it"
        )
    addon = LiveAuditor(on_update=lambda s: _err(_summary_line(s)))
    config = ProxyConfig(
        listen_host=host,
        listen_port=port,
        modes=modes,
        confdir=confdir,
        ssl_insecure=upstream_insecure,
        options=options,
    )

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        proxy = EmbeddedProxy(config, [addon])
        try:
            await proxy.start()
        except ProxyError as e:
            await proxy.stop()
            raise UsageFailure(str(e)) from None
        _err(f"auditing proxy on {proxy.url} ({', '.join(modes)} mode); Ctrl-C writes the reports")
        _err(f"  CA certificate to trust: {proxy.ca_file}")
        _err(
            f"  browser or device: set the HTTP and HTTPS proxy to {proxy.host}:{proxy.port}, then open "
            f"http://mitm.it to install the CA"
        )
        _err(
            f"  command line: HTTPS_PROXY={proxy.url} SSL_CERT_FILE={proxy.ca_file} your-command (or: auditor run -- "
            f"your-command)"
        )
        for inst in proxy.master.addons.get("proxyserver").servers if proxy.master else ():
            conf = getattr(inst, "client_conf", None)
            if callable(conf) and conf():
                _err("  WireGuard client configuration (import it in the WireGuard app):\n" + conf())
        try:
            await stop.wait()
        finally:
            _err("stopping; writing the capture and the reports")
            await proxy.stop()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the capture; the reports follow
        asyncio.run(_main())
    doc = addon.finish()
    _print_outputs(addon, doc)
    if addon.report_errors:
        raise typer.Exit(1)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: Annotated[
        list[str], typer.Argument(help="The command to run through the proxy, after --.", show_default=False)
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for capture.flows and the reports.")] = Path(
        "audit"
    ),
    map_: MapOption = None,
    upstream_insecure: UpstreamInsecureOption = False,
    block_unmapped: BlockUnmappedOption = False,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Answer from a saved capture (server replay) instead of real servers."),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file: exit 1 on violations when the command passed.")
    ] = None,
    format: Annotated[str, typer.Option("-f", "--format", help="Report formats: html, json, md.")] = "html,json",
    reveal: RevealOption = False,
    first_party: FirstPartyOption = None,
    confdir: Annotated[str, typer.Option("--confdir", help="Where mitmproxy keeps its CA.")] = DEFAULT_CONFDIR,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Run CMD through the auditing proxy, then write DIR/capture.flows, DIR/report.html, DIR/report.json.

    CMD gets HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (and lowercase) and the proxy's CA in SSL_CERT_FILE,
    REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS. The exit status is CMD's, or 1 if CMD
    passed and the policy found violations. Example:

    auditor run -o out --map api.openai.com=127.0.0.1:8443 --upstream-insecure -- python my_test.py
    """
    from auditor.live import LiveAuditor, ignore_file_size_signal
    from auditor.live.proxy import ProxyConfig, ProxyThread, client_env

    if not command:
        raise UsageFailure("no command given: auditor run [OPTIONS] -- CMD ARGS...")
    exe = shutil.which(command[0])
    if exe is None:
        raise UsageFailure(f"command not found: {command[0]}")
    if replay is not None and not replay.is_file():
        raise UsageFailure(f"{replay}: no such file (--replay)")
    rules = _load_policy(policy) if policy is not None else None
    options = _proxy_options(output, format, reveal, list(first_party or ()), list(map_ or ()), block_unmapped)
    addon = LiveAuditor()
    config = ProxyConfig(
        confdir=confdir,
        ssl_insecure=upstream_insecure,
        replay=[str(replay)] if replay else (),
        options=options,
    )
    runner = ProxyThread(config, [addon])
    ignore_file_size_signal()  # the proxy runs in a thread here; CMD gets the default back
    proxy = runner.start()
    env = dict(os.environ)
    env.update(client_env(proxy.url, proxy.ca_file))
    if not quiet:  # (not its arguments: they may hold personal data or secrets)
        args = len(command) - 1
        _err(f"running {Path(command[0]).name}{f' ({args} argument(s))' if args else ''} through {proxy.url}")
    try:
        status = subprocess.call([exe, *command[1:]], env=env)
    except KeyboardInterrupt:
        status = 130
    except OSError as e:
        runner.stop()
        raise UsageFailure(f"cannot run {command[0]}: {e.strerror or e}") from None
    runner.stop()
    doc = addon.finish()
    if not quiet:
        _print_outputs(addon, doc)
    elif addon.report_errors:
        _err("; ".join(f"report not written: {e}" for e in addon.report_errors))
    if status == 0 and addon.report_errors:
        status = 1
    if status == 0 and rules is not None:
        status = _apply_policy(rules, doc, quiet)
    raise typer.Exit(status if status >= 0 else 128 - status)


def _load_policy(path: Path) -> Any:
    from auditor.gate import load_policy

    return load_policy(path)


def _apply_policy(policy: Any, doc: dict[str, Any], quiet: bool) -> int:
    """Check the live audit against the policy: print the verdict; 1 on violations."""
    from auditor.gate import render_text, run_check

    result = run_check(policy, doc)
    text = render_text(result)
    sys.stderr.write(text.splitlines()[-1] + "\n" if quiet else text)
    return result.exit_code
