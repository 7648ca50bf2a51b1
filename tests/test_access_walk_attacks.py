"""The role × resource walk, part two: the parameters an attacker adds to every Datasette page.

Split from ``tests/test_access_walk.py`` (the same world, built again for this module) so that
``pytest -n 2 --dist loadfile`` runs this, the walk's longest test, beside the rest of the walk.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from inspect_kit import policy

from .access_walk import ATTACKS, WHO, datasette_pages, fetch, leaks, page_column


async def test_datasette_attacks(world):
    """The parameters an attacker adds, on every Datasette page each role may open."""
    wrong, leaked = [], []
    pages = [(path, expect) for path, expect in await datasette_pages(world)
             if "/-/" not in path and path.endswith(".json") or ".json?" in path]
    for who in WHO[1:]:
        actor = world.actors[who]
        # SQL reads the whole store: only for those who may open every review (here nobody: the lead and
        # the moderator are inspectors of testshire only), so everyone's parameters are judged.
        sql_writer = policy.datasette_sql_role(actor.role if actor else None, opens_every_review=who == "admin")
        visible = [path for path, expect in pages if expect(actor) == 200]
        if sql_writer:  # they read every table with SQL anyway: a sample is enough
            visible = [path for path in visible if "chronology_events.json" in path or "/cases/" in path]
        for path in visible:
            for attack, refusal in ATTACKS:
                if sql_writer and ("_facet" in attack or "_through" in attack):
                    # Not judged for them; Datasette 0.65 answers these with an error and leaves its facet
                    # coroutines unawaited (warnings), which says nothing about our policy.
                    continue
                url = path + ("&" if "?" in path else "?") + attack
                if attack.startswith("review=") and page_column(world, path, "review"):
                    refusal = None  # a filter on the page's own column: it finds nothing of the other review
                faceted = [value for key, value in parse_qsl(attack) if key == "_facet"]
                if faceted and path.count("/") == 3 and all(page_column(world, path, c) for c in faceted):
                    refusal = None  # facets on the table page's own columns (the lead's findings pages)
                if refusal is None and path.split("?")[0] in ("/data/.json", "/data/evidence.json"):
                    refusal = 400  # the instance and database pages take no shape (Datasette answers 500)
                response = await fetch(world, who, url)
                if sql_writer:
                    ok = response.status_code in (200, 400)  # Datasette's own answer to an index of another table
                else:
                    ok = response.status_code == (refusal or 200)
                    if refusal == 400 and ok:
                        ok = "takes" in response.json()["error"]  # says what the page takes
                if not ok:
                    wrong.append(f"{who:10} {url}: {response.status_code}, expected {refusal or 200}")
                if found := leaks(world, who, response, datasette=True):
                    leaked.append(f"{who:10} {url}: {found}")
    assert not wrong, "\n".join(wrong)
    assert not leaked, "\n".join(leaked)

