"""What the Datasette request guard costs: the policy's judgement of a request beside the request.

Every Datasette request is judged before Datasette sees it
(``inspect_kit.datasette_plugin.extras``: who is asking, whether the page is
theirs, every query parameter against the page's allow-list). This builds
the Ashbridge demo, then, in-process over ASGI as a police inspector, times
``--requests`` requests of a filtered, searched, sorted chronology page
(the raw baseline: the whole request through Datasette, guard included) and
the guard's own work on the same request (``request_actor`` and
``judge_request``). The ratio is the share of a request the guard takes.

    python bench/datasette_guard.py --requests 300

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder is first on sys.path, and bench/datasette.py would be imported as
# ``datasette``: put the checkout there instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(entry for entry in sys.path if Path(entry or ".").resolve() != HERE)]

from inspect_kit.datasette_plugin.app import make_datasette  # noqa: E402
from inspect_kit.datasette_plugin.extras import judge_request, request_actor  # noqa: E402
from inspect_kit.datasette_plugin.session import login_session, sign_session  # noqa: E402
from inspect_kit.demo import create_demo  # noqa: E402
from inspect_kit.store import Store  # noqa: E402

SECRET = "bench-guard-secret"
PATH = "/evidence/chronology_events.json"
QUERY = b"_search=referral&_sort=event_date&_size=50&event_type__not=other&_labels=on"


async def run(requests: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "evidence")
        store.init()
        create_demo(store)
        datasette = make_datasette(store, SECRET)
        await datasette.invoke_startup()
        cookie = sign_session(login_session("police1", "inspector", "police", "POL-01"), SECRET)
        cookies = {"inspect_kit_session": cookie}
        url = f"{PATH}?{QUERY.decode()}"
        assert (await datasette.client.get(url, cookies=cookies)).status_code == 200
        whole, guard = [], []
        scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(), "query_string": QUERY,
                 "headers": [(b"cookie", f"inspect_kit_session={cookie}".encode())]}

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        for _ in range(requests):
            started = time.perf_counter()
            response = await datasette.client.get(url, cookies=cookies)
            whole.append(time.perf_counter() - started)
            assert response.status_code == 200
            started = time.perf_counter()
            actor = await request_actor(datasette, scope, receive)
            verdict = await judge_request(datasette, actor, PATH, "GET", QUERY)
            guard.append(time.perf_counter() - started)
            assert verdict.refusal is None and actor and actor["strand"] == "police"
    whole_ms, guard_ms = statistics.median(whole) * 1000, statistics.median(guard) * 1000
    return {"bench": "datasette_guard", "requests": requests, "request_median_ms": round(whole_ms, 2),
            "guard_median_ms": round(guard_ms, 3), "guard_share": round(guard_ms / whole_ms, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    result = asyncio.run(run(parser.parse_args().requests))
    print(f"whole request (baseline, guard included): {result['request_median_ms']:.2f} ms median")
    print(f"the guard's judgement alone:              {result['guard_median_ms']:.3f} ms median "
          f"({result['guard_share']:.1%} of a request)")
    # No target was set for the guard: its share is for the record.
    result["targets"] = {"guard_share": {"value": result["guard_share"], "target": None, "met": None,
                                         "note": "no target set; the guard's share of a whole request"}}
    print("target: none set (the guard's share of a request, for the record)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
