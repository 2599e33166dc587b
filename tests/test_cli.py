"""The command line: help for every option, one line and exit 2 for anything that keeps `serve` from
starting (before any banner), the banner's credential table, verify's report shortening."""
from __future__ import annotations

import argparse
import socket

import pytest

from mocks import __version__, cli
from mocks.verify import CheckResult, Finding, exit_code, shorten


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += all_parsers(sub)
    return out


def test_every_option_has_help_and_shows_its_default() -> None:
    for parser in all_parsers(cli.build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            assert action.help, f"{parser.prog} {action.option_strings} has no help"
            text = formatter._expand_help(action)
            if action.default not in (None, False, [], "") and not isinstance(action, (argparse._HelpAction,
                                                                                    argparse._VersionAction)):
                assert "default" in text, f"{parser.prog} {action.option_strings}: {text}"
            if action.required:
                assert "(required)" in text, f"{parser.prog} {action.option_strings}: {text}"


def test_version_and_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"commerce-sandbox {__version__}"
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "verify", "scenarios", "record", "replay", "violations"):
        assert f"    {command}" in out


def test_a_mistake_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", "click2sync", "--base-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the following arguments are required: --key" in err


def args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["serve", *argv])


def test_memory_state_runs_one_worker_with_more_threads() -> None:
    assert cli.serve_plan(args("--state", "memory")) == (1, cli.DEFAULT_WORKERS * cli.DEFAULT_THREADS)
    assert cli.serve_plan(args("--state", "memory", "--workers", "1", "--threads", "4")) == (1, 4)
    assert cli.serve_plan(args()) == (cli.DEFAULT_WORKERS, cli.DEFAULT_THREADS)
    with pytest.raises(cli.CannotStart, match="one process's state.*--state sqlite"):
        cli.serve_plan(args("--state", "memory", "--workers", "2"))


def test_state_checks(tmp_path) -> None:
    cli.check_state("memory")
    cli.check_state(f"sqlite:///{tmp_path / 'new' / 'state.db'}")  # created, with its folder
    assert (tmp_path / "new" / "state.db").is_file()
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello, this is not a database file at all" * 10)
    for url, words in ((f"sqlite:///{not_a_db}", "not a database"), (f"sqlite:///{tmp_path}", "is a directory"),
                       ("sqlite:///", "no file named"), ("postgres://db/x", "not a state backend"),
                       ("redis://127.0.0.1:1/0", "Redis does not answer"), ("redis://:x:y:z", "not a Redis URL")):
        with pytest.raises(cli.CannotStart, match=words):
            cli.check_state(url)


def test_a_busy_port_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(cli.CannotStart, match="already in use"):
            cli.check_port("127.0.0.1", port)
        assert cli.main(["serve", "--port", str(port), "--state", "memory"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "already in use" in err


def test_the_banner_is_a_table_of_credentials(app_factory) -> None:
    app = app_factory(apis=["click2sync", "stock2shop"])
    text = cli.banner(app, "http://127.0.0.1:8080")
    assert '{"' not in text  # not JSON on one line
    lines = text.splitlines()
    assert any(line.split()[:3] == ["click2sync", "key", "c2s-13c65e1dec"] and "key=c2s-demo-key" in line
               for line in lines), text
    assert any("user admin (admin)" in line and "password=admin-s2s-demo" in line for line in lines), text
    assert "http://127.0.0.1:8080/stock2shop/openapi.json" in text and "/__sandbox/ui/" in text


def test_the_banner_names_each_apis_docs_page(app_factory) -> None:
    """One row per API: its base URL, its contract and its browsable reference (/{prefix}/docs),
    a page the app really serves; the root mount and the sandbox's own pages have no docs cell."""
    app = app_factory(apis=["printxpand", "xtnd"], root_api="xtnd")
    base = "http://127.0.0.1:8080"
    lines = cli.banner(app, base).splitlines()
    header = next(line for line in lines if line.split()[:1] == ["API"])
    assert header.split() == ["API", "base", "URL", "contract", "docs"]
    client = app.test_client()
    for api in app.extensions["sandbox"].apis.values():
        (row,) = [line for line in lines if line.strip().startswith(api.title)]
        assert row.split()[-3:] == [f"{base}{api.prefix}", f"{base}{api.prefix}/openapi.json", f"{base}{api.prefix}/docs"]
        assert row.index(f"{base}{api.prefix}/docs") == header.index("docs")  # aligned under its heading
        page = client.get(f"{api.prefix}/docs")
        assert page.status_code == 200 and page.mimetype == "text/html"
    assert sum("/docs" in line for line in lines) == 2  # not for (root), control plane, QA console


def test_serve_quiet_leaves_the_banner_out() -> None:
    """What serve prints once it listens: the banner with the docs column, nothing with --quiet."""
    import gc

    from mocks.serve import prepare_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["serve", "--state", "memory", "--api", "xtnd", "--port", str(port)]
    try:
        args = cli.build_parser().parse_args(argv)
        assert f"http://127.0.0.1:{port}/xtnd/docs" in prepare_app(args, cli.config_from_args(args))[1]
        args = cli.build_parser().parse_args([*argv, "--quiet"])
        assert prepare_app(args, cli.config_from_args(args))[1] == ""
    finally:
        gc.unfreeze()  # (prepare_app readies the master for the fork; this test process goes on)


def test_long_values_are_shortened_in_reports() -> None:
    fuzzed = "x" * 5000
    text = shorten(f"body {fuzzed} end")
    assert len(text) < 300 and text.startswith("body xxx") and text.endswith("more chars] end")
    assert shorten("short line") == "short line"
    assert len(shorten("word " * 1000)) < 700  # a long line of short words is cut too


def test_exit_codes_mean_one_thing_each() -> None:
    ok, found = CheckResult("a"), CheckResult("b", [Finding("b", "rule", "detail")])
    broken = CheckResult("c", error="ImportError: no module")
    assert exit_code([ok]) == 0
    assert exit_code([ok, found, broken]) == 1
    assert exit_code([ok, broken]) == 2
