"""Benchmark the portal against the ceiling of its own stack, in one run, on one machine.

    python bench/run.py --requests 100000            (make bench)
    python bench/run.py --requests 1000000 --url postgresql+psycopg://postgres@127.0.0.1/bench

Starts the portal and bench/ceiling.py under gunicorn (2 sync workers each), signs real users
in through the login form, checks that every URL answers 200 with the page asked for, then
drives each endpoint with wrk (16 connections, warm-up, then --duration seconds) and prints
req/s, p50, p99, non-200 answers and the ratio to the ceiling's 25-row table route. Results go
to bench/results/<time>.md and .json, and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import functools
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD, HEAVY_CPF  # noqa: E402
from bench.knowledge import QUEUE_WORD, SEARCH_WORD  # noqa: E402
from portal.core.cpf import make_cpf  # noqa: E402
from portal.core.fulltext import terms  # noqa: E402
from portal.models import format_number  # noqa: E402

AGENT_CPF = make_cpf("800000000")
BENCH_SECRET_KEY = "bench-secret"  # noqa: S105  (the bench server's own, documented)
BENCH_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105  (the bench agent's TOTP)
# What the client pages must show for the check before driving them.
CLIENT_LIST_MARKERS = ("Clientes cadastrados", 'href="/clientes/')  # a table with rows
# Besides the busy client's IBGE code: its health summary and its occurrences.
CLIENT_PAGE_MARKERS = ("Saúde do cliente", 'class="occurrence-list"')
# An API list that has rows and a next page.
API_LIST = ('"number":"CS', '"next_cursor":"')
# Each wrk thread has its own Lua state: count there, add up in done().
WRK_COUNTER = """
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
init = function(args) bad = 0 end
response = function(status, headers, body)
  if status ~= {expected} then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local total = summary.errors.timeout + summary.errors.status
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("NON_EXPECTED %d\\n", total))
end
"""
WRK_POST = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


@dataclass
class Result:
    endpoint: str
    database: str
    requests_in_db: int
    req_s: float
    p50_ms: float
    p99_ms: float
    non_200: int
    ratio_to_ceiling: float | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz" if "wsgi" in app else base + "/", timeout=2)
            return process, base
        except urllib.error.HTTPError:
            return process, base  # answering (503 without a scheduler is fine)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


class Browser:
    """A signed-in session through the real login form (CSRF included)."""

    def __init__(self, base: str, cpf: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        token = self.csrf("/login")
        page = self.opener.open(
            self.base + "/login",
            urllib.parse.urlencode(
                {"cpf": cpf, "password": BENCH_PASSWORD, "csrf_token": token}
            ).encode(),
            timeout=30,
        )
        with page:
            if "/login/codigo" in page.geturl():  # staff: the second factor
                html = page.read().decode()
                token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
                code = pyotp.TOTP(BENCH_TOTP_SECRET).now()
                self.post(page.geturl(), {"code": code, "csrf_token": token}, absolute=True)
        if "Logout" not in self.get("/perfil"):
            raise RuntimeError(f"could not sign in as {cpf}")

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path: str, data: dict[str, str], *, absolute: bool = False) -> str:
        body = urllib.parse.urlencode(data).encode()
        url = path if absolute else self.base + path
        return self.opener.open(url, body, timeout=30).read().decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path)).group(1)

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}

    def api_token(self) -> ApiClient:
        """A read token made through Perfil › Tokens de acesso, as a person would."""
        expires = (datetime.now(UTC) + timedelta(days=7)).strftime("%d/%m/%Y")
        form = {"name": "Bench", "scopes": "read", "expires_on": expires}
        html = self.post("/perfil/tokens", {**form, "csrf_token": self.csrf("/perfil/tokens")})
        return ApiClient(re.search(r'id="new-token"[^>]*value="(pat_[\w-]+)"', html).group(1))


class ApiClient:
    """The API's caller: a bearer token, no cookie."""

    def __init__(self, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}"}


def check_page(
    browser: Browser | ApiClient | None, base: str, path: str, marker: str | tuple[str, ...]
) -> None:
    """Every URL must answer 200 with the page asked for (every marker in it), not a redirect
    to the login."""
    request = urllib.request.Request(base + path)
    for name, value in (browser.headers if browser else {}).items():
        request.add_header(name, value)
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request, timeout=60) as response:
        html = response.read().decode()
        markers = (marker,) if isinstance(marker, str) else marker
        missing = [m for m in markers if m not in html]
        if response.status != 200 or missing:
            raise RuntimeError(f"{path}: status {response.status}, marker {missing!r} missing")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def wrk(
    url: str,
    *,
    headers: dict[str, str],
    duration: int,
    connections: int,
    expected: int = 200,
    post_body: str | None = None,
) -> tuple[float, float, float, int]:
    script = WRK_COUNTER.format(expected=expected)
    if post_body is not None:
        script += WRK_POST.format(body=json.dumps(post_body))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        handle.name,
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    Path(handle.name).unlink()
    req_s = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    bad = int(re.search(r"NON_EXPECTED (\d+)", output).group(1))
    return req_s, p50, p99, bad


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0:
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(install, **quiet).returncode != 0:
            # A fresh machine has no package lists yet.
            subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
            subprocess.run(install, check=True, **quiet)
        return
    raise SystemExit("wrk is missing: apt-get install wrk")


def generated(url: str, requests: int) -> bool:
    """Whether `url` already holds a generated database of this size (runs add a few rows),
    clients and occurrences included (a database generated before them is made anew)."""
    import sqlalchemy as sa

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    try:
        value = _scalar(url, "SELECT value FROM counters WHERE name = 'request'")
        occurrences = _scalar(url, "SELECT count(*) FROM occurrences")
    except sa.exc.DBAPIError:
        return False
    return value is not None and requests <= value < requests + 100_000 and bool(occurrences)


MESSAGE_BODY = "Mensagem de carga"
# What an earlier run's POSTs added, so every run measures the database as generated (the
# searchable text too: the message appended to its request's text, the new requests' texts).
UNDO_EARLIER_RUNS = (
    "DELETE FROM outbox_emails",
    "UPDATE request_texts SET body = replace(body, :appended, ''),"
    " terms = replace(terms, :appended_terms, '') WHERE request_id IN"
    " (SELECT request_id FROM timeline_entries WHERE body = :body)",
    "DELETE FROM request_texts WHERE request_id > :n",
    "DELETE FROM attachments WHERE owner_type = 'timeline_entry' AND owner_id IN"
    " (SELECT id FROM timeline_entries WHERE request_id > :n OR body = :body)",
    "DELETE FROM timeline_entries WHERE request_id > :n OR body = :body",
    "DELETE FROM followers WHERE request_id > :n",
    "DELETE FROM service_requests WHERE id > :n",
    "UPDATE counters SET value = :n WHERE name = 'request'",
)


def enrol_bench_agent(url: str) -> None:
    """The bench agent signs in with a second factor, as every agent must: a fixed TOTP secret,
    sealed with the bench server's key, and no code used yet (each run signs in afresh)."""
    import sqlalchemy as sa

    from portal.accounts.two_factor import PURPOSE
    from portal.core.secretbox import seal
    from portal.core.timeutil import utcnow
    from portal.models import User

    users = User.__table__
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(users)
            .where(users.c.cpf == AGENT_CPF)
            .values(
                totp_secret=seal(BENCH_TOTP_SECRET, PURPOSE, secret_key=BENCH_SECRET_KEY),
                totp_enabled_at=utcnow(),
                totp_last_step=None,
            )
        )
    engine.dispose()


def undo_earlier_runs(url: str, requests: int) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        params = {
            "n": requests,
            "body": MESSAGE_BODY,
            "appended": f"\n{MESSAGE_BODY}",
            "appended_terms": f" {terms(MESSAGE_BODY)}",
        }
        for statement in UNDO_EARLIER_RUNS:
            conn.execute(sa.text(statement), params)
    if engine.dialect.name == "postgresql":
        # As autovacuum would leave them: the deletes above cleared the visibility map of the
        # pages they touched, and an index-only scan then visits the heap for every row.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in VACUUMED_AFTER_UNDO:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    engine.dispose()


VACUUMED_AFTER_UNDO = (
    "outbox_emails",
    "request_texts",
    "attachments",
    "timeline_entries",
    "followers",
    "service_requests",
    "request_parties",
    "party_counts",
    "queue_counts",
    "counters",
)


def _scalar(url: str, sql: str, **params: object) -> object:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def open_request_number(url: str, cpf: str) -> str:
    """A request of this user that still takes messages (the POST message target)."""
    return str(
        _scalar(
            url,
            "SELECT r.number FROM service_requests r JOIN users u ON u.id = r.opened_by_id "
            "WHERE u.cpf = :cpf AND r.state IN ('open', 'in_progress', 'awaiting_support') "
            "AND r.id > 1 ORDER BY r.id LIMIT 1",  # not the request page's own request
            cpf=cpf,
        )
    )


def sample_article_path(url: str) -> str:
    """The canonical address of a published public article (a wrong slug would redirect)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            from bench.knowledge import sample_row

            row = sample_row(conn)
    finally:
        engine.dispose()
    return f"/base-de-conhecimento/{row['number']}-{row['slug']}"


def busy_client(url: str) -> tuple[int, str]:
    """(id, identifier) of the client with the most requests and a fortieth of the
    occurrences: the heavy user's organisation (bench/clients.py)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT o.id, o.identifier FROM organisations o "
                    "JOIN users u ON u.organisation_id = o.id WHERE u.cpf = :cpf"
                ),
                {"cpf": HEAVY_CPF},
            ).one()
    finally:
        engine.dispose()
    return row.id, row.identifier


def queue_length(url: str, cpf: str) -> int:
    """Active requests in the queues of the agent with this CPF (for its deepest page)."""
    total = _scalar(
        url,
        "SELECT SUM(q.total) FROM queue_counts q "
        "JOIN group_members m ON m.group_id = q.group_key "
        "JOIN users u ON u.id = m.user_id "
        "WHERE u.cpf = :cpf AND q.state IN "
        "('awaiting_support', 'awaiting_user', 'in_progress', 'open')",
        cpf=cpf,
    )
    return int(total or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--url", help="database URL (default: instance/bench-<N>.db)")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the tables")
    parser.add_argument(
        "--only",
        help="run only endpoints whose name contains this text, or one of these comma-separated "
        "texts (and the ceilings)",
    )
    args = parser.parse_args(argv)
    ensure_wrk()
    url = args.url or f"sqlite:///{ROOT / 'instance' / f'bench-{args.requests}.db'}"
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    from bench import generate

    if args.regenerate or not generated(url, args.requests):
        generate.main(["--url", url, "--requests", str(args.requests)])
    else:
        generate.upgrade_schema(url)
        undo_earlier_runs(url, args.requests)
    enrol_bench_agent(url)
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": BENCH_SECRET_KEY,
        "PORTAL_LOGIN_MAX_FAILURES": "1000",
        "PORTAL_RATELIMIT_STORAGE_URL": "memory://",
        # The limit is still counted on every API call (its cost is measured), never reached.
        "PORTAL_API_RATE_LIMIT": "100000000 per minute",
        "PORTAL_MAIL_DIR": str(Path(tempfile.mkdtemp()) / "mail"),
        "CEILING_USER_ID": "1",
    }
    portal, base = start_gunicorn("wsgi:app", env)
    ceiling, ceiling_base = start_gunicorn("bench.ceiling:app", env)
    results: list[Result] = []
    try:
        heavy = Browser(base, HEAVY_CPF)
        agent = Browser(base, AGENT_CPF)
        token = heavy.csrf("/catalogo/gerid")
        new_request = urllib.parse.urlencode(
            {
                "csrf_token": token,
                "motivo": "Dúvida",
                "funcionalidade": "Acesso",
                "description": "Carga de teste",
            }
        )
        message = urllib.parse.urlencode({"csrf_token": token, "body": MESSAGE_BODY})
        deep = min(500, args.requests // 10 // 20)  # the heavy user owns a tenth, up to 12,000
        deep_row = (deep - 1) * 20 + 1
        numbered = format_number(deep * 7)  # one of the heavy user's requests
        queue_deep = min(500, queue_length(url, AGENT_CPF) // 20)
        article = sample_article_path(url)
        article_number = article.split("/")[-1][:9]
        busy, busy_identifier = busy_client(url)
        heavy_api, agent_api = heavy.api_token(), agent.api_token()
        deep_cursor = api_cursor_before(base, heavy_api, deep_row)
        endpoints = [
            ("ceiling: bare route", None, ceiling_base, "/", "ok", 200, None),
            ("ceiling: 25-row table", None, ceiling_base, "/table", "<table>", 200, None),
            ("login page", None, base, "/login", "Entrar", 200, None),
            # The floor of every signed-in page: session, user, badge, layout, no list.
            ("signed-in static page", heavy, base, "/perfil", "Seus dados", 200, None),
            ("home", heavy, base, "/", "Itens Populares", 200, None),
            ("Minhas Solicitações p1", heavy, base, "/solicitacoes", "Linhas 1 - 20", 200, None),
            (
                f"Minhas Solicitações p{deep}",
                heavy,
                base,
                f"/solicitacoes?pagina={deep}",
                f"Linhas {deep_row} -",
                200,
                None,
            ),
            (
                "Minhas by Estado",
                heavy,
                base,
                "/solicitacoes?estado=closed",
                "Linhas 1 - 20",
                200,
                None,
            ),
            (
                "Minhas by Número",
                heavy,
                base,
                f"/solicitacoes?numero={numbered}",
                f'href="/solicitacoes/{numbered}"',
                200,
                None,
            ),
            ("Meus Acompanhamentos", heavy, base, "/acompanhamentos", "Linhas", 200, None),
            ("search gerid", heavy, base, "/pesquisa?q=gerid", "result-title", 200, None),
            ("search accents", heavy, base, "/pesquisa?q=cadunico", "result-title", 200, None),
            (
                "knowledge base",
                heavy,
                base,
                "/base-de-conhecimento",
                ("Mais vistos", "Mais bem avaliados", "Mais recentes"),
                200,
                None,
            ),
            ("article page", heavy, base, article, ('id="kb-title"', article_number), 200, None),
            (
                "search forms+articles",
                heavy,
                base,
                f"/pesquisa?q={SEARCH_WORD}",
                (">Formulário</span>", ">Artigo</span>"),
                200,
                None,
            ),
            (
                "request page (50 entries)",
                heavy,
                base,
                "/solicitacoes/CS0000001",
                "CS0000001",
                200,
                None,
            ),
            ("agent queue p1", agent, base, "/atendimento", "Fila de Atendimento", 200, None),
            (
                "queue text search",
                agent,
                base,
                f"/atendimento?texto={QUEUE_WORD}",
                ("Fila de Atendimento", "Linhas 1 -"),
                200,
                None,
            ),
            (
                f"agent queue p{queue_deep}",
                agent,
                base,
                f"/atendimento?pagina={queue_deep}",
                f"Linhas {(queue_deep - 1) * 20 + 1} -",
                200,
                None,
            ),
            # Clients and occurrences (staff only): the list, the busy client's page with its
            # 90-day health summary, and the occurrences filtered by impact.
            ("clientes", agent, base, "/clientes", CLIENT_LIST_MARKERS, 200, None),
            (
                "cliente",
                agent,
                base,
                f"/clientes/{busy}",
                (busy_identifier, *CLIENT_PAGE_MARKERS),
                200,
                None,
            ),
            (
                "ocorrencias-negativo",
                agent,
                base,
                "/ocorrencias?impacto=negativo",
                ("Ocorrências 1 - ", "NEGATIVO"),
                200,
                None,
            ),
            # The same lists and request through the API (a bearer token, JSON): each is
            # compared with its page in API_VS_PAGE below.
            ("API Minhas p1", heavy_api, base, "/api/v1/requests", API_LIST, 200, None),
            (
                f"API Minhas p{deep}",
                heavy_api,
                base,
                f"/api/v1/requests?cursor={deep_cursor}",
                API_LIST[0],  # at a small size the deep page is the last: no next_cursor
                200,
                None,
            ),
            (
                "API request (50 entries)",
                heavy_api,
                base,
                "/api/v1/requests/CS0000001",
                '"number":"CS0000001"',
                200,
                None,
            ),
            (
                "API timeline (50 entries)",
                heavy_api,
                base,
                "/api/v1/requests/CS0000001/timeline",
                '"entries":[{',
                200,
                None,
            ),
            ("API queue p1", agent_api, base, "/api/v1/queue", API_LIST, 200, None),
            ("POST new request", heavy, base, "/catalogo/gerid", None, 302, new_request),
            (
                "POST message",
                heavy,
                base,
                f"/solicitacoes/{open_request_number(url, HEAVY_CPF)}/mensagem",
                None,
                302,
                message,
            ),
        ]
        if args.only:
            wanted = [text.strip() for text in args.only.split(",")]
            endpoints = [
                e
                for e in endpoints
                if e[0].startswith("ceiling") or any(text in e[0] for text in wanted)
            ]
        for name, who, host, path, marker, expected, body in endpoints:
            if marker is not None:
                check_page(who, host, path, marker)
            drive = functools.partial(
                wrk,
                host + path,
                headers=who.headers if who else {},
                connections=args.connections,
                expected=expected,
                post_body=body,
            )
            if args.warmup:
                drive(duration=args.warmup)
            req_s, p50, p99, bad = drive(duration=args.duration)
            results.append(Result(name, database, args.requests, req_s, p50, p99, bad))
            print(
                f"  {name:<30} {req_s:>8.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  bad {bad}"
            )
    finally:
        stop(portal)
        stop(ceiling)
    ceiling_rate = next(r.req_s for r in results if r.endpoint == "ceiling: 25-row table")
    for result in results:
        result.ratio_to_ceiling = round(result.req_s / ceiling_rate, 3)
    write(results, args.results, api_vs_page(results, deep))
    return 0


def api_cursor_before(base: str, client: ApiClient, row: int) -> str:
    """The API's cursor that starts at `row` of the heavy user's list (the deep page), walked
    to through the API itself, 100 rows at a time."""
    cursor, seen = "", 0
    while seen < row - 1:
        limit = min(100, row - 1 - seen)
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(f"{base}/api/v1/requests{query}", headers=client.headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.load(response)
        seen += len(page["requests"])
        cursor = page["next_cursor"]
    return cursor


def api_vs_page(results: list[Result], deep: int) -> str:
    """Each API endpoint's rate over its HTML page's, measured in this run (target: ≥ 1)."""
    rates = {r.endpoint: r.req_s for r in results}
    pairs = [
        ("API Minhas p1", "Minhas Solicitações p1"),
        (f"API Minhas p{deep}", f"Minhas Solicitações p{deep}"),
        ("API request (50 entries)", "request page (50 entries)"),
        ("API queue p1", "agent queue p1"),
    ]
    lines = ["| API | page | API req/s ÷ page req/s |", "| --- | --- | ---: |"]
    lines += [
        f"| {api} | {page} | {rates[api] / rates[page]:.2f} |"
        for api, page in pairs
        if api in rates and page in rates
    ]
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def write(results: list[Result], folder: Path, comparison: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    rows = [asdict(r) for r in results]
    table = [
        "| endpoint | db | requests in db | req/s | p50 ms | p99 ms | non-200 | × ceiling |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    table += [
        f"| {r.endpoint} | {r.database} | {r.requests_in_db:,} | {r.req_s:.1f} | {r.p50_ms:.1f} "
        f"| {r.p99_ms:.1f} | {r.non_200} | {r.ratio_to_ceiling:.2f} |"
        for r in results
    ]
    text = "\n".join(table) + "\n" + (f"\n{comparison}" if comparison else "")
    (folder / f"{stamp}.md").write_text(text)
    (folder / f"{stamp}.json").write_text(json.dumps(rows, indent=2))
    (folder / "latest.json").write_text(json.dumps(rows, indent=2))
    print("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
