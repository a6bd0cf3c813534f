"""A Pardot client written by others, unmodified, against the simulator (issue #20): PyPardotSF (v4 over
Salesforce OAuth, installed from the package index as a test dependency). Only its hosts are rewritten,
at the HTTP layer: ``https://pi.pardot.com`` and ``https://login.salesforce.com`` go to the simulator.

It compares ``Content-Type`` with ``application/json`` exactly, starts with a token Pardot never issued
and refreshes only on the bare 184 text, posts its parameters in the query string with an empty form
body, and tries a legacy ``/api/login`` call that must answer a Pardot error body."""

import pytest
import requests.adapters
from pypardot.client import PardotAPI

HOSTS = ("https://pi.pardot.com", "https://login.salesforce.com")


@pytest.fixture
def pardot(sim, monkeypatch):
    """A PyPardotSF client whose requests reach the simulator."""
    send = requests.adapters.HTTPAdapter.send

    def rewritten(self, request, **kwargs):
        for host in HOSTS:
            if request.url.startswith(host):
                request.url = sim.pardot_domain + request.url[len(host) :]
        return send(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", rewritten)
    c = sim.credentials
    return PardotAPI(sf_consumer_key=c["client_id"], sf_consumer_secret=c["client_secret"],
                     sf_refresh_token=c["refresh_token"], business_unit_id=c["business_unit"], version=4)  # fmt: skip


def test_its_prospect_list_and_membership_operations_work_unmodified(sim, pardot):
    sim.seed(prospects=[{"id": 50, "email": "crm@x.com", "fid": "F50"}])
    created = pardot.prospects.create(email="ann@x.com", first_name="Ann")["prospect"]
    pid = created["id"]
    pardot.prospects.update_by_id(id=pid, company="Acme")
    pardot.prospects.upsert_by_email(email="bob@x.com", city="Oslo")
    pardot.prospects.update_by_fid(fid="F50", job_title="CTO")
    assert pardot.prospects.read_by_email(email="ann@x.com")["prospect"]["company"] == "Acme"
    lst = pardot.lists.create(name="Readers")["list"]
    pardot.listmemberships.create(list_id=lst["id"], prospect_id=pid)
    pardot.listmemberships.update(list_id=lst["id"], prospect_id=pid, opted_out=True)
    members = pardot.listmemberships.query(list_id=lst["id"])
    assert members["total_results"] == 1 and members["list_membership"][0]["opted_out"] is True
    state = sim.state
    held = {p["email"]: p for p in state.prospects.values()}
    assert held["ann@x.com"]["company"] == "Acme" and held["ann@x.com"]["first_name"] == "Ann"
    assert held["bob@x.com"]["city"] == "Oslo" and held["crm@x.com"]["job_title"] == "CTO"
    assert state.memberships[(lst["id"], pid)]["opted_out"] is True
    assert sim.state.calls_by_endpoint["oauth/token"] >= 1  # it logged in by refreshing, as it does on Pardot
    assert sim.state.error_counts[184] >= 1  # after the bare 184 text for the token it made up


def test_its_reader_pages_to_the_end_with_each_prospect_once(sim, pardot):
    sim.seed(prospects=[{"id": 100 + i, "email": f"p{i}@x.com"} for i in range(530)])
    seen, after = [], 0
    for _ in range(20):  # bounded: a reader that never ends fails here instead of hanging
        page = pardot.prospects.query(id_greater_than=after, sort_by="id", sort_order="ascending")["prospect"]
        if not page:
            break
        seen += [p["id"] for p in page]
        after = page[-1]["id"]
    assert seen == list(range(100, 630))
