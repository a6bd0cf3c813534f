import pytest

from pardot_frames import ConfigError, ExportConfig

BU = "0Uv000000000001AAA"


def test_defaults_follow_the_connector_table():
    c = ExportConfig()
    assert (c.login_url, c.pardot_domain, c.data_object) == (
        "https://login.salesforce.com",
        "https://pi.pardot.com",
        "prospects",
    )
    assert (c.prospect_operation, c.prospect_list_operation, c.list_membership_operation) == ("sync", "add", "upsert")
    assert (c.parallel_tasks, c.max_payload, c.maximum_retries) == (1, 5000, 5)
    assert (c.initial_retry_wait, c.maximum_retry_wait, c.maximum_connection_timeout) == (1, 120, 300)
    assert c.upsert_by_email is False and c.skip_invalid_records is True and c.prospect_lists == ()


def test_prospect_lists_from_string_and_list():
    assert ExportConfig(prospect_lists="12, 34,12").prospect_lists == (12, 34)
    assert ExportConfig(prospect_lists=[5, "6"]).prospect_lists == (5, 6)
    config = ExportConfig(prospect_lists="Newsletter, 1202 ,Événements 2026,1202")
    assert config.prospect_lists == ("Newsletter", 1202, "Événements 2026") and config.list_names[0] == "Newsletter"


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"business_unit": "0Ux000000000001AAA"}, "business_unit"),
        ({"business_unit": "0Uv0001"}, "15 or 18"),
        ({"data_object": "leads"}, "prospects or list_memberships"),
        ({"prospect_list_operation": "toggle"}, "add, remove or mirror"),
        ({"list_membership_operation": "merge"}, "upsert, delete or mirror"),
        ({"prospect_lists": "1,,2"}, "'' is neither a positive list id nor a list name"),
        ({"prospect_lists": "0"}, "'0' is neither a positive list id nor a list name"),
        ({"parallel_tasks": 0}, "parallel_tasks"),
        ({"initial_retry_wait": 0}, "initial_retry_wait"),
        ({"maximum_connection_timeout": -1}, "maximum_connection_timeout"),
        ({"pardot_domain": "http://pi.pardot.com"}, "only https"),
        ({"max_paylod": 10}, "did you mean max_payload?"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(kwargs, expected):
    with pytest.raises(ConfigError) as info:
        ExportConfig(**kwargs)
    assert expected in str(info.value)


def test_all_problems_reported_at_once():
    with pytest.raises(ConfigError) as info:
        ExportConfig(parallel_tasks=0, data_object="x", upsert_by_mail=True)
    assert len(info.value.problems) == 3
    assert "did you mean upsert_by_email?" in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "http://127.9.9.9"])
def test_http_allowed_only_for_loopback(url):
    assert ExportConfig(login_url=url).login_url == url


def test_secrets_never_shown(monkeypatch):
    c = ExportConfig(client_secret="sec-XYZ-123", refresh_token="rt-XYZ-456", business_unit=BU)
    for text in (repr(c), str(c), str(c.safe_dict())):
        assert "XYZ" not in text
    assert c.client_secret.get_secret_value() == "sec-XYZ-123"
    with pytest.raises(ConfigError) as info:
        ExportConfig(client_secret=["sec-XYZ-789"], parallel_tasks=0)
    assert "XYZ" not in str(info.value) and "client_secret" in str(info.value)


def test_environment_file_and_keyword_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("PARDOT_CLIENT_ID", "env-id")
    monkeypatch.setenv("PARDOT_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("PARDOT_REFRESH_TOKEN", "env-token")
    job = tmp_path / "job.toml"
    job.write_text(f'client_id = "file-id"\nbusiness_unit = "{BU}"\nmax_payload = 4000\nprospect_lists = "1,2"\n')
    c = ExportConfig.from_file(job, max_payload=3000)
    assert c.client_id == "file-id" and c.max_payload == 3000 and c.prospect_lists == (1, 2)
    assert c.client_secret.get_secret_value() == "env-secret" and c.missing_credentials() == []
    assert c.replace(parallel_tasks=3).client_secret.get_secret_value() == "env-secret"


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ExportConfig.from_file(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("max_payload = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        ExportConfig.from_file(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("paralel_tasks = 2\n")
    with pytest.raises(ConfigError, match="did you mean parallel_tasks"):
        ExportConfig.from_file(unknown)
