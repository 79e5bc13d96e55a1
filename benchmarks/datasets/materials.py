# ruff: noqa: E501  (data file: prompts and pasted material are kept on one line each)
"""Pasted material for the labelled dataset and the latency benchmark.

Everything here is written for this project: small hand-written documents, code and
logs, plus seeded generators that grow a log or a document to any length. The
generators are deterministic (``random.Random(seed)``), so the dataset files can be
rebuilt byte for byte.
"""

from __future__ import annotations

import random

_PATHS = (
    "/api/v2/orders",
    "/api/v2/orders/{id}",
    "/api/v2/cart",
    "/static/app.js",
    "/static/styles.css",
    "/login",
    "/healthz",
    "/api/v2/search?q=shoes",
    "/api/v2/users/{id}/profile",
    "/favicon.ico",
)
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/8.5.0",
    "kube-probe/1.29",
    "python-requests/2.31.0",
)


def access_log(lines: int, seed: int = 1) -> str:
    """An nginx combined-format access log."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        path = rng.choice(_PATHS).replace("{id}", str(rng.randint(1000, 99999)))
        status = rng.choices((200, 201, 304, 404, 500, 502), weights=(80, 5, 8, 4, 2, 1))[0]
        size = rng.randint(120, 48000)
        minute, second = divmod(i // 3, 60)
        out.append(
            f'{ip} - - [14/Mar/2025:09:{minute % 60:02d}:{second:02d} +0000] "GET {path} HTTP/1.1" '
            f'{status} {size} "-" "{rng.choice(_AGENTS)}" rt={rng.uniform(0.001, 0.9):.3f}'
        )
    return "\n".join(out)


_APP_EVENTS = (
    ("INFO", "worker-{n} picked job {job} from queue 'billing'"),
    ("INFO", "job {job} finished in {ms} ms"),
    ("DEBUG", "cache hit ratio={ratio} size={size}"),
    ("INFO", "HTTP POST /internal/invoices 201 ({ms} ms)"),
    ("WARN", "slow query ({ms} ms): SELECT * FROM invoices WHERE account_id = $1 ORDER BY created_at DESC"),
    ("INFO", "heartbeat ok (lag {ms} ms)"),
    ("ERROR", 'job {job} failed: psycopg.OperationalError: connection to server at "db-2" failed: timeout'),
    ("INFO", "retrying job {job} (attempt 2/5) in 800 ms"),
)


def app_log(lines: int, seed: int = 2) -> str:
    """A service log with timestamps, levels and the odd error."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        level, template = rng.choices(_APP_EVENTS, weights=(20, 20, 10, 15, 4, 10, 2, 2))[0]
        msg = template.format(
            n=rng.randint(1, 8),
            job=f"j-{rng.randint(100000, 999999)}",
            ms=rng.randint(2, 4000),
            ratio=f"{rng.uniform(0.5, 0.99):.2f}",
            size=rng.randint(1000, 9000),
        )
        hh, rest = divmod(i * 7, 3600)
        mm, ss = divmod(rest, 60)
        out.append(f"2025-03-14T{(8 + hh) % 24:02d}:{mm:02d}:{ss:02d}.{rng.randint(0, 999):03d}Z {level:<5} {msg}")
    return "\n".join(out)


PY_TRACEBACK = """Traceback (most recent call last):
  File "/srv/app/.venv/lib/python3.11/site-packages/flask/app.py", line 1463, in wsgi_app
    response = self.full_dispatch_request()
  File "/srv/app/.venv/lib/python3.11/site-packages/flask/app.py", line 872, in full_dispatch_request
    rv = self.handle_user_exception(e)
  File "/srv/app/.venv/lib/python3.11/site-packages/flask/app.py", line 870, in full_dispatch_request
    rv = self.dispatch_request()
  File "/srv/app/app/views/reports.py", line 58, in monthly_report
    totals = summarize(rows, month=request.args["month"])
  File "/srv/app/app/reports/summary.py", line 21, in summarize
    avg = sum(r.amount for r in rows) / len(rows)
ZeroDivisionError: division by zero"""

PY_MODULE = """import csv
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Reading:
    station: str
    day: str
    temp_c: float


def load(path: Path) -> list[Reading]:
    with path.open(newline="") as fh:
        return [Reading(r["station"], r["day"], float(r["temp_c"])) for r in csv.DictReader(fh)]


def by_station(readings: list[Reading]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in readings:
        out.setdefault(r.station, []).append(r.temp_c)
    return out


def report(readings: list[Reading]) -> str:
    lines = []
    for station, temps in sorted(by_station(readings).items()):
        lines.append(f"{station}: mean {statistics.mean(temps):.1f} C, max {max(temps):.1f} C")
    return "\\n".join(lines)


if __name__ == "__main__":
    print(report(load(Path("readings.csv"))))"""

GO_RACE = """package main

import (
\t"fmt"
\t"net/http"
\t"sync"
)

type Counter struct {
\tmu    sync.Mutex
\thits  map[string]int
}

func (c *Counter) Inc(path string) {
\tc.mu.Lock()
\tc.hits[path]++
\tc.mu.Unlock()
}

func (c *Counter) Snapshot() map[string]int {
\treturn c.hits
}

func main() {
\tc := &Counter{hits: map[string]int{}}
\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
\t\tc.Inc(r.URL.Path)
\t\tfmt.Fprintln(w, "ok")
\t})
\thttp.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
\t\tfor k, v := range c.Snapshot() {
\t\t\tfmt.Fprintf(w, "%s %d\\n", k, v)
\t\t}
\t})
\thttp.ListenAndServe(":8080", nil)
}"""

C_LEAK = """#include <stdlib.h>
#include <string.h>

char *join_words(char **words, int n) {
    char *out = malloc(1);
    out[0] = '\\0';
    for (int i = 0; i < n; i++) {
        char *next = malloc(strlen(out) + strlen(words[i]) + 2);
        strcpy(next, out);
        strcat(next, words[i]);
        strcat(next, " ");
        out = next;
    }
    return out;
}"""

JS_EFFECT = """import { useEffect, useState } from "react";

export function Orders({ customerId }) {
  const [orders, setOrders] = useState([]);
  const [filters, setFilters] = useState({ status: "open" });

  useEffect(() => {
    fetch(`/api/orders?customer=${customerId}&status=${filters.status}`)
      .then((r) => r.json())
      .then((data) => {
        setOrders(data);
        setFilters({ ...filters });
      });
  }, [customerId, filters]);

  return <ul>{orders.map((o) => <li key={o.id}>{o.title}</li>)}</ul>;
}"""

RUST_SNIPPET = """use std::collections::HashMap;

fn word_counts(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let text = "the cat sat on the mat";
    let counts = word_counts(text);
    println!("{:?}", counts);
}"""

GO_SERVER = """package main

import (
\t"encoding/json"
\t"log"
\t"net/http"
\t"time"
)

type Health struct {
\tStatus string    `json:"status"`
\tTime   time.Time `json:"time"`
}

func health(w http.ResponseWriter, _ *http.Request) {
\tw.Header().Set("Content-Type", "application/json")
\t_ = json.NewEncoder(w).Encode(Health{Status: "ok", Time: time.Now().UTC()})
}

func main() {
\tmux := http.NewServeMux()
\tmux.HandleFunc("/healthz", health)
\tsrv := &http.Server{Addr: ":8081", Handler: mux, ReadTimeout: 5 * time.Second}
\tlog.Fatal(srv.ListenAndServe())
}"""

PY_BUGGY_BSEARCH = """def find_first(xs, target):
    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < target:
            lo = mid
        else:
            hi = mid
    return lo if lo < len(xs) and xs[lo] == target else -1"""

SQL_SLOW = """SELECT c.name, SUM(o.total) AS spent
FROM customers c
JOIN orders o ON o.customer_id = c.id
WHERE DATE(o.created_at) >= '2024-01-01'
  AND LOWER(c.country) = 'de'
GROUP BY c.name
ORDER BY spent DESC
LIMIT 20;

EXPLAIN ANALYZE output:
Limit  (cost=982341.10..982341.15 rows=20) (actual time=8412.3..8412.4 rows=20 loops=1)
  ->  Sort  (cost=982341.10..982598.22 rows=102848) (actual time=8412.3..8412.3 rows=20 loops=1)
        ->  HashAggregate  (actual time=8301.0..8390.2 rows=88112 loops=1)
              ->  Hash Join  (actual time=201.4..7788.9 rows=3120554 loops=1)
                    Hash Cond: (o.customer_id = c.id)
                    ->  Seq Scan on orders o  (actual time=0.02..6011.7 rows=3120554 loops=1)
                          Filter: (date(created_at) >= '2024-01-01'::date)
                          Rows Removed by Filter: 18400112
                    ->  Hash  (actual time=199.8..199.8 rows=90211 loops=1)
                          ->  Seq Scan on customers c  (actual time=0.01..180.4 rows=90211 loops=1)
                                Filter: (lower(country) = 'de'::text)
Indexes: orders(customer_id), orders(created_at), customers(id)"""

ARTICLE = """Urban beekeeping has grown quickly over the last decade. City councils that once banned hives now
publish guidance on where they may be placed, and rooftop apiaries have become a common sight on hotels,
offices and schools. Supporters argue that city bees benefit from a long flowering season: parks, gardens
and street trees bloom at different times, so forage is available from early spring until late autumn.

Not everyone is convinced. Ecologists point out that honeybees compete with wild pollinators for the same
flowers, and in some European capitals the number of hives per square kilometre now exceeds what the local
flora can support. A survey in one city found that honey yields per hive fell by almost half over eight
years while the number of registered hives tripled. Wild bee species, many of them solitary, do not store
honey and cannot travel far, so they are the first to suffer when flowers are scarce.

The debate has pushed some councils toward a middle path. Rather than encouraging more hives, they fund
wildflower verges, leave lawns unmown in summer and ask new beekeepers to register and attend a course.
Beekeeping associations have largely welcomed the change, noting that a smaller number of well-managed
colonies is healthier than many neglected ones, and that disease spreads faster where hives are crowded."""

EMAIL_THREAD = """From: Priya Raman
To: Ops team
Subject: Re: Re: Q3 warehouse move

Hi all, quick update. The landlord confirmed we can get the keys on 2 September instead of 15 August,
so the move slips by roughly two weeks. Marco, can you check whether the forklift rental can be shifted?

From: Marco Bellini
Subject: Re: Q3 warehouse move

Rental can move, but the company charges a 10% change fee. Also the racking installer is only free the
week of 9 September, which actually fits better with the new date.

From: Dana Okafor
Subject: Re: Q3 warehouse move

Customers with standing orders need 10 working days' notice. If the move is 2-6 September, notices have
to go out by 19 August. I can draft the notice but need the final dates by the 15th.

From: Priya Raman
Subject: Q3 warehouse move

Kicking off planning for the warehouse move. Budget is 48k EUR including movers, racking and two days of
overtime. Please reply with blockers."""

MEETING_NOTES = """Weekly sync, platform team, 11 March
Attendees: Lena, Omar, Chen, Sofia (notes)
1. Incident review: Saturday's outage was caused by an expired TLS certificate on the internal gateway.
   Renewal job had been failing silently since January. Action: Omar adds an alert on certificate expiry
   below 14 days.
2. Migration to the new CI runners: 70% of pipelines moved. Remaining ones depend on the old Docker-in-Docker
   setup. Chen estimates two more weeks. Risk: release freeze on 28 March.
3. On-call: Lena proposes moving to a follow-the-sun rotation with the Singapore office. General agreement,
   Sofia to draft a proposal with costs.
4. AOB: office Wi-Fi in room 4 still drops; facilities ticket reopened."""

CONTRACT = """SERVICE AGREEMENT (extract)
3.1 The Provider shall deliver the Services with monthly availability of at least 99.5%, measured
    at the Provider's edge, excluding Scheduled Maintenance.
3.2 Scheduled Maintenance may take place on any day between 00:00 and 06:00 CET, and shall not exceed
    eight hours per calendar month.
3.3 If availability falls below the level in 3.1, the Customer is entitled to a service credit of 5% of
    the monthly fee per full 0.5% shortfall, capped at 25% of the monthly fee.
7.2 The Customer may terminate this Agreement for convenience with ninety (90) days' written notice.
7.4 Either party may terminate for material breach not remedied within thirty (30) days of notice.
9.1 The Provider's total liability under this Agreement shall not exceed the fees paid in the twelve
    (12) months preceding the claim.
9.3 Nothing in this Agreement limits liability for losses caused by gross negligence, including
    repeated failure to meet the availability commitment in clause 3.1.
11.2 Service credits under clause 3.3 are the Customer's sole and exclusive remedy for any failure to
    meet availability commitments.
14.1 This Agreement is governed by the laws of Ireland; the courts of Dublin have exclusive jurisdiction.
14.3 Disputes shall first be referred to arbitration in Amsterdam under the NAI rules."""

FINANCE_TABLE = """quarter,revenue_eur,cogs_eur,opex_eur,headcount,new_customers,churned_customers
2023Q1,1820000,640000,910000,41,120,18
2023Q2,1955000,702000,948000,43,131,21
2023Q3,2010000,731000,1003000,47,118,25
2023Q4,2390000,802000,1088000,52,164,19
2024Q1,2205000,829000,1150000,55,109,34
2024Q2,2231000,861000,1193000,58,101,41
2024Q3,2190000,870000,1240000,61,97,47
2024Q4,2602000,915000,1302000,63,152,38"""

K8S_EVENTS = """LAST SEEN   TYPE      REASON              OBJECT                          MESSAGE
12m         Normal    Scheduled           pod/checkout-7c9f8d-x2k4p       Successfully assigned prod/checkout-7c9f8d-x2k4p to node-b3
12m         Normal    Pulled              pod/checkout-7c9f8d-x2k4p       Container image "registry.local/checkout:1.42.0" already present
11m         Warning   Unhealthy           pod/checkout-7c9f8d-x2k4p       Readiness probe failed: HTTP probe failed with statuscode: 503
10m         Warning   BackOff             pod/checkout-7c9f8d-x2k4p       Back-off restarting failed container
9m          Normal    Killing             pod/checkout-7c9f8d-x2k4p       Container checkout failed liveness probe, will be restarted
9m          Warning   FailedMount         pod/payments-5d6b7-q8rtn         MountVolume.SetUp failed for volume "secrets" : secret "payments-tls" not found
8m          Warning   OOMKilled           pod/search-6f7d9c-mm2zq          Container search exceeded memory limit (512Mi)
7m          Normal    SuccessfulCreate    replicaset/search-6f7d9c        Created pod: search-6f7d9c-p9wl4
5m          Warning   Unhealthy           pod/checkout-7c9f8d-x2k4p       Readiness probe failed: HTTP probe failed with statuscode: 503
3m          Warning   FailedScheduling    pod/search-6f7d9c-p9wl4          0/6 nodes are available: 6 Insufficient memory."""

PT_TEXT = """O trabalho remoto deixou de ser uma exceção e passou a fazer parte da rotina de muitas empresas.
Pesquisas recentes mostram que a maioria dos profissionais prefere um modelo híbrido, com dois ou três dias
no escritório. As empresas relatam ganhos de produtividade em tarefas individuais, mas também dificuldades
para integrar novos funcionários e manter a cultura da organização. Especialistas recomendam regras claras
sobre horários de reunião e investimento em ferramentas de colaboração."""

FAKE_LEMMA = """Lemma 3. Let G be a connected graph on n >= 3 vertices in which every vertex has degree at least n/2.
Then G contains a Hamiltonian path that starts at any prescribed vertex v.

Proof. Take a longest path P = v, u_1, ..., u_k starting at v. By maximality every neighbour of u_k lies
on P. Since deg(u_k) >= n/2, there are at least n/2 vertices of P adjacent to u_k, so |P| >= n/2 + 1.
If |P| < n, pick a vertex w outside P; as G is connected, w has a neighbour on P, say u_i. Then the path
v, ..., u_i, w is longer than the prefix of P ending at u_i, and we may extend it along the remaining
vertices of P in reverse order, producing a path longer than P, a contradiction. Hence |P| = n. QED"""


def long_document(paragraphs: int, seed: int = 3) -> str:
    """Shuffled, lightly varied paragraphs of ordinary prose (for padding)."""
    rng = random.Random(seed)
    base = [p.replace("\n", " ") for p in ARTICLE.split("\n\n")]
    extra = [
        "Meeting minutes were circulated on Friday; the committee will vote on the proposal next month.",
        "The survey covered 1,204 households across four districts and was weighted by age and income.",
        "Several respondents asked for clearer signage near the market square and more bicycle racks.",
    ]
    out = []
    for i in range(paragraphs):
        para = rng.choice(base)
        out.append(f"{para} {rng.choice(extra)} (section {i + 1})")
    return "\n\n".join(out)
